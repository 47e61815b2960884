#!/usr/bin/env bash
# Regenerates everything under apis/**/zz_generated.*.go and pkg/generated with k8s.io/code-generator's
# kube_codegen.sh, at the code-generator version go.mod requires. Never edit generated files by hand.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
module=github.com/nuclio-apiserver/nuclio-apiserver
boilerplate="$root/hack/boilerplate.go.txt"

codegen_dir=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
# shellcheck source=/dev/null
source "$codegen_dir/kube_codegen.sh"

# Types from k8s.io/api that our objects embed (EnvVar, Container, Affinity, DeploymentStrategy, MetricSpec)
# or that subresources return (autoscaling/v1 Scale). They already carry their model names, so openapi-gen
# must treat them as read-only inputs rather than try to write into the module cache.
openapi_extra=(k8s.io/api/core/v1 k8s.io/api/apps/v1 k8s.io/api/autoscaling/v1 k8s.io/api/autoscaling/v2
  k8s.io/apimachinery/pkg/util/intstr)
KUBE_CODEGEN_READONLY_PKGS+=("${openapi_extra[@]}")

kube::codegen::gen_helpers --boilerplate "$boilerplate" "$root/apis"

extra_args=()
for p in "${openapi_extra[@]}"; do extra_args+=(--extra-pkgs "$p"); done
# Known API-rule violations are recorded, so that only new ones fail. Ours are deliberate: Nuclio's wire
# names (total_tasks, last_error, internalInvocationUrls, nucliofunction, addedPaths, ...) must not change.
# UPDATE_API_KNOWN_VIOLATIONS=true rewrites the list after a reviewed change.
[[ "${UPDATE_API_KNOWN_VIOLATIONS:-}" == "true" ]] && extra_args+=(--update-report)
kube::codegen::gen_openapi \
  --output-dir "$root/pkg/generated/openapi" \
  --output-pkg "$module/pkg/generated/openapi" \
  --output-model-name-file zz_generated.model_name.go \
  --report-filename "$root/hack/api-violations.list" \
  --boilerplate "$boilerplate" \
  "${extra_args[@]}" \
  "$root/apis"

kube::codegen::gen_client \
  --with-watch \
  --with-applyconfig \
  --applyconfig-openapi-schema <(go run "$module/pkg/generated/openapi/cmd/models-schema") \
  --output-dir "$root/pkg/generated" \
  --output-pkg "$module/pkg/generated" \
  --boilerplate "$boilerplate" \
  "$root/apis"
