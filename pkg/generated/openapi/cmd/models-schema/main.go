// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command models-schema prints the OpenAPI v2 definitions the server publishes (pkg/openapi) as one
// Swagger document on stdout. hack/update-codegen.sh feeds it to applyconfiguration-gen, which needs the
// schemas to generate server-side-apply-aware apply configurations (the same step k8s.io/kubernetes uses).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/openapi"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "models-schema: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	ref := func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + name) }
	defs := openapi.GetOpenAPIDefinitions(ref)
	schemas := make(map[string]spec.Schema, len(defs))
	for name, def := range defs {
		// Types that publish separate v2 and v3 schemas embed the v2 one in an extension; the
		// apply-configuration generator reads v2.
		if v2, ok := def.Schema.Extensions[common.ExtensionV2Schema].(spec.Schema); ok {
			schemas[name] = v2
			continue
		}
		schemas[name] = def.Schema
	}
	doc := spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: "nuclio-apiserver", Version: "unversioned"}},
		Definitions: schemas,
	}}
	return json.NewEncoder(os.Stdout).Encode(&doc)
}
