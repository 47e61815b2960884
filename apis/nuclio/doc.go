// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package nuclio is the internal (hub) version of the nuclio.io API group: NuclioFunction, NuclioProject,
// NuclioFunctionEvent and NuclioAPIGateway. Served versions (v1beta1) convert to and from these types.
//
// +k8s:deepcopy-gen=package
// +groupName=nuclio.io
package nuclio
