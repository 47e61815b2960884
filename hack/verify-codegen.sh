#!/usr/bin/env bash
# Fails when generated code (apis/**/zz_generated.*, pkg/generated) differs from what
# hack/update-codegen.sh produces now. The working tree is left as it was.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
snapshot=$(mktemp -d)
trap 'rm -rf "$snapshot"' EXIT

generated() { { find apis -name 'zz_generated.*.go'; find pkg/generated -type f; echo hack/api-violations.list; } | LC_ALL=C sort; }

generated > "$snapshot/before.list"
tar -cf "$snapshot/before.tar" -T "$snapshot/before.list"

hack/update-codegen.sh >"$snapshot/codegen.log" 2>&1 || { cat "$snapshot/codegen.log"; exit 1; }

generated > "$snapshot/after.list"
mkdir "$snapshot/before"
tar -xf "$snapshot/before.tar" -C "$snapshot/before"
status=0
if ! diff -u "$snapshot/before.list" "$snapshot/after.list"; then
  status=1
fi
while read -r f; do
  if [[ -f "$snapshot/before/$f" ]] && ! diff -q "$snapshot/before/$f" "$f" >/dev/null; then
    diff -u "$snapshot/before/$f" "$f" | head -40 || true
    status=1
  fi
done < "$snapshot/after.list"

# Put the tree back exactly as it was.
while read -r f; do rm -f "$f"; done < "$snapshot/after.list"
tar -xf "$snapshot/before.tar"

if [[ $status -ne 0 ]]; then
  echo "Generated code is stale: run hack/update-codegen.sh and commit the result." >&2
  exit 1
fi
echo "Generated code is up to date."
