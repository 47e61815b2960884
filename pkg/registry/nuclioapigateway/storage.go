// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package nuclioapigateway is the registry of nuclioapigateways and their status subresource.
package nuclioapigateway

import (
	"fmt"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/validation"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry"
)

var kind = registry.Kind[*nuclio.NuclioAPIGateway]{
	Validate:             validation.ValidateNuclioAPIGateway,
	ValidateUpdate:       validation.ValidateNuclioAPIGatewayUpdate,
	HasStatus:            true,
	ClearStatus:          func(g *nuclio.NuclioAPIGateway) { g.Status = nuclio.APIGatewayStatus{} },
	CopyStatus:           func(dst, src *nuclio.NuclioAPIGateway) { dst.Status = src.Status },
	CopySpec:             func(dst, src *nuclio.NuclioAPIGateway) { dst.Spec = src.Spec },
	SpecEqual:            func(a, b *nuclio.NuclioAPIGateway) bool { return apiequality.Semantic.DeepEqual(a.Spec, b.Spec) },
	ValidateStatusUpdate: validation.ValidateNuclioAPIGatewayStatusUpdate,
}

// tableConvertor prints NAME HOST PATH FUNCTIONS STATE AGE.
var tableConvertor = registry.TableConvertor[*nuclio.NuclioAPIGateway]{Columns: []registry.Column[*nuclio.NuclioAPIGateway]{
	{Name: "Host", Type: "string", Description: "spec.host",
		Value: func(g *nuclio.NuclioAPIGateway) interface{} { return g.Spec.Host }},
	{Name: "Path", Type: "string", Description: "spec.path",
		Value: func(g *nuclio.NuclioAPIGateway) interface{} { return g.Spec.Path }},
	{Name: "Functions", Type: "string", Description: "Upstream functions, with the canary's traffic percentage.",
		Value: upstreamsColumn},
	{Name: "State", Type: "string", Description: "status.state",
		Value: func(g *nuclio.NuclioAPIGateway) interface{} { return g.Status.State }},
}}

func upstreamsColumn(g *nuclio.NuclioAPIGateway) interface{} {
	var names []string
	for _, u := range g.Spec.Upstreams {
		if u.NuclioFunction == nil {
			continue
		}
		if u.Percentage > 0 {
			names = append(names, fmt.Sprintf("%s(%d%%)", u.NuclioFunction.Name, u.Percentage))
		} else {
			names = append(names, u.NuclioFunction.Name)
		}
	}
	return strings.Join(names, ",")
}

// GetAttrs returns the labels and selectable fields (metadata.name, metadata.namespace, status.state).
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	g, ok := obj.(*nuclio.NuclioAPIGateway)
	if !ok {
		return nil, nil, fmt.Errorf("not a NuclioAPIGateway: %T", obj)
	}
	set := generic.ObjectMetaFieldsSet(&g.ObjectMeta, true)
	set["status.state"] = g.Status.State
	return g.Labels, set, nil
}

// NewStorage returns the main and status endpoints of nuclioapigateways (short name nagw).
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (*registry.REST, *registry.StatusREST, error) {
	strategy := registry.NewStrategy(typer, kind)
	main, err := registry.NewREST(registry.StoreSpec[*nuclio.NuclioAPIGateway]{
		New:        func() runtime.Object { return &nuclio.NuclioAPIGateway{} },
		NewList:    func() runtime.Object { return &nuclio.NuclioAPIGatewayList{} },
		Plural:     "nuclioapigateways",
		Singular:   "nuclioapigateway",
		ShortNames: []string{"nagw"},
		GetAttrs:   GetAttrs,
		Table:      tableConvertor,
	}, strategy, optsGetter)
	if err != nil {
		return nil, nil, err
	}
	return main, registry.NewStatusREST(main.Store, registry.NewStatusStrategy(strategy)), nil
}
