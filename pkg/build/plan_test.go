// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// testConfig has a push registry, which every Generate call needs.
var testConfig = Config{Registry: "registry.example.com"}

func newFunction(runtime, handler string, mutate func(*v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
	fn := &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "fn", Namespace: "ns"},
		Spec: v1beta1.FunctionSpec{
			Runtime: runtime,
			Handler: handler,
			Build:   v1beta1.Build{Path: "https://example.com/src.zip", CodeEntryType: "archive"},
		},
	}
	if mutate != nil {
		mutate(fn)
	}
	return fn
}

// fieldErrors returns the field errors in err, failing the test if err holds anything else.
func fieldErrors(t *testing.T, err error) field.ErrorList {
	t.Helper()
	if err == nil {
		return nil
	}
	var agg utilerrors.Aggregate
	if !errors.As(err, &agg) {
		t.Fatalf("error %v (%T) is not an aggregate of field errors", err, err)
	}
	var list field.ErrorList
	for _, e := range agg.Errors() {
		var fe *field.Error
		if !errors.As(e, &fe) {
			t.Fatalf("error %v (%T) is not a field error", e, e)
		}
		list = append(list, fe)
	}
	return list
}

func TestGenerateRejectsUnsafeInput(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mutate    func(*v1beta1.NuclioFunction)
		cfg       *Config
		wantField string
		wantType  field.ErrorType
	}{
		{
			name:      "newline in a build arg",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{"FOO": "x\nRUN curl evil"} },
			wantField: "spec.build.args[FOO]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "carriage return in a build arg",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{"FOO": "x\rRUN id"} },
			wantField: "spec.build.args[FOO]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "unicode line separator in a build arg",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{"FOO": "x\u2028RUN id"} },
			wantField: "spec.build.args[FOO]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "build arg value ending in a line continuation",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{"FOO": `x\ `} },
			wantField: "spec.build.args[FOO]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "build arg name that is not an identifier",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{"FOO=1 BAR": "x"} },
			wantField: "spec.build.args", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "newline in a directive value",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Build.Directives = map[string][]v1beta1.Directive{
					PostCopy: {{Kind: "RUN", Value: "true"}, {Kind: "RUN", Value: "echo\nUSER root"}},
				}
			},
			wantField: "spec.build.directives.postCopy[1].value", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "directive kind that is not an instruction",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Build.Directives = map[string][]v1beta1.Directive{PreCopy: {{Kind: "RUN --mount=type=secret", Value: "x"}}}
			},
			wantField: "spec.build.directives.preCopy[0].kind", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "newline in a command",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Build.Commands = []string{"ok", "pip install x\nFROM scratch"}
			},
			wantField: "spec.build.commands[1]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "newline in the base image",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.BaseImage = "python:3.9\nRUN id" },
			wantField: "spec.build.baseImage", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "base image with a FROM flag",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.BaseImage = "--platform=linux/arm64 alpine" },
			wantField: "spec.build.baseImage", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "onbuild image with a newline",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.OnbuildImage = "x/y:{{ .Label }}\nRUN id" },
			wantField: "spec.build.onbuildImage", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "onbuild template calling printf",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.OnbuildImage = `x/y:{{ printf "%0999999999d" 1 }}` },
			wantField: "spec.build.onbuildImage", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "onbuild template with an unknown field",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.OnbuildImage = "x/y:{{ .Version }}" },
			wantField: "spec.build.onbuildImage", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "base image registry with a scheme",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.BaseImageRegistry = "https://mirror.example.com" },
			wantField: "spec.build.baseImageRegistry", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "push registry with a space",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Registry = "registry.example.com --insecure" },
			wantField: "spec.build.registry", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "no push registry anywhere",
			cfg:       &Config{},
			wantField: "spec.build.registry", wantType: field.ErrorTypeRequired,
		},
		{
			name:      "output image with a digest",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Image = "team/fn@sha256:" + strings.Repeat("a", 64) },
			wantField: "spec.build.image", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "output image in upper case",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Image = "Team/Fn" },
			wantField: "spec.build.image", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "run registry with a newline",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.RunRegistry = "pull.example.com\n" },
			wantField: "spec.runRegistry", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "missing function name",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Name = "" },
			wantField: "metadata.name", wantType: field.ErrorTypeRequired,
		},
		{
			name:      "python 3.6",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Runtime = "python:3.6" },
			wantField: "spec.runtime", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "python 3.8 has no wheels in the onbuild image",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Runtime = "python:3.8" },
			wantField: "spec.runtime", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "unknown runtime",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Runtime = "pypy" },
			wantField: "spec.runtime", wantType: field.ErrorTypeNotSupported,
		},
		{
			name:      "golang with a version",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Runtime = "golang:1.22" },
			wantField: "spec.runtime", wantType: field.ErrorTypeNotSupported,
		},
		{
			name:      "no runtime and an archive",
			mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Runtime = "" },
			wantField: "spec.runtime", wantType: field.ErrorTypeRequired,
		},
		{
			name: "source code handler escaping handler/",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Build = v1beta1.Build{FunctionSourceCode: "cHJpbnQoMSk=", Registry: "r.example.com"}
				fn.Spec.Handler = "../../etc/cron.d/x:handler"
			},
			wantField: "spec.handler", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "source code that is not base64",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Build = v1beta1.Build{FunctionSourceCode: "not base64!"}
			},
			wantField: "spec.build.functionSourceCode", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "java dependency escaping its Groovy string",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Runtime = "java"
				fn.Spec.Build.Dependencies = []string{`group: "a'); println('x", name: b, version: c`}
			},
			wantField: "spec.build.dependencies[0]", wantType: field.ErrorTypeInvalid,
		},
		{
			name: "java repository spanning lines",
			mutate: func(fn *v1beta1.NuclioFunction) {
				fn.Spec.Runtime = "java"
				fn.Spec.Build.RuntimeAttributes = freeform.Object{"repositories": []interface{}{"mavenCentral()\n}\nx"}}
			},
			wantField: "spec.build.runtimeAttributes.repositories[0]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "bad platform build arg",
			cfg:       &Config{Registry: "r.example.com", BuildArgs: map[string]string{"A": "1\n"}},
			wantField: "config.buildArgs[A]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "bad per-runtime registry override",
			cfg:       &Config{Registry: "r.example.com", OnbuildRegistryOverrides: map[string]string{"python": "a b"}},
			wantField: "config.onbuildRegistryOverrides[python]", wantType: field.ErrorTypeInvalid,
		},
		{
			name:      "label that cannot be a tag",
			cfg:       &Config{Registry: "r.example.com", Label: "1.14.1/x"},
			wantField: "config.label", wantType: field.ErrorTypeInvalid,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			plan, err := cfg.Generate(newFunction("python:3.9", "main:handler", tc.mutate))
			if err == nil {
				t.Fatalf("Generate succeeded; Dockerfile:\n%s", plan.Dockerfile)
			}
			if plan != nil {
				t.Errorf("Generate returned a plan with error %v", err)
			}
			errs := fieldErrors(t, err)
			for _, e := range errs {
				if e.Field == tc.wantField && e.Type == tc.wantType {
					return
				}
			}
			t.Errorf("got %v, want an error of type %q for %s", err, tc.wantType, tc.wantField)
		})
	}
}

func TestGenerateReportsEveryProblem(t *testing.T) {
	fn := newFunction("python:3.9", "main:handler", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build.Args = map[string]string{"A": "1\n", "B": "2\r"}
		fn.Spec.Build.BaseImage = "bad image"
	})
	_, err := testConfig.Generate(fn)
	var got []string
	for _, e := range fieldErrors(t, err) {
		got = append(got, e.Field)
	}
	want := []string{"spec.build.baseImage", "spec.build.args[A]", "spec.build.args[B]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error fields (-want +got):\n%s", diff)
	}
}

func TestSourceCodeValueIsNotEchoed(t *testing.T) {
	fn := newFunction("python:3.9", "main:handler", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build = v1beta1.Build{FunctionSourceCode: "c2VjcmV0!!"}
	})
	_, err := testConfig.Generate(fn)
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("got %v, want an error that does not repeat the source", err)
	}
}

func TestResolveRuntime(t *testing.T) {
	for _, tc := range []struct {
		runtime, path, codeEntryType, sourceCode string
		canonical, name, version                 string
		wantErr                                  bool
	}{
		{runtime: "python", canonical: "python:3.9", name: "python", version: "3.9"},
		{runtime: "python:3.9", canonical: "python:3.9", name: "python", version: "3.9"},
		{runtime: "python:3.10", canonical: "python:3.10", name: "python", version: "3.10"},
		{runtime: "python:3.11", canonical: "python:3.11", name: "python", version: "3.11"},
		{runtime: "python:3.12", wantErr: true},
		{runtime: "python:3.7", wantErr: true},
		{runtime: "golang", canonical: "golang", name: "golang"},
		{runtime: "nodejs", canonical: "nodejs", name: "nodejs"},
		{runtime: "java", canonical: "java", name: "java"},
		{runtime: "dotnetcore", canonical: "dotnetcore", name: "dotnetcore"},
		{runtime: "ruby", canonical: "ruby", name: "ruby"},
		{runtime: "shell", canonical: "shell", name: "shell"},
		{runtime: "nodejs:20", wantErr: true},
		{runtime: "Python", wantErr: true},
		// Inferred from a single file's extension, as Nuclio's getRuntimeNameByFileExtension does.
		{path: "https://example.com/fn/handler.py", canonical: "python:3.9", name: "python", version: "3.9"},
		{path: "https://example.com/fn/main.go?raw=1", canonical: "golang", name: "golang"},
		{path: "https://example.com/fn/run.sh", canonical: "shell", name: "shell"},
		{path: "https://example.com/fn/Handler.cs", canonical: "dotnetcore", name: "dotnetcore"},
		{path: "https://example.com/fn.zip", wantErr: true},
		{path: "https://example.com/fn/", wantErr: true},
		{path: "https://example.com/fn/handler.py", codeEntryType: "archive", wantErr: true},
		{path: "https://example.com/fn/handler.py", sourceCode: "eA==", wantErr: true},
		{wantErr: true},
	} {
		spec := &v1beta1.FunctionSpec{Runtime: tc.runtime, Build: v1beta1.Build{
			Path: tc.path, CodeEntryType: tc.codeEntryType, FunctionSourceCode: tc.sourceCode}}
		canonical, name, version, err := ResolveRuntime(spec)
		if tc.wantErr {
			var fe *field.Error
			if err == nil || !errors.As(err, &fe) || fe.Field != "spec.runtime" {
				t.Errorf("ResolveRuntime(%q, %q) = %q, %v; want a spec.runtime error", tc.runtime, tc.path, canonical, err)
			}
			continue
		}
		if err != nil || canonical != tc.canonical || name != tc.name || version != tc.version {
			t.Errorf("ResolveRuntime(%q, %q) = %q, %q, %q, %v; want %q, %q, %q",
				tc.runtime, tc.path, canonical, name, version, err, tc.canonical, tc.name, tc.version)
		}
	}
}

func TestSourceFileName(t *testing.T) {
	for _, tc := range []struct {
		runtime, handler, want string
		wantErr                string
	}{
		{runtime: "python", handler: "helloworld:handler", want: "helloworld.py"},
		{runtime: "python:3.11", handler: "pkg.module:handler", want: "pkg.module"},
		{runtime: "golang", handler: "main:Handler", want: "main.go"},
		{runtime: "shell", handler: "main.sh", want: "main.sh"},
		{runtime: "shell", handler: "parser.sh:main", want: "parser.sh"},
		{runtime: "shell", handler: "run", want: "run.sh"},
		{runtime: "java", handler: "ReverseEventHandler", want: "ReverseEventHandler.java"},
		{runtime: "dotnetcore", handler: "nuclio:main", want: "nuclio.cs"},
		{runtime: "nodejs", handler: "handler", want: "handler.js"},
		{runtime: "nodejs", handler: "index:handler", want: "index.js"},
		{runtime: "ruby", handler: "main:main", want: "main.rb"},
		{runtime: "python", handler: "a:b:c", wantErr: "spec.handler"},
		{runtime: "python", handler: "", wantErr: "spec.handler"},
		{runtime: "python", handler: ":handler", want: "handler.py"},
		{runtime: "python", handler: "../evil:handler", wantErr: "spec.handler"},
		{runtime: "python", handler: "a/b:handler", wantErr: "spec.handler"},
		{runtime: "python", handler: `a\b:handler`, wantErr: "spec.handler"},
		{runtime: "shell", handler: "..", wantErr: "spec.handler"},
		{runtime: "python", handler: "x\x00y:handler", wantErr: "spec.handler"},
		{runtime: "python", handler: strings.Repeat("a", 253) + ":h", wantErr: "spec.handler"},
		{runtime: "", handler: "main:handler", wantErr: "spec.runtime"},
		{runtime: "cobol", handler: "main:handler", wantErr: "spec.runtime"},
	} {
		got, err := SourceFileName(tc.runtime, tc.handler)
		if tc.wantErr != "" {
			var fe *field.Error
			if !errors.As(err, &fe) || fe.Field != tc.wantErr {
				t.Errorf("SourceFileName(%q, %q) = %q, %v; want an error naming %s", tc.runtime, tc.handler, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SourceFileName(%q, %q) = %q, %v; want %q", tc.runtime, tc.handler, got, err, tc.want)
		}
	}
}

func TestCommandsToDirectives(t *testing.T) {
	run := func(values ...string) []v1beta1.Directive {
		var out []v1beta1.Directive
		for _, v := range values {
			out = append(out, v1beta1.Directive{Kind: "RUN", Value: v})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		commands  []string
		pre, post []v1beta1.Directive
	}{
		{name: "only pre", commands: []string{"a", "b", "c"}, pre: run("a", "b", "c")},
		{name: "only post", commands: []string{"@nuclio.postCopy", "a", "b"}, post: run("a", "b")},
		{name: "pre and post", commands: []string{"a", "@nuclio.postCopy", "b", "c"}, pre: run("a"), post: run("b", "c")},
		{name: "marker with blanks", commands: []string{"a", "  @nuclio.postCopy\t", "b"}, pre: run("a"), post: run("b")},
		{
			name:     "multi-line commands",
			commands: []string{"cmd1 arg1 \\", "arg2 \\", "arg3", "cmd2", "@nuclio.postCopy", "post1"},
			pre:      run("cmd1 arg1 arg2 arg3", "cmd2"), post: run("post1"),
		},
		{name: "trailing backslash on the last command", commands: []string{"a \\"}, pre: run("a ")},
		{
			name:     "continuation into the marker goes to postCopy",
			commands: []string{"a \\", "@nuclio.postCopy", "b"},
			post:     run("a ", "b"),
		},
		{name: "empty commands are dropped", commands: []string{"", "a", ""}, pre: run("a")},
		{name: "nothing", commands: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pre, post, errs := CommandsToDirectives(tc.commands)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if diff := cmp.Diff(tc.pre, pre); diff != "" {
				t.Errorf("preCopy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.post, post); diff != "" {
				t.Errorf("postCopy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandsReplaceDirectives(t *testing.T) {
	// Nuclio converts commands to directives and then ignores spec.build.directives altogether.
	fn := newFunction("nodejs", "handler", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build.Commands = []string{"npm install moment"}
		fn.Spec.Build.Directives = map[string][]v1beta1.Directive{PreCopy: {{Kind: "RUN", Value: "ignored-directive"}}}
	})
	plan, err := testConfig.Generate(fn)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Dockerfile, "RUN npm install moment\n") || strings.Contains(plan.Dockerfile, "ignored-directive") {
		t.Errorf("Dockerfile:\n%s", plan.Dockerfile)
	}
}

func TestDockerfileOrder(t *testing.T) {
	fn := newFunction("nodejs", "handler", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build.Args = map[string]string{"ZED": "1", "ALPHA": "2"}
		fn.Spec.Build.Directives = map[string][]v1beta1.Directive{
			PreCopy:  {{Kind: "RUN", Value: "user-pre"}},
			PostCopy: {{Kind: "RUN", Value: "user-post"}},
		}
	})
	plan, err := testConfig.Generate(fn)
	if err != nil {
		t.Fatal(err)
	}
	var instructions []string
	for _, line := range strings.Split(plan.Dockerfile, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			instructions = append(instructions, line)
		}
	}
	want := []string{
		"FROM quay.io/nuclio/handler-builder-nodejs-onbuild:1.14.1-amd64 AS nodejs-onbuild",
		"ARG NUCLIO_LABEL",
		"ARG NUCLIO_ARCH",
		"FROM node:10.20-alpine",
		"ARG ALPHA=2",
		"ARG ZED=1",
		"ARG NUCLIO_LABEL",
		"ARG NUCLIO_ARCH",
		"ARG NUCLIO_BUILD_LOCAL_HANDLER_DIR",
		"RUN user-pre",
		"COPY --from=nodejs-onbuild /home/nuclio/bin/processor /usr/local/bin/processor",
		"COPY --from=nodejs-onbuild /home/nuclio/bin/wrapper.js /opt/nuclio/wrapper.js",
		"COPY handler /opt/nuclio",
		"ENV NODE_PATH=/usr/local/lib/node_modules",
		"RUN user-post",
		`CMD [ "processor" ]`,
	}
	if diff := cmp.Diff(want, instructions); diff != "" {
		t.Errorf("instructions (-want +got):\n%s", diff)
	}
}

func TestBuildArgsMerge(t *testing.T) {
	cfg := Config{
		Registry:        "r.example.com",
		BuildArgs:       map[string]string{"COMMON": "c", "OVERRIDDEN": "platform", "REMOVED": "platform"},
		PythonBuildArgs: map[string]string{"PYTHON_ONLY": "p", "COMMON": "python-wins"},
	}
	args := func(runtime string, user map[string]string) []string {
		fn := newFunction(runtime, "main:handler", func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = user })
		plan, err := cfg.Generate(fn)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Split(plan.Dockerfile, "\n") {
			if strings.HasPrefix(line, "ARG ") && strings.Contains(line, "=") {
				got = append(got, line)
			}
		}
		return got
	}
	user := map[string]string{"OVERRIDDEN": "user", "REMOVED": "", "USER": "u"}
	if diff := cmp.Diff([]string{"ARG COMMON=python-wins", "ARG OVERRIDDEN=user", "ARG PYTHON_ONLY=p", "ARG USER=u"},
		args("python:3.10", user)); diff != "" {
		t.Errorf("python ARGs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ARG COMMON=c", "ARG OVERRIDDEN=user", "ARG USER=u"}, args("golang", user)); diff != "" {
		t.Errorf("golang ARGs (-want +got):\n%s", diff)
	}
}

func TestImageRegistries(t *testing.T) {
	for _, tc := range []struct {
		name        string
		runtime     string
		cfg         Config
		build       v1beta1.Build
		baseImage   string
		onbuild     string
		wantOnbuild string
	}{
		{
			name: "defaults", runtime: "python:3.10",
			baseImage: "python:3.10", wantOnbuild: "quay.io/nuclio/handler-builder-python-onbuild:1.14.1-amd64",
		},
		{
			name: "configured registries", runtime: "python:3.10",
			cfg:       Config{BaseRegistry: "hub.example.com/", OnbuildRegistry: "onbuild.example.com/"},
			baseImage: "hub.example.com/python:3.10", wantOnbuild: "onbuild.example.com/nuclio/handler-builder-python-onbuild:1.14.1-amd64",
		},
		{
			name: "versioned override beats runtime override", runtime: "python:3.11",
			cfg: Config{
				BaseRegistryOverrides:    map[string]string{"python": "a.example.com", "python:3.11": "b.example.com"},
				OnbuildRegistryOverrides: map[string]string{"python": "c.example.com", "python:3.10": "d.example.com"},
			},
			baseImage: "b.example.com/python:3.11", wantOnbuild: "c.example.com/nuclio/handler-builder-python-onbuild:1.14.1-amd64",
		},
		{
			name: "spec base image registry replaces both and the overrides", runtime: "shell",
			cfg:       Config{BaseRegistryOverrides: map[string]string{"shell": "a.example.com"}},
			build:     v1beta1.Build{BaseImageRegistry: "spec.example.com:5000"},
			baseImage: "spec.example.com:5000/alpine:3.20", wantOnbuild: "spec.example.com:5000/nuclio/processor:1.14.1-amd64",
		},
		{
			name: "registry host of the default image is replaced", runtime: "dotnetcore",
			cfg:       Config{BaseRegistry: "mirror.example.com"},
			baseImage: "mirror.example.com/dotnet/runtime:7.0", wantOnbuild: "quay.io/nuclio/handler-builder-dotnetcore-onbuild:1.14.1-amd64",
		},
		{
			name: "user base image is verbatim", runtime: "python:3.9",
			cfg:       Config{BaseRegistry: "mirror.example.com"},
			build:     v1beta1.Build{BaseImage: "python:3.9-buster"},
			baseImage: "python:3.9-buster", wantOnbuild: "quay.io/nuclio/handler-builder-python-onbuild:1.14.1-amd64",
		},
		{
			name: "golang with an alpine base keeps the alpine onbuild", runtime: "golang",
			build:     v1beta1.Build{BaseImage: "alpine:3.19"},
			baseImage: "alpine:3.19", wantOnbuild: "quay.io/nuclio/handler-builder-golang-onbuild:1.14.1-amd64-alpine",
		},
		{
			name: "dependant registry keeps the last path element", runtime: "dotnetcore",
			cfg:       Config{DependantImageRegistry: "airgap.example.com:5000/sub/"},
			baseImage: "airgap.example.com:5000/sub/runtime:7.0", wantOnbuild: "airgap.example.com:5000/sub/handler-builder-dotnetcore-onbuild:1.14.1-amd64",
		},
		{
			name: "dependant registry also moves a user base image", runtime: "python:3.9",
			cfg:       Config{DependantImageRegistry: "airgap.example.com"},
			build:     v1beta1.Build{BaseImage: "docker.io/library/python:3.9-slim"},
			baseImage: "airgap.example.com/python:3.9-slim", wantOnbuild: "airgap.example.com/handler-builder-python-onbuild:1.14.1-amd64",
		},
		{
			name: "onbuild template", runtime: "ruby",
			cfg:       Config{Label: "1.14.2", Arch: "arm64"},
			build:     v1beta1.Build{OnbuildImage: "my.example.com/ruby-onbuild:{{.Label}}-{{ .Arch }}"},
			baseImage: "ruby:2.4.4-alpine", wantOnbuild: "my.example.com/ruby-onbuild:1.14.2-arm64",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Registry = "r.example.com"
			fn := newFunction(tc.runtime, "main:handler", func(fn *v1beta1.NuclioFunction) {
				tc.build.Path, tc.build.CodeEntryType = fn.Spec.Build.Path, fn.Spec.Build.CodeEntryType
				fn.Spec.Build = tc.build
			})
			plan, err := cfg.Generate(fn)
			if err != nil {
				t.Fatal(err)
			}
			if plan.BaseImage != tc.baseImage {
				t.Errorf("base image %q, want %q", plan.BaseImage, tc.baseImage)
			}
			if len(plan.Stages) != 1 || plan.Stages[0].Image != tc.wantOnbuild {
				t.Errorf("stages %+v, want one with image %q", plan.Stages, tc.wantOnbuild)
			}
			if !strings.Contains(plan.Dockerfile, "\nFROM "+tc.baseImage+"\n") ||
				!strings.Contains(plan.Dockerfile, "\nFROM "+tc.wantOnbuild+" AS ") {
				t.Errorf("Dockerfile does not use the images:\n%s", plan.Dockerfile)
			}
		})
	}
}

func TestOutputImage(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		cfg                   Config
		build                 v1beta1.Build
		runRegistry           string
		labels                map[string]string
		wantDest, wantRun     string
		wantName, wantTag     string
		wantErrField, errType string
	}{
		{
			name: "registry without a path keeps nuclio/", cfg: Config{Registry: "localhost:5000"},
			wantName: "nuclio/processor-fn", wantTag: "latest",
			wantDest: "localhost:5000/nuclio/processor-fn:latest", wantRun: "localhost:5000/nuclio/processor-fn:latest",
		},
		{
			name: "registry with a path drops nuclio/", build: v1beta1.Build{Registry: "docker.io/foo"},
			wantName: "processor-fn", wantTag: "latest",
			wantDest: "docker.io/foo/processor-fn:latest", wantRun: "docker.io/foo/processor-fn:latest",
		},
		{
			name: "trailing slash", build: v1beta1.Build{Registry: "index.docker.io/foo/"},
			wantName: "processor-fn", wantTag: "latest",
			wantDest: "index.docker.io/foo/processor-fn:latest", wantRun: "index.docker.io/foo/processor-fn:latest",
		},
		{
			name: "spec registry beats config", cfg: Config{Registry: "config.example.com"}, build: v1beta1.Build{Registry: "spec.example.com"},
			wantName: "nuclio/processor-fn", wantTag: "latest",
			wantDest: "spec.example.com/nuclio/processor-fn:latest", wantRun: "spec.example.com/nuclio/processor-fn:latest",
		},
		{
			name: "user image with a tag", cfg: Config{Registry: "localhost:5000"}, build: v1beta1.Build{Image: "team/app:v2"},
			wantName: "team/app", wantTag: "v2",
			wantDest: "localhost:5000/team/app:v2", wantRun: "localhost:5000/team/app:v2",
		},
		{
			name: "user image with a port and no tag", cfg: Config{Registry: "r.example.com"}, build: v1beta1.Build{Image: "host:5000/app"},
			wantName: "host:5000/app", wantTag: "latest",
			wantDest: "r.example.com/host:5000/app:latest", wantErrField: "spec.build.image", errType: string(field.ErrorTypeInvalid),
		},
		{
			name: "prefix template", cfg: Config{Registry: "localhost:5000", ImageNamePrefixTemplate: "{{ .ProjectName }}-{{ .FunctionName }}-"},
			labels:   map[string]string{"nuclio.io/project-name": "proj"},
			wantName: "nuclio/proj-fn-processor", wantTag: "latest",
			wantDest: "localhost:5000/nuclio/proj-fn-processor:latest", wantRun: "localhost:5000/nuclio/proj-fn-processor:latest",
		},
		{
			name: "prefix template with the default project", cfg: Config{Registry: "localhost:5000/x", ImageNamePrefixTemplate: "{{.ProjectName}}-"},
			wantName: "default-processor", wantTag: "latest",
			wantDest: "localhost:5000/x/default-processor:latest", wantRun: "localhost:5000/x/default-processor:latest",
		},
		{
			name: "run registry from the spec", cfg: Config{Registry: "push.example.com", RunRegistry: "cfg-pull.example.com"},
			runRegistry: "pull.example.com/",
			wantName:    "nuclio/processor-fn", wantTag: "latest",
			wantDest: "push.example.com/nuclio/processor-fn:latest", wantRun: "pull.example.com/nuclio/processor-fn:latest",
		},
		{
			name: "run registry from the config", cfg: Config{Registry: "push.example.com", RunRegistry: "cfg-pull.example.com"},
			wantName: "nuclio/processor-fn", wantTag: "latest",
			wantDest: "push.example.com/nuclio/processor-fn:latest", wantRun: "cfg-pull.example.com/nuclio/processor-fn:latest",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := newFunction("golang", "main:Handler", func(fn *v1beta1.NuclioFunction) {
				fn.Labels = tc.labels
				fn.Spec.RunRegistry = tc.runRegistry
				tc.build.Path, tc.build.CodeEntryType = fn.Spec.Build.Path, fn.Spec.Build.CodeEntryType
				fn.Spec.Build = tc.build
			})
			out, errs := resolveOutputImage(fn, tc.cfg.withDefaults())
			if tc.wantErrField != "" {
				if len(errs) != 1 || errs[0].Field != tc.wantErrField || string(errs[0].Type) != tc.errType {
					t.Fatalf("errors %v, want one %s on %s", errs, tc.errType, tc.wantErrField)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if out.Name != tc.wantName || out.Tag != tc.wantTag || out.Destination != tc.wantDest || out.RunImage != tc.wantRun {
				t.Errorf("got %+v, want name %q tag %q destination %q run image %q", out, tc.wantName, tc.wantTag, tc.wantDest, tc.wantRun)
			}
		})
	}
}

func TestRenderTemplate(t *testing.T) {
	vars := map[string]string{"Label": "1.14.1", "Arch": "amd64"}
	for _, tc := range []struct {
		tmpl, want string
		wantErr    bool
	}{
		{tmpl: "x/y:{{ .Label }}-{{ .Arch }}", want: "x/y:1.14.1-amd64"},
		{tmpl: "x/y:{{.Label}}-{{.Arch}}-alpine", want: "x/y:1.14.1-amd64-alpine"},
		{tmpl: "x/y:fixed", want: "x/y:fixed"},
		{tmpl: "x/y:{{ .Version }}", wantErr: true},
		{tmpl: `{{ printf "%09999d" 1 }}`, wantErr: true},
		{tmpl: "{{ .Label | len }}", wantErr: true},
		{tmpl: "{{ range . }}x{{ end }}", wantErr: true},
		{tmpl: "x/y:{{ .Label }", wantErr: true},
		{tmpl: "x/y:}}", wantErr: true},
	} {
		got, err := renderTemplate(tc.tmpl, vars)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("renderTemplate(%q) = %q, %v; want %q, error %v", tc.tmpl, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	err := Config{ImageNamePrefixTemplate: "{{ .Namespace }}-", DependantImageRegistry: "http://x"}.Validate()
	var got []string
	for _, e := range fieldErrors(t, err) {
		got = append(got, e.Field)
	}
	if diff := cmp.Diff([]string{"config.dependantImageRegistry", "config.imageNamePrefixTemplate"}, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestGenerateNilFunction(t *testing.T) {
	if _, err := testConfig.Generate(nil); err == nil {
		t.Error("Generate(nil) succeeded")
	}
}
