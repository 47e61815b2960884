// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// TestRBACMatrix checks, for each test account × namespace × resource × verb, what `kubectl auth can-i`
// answers (kube-apiserver's RBAC over the aggregated roles) and that real requests agree (nuclio-apiserver
// authorizes again with a SubjectAccessReview).
func TestRBACMatrix(t *testing.T) {
	type who struct{ user, ns string }
	// access says what a user may do in a namespace: "admin", "view" or "" (nothing).
	access := map[who]string{
		{"alice", "team-a"}: "admin", {"alice", "team-b"}: "",
		{"bob", "team-a"}: "", {"bob", "team-b"}: "admin",
		{"carol", "team-a"}: "view", {"carol", "team-b"}: "",
	}
	resources := []string{"nucliofunctions", "nuclioprojects", "nucliofunctionevents", "nuclioapigateways"}
	readVerbs := []string{"get", "list", "watch"}
	writeVerbs := []string{"create", "update", "patch", "delete", "deletecollection"}
	// subresource → verbs a viewer has, verbs an admin has on top.
	subresources := map[string][2][]string{
		"nucliofunctions/status":       {{"get"}, {}},
		"nucliofunctions/scale":        {{"get"}, {"update", "patch"}},
		"nucliofunctions/log":          {{"get"}, {}},
		"nucliofunctions/invoke":       {{}, {"create", "get"}},
		"nuclioprojects/status":        {{"get"}, {}},
		"nuclioapigateways/status":     {{"get"}, {}},
		"nucliofunctions/buildfromurl": {{}, {"create"}},
	}
	type check struct {
		user, ns, verb, resource string
		want                     bool
	}
	var checks []check
	for w, role := range access {
		for _, r := range resources {
			for _, v := range readVerbs {
				checks = append(checks, check{w.user, w.ns, v, r, role != ""})
			}
			for _, v := range writeVerbs {
				checks = append(checks, check{w.user, w.ns, v, r, role == "admin"})
			}
		}
		for sub, verbs := range subresources {
			for _, v := range verbs[0] {
				checks = append(checks, check{w.user, w.ns, v, sub, role != ""})
			}
			for _, v := range verbs[1] {
				checks = append(checks, check{w.user, w.ns, v, sub, role == "admin"})
			}
		}
		// Nobody but controllers writes status.
		checks = append(checks, check{w.user, w.ns, "update", "nucliofunctions/status", false})
	}

	// The aggregated roles reach admin/view through kube-controller-manager's aggregation controller.
	eventually(t, 30*time.Second, func() error {
		out, _, _ := kubectl(t, "alice", nil, "auth", "can-i", "create", "nucliofunctions", "-n", "team-a")
		if strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("admin role not aggregated yet: %q", out)
		}
		return nil
	})
	for _, c := range checks {
		args := []string{"auth", "can-i", c.verb, c.resource, "-n", c.ns}
		if res, sub, ok := strings.Cut(c.resource, "/"); ok {
			// can-i reads TYPE/NAME; subresources go in --subresource.
			args = []string{"auth", "can-i", c.verb, res, "--subresource=" + sub, "-n", c.ns}
		}
		out, _, _ := kubectl(t, c.user, nil, args...)
		if got := strings.TrimSpace(out) == "yes"; got != c.want {
			t.Errorf("%s can-i %s %s -n %s = %v, want %v", c.user, c.verb, c.resource, c.ns, got, c.want)
		}
	}

	// Real requests, so nuclio-apiserver's own authorization is exercised too.
	fn := func(ns string) []byte {
		return []byte(fmt.Sprintf(`{"apiVersion":"nuclio.io/v1beta1","kind":"NuclioFunction","metadata":{"name":"rbac","namespace":%q},"spec":{"runtime":"golang","image":"registry.example.com/r:1"}}`, ns))
	}
	for w, role := range access {
		_, errOut, err := kubectl(t, w.user, fn(w.ns), "create", "-f", "-")
		if (err == nil) != (role == "admin") {
			t.Errorf("%s create in %s: err=%v %s", w.user, w.ns, err, errOut)
		}
		if err != nil && !strings.Contains(errOut, "Forbidden") && !strings.Contains(errOut, "forbidden") {
			t.Errorf("%s create in %s failed for another reason: %s", w.user, w.ns, errOut)
		}
	}
	for w, role := range access {
		_, errOut, err := kubectl(t, w.user, nil, "get", "nfn", "rbac", "-n", w.ns)
		if (err == nil) != (role != "") {
			t.Errorf("%s get in %s: err=%v %s", w.user, w.ns, err, errOut)
		}
		_, errOut, err = kubectl(t, w.user, nil, "delete", "nfn", "rbac", "-n", w.ns, "--dry-run=server")
		if (err == nil) != (role == "admin") {
			t.Errorf("%s delete --dry-run in %s: err=%v %s", w.user, w.ns, err, errOut)
		}
	}
	for _, ns := range []string{"team-a", "team-b"} {
		mustKubectl(t, "admin", nil, "delete", "nfn", "rbac", "-n", ns)
	}
}

// TestNamespaceDeletionRemovesObjects: kube-controller-manager's namespace controller discovers nuclio.io
// through the aggregator and deletes its objects before the namespace goes.
func TestNamespaceDeletionRemovesObjects(t *testing.T) {
	ns := createNamespace(t, "e2e-nsdelete")
	for _, m := range kindManifests(ns) {
		mustKubectl(t, "admin", []byte(m), "apply", "-f", "-")
	}
	mustKubectl(t, "admin", nil, "delete", "namespace", ns, "--wait=false")
	eventually(t, 90*time.Second, func() error {
		list, err := nuclio.NuclioV1beta1().NuclioFunctions(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != 0 {
			return fmt.Errorf("%d functions left", len(list.Items))
		}
		if _, err := cp.Kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
			return fmt.Errorf("namespace %s still exists", ns)
		}
		return nil
	})
}

// TestRestartKeepsData: objects survive a restart of nuclio-apiserver (embedded etcd on disk).
func TestRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-restart")
	for _, m := range kindManifests(ns) {
		mustKubectl(t, "admin", []byte(m), "apply", "-f", "-")
	}
	before, err := nuclio.NuclioV1beta1().NuclioFunctions(ns).Get(ctx, "crud", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	cp.StopNuclioAPIServer()
	if err := cp.StartNuclioAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cp.WaitAPIServiceAvailable(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	var after *v1beta1.NuclioFunction
	eventually(t, 30*time.Second, func() error {
		after, err = nuclio.NuclioV1beta1().NuclioFunctions(ns).Get(ctx, "crud", metav1.GetOptions{})
		return err
	})
	// The controller may have written status meanwhile, so compare identity and spec, not resourceVersion.
	if after.UID != before.UID || after.Generation != before.Generation || !apiequality.Semantic.DeepEqual(after.Spec, before.Spec) ||
		after.Spec.Triggers["kafka"].Attributes["topics"] == nil {
		t.Errorf("function changed across a restart:\nbefore %+v\nafter  %+v", before, after)
	}
	out := mustKubectl(t, "admin", nil, "get", "nuclio", "-n", ns, "-o", "name")
	for _, kind := range []string{"nucliofunction", "nuclioproject", "nucliofunctionevent", "nuclioapigateway"} {
		if !strings.Contains(out, kind+".nuclio.io/crud") {
			t.Errorf("%s lost across the restart:\n%s", kind, out)
		}
	}
}
