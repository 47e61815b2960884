// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is Nuclio's API group.
const GroupName = "nuclio.io"

// SchemeGroupVersion is nuclio.io/v1beta1.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1beta1"}

var (
	// SchemeBuilder registers the v1beta1 types, defaulters and conversions.
	SchemeBuilder      runtime.SchemeBuilder
	localSchemeBuilder = &SchemeBuilder
	// AddToScheme adds nuclio.io/v1beta1 to a scheme.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func init() {
	// Generated files register their own functions; these are the hand-written ones.
	localSchemeBuilder.Register(addKnownTypes, addDefaultingFuncs, addFieldLabelConversionFuncs)
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
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
