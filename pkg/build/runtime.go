// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// Runtime names as they appear in spec.runtime (nuclio/nuclio:pkg/processor/build/runtime/*/runtime.go GetName).
const (
	RuntimePython     = "python"
	RuntimeGolang     = "golang"
	RuntimeNodeJS     = "nodejs"
	RuntimeJava       = "java"
	RuntimeDotNetCore = "dotnetcore"
	RuntimeRuby       = "ruby"
	RuntimeShell      = "shell"
)

// DefaultPythonVersion is what runtime `python` means (nuclio/nuclio:pkg/processor/build/builder.go
// validateAndEnrichConfiguration rewrites `python` to `python:3.9`).
const DefaultPythonVersion = "3.9"

// SupportedRuntimes lists the accepted spec.runtime values. `python` is an alias of `python:3.9`.
var SupportedRuntimes = []string{
	"python", "python:3.9", "python:3.10", "python:3.11",
	RuntimeGolang, RuntimeNodeJS, RuntimeJava, RuntimeDotNetCore, RuntimeRuby, RuntimeShell,
}

// copyPath is one `COPY <src> <dst>` of the generated Dockerfile.
type copyPath struct {
	src, dst string
}

// onbuildArtifact is an onbuild image used as a build stage and the paths copied out of it
// (runtime.Artifact in nuclio/nuclio:pkg/processor/build/runtime/runtime.go).
type onbuildArtifact struct {
	stage string
	// image is a format string taking the onbuild registry, the Nuclio label and the architecture.
	image string
	paths []copyPath
}

// runtimeSpec is what one runtime contributes to the processor Dockerfile
// (GetProcessorDockerfileInfo of each nuclio/nuclio:pkg/processor/build/runtime/<name>/runtime.go).
type runtimeSpec struct {
	// ext is the source file extension (builder.go initializeSupportedRuntimes).
	ext string
	// baseImage returns the default base image for a runtime version.
	baseImage func(version string) string
	// artifacts returns the onbuild artifacts; build is the function's build section, which golang
	// consults to choose between its alpine and non-alpine onbuild images.
	artifacts func(version string, build *v1beta1.Build) []onbuildArtifact
	// handlerCopy is true for runtimes whose image ships the handler directory as is (`COPY handler
	// /opt/nuclio`); golang, java and dotnetcore compile it inside their onbuild stage instead.
	handlerCopy bool
	// postCopy returns the runtime's own post-copy directives.
	postCopy func(version string) []v1beta1.Directive
}

// pythonWheelsDir is where the python onbuild image's wheels are copied (python/runtime.go).
const pythonWheelsDir = "/opt/nuclio/whl"

var runtimes = map[string]runtimeSpec{
	// nuclio/nuclio:pkg/processor/build/runtime/python/runtime.go
	RuntimePython: {
		ext:       "py",
		baseImage: func(version string) string { return "python:" + version },
		artifacts: func(version string, _ *v1beta1.Build) []onbuildArtifact {
			return []onbuildArtifact{{
				stage: "python-onbuild",
				image: "%s/nuclio/handler-builder-python-onbuild:%s-%s",
				paths: []copyPath{
					{"/home/nuclio/bin/processor", "/usr/local/bin/processor"},
					{"/home/nuclio/bin/py", "/opt/nuclio/"},
					{"/home/nuclio/bin/py" + version + "-whl", pythonWheelsDir},
				},
			}}
		},
		handlerCopy: true,
		postCopy: func(string) []v1beta1.Directive {
			// Install pip from the bundled wheel, then the SDK and msgpack, all offline from the wheels.
			findLinks := "--no-index --find-links " + pythonWheelsDir
			return []v1beta1.Directive{{
				Kind: "RUN",
				Value: fmt.Sprintf("python %[1]s/$(basename %[1]s/pip-*.whl)/pip install pip %[2]s && "+
					"python -m pip install nuclio-sdk msgpack %[2]s", pythonWheelsDir, findLinks),
			}}
		},
	},
	// nuclio/nuclio:pkg/processor/build/runtime/golang/runtime.go
	RuntimeGolang: {
		ext:       "go",
		baseImage: func(string) string { return "alpine:3.20" },
		artifacts: func(_ string, build *v1beta1.Build) []onbuildArtifact {
			image := "%s/nuclio/handler-builder-golang-onbuild:%s-%s-alpine"
			// A user base image that is not alpine-based needs the glibc onbuild image.
			if build.BaseImage != "" && !strings.Contains(build.BaseImage, "alpine") {
				image = "%s/nuclio/handler-builder-golang-onbuild:%s-%s"
			}
			return []onbuildArtifact{{
				stage: "golang-onbuild",
				image: image,
				paths: []copyPath{
					{"/home/nuclio/bin/processor", "/usr/local/bin/processor"},
					{"/home/nuclio/bin/handler.so", "/opt/nuclio/handler.so"},
				},
			}}
		},
	},
	// nuclio/nuclio:pkg/processor/build/runtime/nodejs/runtime.go
	RuntimeNodeJS: {
		ext:       "js",
		baseImage: func(string) string { return "node:10.20-alpine" },
		artifacts: func(string, *v1beta1.Build) []onbuildArtifact {
			return []onbuildArtifact{{
				stage: "nodejs-onbuild",
				image: "%s/nuclio/handler-builder-nodejs-onbuild:%s-%s",
				paths: []copyPath{
					{"/home/nuclio/bin/processor", "/usr/local/bin/processor"},
					{"/home/nuclio/bin/wrapper.js", "/opt/nuclio/wrapper.js"},
				},
			}}
		},
		handlerCopy: true,
		postCopy: func(string) []v1beta1.Directive {
			return []v1beta1.Directive{{Kind: "ENV", Value: "NODE_PATH=/usr/local/lib/node_modules"}}
		},
	},
	// nuclio/nuclio:pkg/processor/build/runtime/java/runtime.go
	RuntimeJava: {
		ext:       "java",
		baseImage: func(string) string { return "openjdk:11-jre-slim" },
		artifacts: func(string, *v1beta1.Build) []onbuildArtifact {
			return []onbuildArtifact{{
				stage: "java-onbuild",
				image: "%s/nuclio/handler-builder-java-onbuild:%s-%s",
				paths: []copyPath{
					{"/home/gradle/bin/processor", "/usr/local/bin/processor"},
					{"/home/gradle/src/wrapper/build/libs/nuclio-java-wrapper.jar", "/opt/nuclio/nuclio-java-wrapper.jar"},
				},
			}}
		},
	},
	// nuclio/nuclio:pkg/processor/build/runtime/dotnetcore/runtime.go
	RuntimeDotNetCore: {
		ext:       "cs",
		baseImage: func(string) string { return "mcr.microsoft.com/dotnet/runtime:7.0" },
		artifacts: func(string, *v1beta1.Build) []onbuildArtifact {
			return []onbuildArtifact{{
				stage: "dotnetcore-onbuild",
				image: "%s/nuclio/handler-builder-dotnetcore-onbuild:%s-%s",
				paths: []copyPath{
					{"/home/nuclio/bin/processor", "/usr/local/bin/processor"},
					{"/home/nuclio/bin/wrapper", "/opt/nuclio/wrapper"},
					{"/home/nuclio/bin/handler", "/opt/nuclio/handler"},
					{"/home/nuclio/src/nuclio-sdk-dotnetcore", "/opt/nuclio/nuclio-sdk-dotnetcore"},
				},
			}}
		},
	},
	// nuclio/nuclio:pkg/processor/build/runtime/ruby/runtime.go
	RuntimeRuby: {
		ext:       "rb",
		baseImage: func(string) string { return "ruby:2.4.4-alpine" },
		artifacts: func(string, *v1beta1.Build) []onbuildArtifact {
			return []onbuildArtifact{{
				stage: "ruby-onbuild",
				image: "%s/nuclio/handler-builder-ruby-onbuild:%s-%s",
				paths: []copyPath{
					{"/home/nuclio/bin/processor", "/usr/local/bin/processor"},
					{"/home/nuclio/bin/wrapper.rb", "/opt/nuclio/wrapper.rb"},
				},
			}}
		},
		handlerCopy: true,
	},
	// nuclio/nuclio:pkg/processor/build/runtime/shell/runtime.go: the plain processor image is the only stage.
	RuntimeShell: {
		ext:       "sh",
		baseImage: func(string) string { return "alpine:3.20" },
		artifacts: func(string, *v1beta1.Build) []onbuildArtifact {
			return []onbuildArtifact{{
				stage: "nuclio-processor",
				image: "%s/nuclio/processor:%s-%s",
				paths: []copyPath{{"/home/nuclio/bin/processor", "/usr/local/bin/processor"}},
			}}
		},
		handlerCopy: true,
	},
}

// ResolveRuntime returns the canonical runtime of spec (`python` becomes `python:3.9`), its name and its
// version ("" for runtimes without versions). When spec.runtime is empty, spec.build has no code entry
// type and spec.build.path names a single file, the runtime is inferred from the file's extension as
// Nuclio does (builder.go getRuntimeNameByFileExtension; `.py` means python:3.9).
//
// Errors name spec.runtime: Python 3.6 was removed by Nuclio; 3.7 and 3.8 are refused because the 1.14.1
// python onbuild image carries wheels only for 3.9, 3.10 and 3.11, so their builds cannot succeed.
func ResolveRuntime(spec *v1beta1.FunctionSpec) (canonical, name, version string, err error) {
	fldPath := field.NewPath("spec", "runtime")
	runtime := spec.Runtime
	if runtime == "" && spec.Build.CodeEntryType == "" && spec.Build.FunctionSourceCode == "" {
		runtime = runtimeFromPath(spec.Build.Path)
	}
	if runtime == "" {
		return "", "", "", field.Required(fldPath,
			"the runtime must be set unless spec.build.path names a single source file with a known extension")
	}
	return parseRuntime(runtime)
}

// parseRuntime resolves a non-empty runtime string; errors name spec.runtime.
func parseRuntime(runtime string) (canonical, name, version string, err error) {
	fldPath := field.NewPath("spec", "runtime")
	name, version, _ = strings.Cut(runtime, ":")
	if name == RuntimePython {
		switch version {
		case "":
			version = DefaultPythonVersion
		case "3.9", "3.10", "3.11":
		case "3.6", "3.7", "3.8":
			return "", "", "", field.Invalid(fldPath, runtime,
				"Python "+version+" is not supported by Nuclio 1.14.1's onbuild images; use python:3.9 or later")
		default:
			return "", "", "", field.NotSupported(fldPath, runtime, SupportedRuntimes)
		}
		return name + ":" + version, name, version, nil
	}
	if _, ok := runtimes[name]; !ok || version != "" {
		return "", "", "", field.NotSupported(fldPath, runtime, SupportedRuntimes)
	}
	return name, name, "", nil
}

// runtimeFromPath maps the extension of a URL's or path's last element to a runtime, "" when unknown
// or when the path looks like a directory or an archive.
func runtimeFromPath(p string) string {
	if p == "" {
		return ""
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	ext := strings.TrimPrefix(path.Ext(p), ".")
	if ext == "" {
		return ""
	}
	for _, name := range []string{RuntimePython, RuntimeGolang, RuntimeNodeJS, RuntimeJava, RuntimeDotNetCore, RuntimeRuby, RuntimeShell} {
		if runtimes[name].ext == ext {
			return name
		}
	}
	return ""
}
