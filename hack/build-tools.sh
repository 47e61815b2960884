#!/usr/bin/env bash
# Builds the pinned upstream binaries of the local control plane from the Go module proxy into a
# version-keyed cache and links them into _output/bin.
#
# Versions are pinned in one place: the go.mod files under hack/tools/ (k8s.io/kubernetes, etcd, kwok,
# helm). The cache key is made of those versions and the Go toolchain version, so bumping a pin or Go
# rebuilds, and anything else reuses $HOME/.cache/nuclio-apiserver/<key>/bin.
#
# Usage: hack/build-tools.sh [binary...]   (default: all)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/hack/tools"
out="$root/_output/bin"

# shellcheck source=hack/lib/versions.sh
source "$root/hack/lib/versions.sh"

cache="${NUCLIO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nuclio-apiserver}/$(tools_cache_key)/bin"
mkdir -p "$cache" "$out"

k8s_ldflags() {
  local v=$KUBERNETES_VERSION minor
  minor=${v#v1.}; minor=${minor%%.*}
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 \
-X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

# build <name> <module dir> <package> <ldflags>
build() {
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  if [[ ! -x "$cache/$name" ]]; then
    echo ">> building $name ($pkg) into $cache" >&2
    local start=$SECONDS
    (cd "$tools/$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$cache/$name.tmp" "$pkg")
    mv "$cache/$name.tmp" "$cache/$name"
    echo ">> built $name in $((SECONDS - start))s" >&2
  fi
  ln -sf "$cache/$name" "$out/$name"
}

want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)
for b in "${want[@]}"; do
  case $b in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl)
      build "$b" kubernetes "k8s.io/kubernetes/cmd/$b" "$(k8s_ldflags)" ;;
    etcd)
      build etcd etcd go.etcd.io/etcd/server/v3 "-s -w" ;;
    kwok)
      build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" ;;
    helm)
      build helm helm helm.sh/helm/v3/cmd/helm "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" ;;
    *) echo "unknown tool $b" >&2; exit 2 ;;
  esac
done
