// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// DefaultImageTag is the tag of output images whose spec.build.image has none (builder.go
// validateAndEnrichConfiguration).
const DefaultImageTag = "latest"

// projectNameLabel holds a function's project; Nuclio defaults it to `default`
// (nuclio/nuclio:pkg/common/consts.go NuclioResourceLabelKeyProjectName).
const (
	projectNameLabel   = "nuclio.io/project-name"
	defaultProjectName = "default"
)

// OutputImage names the image a build pushes and the reference the processor pulls.
type OutputImage struct {
	// Registry is the push registry without a trailing slash, e.g. `registry.example.com:5000/team`.
	Registry string
	// Name is the repository inside the registry, e.g. `nuclio/processor-hello`.
	Name string
	// Tag is the image tag, `latest` unless spec.build.image has one.
	Tag string
	// Destination is `<Registry>/<Name>:<Tag>`, Kaniko's --destination
	// (nuclio/nuclio:pkg/common/helper.go CompileImageName).
	Destination string
	// RunImage is the reference the Deployment pulls: spec.runRegistry, else Config.RunRegistry, else the
	// push registry, then `/<Name>:<Tag>`. Nuclio writes it to spec.image after a successful build.
	RunImage string
}

// resolveOutputImage applies nuclio-compat §5.3 (builder.go getImage and validateAndEnrichConfiguration):
// spec.build.image if set, else `nuclio/processor-<function>`, where the `nuclio/` repository is dropped
// when the push registry already has a path (`docker.io/team`), and `<prefix>processor` replaces
// `processor-<function>` when Config.ImageNamePrefixTemplate renders to a non-empty prefix.
//
// Two deliberate departures from Nuclio's code, both towards what its tests and documentation state:
// the registry "has a path" when it contains `/` (Nuclio's url.Parse test treats every scheme-less host,
// e.g. `quay.io`, as a path); and the tag is split off with the image-reference grammar, so
// `localhost:5000/app` is a name without a tag rather than the name `localhost` with tag `5000/app`.
func resolveOutputImage(fn *v1beta1.NuclioFunction, cfg Config) (OutputImage, field.ErrorList) {
	build := &fn.Spec.Build
	buildPath := field.NewPath("spec", "build")
	var errs field.ErrorList

	registry, registryPath := build.Registry, buildPath.Child("registry")
	if registry == "" {
		registry, registryPath = cfg.Registry, field.NewPath("config", "registry")
	}
	if registry == "" {
		return OutputImage{}, field.ErrorList{field.Required(buildPath.Child("registry"),
			"no push registry is set here and the controller has no default registry")}
	}
	if problem := registryProblem(registry); problem != "" {
		return OutputImage{}, field.ErrorList{field.Invalid(registryPath, registry, problem)}
	}
	registry = strings.TrimSuffix(registry, "/")

	out := OutputImage{Registry: registry, Tag: DefaultImageTag}
	if build.Image != "" {
		ref, err := reference.Parse(build.Image)
		if err != nil {
			return OutputImage{}, field.ErrorList{field.Invalid(buildPath.Child("image"), build.Image,
				fmt.Sprintf("must be an image name with an optional tag: %v", err))}
		}
		if _, digested := ref.(reference.Digested); digested {
			return OutputImage{}, field.ErrorList{field.Invalid(buildPath.Child("image"), build.Image,
				"must not carry a digest: the build pushes a tag")}
		}
		named, ok := ref.(reference.Named)
		if !ok {
			return OutputImage{}, field.ErrorList{field.Invalid(buildPath.Child("image"), build.Image, "must name a repository")}
		}
		out.Name = named.Name()
		if tagged, ok := ref.(reference.Tagged); ok {
			out.Tag = tagged.Tag()
		}
	} else {
		repository := "nuclio/"
		if strings.Contains(registry, "/") {
			repository = ""
		}
		prefix := ""
		if cfg.ImageNamePrefixTemplate != "" {
			project := fn.Labels[projectNameLabel]
			if project == "" {
				project = defaultProjectName
			}
			rendered, err := renderTemplate(cfg.ImageNamePrefixTemplate,
				map[string]string{"ProjectName": project, "FunctionName": fn.Name})
			if err != nil {
				return OutputImage{}, field.ErrorList{field.Invalid(field.NewPath("config", "imageNamePrefixTemplate"),
					cfg.ImageNamePrefixTemplate, err.Error())}
			}
			prefix = rendered
		}
		if prefix == "" {
			out.Name = repository + "processor-" + fn.Name
		} else {
			out.Name = repository + prefix + "processor"
		}
		if _, err := reference.Parse(out.Name); err != nil {
			return OutputImage{}, field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), fn.Name,
				fmt.Sprintf("the default image name %q is not a valid repository: %v", out.Name, err))}
		}
	}

	out.Destination = registry + "/" + out.Name + ":" + out.Tag
	if _, err := reference.Parse(out.Destination); err != nil {
		errs = append(errs, field.Invalid(buildPath.Child("image"), build.Image,
			fmt.Sprintf("the push destination %q is not a valid image reference: %v", out.Destination, err)))
	}

	runRegistry, runPath := fn.Spec.RunRegistry, field.NewPath("spec", "runRegistry")
	if runRegistry == "" {
		runRegistry, runPath = cfg.RunRegistry, field.NewPath("config", "runRegistry")
	}
	if runRegistry == "" {
		runRegistry = registry
	}
	if problem := registryProblem(runRegistry); problem != "" {
		errs = append(errs, field.Invalid(runPath, runRegistry, problem))
	} else {
		out.RunImage = strings.TrimSuffix(runRegistry, "/") + "/" + out.Name + ":" + out.Tag
	}
	return out, errs
}

// registryProblem explains why r is not a registry prefix `host[:port][/path]`, "" when it is one.
// A trailing slash is tolerated, as in Nuclio.
func registryProblem(r string) string {
	const msg = "must be a registry such as quay.io or localhost:5000/team: a host, optional port and optional path, without a scheme, tag or digest"
	if strings.Contains(r, "://") {
		return msg
	}
	r = strings.TrimSuffix(r, "/")
	if r == "" {
		return msg
	}
	probe := r + "/x"
	ref, err := reference.Parse(probe)
	if err != nil || ref.String() != probe {
		return msg
	}
	return ""
}

// imageProblem explains why s is not an image reference (`name[:tag][@digest]`), "" when it is one.
// The grammar has no room for spaces or line breaks, so an accepted reference cannot inject Dockerfile
// instructions after FROM.
func imageProblem(s string) string {
	if _, err := reference.Parse(s); err != nil {
		return fmt.Sprintf("must be an image reference such as python:3.9 or registry.example.com/team/base:1 (%v)", err)
	}
	return ""
}

// prefixRegistry puts a runtime's default image under registry: the part before the image's first `/`
// (a registry host or a Docker Hub namespace) is replaced, so `python:3.9` becomes `<registry>/python:3.9`
// and `mcr.microsoft.com/dotnet/runtime:7.0` becomes `<registry>/dotnet/runtime:7.0`
// (builder.go getProcessorDockerfileBaseImage).
func prefixRegistry(registry, image string) string {
	if registry == "" {
		return image
	}
	if i := strings.Index(image, "/"); i >= 0 {
		image = image[i+1:]
	}
	return strings.TrimSuffix(registry, "/") + "/" + image
}

// renderDependant moves image to the dependant-image registry, keeping only its last path element
// (builder.go renderDependantImageURL); registry "" leaves image unchanged.
func renderDependant(registry, image string) string {
	if registry == "" {
		return image
	}
	return strings.TrimSuffix(registry, "/") + "/" + image[strings.LastIndex(image, "/")+1:]
}

// overrideFor returns the override for a runtime from a map keyed `runtime:version` or `runtime`, the
// versioned key first (runtime.go GetOverrideImageRegistryFromMap).
func overrideFor(overrides map[string]string, name, version string) string {
	if version != "" {
		if v, ok := overrides[name+":"+version]; ok {
			return v
		}
	}
	return overrides[name]
}

// reTemplateAction matches `{{ .Name }}` with optional spaces.
var reTemplateAction = regexp.MustCompile(`\{\{\s*\.([A-Za-z][A-Za-z0-9_]*)\s*\}\}`)

// renderTemplate substitutes `{{ .Name }}` actions from vars. Nuclio renders spec.build.onbuildImage
// and imageNamePrefixTemplate with text/template; here only plain field references are accepted, since
// a user-controlled template could otherwise call printf with a huge width and exhaust the controller's
// memory. Any other action, or an unknown name, is an error listing the names available.
func renderTemplate(tmpl string, vars map[string]string) (string, error) {
	names := sortedKeys(vars)
	available := "{{ ." + strings.Join(names, " }}, {{ .") + " }}"
	var unknown []string
	out := reTemplateAction.ReplaceAllStringFunc(tmpl, func(action string) string {
		name := reTemplateAction.FindStringSubmatch(action)[1]
		value, ok := vars[name]
		if !ok {
			unknown = append(unknown, name)
			return action
		}
		return value
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("uses {{ .%s }}; only %s are available", unknown[0], available)
	}
	if rest := reTemplateAction.ReplaceAllString(tmpl, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return "", fmt.Errorf("may only use the actions %s", available)
	}
	return out, nil
}
