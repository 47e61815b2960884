// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package registry holds what the per-kind registries (pkg/registry/<kind>) share: a create/update
// strategy with Kubernetes' spec/status split, the status-subresource strategy, and server-side table
// printing. Each kind package supplies its validation, table columns and field selectors.
package registry

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// Object is a nuclio.io internal object.
type Object interface {
	runtime.Object
	metav1.Object
}

// Kind describes one nuclio.io kind to the shared strategies. T is a pointer to the internal type.
type Kind[T Object] struct {
	// Validate checks a new object; ValidateUpdate an update of the main resource.
	Validate       func(obj T) field.ErrorList
	ValidateUpdate func(obj, old T) field.ErrorList
	// Warnings returns "path: message" deprecation warnings for a create or update; may be nil.
	Warnings func(obj T) []string

	// HasStatus is true for kinds with a status subresource. The three functions below are then
	// required: ClearStatus empties the status of a new object, CopyStatus and CopySpec carry one half
	// of the old object over to the new one, SpecEqual decides whether metadata.generation moves.
	HasStatus            bool
	ClearStatus          func(obj T)
	CopyStatus           func(dst, src T)
	CopySpec             func(dst, src T)
	SpecEqual            func(a, b T) bool
	ValidateStatusUpdate func(obj, old T) field.ErrorList
}

// Strategy is the create/update/delete strategy of a kind's main resource. Writes to the main resource
// never change status (it is copied from the stored object, and cleared on create); a spec change bumps
// metadata.generation — the contract controllers rely on for status.observedGeneration
// (Kubernetes API conventions, "Spec and Status").
type Strategy[T Object] struct {
	runtime.ObjectTyper
	names.NameGenerator
	kind Kind[T]
}

// NewStrategy returns the main-resource strategy of a kind.
func NewStrategy[T Object](typer runtime.ObjectTyper, kind Kind[T]) *Strategy[T] {
	return &Strategy[T]{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, kind: kind}
}

var (
	_ rest.RESTCreateStrategy              = &Strategy[Object]{}
	_ rest.RESTUpdateStrategy              = &Strategy[Object]{}
	_ rest.RESTDeleteStrategy              = &Strategy[Object]{}
	_ rest.ResetFieldsStrategy             = &Strategy[Object]{}
	_ rest.GarbageCollectionDeleteStrategy = &Strategy[Object]{}
	_ rest.RESTUpdateStrategy              = &StatusStrategy[Object]{}
	_ rest.ResetFieldsStrategy             = &StatusStrategy[Object]{}
)

// NamespaceScoped is true: every nuclio.io kind is namespaced.
func (*Strategy[T]) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that the main resource resets status.
func (s *Strategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.kind.HasStatus {
		return nil
	}
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(v1beta1.SchemeGroupVersion.String()): fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate clears status and starts metadata.generation at 1.
func (s *Strategy[T]) PrepareForCreate(_ context.Context, obj runtime.Object) {
	o := obj.(T)
	if s.kind.HasStatus {
		s.kind.ClearStatus(o)
	}
	o.SetGeneration(1)
}

// PrepareForUpdate keeps the stored status and bumps metadata.generation when the spec changed.
func (s *Strategy[T]) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	o, prev := obj.(T), old.(T)
	if !s.kind.HasStatus {
		// Without status the whole object is spec; any change outside metadata is a new generation.
		if s.kind.SpecEqual == nil || !s.kind.SpecEqual(o, prev) {
			o.SetGeneration(prev.GetGeneration() + 1)
		} else {
			o.SetGeneration(prev.GetGeneration())
		}
		return
	}
	s.kind.CopyStatus(o, prev)
	if !s.kind.SpecEqual(o, prev) {
		o.SetGeneration(prev.GetGeneration() + 1)
	} else {
		o.SetGeneration(prev.GetGeneration())
	}
}

// Validate validates a new object.
func (s *Strategy[T]) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return s.kind.Validate(obj.(T))
}

// WarningsOnCreate returns deprecation warnings.
func (s *Strategy[T]) WarningsOnCreate(_ context.Context, obj runtime.Object) []string {
	if s.kind.Warnings == nil {
		return nil
	}
	return s.kind.Warnings(obj.(T))
}

// Canonicalize does nothing: defaulting already normalised the object.
func (*Strategy[T]) Canonicalize(runtime.Object) {}

// AllowCreateOnUpdate is false: PUT of a missing object is NotFound, as for most built-in kinds.
func (*Strategy[T]) AllowCreateOnUpdate(context.Context) bool { return false }

// AllowUnconditionalUpdate is true: a PUT without resourceVersion overwrites, as kubectl replace expects.
func (*Strategy[T]) AllowUnconditionalUpdate(context.Context) bool { return true }

// ValidateUpdate validates an update of the main resource.
func (s *Strategy[T]) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return s.kind.ValidateUpdate(obj.(T), old.(T))
}

// WarningsOnUpdate returns deprecation warnings.
func (s *Strategy[T]) WarningsOnUpdate(_ context.Context, obj, _ runtime.Object) []string {
	if s.kind.Warnings == nil {
		return nil
	}
	return s.kind.Warnings(obj.(T))
}

// DefaultGarbageCollectionPolicy is background deletion: dependents (the function's Deployment,
// Service, Secret, ...) are removed by the garbage collector after the function is gone.
func (*Strategy[T]) DefaultGarbageCollectionPolicy(context.Context) rest.GarbageCollectionPolicy {
	return rest.DeleteDependents
}

// StatusStrategy is the strategy of a kind's status subresource: it changes status only, keeping the
// stored spec and labels.
type StatusStrategy[T Object] struct {
	*Strategy[T]
}

// NewStatusStrategy returns the status-subresource strategy for a main strategy.
func NewStatusStrategy[T Object](s *Strategy[T]) *StatusStrategy[T] {
	return &StatusStrategy[T]{Strategy: s}
}

// GetResetFields tells server-side apply that the status subresource resets spec and labels.
func (*StatusStrategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(v1beta1.SchemeGroupVersion.String()): fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"),
			fieldpath.MakePathOrDie("metadata", "labels"),
		),
	}
}

// PrepareForUpdate keeps the stored spec, labels and generation.
func (s *StatusStrategy[T]) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	o, prev := obj.(T), old.(T)
	s.kind.CopySpec(o, prev)
	o.SetLabels(prev.GetLabels())
	o.SetGeneration(prev.GetGeneration())
}

// ValidateUpdate validates a status write.
func (s *StatusStrategy[T]) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return s.kind.ValidateStatusUpdate(obj.(T), old.(T))
}

// WarningsOnUpdate returns nothing: status writers are controllers, not people.
func (*StatusStrategy[T]) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
