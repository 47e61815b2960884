// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package build turns a NuclioFunction into the inputs of a Kaniko build: the processor Dockerfile, the
// layout of the build context, the build arguments and the name of the image to push.
//
// The output follows Nuclio 1.14.1's builder (nuclio/nuclio:pkg/processor/build/builder.go and the runtimes
// under pkg/processor/build/runtime/) so that functions build into the same images Nuclio would produce:
//
//   - one stage per onbuild artifact, `FROM <onbuild image> AS <stage>` followed by `ARG NUCLIO_LABEL` and
//     `ARG NUCLIO_ARCH` (the Kaniko builder's GetOnbuildStages, nuclio/nuclio:pkg/containerimagebuilderpusher/kaniko.go);
//   - `FROM <base image>`, then `ARG k=v` for the platform's runtime build arguments merged with
//     spec.build.args, then `ARG NUCLIO_LABEL`, `ARG NUCLIO_ARCH`, `ARG NUCLIO_BUILD_LOCAL_HANDLER_DIR`;
//   - pre-copy directives (the runtime's, then the user's), `COPY --from=<stage> <src> <dst>` for each onbuild
//     artifact, `COPY handler /opt/nuclio` for runtimes that ship sources, post-copy directives, and
//     `CMD [ "processor" ]`.
//
// The build context is a directory holding Dockerfile.processor and a handler/ directory with the function's
// files; package fetch fills handler/, and Plan.PrepareContext finishes the context (Java's project layout
// and Gradle script, the Dockerfile).
//
// Everything that reaches the Dockerfile is validated first: a line break in a build argument, a directive,
// a command or an image reference would otherwise inject Dockerfile instructions (nuclio-compat §5.6).
// Errors are field.ErrorList aggregates whose paths name the offending field, e.g. `spec.build.args[FOO]`.
package build
