// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package v1beta1 is the nuclio.io/v1beta1 wire version: Nuclio 1.14's NuclioFunction, NuclioProject,
// NuclioFunctionEvent and NuclioAPIGateway, field for field, plus Kubernetes status conventions
// (observedGeneration, conditions) and the scale subresource.
//
// +k8s:openapi-gen=true
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-model-package=io.nuclio.v1beta1
// +groupName=nuclio.io
package v1beta1
