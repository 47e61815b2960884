// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package version is the product version of the nuclio-apiserver binaries, set at build time with
// `-ldflags "-X github.com/nuclio-apiserver/nuclio-apiserver/pkg/version.Version=v1.2.3"`.
//
// It is deliberately separate from k8s.io/component-base/version: the generic API server derives its
// Kubernetes emulation version from that one, and a product version there would be read as a
// Kubernetes version.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release, e.g. v0.1.0; "dev" for unstamped builds.
var Version = "dev"

// NuclioVersion is the Nuclio release whose API and processor this project is compatible with.
const NuclioVersion = "1.14.1"

// String renders "<binary> <version> (nuclio <nuclio version>, <go version>, vcs <revision>)".
func String(binary string) string {
	rev := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	return fmt.Sprintf("%s %s (nuclio %s, %s, vcs %s)", binary, Version, NuclioVersion, runtime.Version(), rev)
}
