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

// NewStorage returns the nucliofunctionevents endpoint (short name nfe).
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (*registry.REST, error) {
	return registry.NewREST(registry.StoreSpec[*nuclio.NuclioFunctionEvent]{
		New:        func() runtime.Object { return &nuclio.NuclioFunctionEvent{} },
		NewList:    func() runtime.Object { return &nuclio.NuclioFunctionEventList{} },
		Plural:     "nucliofunctionevents",
		Singular:   "nucliofunctionevent",
		ShortNames: []string{"nfe"},
		GetAttrs:   GetAttrs,
		Table:      tableConvertor,
	}, registry.NewStrategy(typer, kind), optsGetter)
}
