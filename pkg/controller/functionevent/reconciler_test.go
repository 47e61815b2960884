// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package functionevent

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
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
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func functionEvent(name, function string, refs ...metav1.OwnerReference) *v1beta1.NuclioFunctionEvent {
	return &v1beta1.NuclioFunctionEvent{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
		Labels: map[string]string{v1beta1.LabelFunctionName: function}, OwnerReferences: refs}}
}

func function(name string, uid types.UID) *v1beta1.NuclioFunction {
	return &v1beta1.NuclioFunction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: uid}}
}

func reconcileEvent(t *testing.T, r *Reconciler, name string) *v1beta1.NuclioFunctionEvent {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}); err != nil {
		t.Fatal(err)
	}
	ev := &v1beta1.NuclioFunctionEvent{}
	if err := r.Client.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: name}, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

var ownerOfHello = metav1.OwnerReference{APIVersion: "nuclio.io/v1beta1", Kind: "NuclioFunction", Name: "hello", UID: "uid-2"}

func TestEventOwnedByItsFunction(t *testing.T) {
	other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "cm"}
	stale := metav1.OwnerReference{APIVersion: "nuclio.io/v1beta1", Kind: "NuclioFunction", Name: "hello", UID: "uid-1"}
	c := newClient(t, function("hello", "uid-2"), functionEvent("greet", "hello", other, stale))
	r := &Reconciler{Client: c}
	ev := reconcileEvent(t, r, "greet")
	if diff := cmp.Diff([]metav1.OwnerReference{other, ownerOfHello}, ev.OwnerReferences); diff != "" {
		t.Errorf("ownerReferences (-want +got):\n%s", diff)
	}
	if ref := metav1.GetControllerOf(ev); ref != nil {
		t.Errorf("the reference must not be a controller reference: %+v", ref)
	}
	rv := ev.ResourceVersion
	if ev := reconcileEvent(t, r, "greet"); ev.ResourceVersion != rv {
		t.Error("a second reconcile must not write")
	}
}

func TestEventWithoutFunction(t *testing.T) {
	c := newClient(t, functionEvent("greet", "hello"))
	r := &Reconciler{Client: c}
	if ev := reconcileEvent(t, r, "greet"); len(ev.OwnerReferences) != 0 {
		t.Errorf("ownerReferences %v", ev.OwnerReferences)
	}
	// The function appears: its creation maps to the event.
	fn := function("hello", "uid-2")
	if err := c.Create(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
	reqs := r.functionToEvents(context.Background(), fn)
	if len(reqs) != 1 || reqs[0].Name != "greet" {
		t.Fatalf("requests %v", reqs)
	}
	if ev := reconcileEvent(t, r, "greet"); len(ev.OwnerReferences) != 1 || ev.OwnerReferences[0].UID != "uid-2" {
		t.Errorf("ownerReferences %v", ev.OwnerReferences)
	}
}

func TestOwnerReferences(t *testing.T) {
	fn := function("hello", "uid-2")
	if refs, changed := OwnerReferences([]metav1.OwnerReference{ownerOfHello}, fn); changed || len(refs) != 1 {
		t.Errorf("already owned: %v %v", refs, changed)
	}
	dup := []metav1.OwnerReference{ownerOfHello, ownerOfHello}
	if refs, changed := OwnerReferences(dup, fn); !changed || len(refs) != 1 {
		t.Errorf("duplicates: %v %v", refs, changed)
	}
}
