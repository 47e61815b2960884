// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Build context layout (nuclio/nuclio:pkg/processor/build/builder.go: the staging directory holds
// Dockerfile.processor and handler/, and NUCLIO_BUILD_LOCAL_HANDLER_DIR names handler/).
const (
	// DockerfileName is the file name of the generated Dockerfile inside the build context.
	DockerfileName = "Dockerfile.processor"
	// HandlerDir is the directory, relative to the build context, that holds the function's files.
	HandlerDir = "handler"
)

// maxFileNameLength is the longest file name most Linux file systems accept (NAME_MAX).
const maxFileNameLength = 255

// ParseHandler splits spec.handler into its module and entry point: `module:entrypoint` or `entrypoint`
// (nuclio/nuclio:pkg/functionconfig/handler.go ParseHandler). More than one colon is an error naming
// spec.handler.
func ParseHandler(handler string) (module, entrypoint string, err error) {
	parts := strings.Split(handler, ":")
	switch len(parts) {
	case 1:
		return "", parts[0], nil
	case 2:
		return parts[0], parts[1], nil
	default:
		return "", "", field.Invalid(field.NewPath("spec", "handler"), handler,
			"must be `module:entrypoint` or `entrypoint` (at most one colon)")
	}
}

// SourceFileName returns the name of the file that spec.build.functionSourceCode is written to inside
// handler/, derived from the handler and the runtime as Nuclio does (builder.go
// writeFunctionSourceCodeToTempFile): the handler's module, or its entry point when there is no module,
// plus the runtime's extension unless the name already contains a dot. `helloworld:handler` with
// python gives `helloworld.py`, `main.sh` with shell gives `main.sh`, `ReverseEventHandler` with java
// gives `ReverseEventHandler.java` (which Plan.PrepareContext moves to src/main/java/).
//
// runtime is a spec.runtime value (see ResolveRuntime). Errors name spec.runtime or spec.handler; the
// name must be a single path element, so `../x:handler` or `a/b:handler` are refused rather than written
// outside handler/.
func SourceFileName(runtime, handler string) (string, error) {
	_, name, _, err := resolveRuntimeName(runtime)
	if err != nil {
		return "", err
	}
	module, entrypoint, err := ParseHandler(handler)
	if err != nil {
		return "", err
	}
	if module == "" {
		module = entrypoint
	}
	fldPath := field.NewPath("spec", "handler")
	if module == "" {
		return "", field.Required(fldPath, "the handler names the file that functionSourceCode is written to")
	}
	if !strings.Contains(module, ".") {
		module += "." + runtimes[name].ext
	}
	if problem := fileNameProblem(module); problem != "" {
		return "", field.Invalid(fldPath, handler, problem)
	}
	return module, nil
}

// resolveRuntimeName resolves a bare spec.runtime value (no path-based inference).
func resolveRuntimeName(runtime string) (canonical, name, version string, err error) {
	if runtime == "" {
		return "", "", "", field.Required(field.NewPath("spec", "runtime"),
			"the runtime must be set when the source is given as functionSourceCode")
	}
	return parseRuntime(runtime)
}

// fileNameProblem explains why name cannot be used as a single file name, "" when it can.
func fileNameProblem(name string) string {
	switch {
	case name == "." || name == "..":
		return "the source file name must not be . or .."
	case strings.ContainsAny(name, "/\\"):
		return "the source file name must not contain / or \\"
	case len(name) > maxFileNameLength:
		return "the source file name must be at most 255 bytes"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "the source file name must not contain control characters"
		}
	}
	return ""
}
