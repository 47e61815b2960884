// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunction

import (
	"context"
	"k8s.io/apiserver/pkg/storage"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	scalescheme "k8s.io/client-go/scale/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/install"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry"
)

// This package's tests cannot import pkg/apiserver (it imports this package); a scheme with the group
// installed is the same typer for the strategy.
func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

func validFunction() *nuclio.NuclioFunction {
	return &nuclio.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "f", Namespace: "ns", ResourceVersion: "7", Generation: 3,
			Labels: map[string]string{"nuclio.io/project-name": "default"}},
		Spec: nuclio.FunctionSpec{
			Runtime: "python:3.9", Handler: "main:handler",
			Triggers: map[string]nuclio.Trigger{"default-http": {Kind: "http", Name: "default-http", NumWorkers: 1}},
		},
		Status: nuclio.FunctionStatus{State: "ready", Replicas: 2, ReadyReplicas: 2, ObservedGeneration: 3},
	}
}

func TestPrepareForCreate(t *testing.T) {
	s := NewStrategy(testScheme())
	f := validFunction()
	s.PrepareForCreate(context.Background(), f)
	if !cmp.Equal(f.Status, nuclio.FunctionStatus{}) {
		t.Errorf("status not cleared: %+v", f.Status)
	}
	if f.Generation != 1 {
		t.Errorf("generation = %d, want 1", f.Generation)
	}
	if f.Spec.Runtime != "python:3.9" || f.Labels["nuclio.io/project-name"] != "default" {
		t.Errorf("create changed spec or labels: %+v", f)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	tests := []struct {
		name           string
		mutate         func(f *nuclio.NuclioFunction)
		wantGeneration int64
	}{
		{name: "no change", mutate: func(*nuclio.NuclioFunction) {}, wantGeneration: 3},
		{name: "metadata only", mutate: func(f *nuclio.NuclioFunction) {
			f.Labels["team"] = "a"
			f.Annotations = map[string]string{"nuclio.io/force-update": "x"}
		}, wantGeneration: 3},
		{name: "status only (ignored)", mutate: func(f *nuclio.NuclioFunction) { f.Status.State = "error" }, wantGeneration: 3},
		{name: "client-sent generation is ignored", mutate: func(f *nuclio.NuclioFunction) { f.Generation = 99 }, wantGeneration: 3},
		{name: "spec change", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Description = "new" }, wantGeneration: 4},
		{name: "nested spec change", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.NumWorkers = 2
			f.Spec.Triggers["default-http"] = tr
		}, wantGeneration: 4},
		{name: "replicas via the main resource", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Replicas = ptr.To[int32](0) }, wantGeneration: 4},
	}
	s := NewStrategy(testScheme())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validFunction()
			f := old.DeepCopy()
			tc.mutate(f)
			wantSpec, wantLabels := f.Spec, f.Labels
			s.PrepareForUpdate(context.Background(), f, old)
			if f.Generation != tc.wantGeneration {
				t.Errorf("generation = %d, want %d", f.Generation, tc.wantGeneration)
			}
			if diff := cmp.Diff(old.Status, f.Status); diff != "" {
				t.Errorf("main-resource update changed status (-stored +result):\n%s", diff)
			}
			if !cmp.Equal(wantSpec, f.Spec) || !cmp.Equal(wantLabels, f.Labels) {
				t.Errorf("update lost the new spec or labels")
			}
		})
	}
}

func TestStatusPrepareForUpdate(t *testing.T) {
	s := registry.NewStatusStrategy(NewStrategy(testScheme()))
	old := validFunction()
	f := old.DeepCopy()
	f.Spec.Runtime = "golang"
	f.Labels = map[string]string{"nuclio.io/project-name": "other"}
	f.Generation = 42
	f.Status = nuclio.FunctionStatus{State: "error", Message: "build failed", ObservedGeneration: 3}
	wantStatus := f.Status

	s.PrepareForUpdate(context.Background(), f, old)
	if diff := cmp.Diff(old.Spec, f.Spec); diff != "" {
		t.Errorf("status update changed spec (-stored +result):\n%s", diff)
	}
	if diff := cmp.Diff(old.Labels, f.Labels); diff != "" {
		t.Errorf("status update changed labels (-stored +result):\n%s", diff)
	}
	if f.Generation != old.Generation {
		t.Errorf("generation = %d, want the stored %d", f.Generation, old.Generation)
	}
	if diff := cmp.Diff(wantStatus, f.Status); diff != "" {
		t.Errorf("status update lost the new status (-want +got):\n%s", diff)
	}
}

func TestStrategyValidationWiring(t *testing.T) {
	ctx := context.Background()
	s := NewStrategy(testScheme())
	status := registry.NewStatusStrategy(s)

	bad := validFunction()
	bad.Spec.Runtime = "cobol"
	if errs := s.Validate(ctx, bad); len(errs) != 1 || errs[0].Field != "spec.runtime" {
		t.Errorf("Validate = %v, want one spec.runtime error", errs)
	}
	if errs := s.ValidateUpdate(ctx, bad, validFunction()); len(errs) != 1 || errs[0].Field != "spec.runtime" {
		t.Errorf("ValidateUpdate = %v, want one spec.runtime error", errs)
	}
	// The status endpoint validates status, not the (stored) spec.
	badStatus := validFunction()
	badStatus.Status.Replicas = -1
	if errs := status.ValidateUpdate(ctx, badStatus, validFunction()); len(errs) != 1 || errs[0].Field != "status.replicas" {
		t.Errorf("status ValidateUpdate = %v, want one status.replicas error", errs)
	}

	old := validFunction()
	old.Spec.Runtime = "python:3.7"
	want := []string{"spec.runtime: python:3.7 is deprecated by Nuclio; use python:3.9 or newer"}
	if diff := cmp.Diff(want, s.WarningsOnCreate(ctx, old)); diff != "" {
		t.Errorf("WarningsOnCreate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, s.WarningsOnUpdate(ctx, old, validFunction())); diff != "" {
		t.Errorf("WarningsOnUpdate (-want +got):\n%s", diff)
	}
	if w := status.WarningsOnUpdate(ctx, old, validFunction()); len(w) != 0 {
		t.Errorf("status WarningsOnUpdate = %v, want none", w)
	}

	if !s.NamespaceScoped() || s.AllowCreateOnUpdate(ctx) || !s.AllowUnconditionalUpdate(ctx) {
		t.Error("want namespaced, no create-on-update, unconditional updates allowed")
	}
	if p := s.DefaultGarbageCollectionPolicy(ctx); p != rest.DeleteDependents {
		t.Errorf("garbage collection policy = %q, want %q", p, rest.DeleteDependents)
	}
}

func TestGetResetFields(t *testing.T) {
	s := NewStrategy(testScheme())
	status := registry.NewStatusStrategy(s)
	tests := []struct {
		name string
		got  map[fieldpath.APIVersion]*fieldpath.Set
		want *fieldpath.Set
	}{
		{"main resource resets status", s.GetResetFields(), fieldpath.NewSet(fieldpath.MakePathOrDie("status"))},
		{"status resets spec and labels", status.GetResetFields(), fieldpath.NewSet(fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.got) != 1 {
				t.Fatalf("reset fields for %d versions, want 1: %v", len(tc.got), tc.got)
			}
			set, ok := tc.got["nuclio.io/v1beta1"]
			if !ok {
				t.Fatalf("no reset fields for nuclio.io/v1beta1: %v", tc.got)
			}
			if !set.Equals(tc.want) {
				t.Errorf("reset fields = %v, want %v", set, tc.want)
			}
		})
	}
}

func TestGetAttrsAndMatcher(t *testing.T) {
	f := validFunction()
	l, fs, err := GetAttrs(f)
	if err != nil {
		t.Fatal(err)
	}
	wantFields := fields.Set{"metadata.name": "f", "metadata.namespace": "ns", "status.state": "ready", "spec.runtime": "python:3.9"}
	if diff := cmp.Diff(wantFields, fs); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if l["nuclio.io/project-name"] != "default" {
		t.Errorf("labels = %v", l)
	}
	if _, _, err := GetAttrs(&nuclio.NuclioProject{}); err == nil {
		t.Error("GetAttrs accepted a project")
	}

	tests := []struct {
		field, label string
		match        bool
	}{
		{field: "status.state=ready", match: true},
		{field: "status.state=error", match: false},
		{field: "status.state!=error", match: true},
		{field: "spec.runtime=python:3.9", match: true},
		{field: "spec.runtime=golang", match: false},
		{field: "metadata.name=f,status.state=ready", match: true},
		{label: "nuclio.io/project-name=default", match: true},
		{label: "nuclio.io/project-name=other", match: false},
	}
	for _, tc := range tests {
		fsel, lsel := fields.Everything(), labels.Everything()
		if tc.field != "" {
			fsel = fields.ParseSelectorOrDie(tc.field)
		}
		if tc.label != "" {
			lsel = labels.SelectorFromSet(labels.Set(mustParseSet(t, tc.label)))
		}
		pred := storage.SelectionPredicate{Label: lsel, Field: fsel, GetAttrs: GetAttrs}
		got, err := pred.Matches(f)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.match {
			t.Errorf("field %q label %q: match = %v, want %v", tc.field, tc.label, got, tc.match)
		}
	}
}

func mustParseSet(t *testing.T, s string) map[string]string {
	t.Helper()
	set, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestTable(t *testing.T) {
	f := validFunction()
	f.Spec.Image = "spec-image"
	f.Spec.Handler = " main:handler "
	g := f.DeepCopy()
	g.Name = "g"
	g.Status = nuclio.FunctionStatus{State: "building", ContainerImage: "built-image", ReadyReplicas: 1, Replicas: 3}
	list := &nuclio.NuclioFunctionList{ListMeta: metav1.ListMeta{ResourceVersion: "11", Continue: "c"}, Items: []nuclio.NuclioFunction{*f, *g}}

	table, err := tableConvertor.ConvertToTable(context.Background(), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	type col struct {
		Name     string
		Priority int32
	}
	var cols []col
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, col{c.Name, c.Priority})
	}
	wantCols := []col{{"Name", 0}, {"Project", 0}, {"Runtime", 0}, {"State", 0}, {"Ready", 0}, {"Image", 1}, {"Handler", 1}, {"Age", 0}}
	if diff := cmp.Diff(wantCols, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if table.ResourceVersion != "11" || table.Continue != "c" {
		t.Errorf("table resourceVersion/continue = %q/%q, want 11/c", table.ResourceVersion, table.Continue)
	}
	wantRows := [][]interface{}{
		{"f", "default", "python:3.9", "ready", "2/2", "spec-image", "main:handler", "<unknown>"},
		{"g", "default", "python:3.9", "building", "1/3", "built-image", "main:handler", "<unknown>"},
	}
	if len(table.Rows) != len(wantRows) {
		t.Fatalf("%d rows, want %d", len(table.Rows), len(wantRows))
	}
	for i, row := range table.Rows {
		if diff := cmp.Diff(wantRows[i], row.Cells); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
		if row.Object.Object != runtime.Object(&list.Items[i]) {
			t.Errorf("row %d does not carry its object", i)
		}
	}
}

func TestScaleFromFunction(t *testing.T) {
	tests := []struct {
		name        string
		replicas    *int32
		statusCount int32
		wantSpec    int32
	}{
		{name: "fixed replicas", replicas: ptr.To[int32](4), statusCount: 2, wantSpec: 4},
		{name: "fixed zero", replicas: ptr.To[int32](0), statusCount: 2, wantSpec: 0},
		// An autoscaled function has no desired count of its own; report what runs, so that a read-modify-
		// write of the Scale does not change anything.
		{name: "autoscaled", replicas: nil, statusCount: 2, wantSpec: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := validFunction()
			f.UID = "uid-1"
			f.CreationTimestamp = metav1.Unix(100, 0)
			f.Spec.Replicas = tc.replicas
			f.Status.Replicas = tc.statusCount
			got := ScaleFromFunction(f)
			want := &scalescheme.Scale{
				ObjectMeta: metav1.ObjectMeta{Name: "f", Namespace: "ns", UID: "uid-1", ResourceVersion: "7", CreationTimestamp: metav1.Unix(100, 0)},
				Spec:       scalescheme.ScaleSpec{Replicas: tc.wantSpec},
				Status: scalescheme.ScaleStatus{Replicas: tc.statusCount,
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"nuclio.io/function-name": "f"}}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scale (-want +got):\n%s", diff)
			}
			if sel, _ := metav1.LabelSelectorAsSelector(got.Status.Selector); sel.String() != PodSelector("f") {
				t.Errorf("selector %q differs from PodSelector %q", sel, PodSelector("f"))
			}
		})
	}
}

func TestScaleUpdatedObjectInfo(t *testing.T) {
	scale := func(name, rv string, replicas int32) *scalescheme.Scale {
		return &scalescheme.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", ResourceVersion: rv}, Spec: scalescheme.ScaleSpec{Replicas: replicas}}
	}
	tests := []struct {
		name      string
		scale     runtime.Object
		wantErr   func(error) bool
		wantRV    string
		wantCount int32
	}{
		{name: "sets spec.replicas", scale: scale("f", "", 5), wantRV: "7", wantCount: 5},
		{name: "scale to zero", scale: scale("f", "", 0), wantRV: "7", wantCount: 0},
		{name: "resourceVersion becomes a precondition", scale: scale("f", "3", 5), wantRV: "3", wantCount: 5},
		{name: "negative replicas", scale: scale("f", "", -1), wantErr: apierrors.IsInvalid},
		{name: "another object's name", scale: scale("g", "", 1), wantErr: apierrors.IsBadRequest},
		{name: "not a Scale", scale: validFunction(), wantErr: apierrors.IsBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validFunction()
			info := &scaleUpdatedObjectInfo{name: "f", reqObjInfo: rest.DefaultUpdatedObjectInfo(tc.scale)}
			ctx := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{APIGroup: "nuclio.io", APIVersion: "v1beta1"})
			obj, err := info.UpdatedObject(ctx, old)
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("err = %v, want a matching error", err)
				}
				if apierrors.IsInvalid(err) {
					status := err.(apierrors.APIStatus).Status()
					if len(status.Details.Causes) != 1 || status.Details.Causes[0].Field != "spec.replicas" || status.Details.Kind != "Scale" {
						t.Errorf("invalid error details = %+v", status.Details)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := obj.(*nuclio.NuclioFunction)
			if f.Spec.Replicas == nil || *f.Spec.Replicas != tc.wantCount {
				t.Errorf("spec.replicas = %v, want %d", f.Spec.Replicas, tc.wantCount)
			}
			if f.ResourceVersion != tc.wantRV {
				t.Errorf("resourceVersion = %q, want %q", f.ResourceVersion, tc.wantRV)
			}
			if old.Spec.Replicas != nil {
				t.Error("the stored object was modified")
			}
			f.Spec.Replicas = nil
			if diff := cmp.Diff(old.Spec, f.Spec); diff != "" {
				t.Errorf("scale changed more than spec.replicas (-old +new):\n%s", diff)
			}
		})
	}
}
