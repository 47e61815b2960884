// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package nucliofunctionevent is the registry of nucliofunctionevents (saved invocations; no status).
package nucliofunctionevent

import (
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/validation"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry"
)

var kind = registry.Kind[*nuclio.NuclioFunctionEvent]{
	Validate:       validation.ValidateNuclioFunctionEvent,
	ValidateUpdate: validation.ValidateNuclioFunctionEventUpdate,
	SpecEqual: func(a, b *nuclio.NuclioFunctionEvent) bool {
		return apiequality.Semantic.DeepEqual(a.Spec, b.Spec)
	},
}

// tableConvertor prints NAME FUNCTION DISPLAY NAME TRIGGER KIND AGE.
var tableConvertor = registry.TableConvertor[*nuclio.NuclioFunctionEvent]{Columns: []registry.Column[*nuclio.NuclioFunctionEvent]{
	{Name: "Function", Type: "string", Description: "Function the event invokes (label nuclio.io/function-name).",
		Value: func(e *nuclio.NuclioFunctionEvent) interface{} { return e.Labels[v1beta1.LabelFunctionName] }},
	{Name: "Display Name", Type: "string", Description: "spec.displayName",
		Value: func(e *nuclio.NuclioFunctionEvent) interface{} { return e.Spec.DisplayName }},
	{Name: "Trigger Kind", Type: "string", Description: "spec.triggerKind",
		Value: func(e *nuclio.NuclioFunctionEvent) interface{} { return e.Spec.TriggerKind }},
}}

// GetAttrs returns the labels and selectable fields (metadata.name, metadata.namespace) of an event.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, ok := obj.(*nuclio.NuclioFunctionEvent)
	if !ok {
		return nil, nil, fmt.Errorf("not a NuclioFunctionEvent: %T", obj)
	}
	return e.Labels, generic.ObjectMetaFieldsSet(&e.ObjectMeta, true), nil
}

// REST is the nucliofunctionevents endpoint.
type REST struct{ *genericregistry.Store }

// ShortNames lets `kubectl get nfe` list function events.
func (*REST) ShortNames() []string { return []string{"nfe"} }

// Categories puts function events in `kubectl get nuclio`.
func (*REST) Categories() []string { return []string{"nuclio"} }

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// NewStorage returns the nucliofunctionevents endpoint.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	strategy := registry.NewStrategy(typer, kind)
	store := &genericregistry.Store{
		NewFunc:     func() runtime.Object { return &nuclio.NuclioFunctionEvent{} },
		NewListFunc: func() runtime.Object { return &nuclio.NuclioFunctionEventList{} },
		PredicateFunc: func(l labels.Selector, f fields.Selector) storage.SelectionPredicate {
			return storage.SelectionPredicate{Label: l, Field: f, GetAttrs: GetAttrs}
		},
		DefaultQualifiedResource:  nuclio.Resource("nucliofunctionevents"),
		SingularQualifiedResource: nuclio.Resource("nucliofunctionevent"),
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		TableConvertor:            tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, err
	}
	return &REST{store}, nil
}
