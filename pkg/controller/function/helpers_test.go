// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

const testNamespace = "ns"

var testNow = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)

func testScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// testConfig is the default configuration with a push registry and the built-in build-source policy.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load([]byte("registry: registry.example.com/team\nregistrySecret: push-creds\nbuildSourcePolicy: {name: \"\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// env is a reconciler over a fake API server that counts writes.
type env struct {
	t        *testing.T
	client   client.WithWatch
	r        *Reconciler
	recorder *events.FakeRecorder
	logs     *fakeLogs

	mu     sync.Mutex
	writes []string
	uid    int
}

type fakeLogs struct {
	text  string
	err   error
	calls int
}

func (f *fakeLogs) TailLogs(_ context.Context, _, _, _ string, _ int64) (string, error) {
	f.calls++
	return f.text, f.err
}

func newEnv(t *testing.T, cfg *config.Config, objs ...client.Object) *env {
	t.Helper()
	e := &env{t: t, recorder: events.NewFakeRecorder(100), logs: &fakeLogs{}}
	note := func(verb string, obj client.Object) {
		e.mu.Lock()
		defer e.mu.Unlock()
		kind := fmt.Sprintf("%T", obj)
		e.writes = append(e.writes, fmt.Sprintf("%s %s %s", verb, kind[strings.LastIndex(kind, ".")+1:], obj.GetName()))
	}
	e.client = fake.NewClientBuilder().
		WithScheme(testScheme(t)).
		WithObjects(objs...).
		WithStatusSubresource(&v1beta1.NuclioFunction{}, &v1beta1.NuclioProject{}, &v1beta1.NuclioAPIGateway{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if obj.GetUID() == "" {
					e.mu.Lock()
					e.uid++
					obj.SetUID(types.UID(fmt.Sprintf("uid-%d", e.uid)))
					e.mu.Unlock()
				}
				if obj.GetGeneration() == 0 {
					obj.SetGeneration(1) // as the API server does; the fake client does not
				}
				note("create", obj)
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if d, ok := obj.(*appsv1.Deployment); ok {
					// The API server bumps metadata.generation on spec changes; the fake client does not.
					current := &appsv1.Deployment{}
					if err := c.Get(ctx, client.ObjectKeyFromObject(d), current); err == nil && !equality.Semantic.DeepEqual(current.Spec, d.Spec) {
						d.Generation = current.Generation + 1
					}
				}
				note("update", obj)
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				note("patch", obj)
				return c.Patch(ctx, obj, patch, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				note("delete", obj)
				return c.Delete(ctx, obj, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				note("update/"+sub, obj)
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				note("patch/"+sub, obj)
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).
		Build()
	e.r = &Reconciler{Client: e.client, APIReader: e.client, Logs: e.logs, Recorder: e.recorder, Config: cfg, Now: func() time.Time { return testNow }}
	return e
}

// reconcile runs one reconcile of the function and returns the writes it made.
func (e *env) reconcile(name string) (reconcile.Result, []string) {
	e.t.Helper()
	e.mu.Lock()
	e.writes = nil
	e.mu.Unlock()
	res, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: testNamespace, Name: name}})
	if err != nil {
		e.t.Fatalf("Reconcile(%s): %v", name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return res, append([]string(nil), e.writes...)
}

func (e *env) function(name string) *v1beta1.NuclioFunction {
	e.t.Helper()
	fn := &v1beta1.NuclioFunction{}
	if err := e.client.Get(context.Background(), types.NamespacedName{Namespace: testNamespace, Name: name}, fn); err != nil {
		e.t.Fatal(err)
	}
	return fn
}

func (e *env) get(name string, obj client.Object) error {
	return e.client.Get(context.Background(), types.NamespacedName{Namespace: testNamespace, Name: name}, obj)
}

func (e *env) mustGet(name string, obj client.Object) {
	e.t.Helper()
	if err := e.get(name, obj); err != nil {
		e.t.Fatalf("get %T %s: %v", obj, name, err)
	}
}

// update changes a function's spec or metadata as a user would, bumping the generation on spec changes.
func (e *env) update(name string, mutate func(*v1beta1.NuclioFunction)) {
	e.t.Helper()
	fn := e.function(name)
	before := fn.Spec.DeepCopy()
	mutate(fn)
	if !equalJSON(before, &fn.Spec) {
		fn.Generation++
	}
	if err := e.client.Update(context.Background(), fn); err != nil {
		e.t.Fatal(err)
	}
}

// events drains the recorded Events.
func (e *env) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.recorder.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// jobs lists the build Jobs.
func (e *env) jobs() []batchv1.Job {
	e.t.Helper()
	list := &batchv1.JobList{}
	if err := e.client.List(context.Background(), list, client.InNamespace(testNamespace)); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// finishJob marks the Job Complete (or Failed) as the Job controller would.
func (e *env) finishJob(name string, ok bool, reason string) *batchv1.Job {
	e.t.Helper()
	job := &batchv1.Job{}
	e.mustGet(name, job)
	t := metav1.NewTime(testNow.Add(time.Minute))
	if ok {
		job.Status.Conditions = append(job.Status.Conditions,
			batchv1.JobCondition{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: t},
			batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: t})
		job.Status.CompletionTime = &t
		job.Status.Succeeded = 1
	} else {
		job.Status.Conditions = append(job.Status.Conditions,
			batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, Message: "Job has reached the specified backoff limit", LastTransitionTime: t})
		job.Status.Failed = 1
	}
	if err := e.client.Status().Update(context.Background(), job); err != nil {
		e.t.Fatal(err)
	}
	return job
}

// makeAvailable reports the Deployment rolled out and available, as the deployment controller would.
func (e *env) makeAvailable(name string) {
	e.t.Helper()
	d := &appsv1.Deployment{}
	e.mustGet(ChildName(name), d)
	n := *d.Spec.Replicas
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	if err := e.client.Status().Update(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
}

// sourceFunction is a python function built from functionSourceCode.
func sourceFunction(name string, mutate func(*v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
	fn := &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNamespace, UID: types.UID("fn-" + name), Generation: 1,
			Labels: map[string]string{v1beta1.LabelProjectName: "default", "team": "a"},
		},
		Spec: v1beta1.FunctionSpec{
			Runtime: "python:3.11",
			Handler: "main:handler",
			Build:   v1beta1.Build{FunctionSourceCode: base64.StdEncoding.EncodeToString([]byte("def handler(context, event):\n    return 'hi'\n"))},
			Triggers: map[string]v1beta1.Trigger{
				"default-http": {Kind: "http", Name: "default-http", NumWorkers: 1},
			},
		},
	}
	if mutate != nil {
		mutate(fn)
	}
	return fn
}

func defaultProject() *v1beta1.NuclioProject {
	return &v1beta1.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: testNamespace}}
}

// credentialsSecret is the masking webhook's Secret for a function.
func credentialsSecret(t testing.TB, fn string, values map[string]string) *corev1.Secret {
	t.Helper()
	s, err := masking.NewSecret(masking.KindFunction, testNamespace, fn, "default", values)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func condition(fn *v1beta1.NuclioFunction, t string) metav1.Condition {
	for _, c := range fn.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return metav1.Condition{}
}

// expectCondition checks a condition's status, reason and observed generation.
func expectCondition(t *testing.T, fn *v1beta1.NuclioFunction, conditionType string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c := condition(fn, conditionType)
	if c.Status != status || c.Reason != reason || c.ObservedGeneration != fn.Generation {
		t.Errorf("condition %s = %s/%s (generation %d, message %q), want %s/%s (generation %d)",
			conditionType, c.Status, c.Reason, c.ObservedGeneration, c.Message, status, reason, fn.Generation)
	}
}

func onlyJob(t *testing.T, e *env) batchv1.Job {
	t.Helper()
	jobs := e.jobs()
	if len(jobs) != 1 {
		var names []string
		for _, j := range jobs {
			names = append(names, j.Name)
		}
		t.Fatalf("want one build Job, have %v", names)
	}
	return jobs[0]
}

// buildToReady takes a new function through its build to ready and returns its Job's name.
func buildToReady(t *testing.T, e *env, name string) string {
	t.Helper()
	e.reconcile(name)
	job := onlyJob(t, e)
	e.finishJob(job.Name, true, "")
	e.reconcile(name)
	e.makeAvailable(name)
	e.reconcile(name)
	if st := e.function(name).Status.State; st != v1beta1.FunctionStateReady {
		t.Fatalf("state %q, want ready", st)
	}
	return job.Name
}

func equalJSON(a, b interface{}) bool {
	ra, errA := json.Marshal(a)
	rb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ra) == string(rb)
}

func sortedWrites(w []string) []string {
	out := append([]string(nil), w...)
	sort.Strings(out)
	return out
}

var errLogs = errors.New("pods/log is forbidden")
