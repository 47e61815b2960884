// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	reHeaderToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	reHeaderValue = regexp.MustCompile(`[\r\n\x00]`)
	reLineBreak   = regexp.MustCompile(`[\r\n]`)
	reAttrName    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	reS3Region    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	reS3Bucket    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	reArgName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reDirective   = regexp.MustCompile(`^[A-Za-z]+$`)
	reFlag        = regexp.MustCompile(`^--?[A-Za-z0-9][A-Za-z0-9-]*(=.*)?$`)
)

// Details of build-section refusals; the CEL policy spells them identically.
const (
	msgCodeEntryType   = "must be one of %s (allowedCodeEntryTypes)"
	msgMustBeString    = "must be a string"
	msgLocalPath       = "paths on the builder are not allowed"
	msgAttrsObject     = "must be an object"
	msgHeadersObject   = "must be an object of header names to string values"
	msgHeaderToken     = "header names must be HTTP tokens (no spaces, colons or line breaks)"
	msgHeaderHost      = "the Host header cannot be set; it would send the request to another virtual host"
	msgHeaderMetadata  = "this header is only used to talk to cloud metadata services"
	msgHeaderForwarded = "this header spoofs proxy or client-address information"
	msgHeaderValue     = "header values must be strings without line breaks or NUL characters"
	msgEndpoint        = "custom S3 endpoints are not allowed; objects are fetched from AWS S3 only"
	msgS3Region        = "must be an AWS region name such as us-east-1"
	msgS3Bucket        = "must be an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
	msgGitRef          = `git references must not start with "-" or contain spaces, control or non-ASCII characters`
	msgArgsObject      = "must be an object of names to string values"
	msgArgName         = "build argument names must be letters, digits and underscores, not starting with a digit"
	msgNoLineBreaks    = "must be a string without line breaks, which would inject Dockerfile instructions"
	msgBaseImage       = "must be an image reference without spaces, line breaks or non-ASCII characters, which would inject Dockerfile instructions"
	msgListOfStrings   = "must be a list of strings"
	msgDirectivesMap   = "must be an object with preCopy and postCopy lists"
	msgList            = "must be a list"
	msgDirectiveEntry  = "must be an object with kind and value"
	msgDirectiveKind   = "must be a Dockerfile instruction such as RUN"
	msgFlagLineBreak   = "must be a string without line breaks"
	msgFlagSyntax      = "must be a flag such as --single-snapshot or --snapshot-mode=redo"
	msgFlagNotAllowed  = " is not allowed (allowedBuildFlags)"
)

// ValidateFunction validates the build section of a NuclioFunction given as
// generic JSON (the map form of the whole object, as produced by
// encoding/json or runtime.DefaultUnstructuredConverter). It is the Go twin of
// artifacts/policies/build-sources.yaml without the authorizer check, which
// needs a user: see ValidateBuild for the rules. Paths start at spec.build.
func (p *Policy) ValidateFunction(obj map[string]interface{}) field.ErrorList {
	specPath := field.NewPath("spec")
	spec, ok := obj["spec"]
	if !ok || spec == nil {
		return nil
	}
	specMap, ok := spec.(map[string]interface{})
	if !ok {
		return field.ErrorList{field.Invalid(specPath, spec, msgAttrsObject)}
	}
	build, ok := specMap["build"]
	if !ok || build == nil {
		return nil
	}
	buildMap, ok := build.(map[string]interface{})
	if !ok {
		return field.ErrorList{field.Invalid(specPath.Child("build"), build, msgAttrsObject)}
	}
	return p.ValidateBuild(buildMap, specPath.Child("build"))
}

// ValidateFunctionUpdate validates an update from old to obj. Like the
// CEL policy's match condition it judges nothing when spec.build is unchanged
// (ratcheting), so that objects stored before a rule existed can still be
// labelled, scaled or finalised; the fetcher applies the current rules
// whenever it builds.
func (p *Policy) ValidateFunctionUpdate(obj, old map[string]interface{}) field.ErrorList {
	if old != nil && reflect.DeepEqual(buildOf(obj), buildOf(old)) {
		return nil
	}
	return p.ValidateFunction(obj)
}

// buildOf returns spec.build, reading an absent one as an empty object as
// the CEL expression object.?spec.?build.orValue({}) does.
func buildOf(obj map[string]interface{}) interface{} {
	spec, ok := obj["spec"].(map[string]interface{})
	if !ok {
		return map[string]interface{}{}
	}
	if b, ok := spec["build"]; ok {
		return b
	}
	return map[string]interface{}{}
}

// ValidateBuild validates a function's build section (spec.build as generic
// JSON) and returns every problem, in the order of the CEL policy's
// validations (a CEL validation reports only its first problem, in sorted
// order; it is always one of these):
//
//   - codeEntryType must be empty or listed in AllowedCodeEntryTypes;
//   - path, when set, must pass ValidateURL;
//   - functionConfigPath and tempDir (paths on the builder) must be empty;
//   - codeEntryAttributes: header names must be HTTP tokens and not Host,
//     Metadata, Metadata-Flavor, X-Google-Metadata-Request,
//     X-aws-ec2-metadata-token*, Forwarded, X-Real-IP, X-Forwarded-* or
//     Proxy-*; header values strings without CR, LF or NUL; no attribute
//     whose name contains "endpoint" (custom S3 endpoints); s3Region and
//     s3Bucket well-formed; branch, tag and reference not starting with "-"
//     (git option injection) and printable ASCII;
//   - args: names are identifiers, values strings without line breaks;
//   - baseImage printable ASCII; onbuildImage, commands and directive kinds
//     and values without line breaks (Dockerfile injection);
//   - flags: "--flag" or "--flag=value" allowed by AllowedBuildFlags.
func (p *Policy) ValidateBuild(build map[string]interface{}, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList

	if v, ok := build["codeEntryType"]; ok && v != "" {
		if s, isString := v.(string); !isString || !slices.Contains(p.AllowedCodeEntryTypes, s) {
			errs = append(errs, field.Invalid(fldPath.Child("codeEntryType"), v,
				fmt.Sprintf(msgCodeEntryType, strings.Join(p.AllowedCodeEntryTypes, ", "))))
		}
	}

	if v, ok := build["path"]; ok && v != "" {
		if s, isString := v.(string); !isString {
			errs = append(errs, field.Invalid(fldPath.Child("path"), v, msgMustBeString))
		} else if _, err := p.ValidateURL(s, fldPath.Child("path")); err != nil {
			errs = append(errs, err)
		}
	}

	for _, k := range []string{"functionConfigPath", "tempDir"} {
		if v, ok := build[k]; ok && v != "" {
			errs = append(errs, field.Forbidden(fldPath.Child(k), msgLocalPath))
		}
	}

	errs = append(errs, validateCodeEntryAttributes(build, fldPath.Child("codeEntryAttributes"))...)
	errs = append(errs, validateArgs(build, fldPath.Child("args"))...)
	errs = append(errs, validateDockerfileInputs(build, fldPath)...)
	errs = append(errs, p.validateFlags(build, fldPath.Child("flags"))...)
	return errs
}

func validateCodeEntryAttributes(build map[string]interface{}, fldPath *field.Path) field.ErrorList {
	v, ok := build["codeEntryAttributes"]
	if !ok {
		return nil
	}
	attrs, ok := v.(map[string]interface{})
	if !ok {
		return field.ErrorList{field.Invalid(fldPath, v, msgAttrsObject)}
	}
	var errs field.ErrorList

	if h, ok := attrs["headers"]; ok {
		headers, isMap := h.(map[string]interface{})
		if !isMap {
			errs = append(errs, field.Invalid(fldPath.Child("headers"), h, msgHeadersObject))
		}
		for _, name := range sortedKeys(headers) {
			if msg := headerProblem(name, headers[name]); msg != "" {
				p := fldPath.Child("headers")
				if reHeaderToken.MatchString(name) {
					p = p.Key(name)
				}
				errs = append(errs, field.Forbidden(p, msg))
			}
		}
	}

	for _, k := range sortedKeys(attrs) {
		if strings.Contains(lowerASCII(k), "endpoint") {
			p := fldPath
			if reAttrName.MatchString(k) {
				p = p.Child(k)
			}
			errs = append(errs, field.Forbidden(p, msgEndpoint))
		}
	}

	for _, c := range []struct {
		key string
		re  *regexp.Regexp
		msg string
	}{{"s3Region", reS3Region, msgS3Region}, {"s3Bucket", reS3Bucket, msgS3Bucket}} {
		if v, ok := attrs[c.key]; ok && v != "" {
			if s, isString := v.(string); !isString || !c.re.MatchString(s) {
				errs = append(errs, field.Invalid(fldPath.Child(c.key), v, c.msg))
			}
		}
	}

	for _, k := range []string{"branch", "tag", "reference"} {
		if v, ok := attrs[k]; ok && v != "" {
			if s, isString := v.(string); !isString || strings.HasPrefix(s, "-") || reNonPrintable.MatchString(s) {
				errs = append(errs, field.Invalid(fldPath.Child(k), v, msgGitRef))
			}
		}
	}
	return errs
}

// headerProblem returns why a code-entry header is refused, or "".
func headerProblem(name string, value interface{}) string {
	if !reHeaderToken.MatchString(name) {
		return msgHeaderToken
	}
	switch l := lowerASCII(name); {
	case l == "host":
		return msgHeaderHost
	case l == "metadata" || l == "metadata-flavor" || l == "x-google-metadata-request" ||
		strings.HasPrefix(l, "x-aws-ec2-metadata-token"):
		return msgHeaderMetadata
	case l == "forwarded" || l == "x-real-ip" || strings.HasPrefix(l, "x-forwarded-") || strings.HasPrefix(l, "proxy-"):
		return msgHeaderForwarded
	}
	if s, ok := value.(string); !ok || reHeaderValue.MatchString(s) {
		return msgHeaderValue
	}
	return ""
}

func validateArgs(build map[string]interface{}, fldPath *field.Path) field.ErrorList {
	v, ok := build["args"]
	if !ok {
		return nil
	}
	args, ok := v.(map[string]interface{})
	if !ok {
		return field.ErrorList{field.Invalid(fldPath, v, msgArgsObject)}
	}
	var errs field.ErrorList
	for _, k := range sortedKeys(args) {
		if !reArgName.MatchString(k) {
			errs = append(errs, field.Invalid(fldPath, k, msgArgName))
			continue
		}
		if s, isString := args[k].(string); !isString || reLineBreak.MatchString(s) {
			errs = append(errs, field.Invalid(fldPath.Key(k), args[k], msgNoLineBreaks))
		}
	}
	return errs
}

func validateDockerfileInputs(build map[string]interface{}, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v, ok := build["baseImage"]; ok && v != "" {
		if s, isString := v.(string); !isString || reNonPrintable.MatchString(s) {
			errs = append(errs, field.Invalid(fldPath.Child("baseImage"), v, msgBaseImage))
		}
	}
	if v, ok := build["onbuildImage"]; ok && v != "" {
		if s, isString := v.(string); !isString || reLineBreak.MatchString(s) {
			errs = append(errs, field.Invalid(fldPath.Child("onbuildImage"), v, msgNoLineBreaks))
		}
	}

	if v, ok := build["commands"]; ok {
		commands, isList := v.([]interface{})
		if !isList {
			errs = append(errs, field.Invalid(fldPath.Child("commands"), v, msgListOfStrings))
		}
		for i, c := range commands {
			if s, isString := c.(string); !isString || reLineBreak.MatchString(s) {
				errs = append(errs, field.Invalid(fldPath.Child("commands").Index(i), c, msgNoLineBreaks))
			}
		}
	}

	if v, ok := build["directives"]; ok {
		directives, isMap := v.(map[string]interface{})
		if !isMap {
			return append(errs, field.Invalid(fldPath.Child("directives"), v, msgDirectivesMap))
		}
		// Nuclio reads only these two keys.
		for _, stage := range []string{"preCopy", "postCopy"} {
			sv, ok := directives[stage]
			if !ok {
				continue
			}
			stagePath := fldPath.Child("directives", stage)
			list, isList := sv.([]interface{})
			if !isList {
				errs = append(errs, field.Invalid(stagePath, sv, msgList))
				continue
			}
			for i, d := range list {
				entry, isMap := d.(map[string]interface{})
				if !isMap {
					errs = append(errs, field.Invalid(stagePath.Index(i), d, msgDirectiveEntry))
					continue
				}
				if kind, isString := stringOrEmpty(entry, "kind"); !isString || !reDirective.MatchString(kind) {
					errs = append(errs, field.Invalid(stagePath.Index(i).Child("kind"), entry["kind"], msgDirectiveKind))
				} else if value, isString := stringOrEmpty(entry, "value"); !isString || reLineBreak.MatchString(value) {
					errs = append(errs, field.Invalid(stagePath.Index(i).Child("value"), entry["value"], msgNoLineBreaks))
				}
			}
		}
	}
	return errs
}

func (p *Policy) validateFlags(build map[string]interface{}, fldPath *field.Path) field.ErrorList {
	v, ok := build["flags"]
	if !ok {
		return nil
	}
	flags, ok := v.([]interface{})
	if !ok {
		return field.ErrorList{field.Invalid(fldPath, v, msgListOfStrings)}
	}
	var errs field.ErrorList
	for i, f := range flags {
		s, isString := f.(string)
		switch {
		case !isString || reLineBreak.MatchString(s):
			errs = append(errs, field.Invalid(fldPath.Index(i), f, msgFlagLineBreak))
		case !reFlag.MatchString(s):
			errs = append(errs, field.Invalid(fldPath.Index(i), s, msgFlagSyntax))
		case !p.flagAllowed(s):
			name, _, _ := strings.Cut(s, "=")
			errs = append(errs, field.Forbidden(fldPath.Index(i), "flag "+name+msgFlagNotAllowed))
		}
	}
	return errs
}

func (p *Policy) flagAllowed(flag string) bool {
	return slices.ContainsFunc(p.AllowedBuildFlags, func(a string) bool {
		return a == flag || (!strings.Contains(a, "=") && strings.HasPrefix(flag, a+"="))
	})
}

// stringOrEmpty returns m[k] as a string; an absent key reads as "" (as with
// CEL's m.?k.orValue with an empty string), a present non-string as
// ok=false.
func stringOrEmpty(m map[string]interface{}, k string) (string, bool) {
	v, present := m[k]
	if !present {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
