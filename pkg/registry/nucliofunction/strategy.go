// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package nucliofunction is the registry of nucliofunctions: storage, strategies, table printing and the
// status and scale subresources.
package nucliofunction

import (
	"fmt"
	"strings"

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

// kind wires Nuclio's function rules into the shared strategies.
var kind = registry.Kind[*nuclio.NuclioFunction]{
	Validate:       validation.ValidateNuclioFunction,
	ValidateUpdate: validation.ValidateNuclioFunctionUpdate,
	Warnings:       validation.FunctionWarnings,

	HasStatus:            true,
	ClearStatus:          func(fn *nuclio.NuclioFunction) { fn.Status = nuclio.FunctionStatus{} },
	CopyStatus:           func(dst, src *nuclio.NuclioFunction) { dst.Status = src.Status },
	CopySpec:             func(dst, src *nuclio.NuclioFunction) { dst.Spec = src.Spec },
	SpecEqual:            func(a, b *nuclio.NuclioFunction) bool { return apiequality.Semantic.DeepEqual(a.Spec, b.Spec) },
	ValidateStatusUpdate: validation.ValidateNuclioFunctionStatusUpdate,
}

// NewStrategy returns the strategy of the main resource.
func NewStrategy(typer runtime.ObjectTyper) *registry.Strategy[*nuclio.NuclioFunction] {
	return registry.NewStrategy(typer, kind)
}

// GetAttrs returns the labels and selectable fields of a function: metadata.name, metadata.namespace,
// status.state and spec.runtime (the keys v1beta1.SelectableFields names).
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	fn, ok := obj.(*nuclio.NuclioFunction)
	if !ok {
		return nil, nil, fmt.Errorf("not a NuclioFunction: %T", obj)
	}
	return fn.Labels, SelectableFields(fn), nil
}

// SelectableFields returns the field-selector set of a function.
func SelectableFields(fn *nuclio.NuclioFunction) fields.Set {
	set := generic.ObjectMetaFieldsSet(&fn.ObjectMeta, true)
	set["status.state"] = fn.Status.State
	set["spec.runtime"] = fn.Spec.Runtime
	return set
}

// PodSelector is the label selector of a function's processor pods, as the controller labels them
// (nuclio.io/function-name, Nuclio's pkg/common/k8s.go). The scale subresource reports it so that an
// HorizontalPodAutoscaler aimed at the function can find the pods.
func PodSelector(name string) string {
	return v1beta1.LabelFunctionName + "=" + name
}

// readyColumn renders READY as ready/desired replicas, like Deployments.
func readyColumn(fn *nuclio.NuclioFunction) interface{} {
	return fmt.Sprintf("%d/%d", fn.Status.ReadyReplicas, fn.Status.Replicas)
}

// tableConvertor prints NAME PROJECT RUNTIME STATE READY AGE, plus IMAGE and HANDLER with -o wide.
var tableConvertor = registry.TableConvertor[*nuclio.NuclioFunction]{Columns: []registry.Column[*nuclio.NuclioFunction]{
	{Name: "Project", Type: "string", Description: "Project of the function (label nuclio.io/project-name).",
		Value: func(fn *nuclio.NuclioFunction) interface{} { return fn.Labels[v1beta1.LabelProjectName] }},
	{Name: "Runtime", Type: "string", Description: "Language runtime (spec.runtime).",
		Value: func(fn *nuclio.NuclioFunction) interface{} { return fn.Spec.Runtime }},
	{Name: "State", Type: "string", Description: "Nuclio state (status.state).",
		Value: func(fn *nuclio.NuclioFunction) interface{} { return fn.Status.State }},
	{Name: "Ready", Type: "string", Description: "Ready and desired processor replicas.", Value: readyColumn},
	{Name: "Image", Type: "string", Priority: 1, Description: "Image the function runs (status.containerImage, else spec.image).",
		Value: func(fn *nuclio.NuclioFunction) interface{} {
			if fn.Status.ContainerImage != "" {
				return fn.Status.ContainerImage
			}
			return fn.Spec.Image
		}},
	{Name: "Handler", Type: "string", Priority: 1, Description: "Entry point (spec.handler).",
		Value: func(fn *nuclio.NuclioFunction) interface{} { return strings.TrimSpace(fn.Spec.Handler) }},
}}
