// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package openapi publishes the OpenAPI definitions of the nuclio.io types: the ones openapi-gen wrote
// to pkg/generated/openapi, with the schema of free-form fields corrected.
package openapi

import (
	"strings"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	generated "github.com/nuclio-apiserver/nuclio-apiserver/pkg/generated/openapi"
)

// modelPrefix is the model-name prefix of our own types (+k8s:openapi-model-package=io.nuclio.v1beta1).
const modelPrefix = "io.nuclio."

// GetOpenAPIDefinitions returns every definition the API server publishes (ours, and the k8s.io/api and
// apimachinery types they reference), for genericapiserver's OpenAPI v2 and v3 configs.
//
// openapi-gen inlines named map types, so a freeform.Object field comes out as "object whose values are
// objects", which is wrong (trigger attributes hold strings, numbers and lists) and would make server-side
// apply reject valid objects. Such fields are rewritten to `type: object` with
// `x-kubernetes-preserve-unknown-fields: true`, the schema Nuclio's CRDs give their whole spec.
func GetOpenAPIDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	defs := generated.GetOpenAPIDefinitions(ref)
	for name, def := range defs {
		if !strings.HasPrefix(name, modelPrefix) {
			continue
		}
		fixFreeForm(&def.Schema)
		defs[name] = def
	}
	return defs
}

// fixFreeForm rewrites free-form properties (and arrays of them) of one struct schema in place.
func fixFreeForm(s *spec.Schema) {
	for name, prop := range s.Properties {
		switch {
		case isFreeFormMap(&prop):
			prop = freeFormSchema(prop.Description)
		case prop.Items != nil && prop.Items.Schema != nil && isFreeFormMap(prop.Items.Schema):
			items := freeFormSchema("")
			prop.Items.Schema = &items
		}
		s.Properties[name] = prop
	}
}

// isFreeFormMap reports whether s is what openapi-gen emits for map[string]interface{}: an object whose
// additionalProperties are an object with no properties, reference or further element type. No typed
// field produces that shape (maps of structs reference the struct; maps of scalars name the scalar type).
func isFreeFormMap(s *spec.Schema) bool {
	if !s.Type.Contains("object") || s.AdditionalProperties == nil || s.AdditionalProperties.Schema == nil {
		return false
	}
	e := s.AdditionalProperties.Schema
	return e.Type.Contains("object") && e.Ref.String() == "" && len(e.Properties) == 0 && e.AdditionalProperties == nil
}

func freeFormSchema(description string) spec.Schema {
	return spec.Schema{
		SchemaProps: spec.SchemaProps{Description: description, Type: []string{"object"}},
		VendorExtensible: spec.VendorExtensible{
			Extensions: spec.Extensions{"x-kubernetes-preserve-unknown-fields": true},
		},
	}
}
