// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package nuclioproject is the registry of nuclioprojects and their status subresource.
package nuclioproject

import (
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/validation"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry"
)

var kind = registry.Kind[*nuclio.NuclioProject]{
	Validate:             validation.ValidateNuclioProject,
	ValidateUpdate:       validation.ValidateNuclioProjectUpdate,
	HasStatus:            true,
	ClearStatus:          func(p *nuclio.NuclioProject) { p.Status = nuclio.ProjectStatus{} },
	CopyStatus:           func(dst, src *nuclio.NuclioProject) { dst.Status = src.Status },
	CopySpec:             func(dst, src *nuclio.NuclioProject) { dst.Spec = src.Spec },
	SpecEqual:            func(a, b *nuclio.NuclioProject) bool { return apiequality.Semantic.DeepEqual(a.Spec, b.Spec) },
	ValidateStatusUpdate: validation.ValidateNuclioProjectStatusUpdate,
}

// tableConvertor prints NAME DESCRIPTION OWNER AGE.
var tableConvertor = registry.TableConvertor[*nuclio.NuclioProject]{Columns: []registry.Column[*nuclio.NuclioProject]{
	{Name: "Description", Type: "string", Description: "spec.description",
		Value: func(p *nuclio.NuclioProject) interface{} { return p.Spec.Description }},
	{Name: "Owner", Type: "string", Description: "spec.owner",
		Value: func(p *nuclio.NuclioProject) interface{} { return p.Spec.Owner }},
}}

// GetAttrs returns the labels and selectable fields (metadata.name, metadata.namespace) of a project.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	p, ok := obj.(*nuclio.NuclioProject)
	if !ok {
		return nil, nil, fmt.Errorf("not a NuclioProject: %T", obj)
	}
	return p.Labels, generic.ObjectMetaFieldsSet(&p.ObjectMeta, true), nil
}

// NewStorage returns the main and status endpoints of nuclioprojects (short name nproj).
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (*registry.REST, *registry.StatusREST, error) {
	strategy := registry.NewStrategy(typer, kind)
	main, err := registry.NewREST(registry.StoreSpec[*nuclio.NuclioProject]{
		New:        func() runtime.Object { return &nuclio.NuclioProject{} },
		NewList:    func() runtime.Object { return &nuclio.NuclioProjectList{} },
		Plural:     "nuclioprojects",
		Singular:   "nuclioproject",
		ShortNames: []string{"nproj"},
		GetAttrs:   GetAttrs,
		Table:      tableConvertor,
	}, strategy, optsGetter)
	if err != nil {
		return nil, nil, err
	}
	return main, registry.NewStatusREST(main.Store, registry.NewStatusStrategy(strategy)), nil
}
