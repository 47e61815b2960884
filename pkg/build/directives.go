// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// Directive stages (the keys of spec.build.directives that Nuclio reads) and the marker that switches
// spec.build.commands from the first to the second (builder.go commandsToDirectives).
const (
	PreCopy        = "preCopy"
	PostCopy       = "postCopy"
	PostCopyMarker = "@nuclio.postCopy"
)

var (
	// reDirectiveKind matches a Dockerfile instruction keyword.
	reDirectiveKind = regexp.MustCompile(`^[A-Za-z]+$`)
	// reLineContinuation matches a Dockerfile line continuation: a backslash at the end of the line,
	// optionally followed by blanks.
	reLineContinuation = regexp.MustCompile(`\\[ \t]*$`)
)

const (
	msgLineBreak    = "must not contain line breaks or control characters, which would inject Dockerfile instructions"
	msgContinuation = "must not end with a backslash, which would join the next Dockerfile line to this one"
)

// lineProblem explains why s cannot be written as (the tail of) one Dockerfile line, "" when it can:
// line breaks (including vertical tab, form feed, NEL and the Unicode line and paragraph separators),
// other control characters except tab, and a trailing backslash are refused.
func lineProblem(s string) string {
	if controlProblem(s) != "" {
		return msgLineBreak
	}
	if reLineContinuation.MatchString(s) {
		return msgContinuation
	}
	return ""
}

// controlProblem is lineProblem without the trailing-backslash rule, for commands, which Nuclio joins
// on a trailing backslash before they become directives.
func controlProblem(s string) string {
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return msgLineBreak
		}
	}
	return ""
}

// CommandsToDirectives converts spec.build.commands to RUN directives as Nuclio does (builder.go
// commandsToDirectives): commands go to preCopy until a line that is `@nuclio.postCopy` (surrounding
// blanks ignored), then to postCopy; a command ending in a backslash is joined to the next one with the
// backslash removed (`"pip install a \\", "b"` becomes `RUN pip install a b`); a backslash on the last
// command is dropped. Errors name spec.build.commands[i].
func CommandsToDirectives(commands []string) (preCopy, postCopy []v1beta1.Directive, errs field.ErrorList) {
	fldPath := field.NewPath("spec", "build", "commands")
	for i, c := range commands {
		if problem := controlProblem(c); problem != "" {
			errs = append(errs, field.Invalid(fldPath.Index(i), c, problem))
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	post := false
	for i := 0; i < len(commands); i++ {
		var joined strings.Builder
		for {
			command := commands[i]
			if strings.TrimSpace(command) == PostCopyMarker {
				post = true
				break
			}
			if strings.HasSuffix(command, `\`) {
				joined.WriteString(strings.TrimSuffix(command, `\`))
				if i+1 == len(commands) {
					break
				}
				i++
				continue
			}
			joined.WriteString(command)
			break
		}
		if joined.Len() == 0 {
			continue
		}
		d := v1beta1.Directive{Kind: "RUN", Value: joined.String()}
		if reLineContinuation.MatchString(d.Value) {
			errs = append(errs, field.Invalid(fldPath.Index(i), commands[i], msgContinuation))
			continue
		}
		if post {
			postCopy = append(postCopy, d)
		} else {
			preCopy = append(preCopy, d)
		}
	}
	return preCopy, postCopy, errs
}

// userDirectives returns the user's pre- and post-copy directives: those converted from
// spec.build.commands when it is not empty — Nuclio then ignores spec.build.directives entirely
// (builder.go getRuntimeProcessorDockerfileInfo) — else spec.build.directives.preCopy and .postCopy.
// Other keys of spec.build.directives are ignored, as in Nuclio. Errors name the offending entry,
// e.g. `spec.build.directives.preCopy[0].value`.
func userDirectives(build *v1beta1.Build) (preCopy, postCopy []v1beta1.Directive, errs field.ErrorList) {
	if len(build.Commands) > 0 {
		return CommandsToDirectives(build.Commands)
	}
	fldPath := field.NewPath("spec", "build", "directives")
	for _, stage := range []string{PreCopy, PostCopy} {
		for i, d := range build.Directives[stage] {
			entryPath := fldPath.Child(stage).Index(i)
			if !reDirectiveKind.MatchString(d.Kind) {
				errs = append(errs, field.Invalid(entryPath.Child("kind"), d.Kind, "must be a Dockerfile instruction such as RUN"))
			}
			if problem := lineProblem(d.Value); problem != "" {
				errs = append(errs, field.Invalid(entryPath.Child("value"), d.Value, problem))
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return build.Directives[PreCopy], build.Directives[PostCopy], nil
}
