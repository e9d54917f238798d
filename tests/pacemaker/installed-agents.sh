#!/bin/bash
# Pacemaker sees the installed agents (after the .deb or `make install`):
#   bash tests/pacemaker/installed-agents.sh
# For each agent of the workspace (tests/conformance/list-agents.sh): `crm_resource
# --list-agents ocf:native` lists it, and `crm_resource --show-metadata ocf:native:<name>`
# prints exactly the installed METADATA_DIR/<name>.xml. Neither needs a running cluster.
# One PASS/FAIL line per agent, then "N passed, N failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../conformance/common.sh"

command -v crm_resource >/dev/null || { echo "missing crm_resource (Debian package pacemaker-cli-utils)" >&2; exit 1; }
mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
echo "crm_resource over ${#agents[@]} installed agent(s) of ocf:$OCF_PROVIDER"
if [ ${#agents[@]} -gt 0 ]; then
    listed=$(crm_resource --list-agents "ocf:$OCF_PROVIDER" 2>&1) || {
        echo "crm_resource --list-agents ocf:$OCF_PROVIDER failed: $listed"
        exit 1
    }
fi
for name in "${agents[@]}"; do
    if ! grep -qx "$name" <<<"$listed"; then
        fail "$name: not in crm_resource --list-agents ocf:$OCF_PROVIDER ($(echo $listed))"
        continue
    fi
    shown=$(mktemp)
    if ! crm_resource --show-metadata "ocf:$OCF_PROVIDER:$name" >"$shown" 2>&1; then
        fail "$name: crm_resource --show-metadata failed: $(head -c 300 "$shown")"
    elif ! cmp -s <(sed -e '$a\' "$shown") <(sed -e '$a\' "$METADATA_DIR/$name.xml"); then
        fail "$name: crm_resource --show-metadata differs from $METADATA_DIR/$name.xml"
        diff "$METADATA_DIR/$name.xml" "$shown" | head -n 10 | sed 's/^/    /' || true
    else
        pass "$name: listed, and --show-metadata prints $METADATA_DIR/$name.xml"
    fi
    rm -f "$shown"
done
summary
