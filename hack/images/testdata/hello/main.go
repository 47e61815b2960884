// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command hello is a tiny stand-in for the project's binaries in hack/images tests: it prints the stamped
// product version with --version, like they do.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"
)

func main() {
	showVersion := flag.Bool("version", false, "Print the version and exit.")
	flag.Parse()
	if !*showVersion {
		fmt.Fprintln(os.Stderr, "hello: only --version is supported")
		os.Exit(2)
	}
	fmt.Println(version.String("hello"))
}
