// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunction_test

import (
	"context"
	"errors"
	"fmt"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistrytest "k8s.io/apiserver/pkg/registry/generic/testing"
	"k8s.io/apiserver/pkg/registry/rest"
	scalescheme "k8s.io/client-go/scale/scheme"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/apiserver"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nucliofunction"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/registrytest"
)

// newStorage returns the nucliofunctions stores over a fresh in-process etcd, encoding with the server's
// codec (v1beta1 JSON in etcd, internal objects in memory, defaulting on read).
func newStorage(t *testing.T, opts registrytest.EtcdOptions) *nucliofunction.Storage {
	t.Helper()
	getter := registrytest.NewRESTOptionsGetter(t, apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion), opts)
	s, err := nucliofunction.NewStorage(apiserver.Scheme, getter, kubefake.NewClientset())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Function.Destroy)
	return s
}

// validFunction is a function as it is stored: already defaulted, because everything read back from etcd
// is defaulted on decode and the generic tests compare what they wrote with what they read. The namespace
// comes from the request context.
func validFunction() *nuclio.NuclioFunction {
	return &nuclio.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "foo", Generation: 1,
			Labels: map[string]string{"nuclio.io/project-name": "default"}},
		Spec: nuclio.FunctionSpec{
			Runtime: "python:3.9", Handler: "main:handler",
			Triggers: map[string]nuclio.Trigger{"default-http": {Kind: "http", Name: "default-http", NumWorkers: 1}},
		},
	}
}

func nsContext(ns string) context.Context {
	return genericapirequest.WithNamespace(genericapirequest.NewContext(), ns)
}

// TestGenericStore runs k8s.io/apiserver's conformance suite for a registry: create (dry-run, names,
// validation, namespaces), update (preconditions, UID, generation), delete, get, list (+table) and watch.
func TestGenericStore(t *testing.T) {
	s := newStorage(t, registrytest.EtcdOptions{})
	store := s.Function.Store

	invalid := validFunction()
	invalid.Spec.Runtime = "cobol"

	// One etcd serves all subtests; distinct names keep their objects apart. (The update suite keeps the
	// default "foo<n>" names: one of its checks hard-codes "foo1". Watch emits the valid object as is.)
	tester := func(t *testing.T, prefix string) *genericregistrytest.Tester {
		return genericregistrytest.New(t, store).Namer(func(i int) string { return fmt.Sprintf("%s-%d", prefix, i) })
	}
	t.Run("create", func(t *testing.T) { tester(t, "create").TestCreate(validFunction(), invalid) })
	t.Run("update", func(t *testing.T) {
		genericregistrytest.New(t, store).TestUpdate(validFunction(),
			func(obj runtime.Object) runtime.Object {
				f := obj.(*nuclio.NuclioFunction)
				f.Spec.Description = "updated"
				return f
			},
			func(obj runtime.Object) runtime.Object {
				f := obj.(*nuclio.NuclioFunction)
				f.Spec.Handler = "a:b:c"
				return f
			},
		)
	})
	t.Run("delete", func(t *testing.T) { tester(t, "delete").ReturnDeletedObject().TestDelete(validFunction()) })
	t.Run("get", func(t *testing.T) { tester(t, "get").TestGet(validFunction()) })
	t.Run("list", func(t *testing.T) { tester(t, "list").TestList(validFunction()) })
	t.Run("watch", func(t *testing.T) {
		tester(t, "watch").TestWatch(validFunction(),
			[]labels.Set{{"nuclio.io/project-name": "default"}},
			[]labels.Set{{"nuclio.io/project-name": "other"}},
			[]fields.Set{{"metadata.name": "foo"}, {"spec.runtime": "python:3.9"}, {"status.state": ""}},
			// Each non-matching set costs the suite a 0.5 s wait for an event that must not come.
			[]fields.Set{{"spec.runtime": "golang"}, {"status.state": "ready"}},
		)
	})
}

// TestStatusAndGeneration checks the spec/status split end to end through etcd: the main resource
// ignores status and bumps generation on spec changes; the status subresource writes only status.
func TestStatusAndGeneration(t *testing.T) {
	s := newStorage(t, registrytest.EtcdOptions{})
	ctx := nsContext("default")

	in := validFunction()
	in.Status.State = "ready" // cleared on create
	created, err := s.Function.Create(ctx, in, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn := created.(*nuclio.NuclioFunction)
	if fn.Generation != 1 || fn.Status.State != "" {
		t.Fatalf("created generation=%d state=%q, want 1 and empty", fn.Generation, fn.Status.State)
	}

	// Status subresource: status lands, spec and labels do not, generation stays.
	withStatus := fn.DeepCopy()
	withStatus.Status = nuclio.FunctionStatus{State: "ready", Replicas: 1, ReadyReplicas: 1, ObservedGeneration: 1}
	withStatus.Spec.Description = "sneaked in"
	withStatus.Labels["team"] = "x"
	updated, _, err := s.Status.Update(ctx, "foo", rest.DefaultUpdatedObjectInfo(withStatus), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn = updated.(*nuclio.NuclioFunction)
	if fn.Status.State != "ready" || fn.Status.ReadyReplicas != 1 || fn.Spec.Description != "" || fn.Labels["team"] != "" || fn.Generation != 1 {
		t.Errorf("after status update: state=%q ready=%d description=%q labels=%v generation=%d",
			fn.Status.State, fn.Status.ReadyReplicas, fn.Spec.Description, fn.Labels, fn.Generation)
	}

	// An invalid status is refused by the status endpoint.
	bad := fn.DeepCopy()
	bad.Status.Replicas = -1
	if _, _, err := s.Status.Update(ctx, "foo", rest.DefaultUpdatedObjectInfo(bad), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("negative status.replicas: err = %v, want Invalid", err)
	}

	// The status subresource never creates.
	ghost := validFunction()
	ghost.Name = "ghost"
	if _, _, err := s.Status.Update(ctx, "ghost", rest.DefaultUpdatedObjectInfo(ghost), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, true, &metav1.UpdateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("status update of a missing function: err = %v, want NotFound", err)
	}

	// Main resource: a spec change bumps generation and keeps the stored status even if the client
	// sends another one.
	mainUpdate := fn.DeepCopy()
	mainUpdate.Spec.Description = "v2"
	mainUpdate.Status.State = "error"
	updated, _, err = s.Function.Update(ctx, "foo", rest.DefaultUpdatedObjectInfo(mainUpdate), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn = updated.(*nuclio.NuclioFunction)
	if fn.Generation != 2 || fn.Status.State != "ready" || fn.Spec.Description != "v2" {
		t.Errorf("after spec update: generation=%d state=%q description=%q, want 2, ready, v2", fn.Generation, fn.Status.State, fn.Spec.Description)
	}

	// A metadata-only change does not.
	labelsOnly := fn.DeepCopy()
	labelsOnly.Labels["team"] = "y"
	updated, _, err = s.Function.Update(ctx, "foo", rest.DefaultUpdatedObjectInfo(labelsOnly), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g := updated.(*nuclio.NuclioFunction).Generation; g != 2 {
		t.Errorf("after labels-only update: generation = %d, want 2", g)
	}

	// Reads return what was written: the stored form converts back to the same internal object.
	got, err := s.Function.Get(ctx, "foo", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(updated, got); diff != "" {
		t.Errorf("get differs from the update result (-update +get):\n%s", diff)
	}
}

func TestScaleSubresource(t *testing.T) {
	s := newStorage(t, registrytest.EtcdOptions{})
	ctx := nsContext("default")

	in := validFunction()
	in.Spec.MinReplicas, in.Spec.MaxReplicas = ptr.To[int32](1), ptr.To[int32](3)
	if _, err := s.Function.Create(ctx, in, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	obj, err := s.Scale.Get(ctx, "foo", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale := obj.(*scalescheme.Scale)
	if scale.Spec.Replicas != 0 || scale.Status.Selector.MatchLabels["nuclio.io/function-name"] != "foo" || scale.ResourceVersion == "" {
		t.Errorf("scale = %+v", scale)
	}
	staleRV := scale.ResourceVersion

	update := func(sc *scalescheme.Scale) (runtime.Object, error) {
		obj, _, err := s.Scale.Update(ctx, "foo", rest.DefaultUpdatedObjectInfo(sc), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		return obj, err
	}

	scale.Spec.Replicas = 3
	obj, err = update(scale)
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.(*scalescheme.Scale); got.Spec.Replicas != 3 || got.ResourceVersion == staleRV {
		t.Errorf("scale update returned %+v", got)
	}
	fnObj, err := s.Function.Get(ctx, "foo", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn := fnObj.(*nuclio.NuclioFunction)
	if fn.Spec.Replicas == nil || *fn.Spec.Replicas != 3 || fn.Generation != 2 {
		t.Errorf("function after scale: replicas=%v generation=%d, want 3 and 2", fn.Spec.Replicas, fn.Generation)
	}
	if *fn.Spec.MinReplicas != 1 || *fn.Spec.MaxReplicas != 3 {
		t.Errorf("scale changed min/max: %d/%d", *fn.Spec.MinReplicas, *fn.Spec.MaxReplicas)
	}

	// A stale resourceVersion on the Scale is a precondition failure, not a silent overwrite.
	stale := &scalescheme.Scale{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "default", ResourceVersion: staleRV}, Spec: scalescheme.ScaleSpec{Replicas: 5}}
	if _, err := update(stale); !apierrors.IsConflict(err) {
		t.Errorf("stale resourceVersion: err = %v, want Conflict", err)
	}
	// Without a resourceVersion the write is unconditional.
	if _, err := update(&scalescheme.Scale{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "default"}, Spec: scalescheme.ScaleSpec{Replicas: 0}}); err != nil {
		t.Errorf("unconditional scale to zero: %v", err)
	}
	if _, err := update(&scalescheme.Scale{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "default"}, Spec: scalescheme.ScaleSpec{Replicas: -1}}); !apierrors.IsInvalid(err) {
		t.Errorf("negative replicas: err = %v, want Invalid", err)
	}
	if _, _, err := s.Scale.Update(ctx, "missing", rest.DefaultUpdatedObjectInfo(&scalescheme.Scale{Spec: scalescheme.ScaleSpec{Replicas: 1}}),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("scale of a missing function: err = %v, want NotFound", err)
	}
	if _, err := s.Scale.Get(ctx, "missing", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get scale of a missing function: err = %v, want NotFound", err)
	}

	// Admission (here: the validation hook) sees Scale objects, as for built-in scale subresources.
	var seen []string
	validate := func(_ context.Context, obj, old runtime.Object) error {
		seen = append(seen, typeName(obj), typeName(old))
		return nil
	}
	if _, _, err := s.Scale.Update(ctx, "foo", rest.DefaultUpdatedObjectInfo(&scalescheme.Scale{ObjectMeta: metav1.ObjectMeta{Name: "foo"}, Spec: scalescheme.ScaleSpec{Replicas: 2}}),
		rest.ValidateAllObjectFunc, validate, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"*scheme.Scale", "*scheme.Scale"}, seen); diff != "" {
		t.Errorf("update validation saw (-want +got):\n%s", diff)
	}
}

func typeName(obj runtime.Object) string {
	switch obj.(type) {
	case *scalescheme.Scale:
		return "*scheme.Scale"
	case *nuclio.NuclioFunction:
		return "*nuclio.NuclioFunction"
	}
	return "other"
}

// TestFieldSelectors checks both halves a field selector needs: the scheme accepts the label for
// v1beta1 (without a conversion func the handler rejects everything but metadata.*), and the store
// filters on it.
func TestFieldSelectors(t *testing.T) {
	gvk := v1beta1.SchemeGroupVersion.WithKind("NuclioFunction")
	for _, tc := range []struct {
		label string
		ok    bool
	}{
		{"metadata.name", true}, {"metadata.namespace", true}, {"status.state", true}, {"spec.runtime", true},
		{"spec.handler", false}, {"status.message", false},
	} {
		_, _, err := apiserver.Scheme.ConvertFieldLabel(gvk, tc.label, "x")
		if (err == nil) != tc.ok {
			t.Errorf("ConvertFieldLabel(%q) err = %v, want ok=%v", tc.label, err, tc.ok)
		}
	}

	s := newStorage(t, registrytest.EtcdOptions{})
	ctx := nsContext("default")
	for _, f := range []struct{ name, runtime, state string }{
		{"a", "python:3.9", "ready"}, {"b", "golang", "ready"}, {"c", "python:3.9", "error"},
	} {
		fn := validFunction()
		fn.Name, fn.Spec.Runtime = f.name, f.runtime
		if _, err := s.Function.Create(ctx, fn, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		fn.Status.State = f.state
		if _, _, err := s.Status.Update(ctx, f.name, rest.DefaultUpdatedObjectInfo(fn), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		selector string
		want     []string
	}{
		{"status.state=ready", []string{"a", "b"}},
		{"spec.runtime=python:3.9", []string{"a", "c"}},
		{"spec.runtime=python:3.9,status.state!=ready", []string{"c"}},
		{"status.state=building", nil},
	} {
		obj, err := s.Function.List(ctx, &metainternalversion.ListOptions{FieldSelector: fields.ParseSelectorOrDie(tc.selector)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, item := range obj.(*nuclio.NuclioFunctionList).Items {
			names = append(names, item.Name)
		}
		if diff := cmp.Diff(tc.want, names); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.selector, diff)
		}
	}
}

// TestObjectTooLarge: etcd refuses a request over --max-request-bytes. The create must fail with an
// error that names the cause and must store nothing. The store passes etcd's error through unchanged on
// purpose: the HTTP create/update handlers recognise exactly this error (gRPC InvalidArgument,
// "etcdserver: request is too large") and retry once without managedFields before reporting it, so
// wrapping it here would break that retry.
func TestObjectTooLarge(t *testing.T) {
	const limit = 64 << 10
	s := newStorage(t, registrytest.EtcdOptions{MaxRequestBytes: limit})
	ctx := nsContext("default")

	fits := validFunction()
	fits.Name = "fits"
	fits.Spec.Description = strings.Repeat("x", limit/2)
	if _, err := s.Function.Create(ctx, fits, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatalf("an object under the limit: %v", err)
	}

	big := validFunction()
	big.Name = "big"
	big.Spec.Description = strings.Repeat("x", 2*limit)
	_, err := s.Function.Create(ctx, big, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err == nil {
		t.Fatal("an object over etcd's request limit was accepted")
	}
	var etcdErr interface {
		Code() codes.Code
		Error() string
	}
	if !errors.As(err, &etcdErr) || etcdErr.Code() != codes.InvalidArgument || etcdErr.Error() != "etcdserver: request is too large" {
		t.Errorf("err = %T %v, want etcd's InvalidArgument \"etcdserver: request is too large\"", err, err)
	}
	if _, err := s.Function.Get(ctx, "big", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after a refused create: err = %v, want NotFound", err)
	}

	// The same limit applies to updates, and a refused update leaves the stored object as it was.
	grow := fits.DeepCopy()
	grow.Spec.Description = big.Spec.Description
	if _, _, err := s.Function.Update(ctx, "fits", rest.DefaultUpdatedObjectInfo(grow), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err == nil {
		t.Error("an update over etcd's request limit was accepted")
	}
	obj, err := s.Function.Get(ctx, "fits", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.(*nuclio.NuclioFunction); len(got.Spec.Description) != limit/2 || got.Generation != 1 {
		t.Errorf("stored object changed by a refused update: description %d bytes, generation %d", len(got.Spec.Description), got.Generation)
	}
}
