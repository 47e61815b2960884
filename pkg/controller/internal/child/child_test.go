// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package child

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func setup(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

// The owner is a ConfigMap here only because any namespaced object will do.
var owner = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner", Namespace: "ns", UID: "owner-uid"}}

func desired(value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "child", Namespace: "ns", Labels: map[string]string{"a": "b"}}, Data: map[string]string{"k": value}}
}

func merge(existing, desired *corev1.ConfigMap) { existing.Data = desired.Data }

func TestEnsure(t *testing.T) {
	c := setup(t, owner)
	ctx := context.Background()
	got, res, err := Ensure(ctx, c, c, owner, desired("1"), merge, Options{})
	if err != nil || res != Created {
		t.Fatalf("create: %v %v", res, err)
	}
	if !metav1.IsControlledBy(got, owner) || got.Labels[LabelManagedBy] != ManagedBy || got.Annotations[AnnotationDesiredHash] == "" {
		t.Errorf("created %+v", got.ObjectMeta)
	}
	if _, res, err := Ensure(ctx, c, c, owner, desired("1"), merge, Options{}); err != nil || res != Unchanged {
		t.Errorf("same desired state: %v %v", res, err)
	}
	// Another controller's annotation survives an update.
	stored := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(got), stored); err != nil {
		t.Fatal(err)
	}
	stored.Annotations["other"] = "keep"
	if err := c.Update(ctx, stored); err != nil {
		t.Fatal(err)
	}
	got, res, err = Ensure(ctx, c, c, owner, desired("2"), merge, Options{})
	if err != nil || res != Updated || got.Data["k"] != "2" || got.Annotations["other"] != "keep" {
		t.Errorf("update: %v %v %+v", res, err, got)
	}
}

func TestEnsureConflicts(t *testing.T) {
	foreign := desired("x")
	foreign.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "someone", UID: "other", Controller: ptr.To(true)}}
	c := setup(t, owner, foreign)
	_, _, err := Ensure(context.Background(), c, c, owner, desired("1"), merge, Options{AdoptLabel: "a"})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.Name != "child" {
		t.Fatalf("err %v", err)
	}

	unowned := desired("x")
	unowned.Labels = map[string]string{"a": "not-owner"}
	c = setup(t, owner, unowned)
	if _, _, err := Ensure(context.Background(), c, c, owner, desired("1"), merge, Options{AdoptLabel: "a"}); !errors.As(err, &conflict) {
		t.Fatalf("an object whose label names another owner must not be adopted: %v", err)
	}
	adoptable := desired("x")
	adoptable.Labels = map[string]string{"a": "owner"}
	c = setup(t, owner, adoptable)
	got, res, err := Ensure(context.Background(), c, c, owner, desired("1"), merge, Options{AdoptLabel: "a"})
	if err != nil || res != Updated || !metav1.IsControlledBy(got, owner) {
		t.Fatalf("adoption: %v %v", res, err)
	}
}

func TestDeleteIfOwned(t *testing.T) {
	mine := desired("1")
	mine.Name = "mine"
	mine.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "owner-uid", Controller: ptr.To(true)}}
	theirs := desired("1")
	theirs.Name = "theirs"
	c := setup(t, owner, mine, theirs)
	ctx := context.Background()
	if deleted, err := DeleteIfOwned(ctx, c, owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: "ns"}}); err != nil || deleted {
		t.Errorf("another's object: %v %v", deleted, err)
	}
	if deleted, err := DeleteIfOwned(ctx, c, owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mine", Namespace: "ns"}}); err != nil || !deleted {
		t.Errorf("own object: %v %v", deleted, err)
	}
	if deleted, err := DeleteIfOwned(ctx, c, owner, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gone", Namespace: "ns"}}); err != nil || deleted {
		t.Errorf("missing object: %v %v", deleted, err)
	}
}
