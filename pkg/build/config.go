// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"regexp"
	"sort"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Defaults of Config, as shipped by Nuclio 1.14.1 (nuclio/nuclio:hack/k8s/helm/nuclio/values.yaml
// registry.defaultOnbuildRegistryURL, and the version the onbuild images are tagged with).
const (
	DefaultOnbuildRegistry = "quay.io"
	DefaultLabel           = "1.14.1"
	DefaultArch            = "amd64"
)

// Config is the platform side of a build: what Nuclio reads from its platform configuration and the
// dashboard's environment. The zero value selects Nuclio's defaults.
type Config struct {
	// OnbuildRegistry is the registry of the onbuild images; "" selects DefaultOnbuildRegistry
	// (NUCLIO_DASHBOARD_DEFAULT_ONBUILD_REGISTRY_URL). spec.build.baseImageRegistry overrides it.
	OnbuildRegistry string
	// BaseRegistry is the registry prefixed to the runtimes' default base images; "" pulls them by their
	// own names, i.e. from Docker Hub or mcr.microsoft.com (NUCLIO_DASHBOARD_DEFAULT_BASE_REGISTRY_URL).
	// spec.build.baseImageRegistry overrides it.
	BaseRegistry string
	// OnbuildRegistryOverrides and BaseRegistryOverrides replace OnbuildRegistry and BaseRegistry for
	// one runtime, keyed `runtime:version` (e.g. `python:3.11`) or `runtime` (e.g. `golang`); the versioned
	// key wins (platform imageRegistryOverrides.{onbuildImageRegistries,baseImageRegistries},
	// nuclio/nuclio:pkg/processor/build/runtime/runtime.go GetOverrideImageRegistryFromMap).
	OnbuildRegistryOverrides map[string]string
	BaseRegistryOverrides    map[string]string
	// DependantImageRegistry, when set, moves every base and onbuild image to this registry, keeping only
	// the image's last path element: `quay.io/nuclio/x:1` becomes `<registry>/x:1`
	// (registry.dependantImageRegistryURL, builder.go renderDependantImageURL).
	DependantImageRegistry string
	// Label and Arch tag the onbuild images `<label>-<arch>`; "" selects DefaultLabel and DefaultArch.
	// They are also passed as the NUCLIO_LABEL and NUCLIO_ARCH build arguments.
	Label string
	Arch  string
	// BuildArgs are the platform's Dockerfile build arguments for every runtime
	// (platform runtime.common.buildArgs); PythonBuildArgs are added for python (runtime.python.buildArgs).
	// spec.build.args overrides both, and an empty value there removes the argument.
	BuildArgs       map[string]string
	PythonBuildArgs map[string]string
	// Registry is the push registry of functions whose spec.build.registry is empty
	// (NUCLIO_DASHBOARD_REGISTRY_URL). Some registry is required.
	Registry string
	// RunRegistry is the registry the processor image is pulled from when spec.runRegistry is empty; ""
	// means the push registry (registry.runRegistryURL).
	RunRegistry string
	// ImageNamePrefixTemplate, when set, names output images `<prefix>processor` instead of
	// `processor-<function>`; it may use `{{ .ProjectName }}` and `{{ .FunctionName }}` and nothing else
	// (dashboard imageNamePrefixTemplate).
	ImageNamePrefixTemplate string
}

var (
	// reTagPart matches what may stand on either side of the `-` in an onbuild tag `<label>-<arch>`.
	reTagPart = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.]*$`)
	reArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// withDefaults returns c with empty fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.OnbuildRegistry == "" {
		c.OnbuildRegistry = DefaultOnbuildRegistry
	}
	if c.Label == "" {
		c.Label = DefaultLabel
	}
	if c.Arch == "" {
		c.Arch = DefaultArch
	}
	return c
}

// Validate checks c after defaulting; errors are a field.ErrorList aggregate with paths under `config`
// (e.g. `config.onbuildRegistryOverrides[python]`). The controller calls it once at start-up; Generate
// calls it again so that a bad Config can never produce a Dockerfile.
func (c Config) Validate() error {
	return c.withDefaults().validate().ToAggregate()
}

func (c Config) validate() field.ErrorList {
	root := field.NewPath("config")
	var errs field.ErrorList
	for _, r := range []struct {
		name, value string
		required    bool
	}{
		{"onbuildRegistry", c.OnbuildRegistry, true},
		{"baseRegistry", c.BaseRegistry, false},
		{"dependantImageRegistry", c.DependantImageRegistry, false},
		{"registry", c.Registry, false},
		{"runRegistry", c.RunRegistry, false},
	} {
		if r.value == "" && !r.required {
			continue
		}
		if problem := registryProblem(r.value); problem != "" {
			errs = append(errs, field.Invalid(root.Child(r.name), r.value, problem))
		}
	}
	for name, overrides := range map[string]map[string]string{
		"onbuildRegistryOverrides": c.OnbuildRegistryOverrides,
		"baseRegistryOverrides":    c.BaseRegistryOverrides,
	} {
		for _, key := range sortedKeys(overrides) {
			if problem := registryProblem(overrides[key]); problem != "" {
				errs = append(errs, field.Invalid(root.Child(name).Key(key), overrides[key], problem))
			}
		}
	}
	if !reTagPart.MatchString(c.Label) {
		errs = append(errs, field.Invalid(root.Child("label"), c.Label,
			"must be letters, digits, underscores and dots (it becomes part of an image tag)"))
	}
	if !reTagPart.MatchString(c.Arch) {
		errs = append(errs, field.Invalid(root.Child("arch"), c.Arch,
			"must be letters, digits, underscores and dots (it becomes part of an image tag)"))
	}
	if len(c.Label)+1+len(c.Arch)+len("-alpine") > 128 {
		errs = append(errs, field.Invalid(root.Child("label"), c.Label, "label and arch make an image tag longer than 128 characters"))
	}
	errs = append(errs, validateArgs(root.Child("buildArgs"), c.BuildArgs)...)
	errs = append(errs, validateArgs(root.Child("pythonBuildArgs"), c.PythonBuildArgs)...)
	if c.ImageNamePrefixTemplate != "" {
		if _, err := renderTemplate(c.ImageNamePrefixTemplate, map[string]string{"ProjectName": "", "FunctionName": ""}); err != nil {
			errs = append(errs, field.Invalid(root.Child("imageNamePrefixTemplate"), c.ImageNamePrefixTemplate, err.Error()))
		}
	}
	return errs
}

// validateArgs checks Dockerfile build arguments: names must be identifiers and values must be safe to
// write after `ARG name=` (see argValueProblem).
func validateArgs(fldPath *field.Path, args map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(args) {
		if !reArgName.MatchString(name) {
			errs = append(errs, field.Invalid(fldPath, name,
				"build argument names must be letters, digits and underscores, not starting with a digit"))
			continue
		}
		if problem := lineProblem(args[name]); problem != "" {
			errs = append(errs, field.Invalid(fldPath.Key(name), args[name], problem))
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
