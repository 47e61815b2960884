// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// hashScheme versions the hash input; change it whenever the generated Dockerfile or context changes for
// the same input, so that existing functions rebuild.
const hashScheme = "nuclio-apiserver.build/v1"

// credentialAttributes are code-entry attributes that authorise a download without choosing what is
// downloaded (nuclio-compat §5.1). They are left out of SourceHash so that the hash is the same whether
// the controller sees the function with `$ref:` tokens or with restored values, and so that rotating a
// credential does not rebuild the image.
var credentialAttributes = map[string]bool{
	"username":          true,
	"password":          true,
	"headers":           true,
	"s3AccessKeyId":     true,
	"s3SecretAccessKey": true,
	"s3SessionToken":    true,
}

// hashInput is the canonical form that SourceHash digests; encoding/json writes map keys in order.
type hashInput struct {
	Scheme              string                         `json:"scheme"`
	Config              Config                         `json:"config"`
	Name                string                         `json:"name"`
	Project             string                         `json:"project"`
	Runtime             string                         `json:"runtime"`
	Handler             string                         `json:"handler"`
	Path                string                         `json:"path"`
	FunctionSourceCode  string                         `json:"functionSourceCode"`
	CodeEntryType       string                         `json:"codeEntryType"`
	CodeEntryAttributes map[string]interface{}         `json:"codeEntryAttributes"`
	Registry            string                         `json:"registry"`
	BaseImageRegistry   string                         `json:"baseImageRegistry"`
	Image               string                         `json:"image"`
	BaseImage           string                         `json:"baseImage"`
	OnbuildImage        string                         `json:"onbuildImage"`
	Commands            []string                       `json:"commands"`
	Directives          map[string][]v1beta1.Directive `json:"directives"`
	Dependencies        []string                       `json:"dependencies"`
	RuntimeAttributes   freeform.Object                `json:"runtimeAttributes"`
	Offline             bool                           `json:"offline"`
	Args                map[string]string              `json:"args"`
	Flags               []string                       `json:"flags"`
}

// SourceHash returns the lower-case hex SHA-256 (64 characters) of everything that decides the image a
// build of fn produces under c: the function's name and project (they name the default image), runtime,
// handler, source (path, functionSourceCode, code entry type and its non-credential attributes such as
// branch, tag, reference, workDir, s3Bucket and s3ItemKey), the build section's registries, images,
// commands, directives, dependencies, runtime attributes, offline switch, args and flags, and the whole
// of c (registries, overrides, label, arch, platform build arguments), which decides the base and
// onbuild images. Scheduling knobs (mode, timeouts, noCache, builder service account) are left out, and
// so are credentials (see credentialAttributes).
//
// The controller records the hash of each successful build and skips the next build when it is
// unchanged. A hash cannot see a moving source, such as a branch that gained commits or a URL whose
// content changed: those need spec.build.mode `alwaysBuild` or a changed spec. SourceHash never fails;
// an invalid function still hashes, and Generate reports what is wrong with it.
func (c Config) SourceHash(fn *v1beta1.NuclioFunction) string {
	build := &fn.Spec.Build
	attributes := make(map[string]interface{}, len(build.CodeEntryAttributes))
	for k, v := range build.CodeEntryAttributes {
		if !credentialAttributes[k] {
			attributes[k] = v
		}
	}
	project := fn.Labels[projectNameLabel]
	if project == "" {
		project = defaultProjectName
	}
	in := hashInput{
		Scheme:              hashScheme,
		Config:              c.withDefaults(),
		Name:                fn.Name,
		Project:             project,
		Runtime:             fn.Spec.Runtime,
		Handler:             fn.Spec.Handler,
		Path:                build.Path,
		FunctionSourceCode:  build.FunctionSourceCode,
		CodeEntryType:       build.CodeEntryType,
		CodeEntryAttributes: attributes,
		Registry:            build.Registry,
		BaseImageRegistry:   build.BaseImageRegistry,
		Image:               build.Image,
		BaseImage:           build.BaseImage,
		OnbuildImage:        build.OnbuildImage,
		Commands:            build.Commands,
		Directives:          build.Directives,
		Dependencies:        build.Dependencies,
		RuntimeAttributes:   build.RuntimeAttributes,
		Offline:             build.Offline,
		Args:                build.Args,
		Flags:               build.Flags,
	}
	in.normalize()
	raw, err := json.Marshal(in)
	if err != nil {
		// Only values JSON cannot encode (NaN, a Go func put into a free-form map by Go code) get here;
		// fmt prints maps in key order, so this is deterministic too.
		raw = []byte(fmt.Sprintf("%s\x00unencodable\x00%#v", hashScheme, in))
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// normalize makes empty and nil collections hash alike: the API drops empty optional lists and maps
// (omitempty), while Go callers may hold either form.
func (in *hashInput) normalize() {
	in.Config.OnbuildRegistryOverrides = nilIfEmpty(in.Config.OnbuildRegistryOverrides)
	in.Config.BaseRegistryOverrides = nilIfEmpty(in.Config.BaseRegistryOverrides)
	in.Config.BuildArgs = nilIfEmpty(in.Config.BuildArgs)
	in.Config.PythonBuildArgs = nilIfEmpty(in.Config.PythonBuildArgs)
	in.CodeEntryAttributes = nilIfEmpty(in.CodeEntryAttributes)
	in.RuntimeAttributes = nilIfEmpty(in.RuntimeAttributes)
	in.Args = nilIfEmpty(in.Args)
	if len(in.Commands) == 0 {
		in.Commands = nil
	}
	if len(in.Dependencies) == 0 {
		in.Dependencies = nil
	}
	if len(in.Flags) == 0 {
		in.Flags = nil
	}
	var directives map[string][]v1beta1.Directive
	for stage, list := range in.Directives {
		if len(list) == 0 {
			continue
		}
		if directives == nil {
			directives = map[string][]v1beta1.Directive{}
		}
		directives[stage] = list
	}
	in.Directives = directives
}

func nilIfEmpty[M ~map[string]V, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return m
}
