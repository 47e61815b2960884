// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package v1beta1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// Field selectors each kind supports beyond metadata.name and metadata.namespace. The registry's
// GetAttrs functions produce the same keys; without a label conversion func per served version the
// generic handler rejects any other selector ("is not a known field selector").
var selectableFields = map[string][]string{
	"NuclioFunction":      {"status.state", "spec.runtime"},
	"NuclioProject":       nil,
	"NuclioFunctionEvent": nil,
	"NuclioAPIGateway":    {"status.state"},
}

// SelectableFields returns the extra field-selector keys of a kind, e.g. status.state for NuclioFunction.
func SelectableFields(kind string) []string { return selectableFields[kind] }

func addFieldLabelConversionFuncs(scheme *runtime.Scheme) error {
	for kind, extra := range selectableFields {
		allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
		for _, f := range extra {
			allowed[f] = true
		}
		err := scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind(kind), func(label, value string) (string, string, error) {
			if allowed[label] {
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label not supported: %s", label)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
