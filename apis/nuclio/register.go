// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nuclio

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group served by nuclio-apiserver; it is Nuclio's CRD group.
const GroupName = "nuclio.io"

// SchemeGroupVersion is the internal version of the group, used to register the hub types.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: runtime.APIVersionInternal}

var (
	// SchemeBuilder registers the internal types.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the internal types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Kind returns the group-qualified kind.
func Kind(kind string) schema.GroupKind {
	return SchemeGroupVersion.WithKind(kind).GroupKind()
}

// Resource returns the group-qualified resource.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&NuclioFunction{}, &NuclioFunctionList{},
		&NuclioProject{}, &NuclioProjectList{},
		&NuclioFunctionEvent{}, &NuclioFunctionEventList{},
		&NuclioAPIGateway{}, &NuclioAPIGatewayList{},
		&FunctionInvokeOptions{}, &FunctionLogOptions{},
	)
	return nil
}
