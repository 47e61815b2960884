// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/test/harness"
)

// waitReady runs `kubectl wait --for=condition=Ready` as user, the way a user waits for a function.
func waitReady(t *testing.T, user, ns, name string) *v1beta1.NuclioFunction {
	t.Helper()
	if _, errOut, err := kubectl(t, user, nil, "wait", "--for=condition=Ready", "nucliofunction/"+name, "-n", ns, "--timeout=90s"); err != nil {
		fn, _ := nuclio.NuclioV1beta1().NuclioFunctions(ns).Get(context.Background(), name, metav1.GetOptions{})
		t.Fatalf("%s/%s not Ready: %v %s\nstatus: %+v", ns, name, err, errOut, fn.Status)
	}
	fn, err := nuclio.NuclioV1beta1().NuclioFunctions(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// TestFixturesBuildAndRun applies every real Nuclio function as a namespace admin and waits until it is
// Ready: built by a Kaniko Job whose fetcher init container reads the masked function, then run as a
// Deployment behind a Service — everything the controller creates, checked where it matters.
func TestFixturesBuildAndRun(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-fixtures")
	mustKubectl(t, "admin", nil, "create", "rolebinding", "alice-admin", "--clusterrole=admin", "--user=alice", "-n", ns)
	for _, f := range loadFixtures(t) {
		mustKubectl(t, "alice", f.Manifest, "apply", "-n", ns, "-f", "-")
	}
	for _, f := range loadFixtures(t) {
		fn := waitReady(t, "alice", ns, f.Name)
		if fn.Status.State != v1beta1.FunctionStateReady || fn.Status.ObservedGeneration != fn.Generation ||
			fn.Status.Build == nil || fn.Status.ContainerImage != fn.Status.Build.Image || fn.Status.ReadyReplicas != 1 {
			t.Errorf("%s: status %+v", f.Name, fn.Status)
			continue
		}
		if want := fmt.Sprintf("nuclio-%s.%s.svc.cluster.local:8080", f.Name, ns); len(fn.Status.InternalInvocationURLs) == 0 || fn.Status.InternalInvocationURLs[0] != want {
			t.Errorf("%s: internal URLs %v, want %s", f.Name, fn.Status.InternalInvocationURLs, want)
		}

		job, err := cp.Kube.BatchV1().Jobs(ns).Get(ctx, fn.Status.Build.JobName, metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s: build Job: %v", f.Name, err)
			continue
		}
		pod := job.Spec.Template.Spec
		if job.Labels[v1beta1.LabelFunctionName] != f.Name || len(pod.InitContainers) != 1 || pod.InitContainers[0].Name != "nuclio-fetcher" ||
			pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken || len(pod.Containers) != 1 ||
			!hasArgPrefix(pod.Containers[0].Args, "--destination=localhost:5000/nuclio/") || !hasArgPrefix(pod.Containers[0].Args, "--context=dir://") {
			t.Errorf("%s: build Job pod spec: init %v, automount %v, args %v", f.Name, pod.InitContainers, pod.AutomountServiceAccountToken, pod.Containers)
		}
		if !ownedBy(job.OwnerReferences, fn) {
			t.Errorf("%s: Job not owned by the function: %v", f.Name, job.OwnerReferences)
		}

		dep, err := cp.Kube.AppsV1().Deployments(ns).Get(ctx, "nuclio-"+f.Name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s: Deployment: %v", f.Name, err)
			continue
		}
		c := dep.Spec.Template.Spec.Containers[0]
		if c.Name != "nuclio" || c.Image != fn.Status.Build.Image || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil ||
			c.ReadinessProbe.HTTPGet.Path != "/__internal/health" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/live" ||
			!ownedBy(dep.OwnerReferences, fn) {
			t.Errorf("%s: Deployment container %+v", f.Name, c)
		}
		svc, err := cp.Kube.CoreV1().Services(ns).Get(ctx, "nuclio-"+f.Name, metav1.GetOptions{})
		if err != nil || svc.Spec.Ports[0].Port != 8080 || !ownedBy(svc.OwnerReferences, fn) {
			t.Errorf("%s: Service %v %v", f.Name, err, svc)
		}
		// Every fixture has minReplicas == maxReplicas: no autoscaler.
		if _, err := cp.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "nuclio-"+f.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s: unexpected HPA: %v", f.Name, err)
		}
	}
	// The default project was created on demand.
	if _, err := nuclio.NuclioV1beta1().NuclioProjects(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("default project: %v", err)
	}
}

func hasArgPrefix(args []string, prefix string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return false
}

func ownedBy(refs []metav1.OwnerReference, fn *v1beta1.NuclioFunction) bool {
	for _, r := range refs {
		if r.UID == fn.UID && r.Kind == "NuclioFunction" {
			return true
		}
	}
	return false
}

// TestAutoscalerAndDeletion: an HPA exists while min ≠ max and goes when they meet; deleting the function
// removes every child through their ownerReferences.
func TestAutoscalerAndDeletion(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-children")
	mustKubectl(t, "admin", []byte(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: scaled}
spec:
  runtime: golang
  handler: main:Handler
  minReplicas: 1
  maxReplicas: 3
  targetCPU: 60
  build: {functionSourceCode: cGFja2FnZSBtYWluCg==}
  triggers:
    kafka: {kind: kafka-cluster, attributes: {brokers: [kafka.example.com:9092], topics: [t], sasl: {enable: true, user: u, password: hunter2}}}
`), "apply", "-n", ns, "-f", "-")
	fn := waitReady(t, "admin", ns, "scaled")
	hpa, err := cp.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "nuclio-scaled", metav1.GetOptions{})
	if err != nil || hpa.Spec.MaxReplicas != 3 || *hpa.Spec.MinReplicas != 1 || hpa.Spec.Metrics[0].Resource.Target.AverageUtilization == nil ||
		*hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Fatalf("HPA: %v %+v", err, hpa)
	}
	// The credentials Secret is mounted for the processor to restore the Kafka password.
	dep, err := cp.Kube.AppsV1().Deployments(ns).Get(ctx, "nuclio-scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !mountsSecret(dep.Spec.Template.Spec, "nuclio-scaled-credentials") {
		t.Errorf("the credentials Secret is not mounted: %+v", dep.Spec.Template.Spec.Volumes)
	}

	mustKubectl(t, "admin", nil, "patch", "nfn", "scaled", "-n", ns, "--type=merge", "-p", `{"spec":{"maxReplicas":1}}`)
	eventually(t, 30*time.Second, func() error {
		if _, err := cp.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "nuclio-scaled", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("HPA still there with min == max: %v", err)
		}
		return nil
	})

	mustKubectl(t, "admin", nil, "delete", "nfn", "scaled", "-n", ns)
	eventually(t, 60*time.Second, func() error {
		var left []string
		if _, err := cp.Kube.AppsV1().Deployments(ns).Get(ctx, "nuclio-scaled", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "Deployment")
		}
		if _, err := cp.Kube.CoreV1().Services(ns).Get(ctx, "nuclio-scaled", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "Service")
		}
		if _, err := cp.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "nuclio-scaled", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "ConfigMap")
		}
		if _, err := cp.Kube.CoreV1().Secrets(ns).Get(ctx, "nuclio-scaled-credentials", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "Secret")
		}
		if fn.Status.Build != nil {
			if _, err := cp.Kube.BatchV1().Jobs(ns).Get(ctx, fn.Status.Build.JobName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				left = append(left, "Job")
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("left after deleting the function: %v", left)
		}
		return nil
	})
}

func mountsSecret(pod corev1.PodSpec, name string) bool {
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == name {
			return true
		}
	}
	return false
}

// TestFailedBuild: kwok fails the build pod as a broken `pip install` would; the function ends in state
// error with the log tail in status.message and Built=False.
func TestFailedBuild(t *testing.T) {
	ns := createNamespace(t, "e2e-failed-build")
	mustKubectl(t, "admin", []byte(fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: broken, annotations: {%q: fail}}
spec:
  runtime: python
  handler: main:handler
  build: {functionSourceCode: ZGVmIGhhbmRsZXIoY29udGV4dCwgZXZlbnQpOiBwYXNzCg==, commands: ["pip install nonexistent-package"]}
`, harness.AnnotationSimulatedBuild)), "apply", "-n", ns, "-f", "-")
	var fn *v1beta1.NuclioFunction
	eventually(t, 90*time.Second, func() error {
		var err error
		fn, err = nuclio.NuclioV1beta1().NuclioFunctions(ns).Get(context.Background(), "broken", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if fn.Status.State != v1beta1.FunctionStateError {
			return fmt.Errorf("state %q", fn.Status.State)
		}
		return nil
	})
	if !strings.Contains(fn.Status.Message, "simulated build failure") {
		t.Errorf("status.message lacks the build log tail: %q", fn.Status.Message)
	}
	built := findCondition(fn.Status.Conditions, v1beta1.ConditionBuilt)
	if built == nil || built.Status != metav1.ConditionFalse || built.Reason != "BuildFailed" {
		t.Errorf("Built condition: %+v", built)
	}
	out := mustKubectl(t, "admin", nil, "get", "nfn", "broken", "-n", ns, "--no-headers")
	if !strings.Contains(out, "error") {
		t.Errorf("STATE column: %q", out)
	}
}

func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// TestControllerRestartMidBuild stops the controller while a build runs and starts it again: it finds
// the running Job (its name is derived from the source hash) instead of starting a second build.
func TestControllerRestartMidBuild(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-restart-build")
	mustKubectl(t, "admin", []byte(fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: slow, annotations: {%q: 15s}}
spec:
  runtime: python
  handler: main:handler
  build: {functionSourceCode: ZGVmIGhhbmRsZXIoY29udGV4dCwgZXZlbnQpOiBwYXNzCg==}
`, harness.AnnotationSimulatedBuildDuration)), "apply", "-n", ns, "-f", "-")
	selector := metav1.ListOptions{LabelSelector: v1beta1.LabelFunctionName + "=slow"}
	eventually(t, 30*time.Second, func() error {
		jobs, err := cp.Kube.BatchV1().Jobs(ns).List(ctx, selector)
		if err != nil || len(jobs.Items) != 1 {
			return fmt.Errorf("build Jobs: %v %d", err, len(jobs.Items))
		}
		return nil
	})
	cp.StopController()
	if err := cp.StartController(ctx); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "admin", ns, "slow")
	jobs, err := cp.Kube.BatchV1().Jobs(ns).List(ctx, selector)
	if err != nil || len(jobs.Items) != 1 {
		t.Errorf("build Jobs after the restart: %v %d, want exactly 1", err, len(jobs.Items))
	}
}

// TestInvokeDeployedFunction invokes a function the controller deployed: nuclio-apiserver proxies to the
// ClusterIP of the controller's Service, where a stand-in processor listens in this test process.
func TestInvokeDeployedFunction(t *testing.T) {
	ctx := context.Background()
	ns := "team-a"
	mustKubectl(t, "alice", []byte(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: greeter}
spec: {runtime: python, handler: "main:handler", image: "registry.example.com/greeter:1"}
`), "apply", "-f", "-")
	defer mustKubectl(t, "alice", nil, "delete", "nfn", "greeter")
	waitReady(t, "alice", ns, "greeter")
	svc, err := cp.Kube.CoreV1().Services(ns).Get(ctx, "nuclio-greeter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(svc.Spec.ClusterIP, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	var target, remoteUser string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		target, remoteUser = r.Header.Get("X-Nuclio-Target"), r.Header.Get("X-Remote-User")
		_, _ = fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, body)
	})}
	go srv.Serve(l)
	defer srv.Close()
	out := mustKubectl(t, "alice", []byte("hi"), "create", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/greeter/invoke/say", "-f", "-")
	if out != "POST /say hi" {
		t.Errorf("invoke returned %q", out)
	}
	// The processor routes by X-Nuclio-Target and never sees the caller's Kubernetes identity.
	if target != "greeter" || remoteUser != "" {
		t.Errorf("the processor saw X-Nuclio-Target %q, X-Remote-User %q", target, remoteUser)
	}
	if out := mustKubectl(t, "alice", nil, "get", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/greeter/invoke"); out != "GET / " {
		t.Errorf("GET invoke returned %q", out)
	}
}
