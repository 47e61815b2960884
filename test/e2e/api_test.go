// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"k8s.io/client-go/util/retry"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

func TestDiscoveryAndOpenAPI(t *testing.T) {
	out := mustKubectl(t, "admin", nil, "get", "apiservice", "v1beta1.nuclio.io")
	if !strings.Contains(out, "True") {
		t.Errorf("APIService not Available:\n%s", out)
	}

	out = mustKubectl(t, "admin", nil, "api-resources", "--api-group=nuclio.io", "--no-headers")
	for _, want := range []string{
		"nucliofunctions nfn nuclio.io/v1beta1 true NuclioFunction",
		"nuclioprojects nproj nuclio.io/v1beta1 true NuclioProject",
		"nucliofunctionevents nfe nuclio.io/v1beta1 true NuclioFunctionEvent",
		"nuclioapigateways nagw nuclio.io/v1beta1 true NuclioAPIGateway",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("api-resources lacks %q:\n%s", want, out)
		}
	}

	// kubectl explain reads the published OpenAPI v3 schema.
	out = mustKubectl(t, "admin", nil, "explain", "nucliofunction.spec.build")
	for _, want := range []string{"codeEntryType", "functionSourceCode", "codeEntryAttributes"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain nucliofunction.spec.build lacks %q", want)
		}
	}
	out = mustKubectl(t, "admin", nil, "explain", "nucliofunction.spec.triggers.attributes")
	if !strings.Contains(out, "Attributes are kind-specific settings") {
		t.Errorf("explain of a free-form field:\n%s", out)
	}

	// Discovery lists the subresources with the verbs RBAC rules use.
	raw := mustKubectl(t, "admin", nil, "get", "--raw", "/apis/nuclio.io/v1beta1")
	var list metav1.APIResourceList
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range list.APIResources {
		got[r.Name] = true
		if r.Name == "nucliofunctions" && !contains(r.Categories, "nuclio") {
			t.Errorf("nucliofunctions categories = %v, want nuclio", r.Categories)
		}
	}
	for _, want := range []string{"nucliofunctions/status", "nucliofunctions/scale", "nucliofunctions/invoke", "nucliofunctions/log", "nuclioprojects/status", "nuclioapigateways/status"} {
		if !got[want] {
			t.Errorf("discovery lacks %s (have %v)", want, got)
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestFixtures applies every real Nuclio function.yaml as a namespace admin and checks Nuclio's
// enrichment, table printing and the nuclio category.
func TestFixtures(t *testing.T) {
	for _, f := range loadFixtures(t) {
		mustKubectl(t, "alice", f.Manifest, "apply", "-f", "-")
		out := mustKubectl(t, "alice", nil, "get", "nucliofunction", f.Name, "-o", "json")
		var fn v1beta1.NuclioFunction
		if err := json.Unmarshal([]byte(out), &fn); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		spec := f.Object["spec"].(map[string]interface{})
		if rt := spec["runtime"]; rt == "python" && fn.Spec.Runtime != "python:3.9" || rt != "python" && fn.Spec.Runtime != rt {
			t.Errorf("%s: runtime %q (fixture %q)", f.Name, fn.Spec.Runtime, rt)
		}
		if fn.Labels[v1beta1.LabelProjectName] != "default" {
			t.Errorf("%s: project label %q, want default", f.Name, fn.Labels[v1beta1.LabelProjectName])
		}
		if tr, ok := fn.Spec.Triggers["default-http"]; !ok || tr.Kind != "http" || tr.NumWorkers != 1 {
			t.Errorf("%s: default-http trigger = %+v", f.Name, fn.Spec.Triggers)
		}
		if fn.Spec.Handler != spec["handler"] || fn.Spec.Build.FunctionSourceCode == "" {
			t.Errorf("%s: handler %q, source %d bytes", f.Name, fn.Spec.Handler, len(fn.Spec.Build.FunctionSourceCode))
		}
		if fn.Generation != 1 {
			t.Errorf("%s: generation %d, want 1", f.Name, fn.Generation)
		}
	}

	out := mustKubectl(t, "alice", nil, "get", "nuclio")
	header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
	if strings.Join(header, " ") != "NAME PROJECT RUNTIME STATE READY AGE" {
		t.Errorf("kubectl get nuclio header = %v", header)
	}
	if !strings.Contains(out, "nucliofunction.nuclio.io/python-helloworld") {
		t.Errorf("kubectl get nuclio lacks the functions:\n%s", out)
	}
	wide := mustKubectl(t, "alice", nil, "get", "nfn", "-o", "wide")
	if h := strings.Fields(strings.SplitN(wide, "\n", 2)[0]); strings.Join(h, " ") != "NAME PROJECT RUNTIME STATE READY IMAGE HANDLER AGE" {
		t.Errorf("-o wide header = %v", h)
	}
	if !strings.Contains(wide, "helloworld:handler") {
		t.Errorf("-o wide lacks the handler:\n%s", wide)
	}
	// Field selectors on spec.runtime and status.state.
	golang := mustKubectl(t, "alice", nil, "get", "nfn", "--field-selector", "spec.runtime=golang", "-o", "name")
	if strings.TrimSpace(golang) != "nucliofunction.nuclio.io/golang-helloworld" {
		t.Errorf("field selector spec.runtime=golang: %q", golang)
	}
	// status.state is written by nuclio-controller: once every fixture is Ready, the selector finds them all.
	fixtures := loadFixtures(t)
	for _, f := range fixtures {
		waitReady(t, "alice", "team-a", f.Name)
	}
	ready := strings.Fields(mustKubectl(t, "alice", nil, "get", "nfn", "--field-selector", "status.state=ready", "-o", "name"))
	for _, f := range fixtures {
		if !contains(ready, "nucliofunction.nuclio.io/"+f.Name) {
			t.Errorf("field selector status.state=ready lacks %s: %v", f.Name, ready)
		}
	}
	if out := mustKubectl(t, "alice", nil, "get", "nfn", "--field-selector", "status.state=scaledToZero", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("field selector status.state=scaledToZero matched: %q", out)
	}
	if _, errOut, err := kubectl(t, "alice", nil, "get", "nfn", "--field-selector", "spec.handler=x"); err == nil || !strings.Contains(errOut, "field label not supported") {
		t.Errorf("an unsupported field selector should be refused: %v %s", err, errOut)
	}
}

// manifests of one object of every kind, in namespace ns.
func kindManifests(ns string) map[string]string {
	return map[string]string{
		"nucliofunction": fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: crud, namespace: %s}
spec:
  runtime: golang
  handler: main:Handler
  image: registry.example.com/crud:1
  triggers:
    kafka:
      kind: kafka-cluster
      attributes: {topics: [orders], brokers: [kafka:9092], sasl: {enable: true}}
`, ns),
		"nuclioproject": fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioProject
metadata: {name: crud, namespace: %s}
spec: {description: a project}
`, ns),
		"nucliofunctionevent": fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunctionEvent
metadata: {name: crud, namespace: %s, labels: {nuclio.io/function-name: crud}}
spec: {body: hello, attributes: {method: POST, headers: {Content-Type: text/plain}}}
`, ns),
		"nuclioapigateway": fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioAPIGateway
metadata: {name: crud, namespace: %s}
spec:
  host: crud.example.com
  path: /api
  authenticationMode: none
  upstreams: [{kind: nucliofunction, nucliofunction: {name: crud}}]
`, ns),
	}
}

// TestEveryVerbEveryKind: client-side and server-side apply, get, list, watch, merge/JSON/strategic
// patch and delete for each kind.
func TestEveryVerbEveryKind(t *testing.T) {
	ns := "team-a"
	for kind, manifest := range kindManifests(ns) {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// Watch from "now" so that every later write is seen.
			w, err := watchKind(ctx, kind, ns)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()

			mustKubectl(t, "alice", []byte(manifest), "apply", "-f", "-")
			mustKubectl(t, "alice", []byte(manifest), "apply", "--server-side", "--force-conflicts", "-f", "-")
			mustKubectl(t, "alice", nil, "get", kind, "crud")
			if out := mustKubectl(t, "alice", nil, "get", kind, "-o", "name"); !strings.Contains(out, "/crud") {
				t.Errorf("list lacks crud: %q", out)
			}
			mustKubectl(t, "alice", nil, "patch", kind, "crud", "--type=merge", "-p", `{"metadata":{"labels":{"patched":"merge"}}}`)
			mustKubectl(t, "alice", nil, "patch", kind, "crud", "--type=json", "-p", `[{"op":"add","path":"/metadata/labels/json","value":"yes"}]`)
			// Strategic merge patch works because the server has Go types (CRDs refuse it).
			mustKubectl(t, "alice", nil, "patch", kind, "crud", "--type=strategic", "-p", `{"metadata":{"labels":{"strategic":"yes"}}}`)
			out := mustKubectl(t, "alice", nil, "get", kind, "crud", "-o", "jsonpath={.metadata.labels}")
			for _, l := range []string{`"patched":"merge"`, `"json":"yes"`, `"strategic":"yes"`} {
				if !strings.Contains(out, l) {
					t.Errorf("labels %s lack %s", out, l)
				}
			}
			mustKubectl(t, "alice", nil, "delete", kind, "crud")
			if _, _, err := kubectl(t, "alice", nil, "get", kind, "crud"); err == nil {
				t.Errorf("%s still exists after delete", kind)
			}
			seen := map[watch.EventType]int{}
			for seen[watch.Deleted] == 0 {
				select {
				case ev := <-w.ResultChan():
					seen[ev.Type]++
				case <-ctx.Done():
					t.Fatalf("watch saw %v, never the deletion", seen)
				}
			}
			if seen[watch.Added] != 1 || seen[watch.Modified] < 3 {
				t.Errorf("watch events %v, want 1 ADDED, ≥3 MODIFIED, 1 DELETED", seen)
			}
		})
	}
}

func watchKind(ctx context.Context, kind, ns string) (watch.Interface, error) {
	c := nuclio.NuclioV1beta1()
	opts := metav1.ListOptions{FieldSelector: "metadata.name=crud"}
	switch kind {
	case "nucliofunction":
		return c.NuclioFunctions(ns).Watch(ctx, opts)
	case "nuclioproject":
		return c.NuclioProjects(ns).Watch(ctx, opts)
	case "nucliofunctionevent":
		return c.NuclioFunctionEvents(ns).Watch(ctx, opts)
	default:
		return c.NuclioAPIGateways(ns).Watch(ctx, opts)
	}
}

func TestDryRunStrictAndInvalid(t *testing.T) {
	fn := `apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: dry}
spec: {runtime: python, handler: "main:handler", image: "registry.example.com/dry:1"}
`
	mustKubectl(t, "alice", []byte(fn), "apply", "--dry-run=server", "-f", "-")
	if _, _, err := kubectl(t, "alice", nil, "get", "nfn", "dry"); err == nil {
		t.Error("server-side dry-run stored the function")
	}

	unknown := strings.Replace(fn, "runtime: python,", "runtime: python, colour: blue,", 1)
	_, errOut, err := kubectl(t, "alice", []byte(unknown), "apply", "--validate=strict", "--dry-run=server", "-f", "-")
	if err == nil || !strings.Contains(errOut, `unknown field "spec.colour"`) {
		t.Errorf("strict validation should refuse spec.colour: %v %s", err, errOut)
	}
	_, errOut, err = kubectl(t, "alice", []byte(unknown), "apply", "--validate=warn", "--dry-run=server", "-f", "-")
	if err != nil || !strings.Contains(errOut, `unknown field "spec.colour"`) {
		t.Errorf("warn validation should accept with a warning: %v %s", err, errOut)
	}

	wrongType := strings.Replace(fn, "image:", "minReplicas: many, image:", 1)
	if _, errOut, err := kubectl(t, "alice", []byte(wrongType), "apply", "-f", "-"); err == nil || !strings.Contains(errOut, "minReplicas") {
		t.Errorf("a string in an integer field should be refused naming the field: %v %s", err, errOut)
	}

	invalid := `apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: invalid}
spec:
  runtime: python:3.6
  handler: "a:b:c"
  minReplicas: 3
  maxReplicas: 2
  triggers:
    kafka: {kind: kafka-cluster, name: other, numWorkers: 100001}
`
	_, errOut, err = kubectl(t, "alice", []byte(invalid), "apply", "-f", "-")
	if err == nil {
		t.Fatal("invalid function accepted")
	}
	for _, want := range []string{"is invalid", "spec.runtime", "spec.handler", "spec.minReplicas",
		"spec.triggers[kafka].name", "spec.triggers[kafka].numWorkers"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error lacks %q:\n%s", want, errOut)
		}
	}
	// The API returns 422 Invalid with the causes, as for built-in kinds.
	_, err = nuclio.NuclioV1beta1().NuclioFunctions("team-a").Create(context.Background(), &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "invalid"}, Spec: v1beta1.FunctionSpec{Runtime: "cobol"},
	}, metav1.CreateOptions{})
	if status, ok := err.(interface{ Status() metav1.Status }); !ok || status.Status().Code != 422 {
		t.Errorf("want 422, got %v", err)
	}
}

// TestStatusAndGeneration: main-resource writes ignore status, the status subresource ignores spec,
// and only spec changes move metadata.generation. nuclio-controller writes this function's status too,
// so every write retries on conflict and checks the response of its own write, with state values the
// controller never uses.
func TestStatusAndGeneration(t *testing.T) {
	ctx := context.Background()
	fns := nuclio.NuclioV1beta1().NuclioFunctions("team-a")
	fn, err := fns.Create(ctx, &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "gen"},
		Spec:       v1beta1.FunctionSpec{Runtime: "golang", Handler: "main:Handler", Image: "registry.example.com/gen:1"},
		Status:     v1beta1.FunctionStatus{State: "e2eCreate"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fns.Delete(ctx, "gen", metav1.DeleteOptions{})
	if fn.Status.State == "e2eCreate" || fn.Generation != 1 {
		t.Errorf("create kept status %q or generation %d", fn.Status.State, fn.Generation)
	}

	// write applies mutate to a fresh copy and writes it with update, retrying on conflicts.
	write := func(update func(*v1beta1.NuclioFunction) (*v1beta1.NuclioFunction, error), mutate func(*v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
		t.Helper()
		var out *v1beta1.NuclioFunction
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := fns.Get(ctx, "gen", metav1.GetOptions{})
			if err != nil {
				return err
			}
			mutate(cur)
			out, err = update(cur)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	update := func(f *v1beta1.NuclioFunction) (*v1beta1.NuclioFunction, error) {
		return fns.Update(ctx, f, metav1.UpdateOptions{})
	}
	updateStatus := func(f *v1beta1.NuclioFunction) (*v1beta1.NuclioFunction, error) {
		return fns.UpdateStatus(ctx, f, metav1.UpdateOptions{})
	}

	fn = write(update, func(f *v1beta1.NuclioFunction) { f.Status.State = "e2eMainWrite"; f.Labels["touched"] = "yes" })
	if fn.Status.State == "e2eMainWrite" || fn.Generation != 1 || fn.Labels["touched"] != "yes" {
		t.Errorf("main update: status %q, generation %d, labels %v", fn.Status.State, fn.Generation, fn.Labels)
	}
	fn = write(update, func(f *v1beta1.NuclioFunction) { f.Spec.Description = "changed" })
	if fn.Generation != 2 {
		t.Errorf("spec change: generation %d, want 2", fn.Generation)
	}
	fn = write(updateStatus, func(f *v1beta1.NuclioFunction) {
		f.Status.State = "e2eStatusWrite"
		f.Spec.Description = "ignored by the status subresource"
	})
	if fn.Status.State != "e2eStatusWrite" || fn.Spec.Description != "changed" || fn.Generation != 2 {
		t.Errorf("status update: state %q, description %q, generation %d", fn.Status.State, fn.Spec.Description, fn.Generation)
	}
	// Status writes are refused to a namespace admin: only controllers hold nucliofunctions/status update.
	if _, errOut, err := kubectl(t, "alice", nil, "patch", "nfn", "gen", "--subresource=status", "--type=merge", "-p", `{"status":{"state":"error"}}`); err == nil {
		t.Errorf("alice could write status: %s", errOut)
	}
}

func TestScale(t *testing.T) {
	ctx := context.Background()
	fns := nuclio.NuclioV1beta1().NuclioFunctions("team-a")
	if _, err := fns.Create(ctx, &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "scaled"},
		Spec: v1beta1.FunctionSpec{Runtime: "golang", Handler: "main:Handler", Image: "registry.example.com/s:1",
			MinReplicas: ptr.To[int32](1), MaxReplicas: ptr.To[int32](4)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer fns.Delete(ctx, "scaled", metav1.DeleteOptions{})

	mustKubectl(t, "alice", nil, "scale", "nucliofunction", "scaled", "--replicas=3")
	fn, err := fns.Get(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fn.Spec.Replicas == nil || *fn.Spec.Replicas != 3 || fn.Generation != 2 {
		t.Errorf("after kubectl scale: replicas %v, generation %d", fn.Spec.Replicas, fn.Generation)
	}
	scale, err := fns.GetScale(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if scale.Spec.Replicas != 3 || scale.Status.Selector != "nuclio.io/function-name=scaled" {
		t.Errorf("scale = %+v", scale)
	}
	scale.Spec.Replicas = -1
	if _, err := fns.UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "spec.replicas") {
		t.Errorf("negative replicas should be refused naming spec.replicas: %v", err)
	}
	stale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "scaled", ResourceVersion: "1"}, Spec: autoscalingv1.ScaleSpec{Replicas: 5}}
	if _, err := fns.UpdateScale(ctx, "scaled", stale, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "modified") {
		t.Errorf("a stale resourceVersion should conflict: %v", err)
	}
	if _, errOut, err := kubectl(t, "carol", nil, "scale", "nucliofunction", "scaled", "--replicas=1"); err == nil {
		t.Errorf("carol (view) could scale: %s", errOut)
	}
}
