// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package project

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

func newClient(t *testing.T, objs ...client.Object) client.WithWatch {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithStatusSubresource(&v1beta1.NuclioFunction{}, &v1beta1.NuclioProject{}, &v1beta1.NuclioAPIGateway{}).Build()
}

func reconcileProject(t *testing.T, r *Reconciler, name string) {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}); err != nil {
		t.Fatal(err)
	}
}

func project(name, strategy string, finalizers ...string) *v1beta1.NuclioProject {
	p := &v1beta1.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Finalizers: finalizers, Generation: 1}}
	if strategy != "" {
		p.Annotations = map[string]string{AnnotationDeleteStrategy: strategy}
	}
	return p
}

func fn(name, project string) *v1beta1.NuclioFunction {
	f := &v1beta1.NuclioFunction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)}}
	if project != "" {
		f.Labels = map[string]string{v1beta1.LabelProjectName: project}
	}
	return f
}

func gateway(name, project string) *v1beta1.NuclioAPIGateway {
	return &v1beta1.NuclioAPIGateway{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
		Labels: map[string]string{v1beta1.LabelProjectName: project}}}
}

// markDeleted deletes a project as kubectl would; its finalizer keeps it (terminating).
func markDeleted(t *testing.T, c client.Client, name string) {
	t.Helper()
	if err := c.Delete(context.Background(), &v1beta1.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c client.Client, name string) (*v1beta1.NuclioProject, bool) {
	t.Helper()
	p := &v1beta1.NuclioProject{}
	err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: name}, p)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}

func TestFinalizerAdded(t *testing.T) {
	c := newClient(t, project("shop", ""))
	r := &Reconciler{Client: c}
	reconcileProject(t, r, "shop")
	p, _ := get(t, c, "shop")
	if !controllerutil.ContainsFinalizer(p, Finalizer) {
		t.Fatalf("finalizers %v", p.Finalizers)
	}
	rv := p.ResourceVersion
	reconcileProject(t, r, "shop")
	if p, _ := get(t, c, "shop"); p.ResourceVersion != rv {
		t.Error("a second reconcile must not write")
	}
}

func TestRestrictedDeletion(t *testing.T) {
	c := newClient(t, project("shop", "", Finalizer), fn("cart", "shop"), gateway("api", "shop"), fn("other", "blog"))
	recorder := events.NewFakeRecorder(10)
	r := &Reconciler{Client: c, Recorder: recorder}
	markDeleted(t, c, "shop")
	reconcileProject(t, r, "shop")
	p, ok := get(t, c, "shop")
	if !ok {
		t.Fatal("a restricted project with functions must stay")
	}
	cond := meta.FindStatusCondition(p.Status.Conditions, ConditionDeletionBlocked)
	if cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != ReasonHasResources ||
		!strings.Contains(cond.Message, "1 function(s) (cart)") || !strings.Contains(cond.Message, "1 API gateway(s) (api)") ||
		!strings.Contains(cond.Message, "nuclio.io/delete-strategy=cascading") {
		t.Fatalf("condition %+v", cond)
	}
	if ev := <-recorder.Events; !strings.HasPrefix(ev, "Warning HasResources") {
		t.Errorf("event %q", ev)
	}
	// Nothing of the project's was deleted.
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "cart"}, &v1beta1.NuclioFunction{}); err != nil {
		t.Errorf("restricted deletion removed the function: %v", err)
	}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "api"}, &v1beta1.NuclioAPIGateway{}); err != nil {
		t.Errorf("restricted deletion removed the gateway: %v", err)
	}

	// Once the members are gone, the project is released.
	for _, obj := range []client.Object{fn("cart", "shop"), gateway("api", "shop")} {
		if err := c.Delete(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	reconcileProject(t, r, "shop")
	if _, ok := get(t, c, "shop"); ok {
		t.Error("the project must go once empty")
	}
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "shop"}}); err != nil {
		t.Error(err)
	}
}

func TestCascadingDeletion(t *testing.T) {
	c := newClient(t, project("shop", StrategyCascading, Finalizer), fn("cart", "shop"), fn("pay", "shop"), gateway("api", "shop"), fn("other", "blog"))
	r := &Reconciler{Client: c}
	markDeleted(t, c, "shop")
	reconcileProject(t, r, "shop")
	for _, name := range []string{"cart", "pay"} {
		if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: name}, &v1beta1.NuclioFunction{}); !apierrors.IsNotFound(err) {
			t.Errorf("function %s must be deleted: %v", name, err)
		}
	}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "api"}, &v1beta1.NuclioAPIGateway{}); !apierrors.IsNotFound(err) {
		t.Errorf("gateway must be deleted: %v", err)
	}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "other"}, &v1beta1.NuclioFunction{}); err != nil {
		t.Errorf("another project's function was touched: %v", err)
	}
	// The fake client deletes at once; with finalizers the next reconcile (on their delete events)
	// releases the project.
	if p, ok := get(t, c, "shop"); ok {
		if cond := meta.FindStatusCondition(p.Status.Conditions, ConditionDeletionBlocked); cond == nil || cond.Reason != ReasonDeletingResources {
			t.Errorf("condition %+v", cond)
		}
	}
	reconcileProject(t, r, "shop")
	if _, ok := get(t, c, "shop"); ok {
		t.Error("the project must be released once its members are gone")
	}
}

func TestDefaultProjectOwnsUnlabelledFunctions(t *testing.T) {
	c := newClient(t, project("default", "", Finalizer), fn("legacy", ""))
	r := &Reconciler{Client: c}
	markDeleted(t, c, "default")
	reconcileProject(t, r, "default")
	p, ok := get(t, c, "default")
	if !ok || meta.FindStatusCondition(p.Status.Conditions, ConditionDeletionBlocked) == nil {
		t.Fatal("a function without the project label belongs to default")
	}
}

func TestUnknownStrategyIsRestricted(t *testing.T) {
	c := newClient(t, project("shop", "yolo", Finalizer), fn("cart", "shop"))
	r := &Reconciler{Client: c}
	markDeleted(t, c, "shop")
	reconcileProject(t, r, "shop")
	p, ok := get(t, c, "shop")
	if !ok {
		t.Fatal("an unknown strategy must not delete")
	}
	if cond := meta.FindStatusCondition(p.Status.Conditions, ConditionDeletionBlocked); cond == nil || cond.Reason != ReasonUnknownStrategy || !strings.Contains(cond.Message, `"yolo"`) {
		t.Errorf("condition %+v", cond)
	}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "cart"}, &v1beta1.NuclioFunction{}); err != nil {
		t.Error(err)
	}
}
