# shellcheck shell=bash
# Pinned tool versions. The single source of truth is each build module's go.mod under hack/tools/;
# this file only reads them so scripts and the cache key agree with what is actually built.

_tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)"

# _pin <module dir> <module path>: prints the version that go.mod in hack/tools/<dir> requires.
_pin() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' \
    "$_tools_dir/$1/go.mod"
}

KUBERNETES_VERSION=$(_pin kubernetes k8s.io/kubernetes)
ETCD_VERSION=$(_pin etcd go.etcd.io/etcd/server/v3)
KWOK_VERSION=$(_pin kwok sigs.k8s.io/kwok)
HELM_VERSION=$(_pin helm helm.sh/helm/v3)
export KUBERNETES_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION

# tools_cache_key prints the directory name that keys the binary cache by every pin and the Go version.
tools_cache_key() {
  local gov
  gov=$(go env GOVERSION)
  echo "k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}_${gov}"
}
