// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command nuclio-apiserver serves nuclio.io/v1beta1 as a Kubernetes aggregated API server.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"github.com/nuclio-apiserver/nuclio-apiserver/cmd/nuclio-apiserver/app"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	cmd := app.NewCommand(ctx, app.NewOptions(os.Stdout, os.Stderr))
	os.Exit(cli.Run(cmd))
}
