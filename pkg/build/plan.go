// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// Plan is one function's build: the Dockerfile, what goes into the build context beside it, the Kaniko
// build arguments and the image to push. Generate returns it; it holds no credentials.
type Plan struct {
	// Runtime is the canonical runtime (`python:3.9`, `golang`, ...); RuntimeName and RuntimeVersion are
	// its parts (`python`, `3.9`; version "" for unversioned runtimes).
	Runtime        string
	RuntimeName    string
	RuntimeVersion string
	// BaseImage is the resolved `FROM` image of the function image.
	BaseImage string
	// Stages are the onbuild stages with their resolved images, in Dockerfile order.
	Stages []Stage
	// Dockerfile is the content of DockerfileName in the build context.
	Dockerfile string
	// BuildArgs are Kaniko's --build-arg values: NUCLIO_LABEL, NUCLIO_ARCH,
	// NUCLIO_BUILD_LOCAL_HANDLER_DIR=handler, and NUCLIO_BUILD_OFFLINE=true for offline builds.
	BuildArgs map[string]string
	// Image is the push destination and the run image.
	Image OutputImage
	// SourceFileName is the file in HandlerDir that spec.build.functionSourceCode is decoded into
	// (see SourceFileName); "" when the function has no functionSourceCode.
	SourceFileName string
	// JavaBuildScript is the build.gradle PrepareContext writes for Java functions whose source has none;
	// "" for other runtimes.
	JavaBuildScript string
	// SourceHash is Config.SourceHash of the function the plan was generated from.
	SourceHash string
}

// BuildArgFlags returns BuildArgs as Kaniko flags, `--build-arg=NAME=value`, in name order.
func (p *Plan) BuildArgFlags() []string {
	flags := make([]string, 0, len(p.BuildArgs))
	for _, name := range sortedKeys(p.BuildArgs) {
		flags = append(flags, "--build-arg="+name+"="+p.BuildArgs[name])
	}
	return flags
}

// Generate plans the build of fn under c. It reads fn and c only and does no I/O.
//
// Errors are a field.ErrorList aggregate (k8s.io/apimachinery/pkg/util/errors) with one entry per
// problem, each naming its field: metadata.name, spec.runtime, spec.handler, spec.build.args[NAME],
// spec.build.commands[i], spec.build.directives.preCopy[i].value, spec.build.baseImage,
// spec.build.onbuildImage, spec.build.baseImageRegistry, spec.build.registry, spec.build.image,
// spec.runRegistry, spec.build.functionSourceCode, spec.build.dependencies[i],
// spec.build.runtimeAttributes.repositories, or config.* for a bad Config. All of them are permanent:
// the same input fails the same way.
func (c Config) Generate(fn *v1beta1.NuclioFunction) (*Plan, error) {
	if fn == nil {
		return nil, errors.New("build: no function given")
	}
	cfg := c.withDefaults()
	if errs := cfg.validate(); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	var errs field.ErrorList
	if fn.Name == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), "the function name names the default image"))
	}
	canonical, name, version, err := ResolveRuntime(&fn.Spec)
	if err != nil {
		return nil, append(errs, asFieldError(err)).ToAggregate()
	}
	rt := runtimes[name]
	build := &fn.Spec.Build
	buildPath := field.NewPath("spec", "build")

	plan := &Plan{Runtime: canonical, RuntimeName: name, RuntimeVersion: version}

	// Registries: spec.build.baseImageRegistry replaces both the base and the onbuild registry; without
	// it the per-runtime override, then the configured default applies (builder.go buildProcessorImage,
	// nuclio/nuclio:pkg/platform/abstract/platform.go GetBaseImageRegistry/GetOnbuildImageRegistry).
	baseRegistry, onbuildRegistry := build.BaseImageRegistry, build.BaseImageRegistry
	if build.BaseImageRegistry != "" {
		if problem := registryProblem(build.BaseImageRegistry); problem != "" {
			errs = append(errs, field.Invalid(buildPath.Child("baseImageRegistry"), build.BaseImageRegistry, problem))
		}
	} else {
		baseRegistry = overrideFor(cfg.BaseRegistryOverrides, name, version)
		if baseRegistry == "" {
			baseRegistry = cfg.BaseRegistry
		}
		onbuildRegistry = overrideFor(cfg.OnbuildRegistryOverrides, name, version)
		if onbuildRegistry == "" {
			onbuildRegistry = cfg.OnbuildRegistry
		}
	}
	baseRegistry = strings.TrimSuffix(baseRegistry, "/")
	onbuildRegistry = strings.TrimSuffix(onbuildRegistry, "/")

	// Base image: spec.build.baseImage verbatim, else the runtime's default under the base registry;
	// either is then moved to the dependant-image registry if one is configured.
	baseImagePath, baseImageValue := buildPath.Child("baseImageRegistry"), build.BaseImageRegistry
	if build.BaseImage != "" {
		baseImagePath, baseImageValue = buildPath.Child("baseImage"), build.BaseImage
		plan.BaseImage = renderDependant(cfg.DependantImageRegistry, build.BaseImage)
	} else {
		plan.BaseImage = renderDependant(cfg.DependantImageRegistry, prefixRegistry(baseRegistry, rt.baseImage(version)))
	}
	if problem := imageProblem(build.BaseImage); build.BaseImage != "" && problem != "" {
		errs = append(errs, field.Invalid(baseImagePath, build.BaseImage, problem))
	} else if problem := imageProblem(plan.BaseImage); problem != "" {
		errs = append(errs, field.Invalid(baseImagePath, baseImageValue,
			fmt.Sprintf("gives the base image %q, which is not a valid image reference", plan.BaseImage)))
	}

	// Onbuild images: spec.build.onbuildImage (a template of the label and arch) replaces the runtime's
	// image under the onbuild registry (builder.go getProcessorDockerfileOnbuildImage).
	for _, a := range rt.artifacts(version, build) {
		stage := Stage{Name: a.stage, Image: fmt.Sprintf(a.image, onbuildRegistry, cfg.Label, cfg.Arch)}
		if build.OnbuildImage != "" {
			rendered, err := renderTemplate(build.OnbuildImage, map[string]string{"Label": cfg.Label, "Arch": cfg.Arch})
			if err != nil {
				errs = append(errs, field.Invalid(buildPath.Child("onbuildImage"), build.OnbuildImage, err.Error()))
				continue
			}
			stage.Image = rendered
		}
		stage.Image = renderDependant(cfg.DependantImageRegistry, stage.Image)
		if problem := imageProblem(stage.Image); problem != "" {
			onbuildPath, onbuildValue := buildPath.Child("onbuildImage"), build.OnbuildImage
			if build.OnbuildImage == "" {
				onbuildPath, onbuildValue = buildPath.Child("baseImageRegistry"), build.BaseImageRegistry
			}
			errs = append(errs, field.Invalid(onbuildPath, onbuildValue,
				fmt.Sprintf("gives the onbuild image %q, which is not a valid image reference", stage.Image)))
			continue
		}
		for _, p := range a.paths {
			stage.Copies = append(stage.Copies, Copy{From: p.src, To: p.dst})
		}
		plan.Stages = append(plan.Stages, stage)
	}

	// Dockerfile ARGs: the platform's, python's, then spec.build.args, where an empty value removes the
	// argument (builder.go getDockerFileBuildArgs).
	errs = append(errs, validateArgs(buildPath.Child("args"), build.Args)...)
	args := map[string]string{}
	for k, v := range cfg.BuildArgs {
		args[k] = v
	}
	if name == RuntimePython {
		for k, v := range cfg.PythonBuildArgs {
			args[k] = v
		}
	}
	for k, v := range build.Args {
		if v == "" {
			delete(args, k)
		} else {
			args[k] = v
		}
	}

	// Directives: the runtime's first, then the user's, per stage (builder.go mergeDirectives).
	userPre, userPost, directiveErrs := userDirectives(build)
	errs = append(errs, directiveErrs...)
	var postCopy []v1beta1.Directive
	if rt.postCopy != nil {
		postCopy = append(postCopy, rt.postCopy(version)...)
	}
	postCopy = append(postCopy, userPost...)

	plan.BuildArgs = map[string]string{
		ArgLabel:           cfg.Label,
		ArgArch:            cfg.Arch,
		ArgLocalHandlerDir: HandlerDir,
	}
	if build.Offline {
		plan.BuildArgs[ArgOffline] = "true"
	}

	image, imageErrs := resolveOutputImage(fn, cfg)
	errs = append(errs, imageErrs...)
	plan.Image = image

	if build.FunctionSourceCode != "" {
		if _, err := base64.StdEncoding.DecodeString(build.FunctionSourceCode); err != nil {
			errs = append(errs, field.Invalid(buildPath.Child("functionSourceCode"), field.OmitValueType{},
				fmt.Sprintf("must be standard base64: %v", err)))
		}
		fileName, err := SourceFileName(canonical, fn.Spec.Handler)
		if err != nil {
			errs = append(errs, asFieldError(err))
		}
		plan.SourceFileName = fileName
	}

	if name == RuntimeJava {
		script, scriptErrs := generateJavaBuildScript(build)
		errs = append(errs, scriptErrs...)
		plan.JavaBuildScript = script
	}

	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	plan.Dockerfile = (&dockerfile{
		stages:      plan.Stages,
		baseImage:   plan.BaseImage,
		args:        args,
		preCopy:     userPre,
		handlerCopy: rt.handlerCopy,
		postCopy:    postCopy,
	}).render()
	plan.SourceHash = c.SourceHash(fn)
	return plan, nil
}

// asFieldError returns err as a *field.Error, wrapping errors of other types under an empty path.
func asFieldError(err error) *field.Error {
	var fieldErr *field.Error
	if errors.As(err, &fieldErr) {
		return fieldErr
	}
	return field.InternalError(nil, err)
}

// PrepareContext finishes a build context after package fetch filled contextDir/handler: for Java it
// arranges handler/ as a Gradle project with a build.gradle (see stageJava), and for every runtime it
// writes DockerfileName (mode 0644). All access goes through an os.Root on contextDir, so links in the
// fetched tree cannot redirect a write outside it. Running it twice on the same directory is harmless.
//
// Errors: contextDir/handler missing or not a directory, a non-regular file in the Dockerfile's place,
// and file-system failures, each naming the path.
func (p *Plan) PrepareContext(contextDir string) error {
	root, err := os.OpenRoot(contextDir)
	if err != nil {
		return fmt.Errorf("opening the build context: %w", err)
	}
	defer root.Close()

	if ok, err := isRealDir(root, HandlerDir); err != nil {
		return fmt.Errorf("checking %s/%s: %w", contextDir, HandlerDir, err)
	} else if !ok {
		return fmt.Errorf("%s/%s must be a directory holding the fetched source", contextDir, HandlerDir)
	}
	if p.RuntimeName == RuntimeJava {
		if err := stageJava(root, p.JavaBuildScript); err != nil {
			return err
		}
	}
	info, err := root.Lstat(DockerfileName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("checking %s: %w", DockerfileName, err)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s/%s exists and is not a regular file", contextDir, DockerfileName)
	}
	return writeFile(root, DockerfileName, p.Dockerfile, os.O_TRUNC)
}
