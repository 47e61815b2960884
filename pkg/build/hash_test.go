// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"regexp"
	"testing"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

func hashFunction() *v1beta1.NuclioFunction {
	return newFunction("python:3.9", "main:handler", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build.CodeEntryType = "git"
		fn.Spec.Build.Path = "https://git.example.com/team/repo.git"
		fn.Spec.Build.CodeEntryAttributes = freeform.Object{
			"branch":   "main",
			"workDir":  "fn",
			"username": "bot",
			"password": "$ref:/spec/build/codeentryattributes/password",
			"headers":  map[string]interface{}{"Authorization": "$ref:/spec/build/codeentryattributes/headers/authorization"},
		}
		fn.Spec.Build.Commands = []string{"pip install requests"}
	})
}

func TestSourceHashIsStableAndWellFormed(t *testing.T) {
	a, b := testConfig.SourceHash(hashFunction()), testConfig.SourceHash(hashFunction())
	if a != b {
		t.Fatalf("hash of equal functions differs: %s vs %s", a, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a) {
		t.Fatalf("hash %q is not 64 lower-case hex digits", a)
	}
	plan, err := testConfig.Generate(hashFunction())
	if err != nil {
		t.Fatal(err)
	}
	if plan.SourceHash != a {
		t.Errorf("Plan.SourceHash %s, want Config.SourceHash %s", plan.SourceHash, a)
	}
}

func TestSourceHashChangesWithWhatShapesTheImage(t *testing.T) {
	base := testConfig.SourceHash(hashFunction())
	for name, change := range map[string]func(*v1beta1.NuclioFunction, *Config){
		"name":              func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Name = "other" },
		"project":           func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Labels = map[string]string{projectNameLabel: "p"} },
		"runtime":           func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Runtime = "python:3.11" },
		"handler":           func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Handler = "other:handler" },
		"path":              func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Path += "x" },
		"source code":       func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.FunctionSourceCode = "eA==" },
		"code entry type":   func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.CodeEntryType = "archive" },
		"branch":            func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.CodeEntryAttributes["branch"] = "dev" },
		"workDir":           func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.CodeEntryAttributes["workDir"] = "x" },
		"registry":          func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Registry = "r2.example.com" },
		"baseImageRegistry": func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.BaseImageRegistry = "m.example.com" },
		"image":             func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Image = "a/b:c" },
		"baseImage":         func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.BaseImage = "python:3.9-slim" },
		"onbuildImage":      func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.OnbuildImage = "a/b:{{ .Label }}" },
		"commands":          func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Commands = []string{"pip install x"} },
		"directives": func(fn *v1beta1.NuclioFunction, _ *Config) {
			fn.Spec.Build.Directives = map[string][]v1beta1.Directive{PreCopy: {{Kind: "RUN", Value: "x"}}}
		},
		"dependencies": func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Dependencies = []string{"x"} },
		"runtimeAttributes": func(fn *v1beta1.NuclioFunction, _ *Config) {
			fn.Spec.Build.RuntimeAttributes = freeform.Object{"a": "b"}
		},
		"offline":        func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Offline = true },
		"args":           func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Args = map[string]string{"A": "1"} },
		"flags":          func(fn *v1beta1.NuclioFunction, _ *Config) { fn.Spec.Build.Flags = []string{"--single-snapshot"} },
		"config label":   func(_ *v1beta1.NuclioFunction, c *Config) { c.Label = "1.14.2" },
		"config arch":    func(_ *v1beta1.NuclioFunction, c *Config) { c.Arch = "arm64" },
		"config onbuild": func(_ *v1beta1.NuclioFunction, c *Config) { c.OnbuildRegistry = "o.example.com" },
		"config base":    func(_ *v1beta1.NuclioFunction, c *Config) { c.BaseRegistry = "b.example.com" },
		"config override": func(_ *v1beta1.NuclioFunction, c *Config) {
			c.BaseRegistryOverrides = map[string]string{"python": "x.example.com"}
		},
		"config dependant":   func(_ *v1beta1.NuclioFunction, c *Config) { c.DependantImageRegistry = "d.example.com" },
		"config build args":  func(_ *v1beta1.NuclioFunction, c *Config) { c.BuildArgs = map[string]string{"A": "1"} },
		"config python args": func(_ *v1beta1.NuclioFunction, c *Config) { c.PythonBuildArgs = map[string]string{"A": "1"} },
		"config registry":    func(_ *v1beta1.NuclioFunction, c *Config) { c.Registry = "other.example.com" },
	} {
		fn, cfg := hashFunction(), testConfig
		change(fn, &cfg)
		if got := cfg.SourceHash(fn); got == base {
			t.Errorf("changing the %s does not change the hash", name)
		}
	}
}

func TestSourceHashIgnoresCredentialsAndSchedulingKnobs(t *testing.T) {
	base := testConfig.SourceHash(hashFunction())
	timeout := int64(60)
	for name, change := range map[string]func(*v1beta1.NuclioFunction){
		"restored password": func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.CodeEntryAttributes["password"] = "hunter2" },
		"username":          func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.CodeEntryAttributes["username"] = "someone" },
		"restored headers": func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Build.CodeEntryAttributes["headers"] = map[string]interface{}{"Authorization": "Bearer t"}
		},
		"s3 credentials": func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Build.CodeEntryAttributes["s3AccessKeyId"] = "AKIA"
			fn.Spec.Build.CodeEntryAttributes["s3SecretAccessKey"] = "secret"
			fn.Spec.Build.CodeEntryAttributes["s3SessionToken"] = "token"
		},
		"mode":            func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Mode = "alwaysBuild" },
		"timestamp":       func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Timestamp = 1700000000 },
		"timeout":         func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.BuildTimeoutSeconds = &timeout },
		"noCache":         func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.NoCache = true },
		"service account": func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.BuilderServiceAccount = "builder" },
		"spec.image":      func(fn *v1beta1.NuclioFunction) { fn.Spec.Image = "r.example.com/x:latest" },
		"replicas":        func(fn *v1beta1.NuclioFunction) { r := int32(3); fn.Spec.Replicas = &r },
		"namespace":       func(fn *v1beta1.NuclioFunction) { fn.Namespace = "elsewhere" },
		"empty args map":  func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{} },
		"empty flags":     func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Flags = []string{} },
		"empty directives": func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Build.Directives = map[string][]v1beta1.Directive{PreCopy: {}}
		},
	} {
		fn := hashFunction()
		change(fn)
		if got := testConfig.SourceHash(fn); got != base {
			t.Errorf("changing the %s changes the hash", name)
		}
	}
	if got := (Config{Registry: testConfig.Registry, Label: DefaultLabel, OnbuildRegistry: DefaultOnbuildRegistry}).SourceHash(hashFunction()); got != base {
		t.Error("spelling out the Config defaults changes the hash")
	}
}
