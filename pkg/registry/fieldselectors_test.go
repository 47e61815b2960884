// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package registry_test

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/apiserver"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nuclioapigateway"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nucliofunction"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nucliofunctionevent"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nuclioproject"
)

// A field selector works only when two lists agree: the keys a registry's GetAttrs produces (what the
// store filters on) and the labels the scheme's conversion func accepts for the served version (what
// the request handler lets through). This test keeps them in step for every kind.
func TestFieldSelectorsAgree(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "n", Namespace: "ns"}
	tests := []struct {
		kind     string
		obj      runtime.Object
		getAttrs func(runtime.Object) (labels.Set, fields.Set, error)
		want     fields.Set
	}{
		{"NuclioFunction", &nuclio.NuclioFunction{ObjectMeta: meta, Spec: nuclio.FunctionSpec{Runtime: "golang"}, Status: nuclio.FunctionStatus{State: "ready"}},
			nucliofunction.GetAttrs, fields.Set{"metadata.name": "n", "metadata.namespace": "ns", "spec.runtime": "golang", "status.state": "ready"}},
		{"NuclioAPIGateway", &nuclio.NuclioAPIGateway{ObjectMeta: meta, Status: nuclio.APIGatewayStatus{State: "error"}},
			nuclioapigateway.GetAttrs, fields.Set{"metadata.name": "n", "metadata.namespace": "ns", "status.state": "error"}},
		{"NuclioProject", &nuclio.NuclioProject{ObjectMeta: meta},
			nuclioproject.GetAttrs, fields.Set{"metadata.name": "n", "metadata.namespace": "ns"}},
		{"NuclioFunctionEvent", &nuclio.NuclioFunctionEvent{ObjectMeta: meta},
			nucliofunctionevent.GetAttrs, fields.Set{"metadata.name": "n", "metadata.namespace": "ns"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			_, got, err := tc.getAttrs(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GetAttrs fields (-want +got):\n%s", diff)
			}
			if _, _, err := tc.getAttrs(&nuclio.NuclioFunctionList{}); err == nil {
				t.Error("GetAttrs accepted an object of another type")
			}

			accepted := append([]string{"metadata.name", "metadata.namespace"}, v1beta1.SelectableFields(tc.kind)...)
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(accepted)
			sort.Strings(keys)
			if diff := cmp.Diff(accepted, keys); diff != "" {
				t.Errorf("v1beta1.SelectableFields and GetAttrs disagree (-selectable +GetAttrs):\n%s", diff)
			}

			gvk := v1beta1.SchemeGroupVersion.WithKind(tc.kind)
			for _, k := range keys {
				label, value, err := apiserver.Scheme.ConvertFieldLabel(gvk, k, "v")
				if err != nil || label != k || value != "v" {
					t.Errorf("ConvertFieldLabel(%q) = %q, %q, %v", k, label, value, err)
				}
			}
			if _, _, err := apiserver.Scheme.ConvertFieldLabel(gvk, "spec.description", "v"); err == nil {
				t.Error("ConvertFieldLabel accepted spec.description")
			}
		})
	}
}
