#!/bin/bash
# Print the package version: [workspace.package] version in the root Cargo.toml.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
version=$(awk '/^\[workspace.package\]/ { s = 1; next } /^\[/ { s = 0 }
               s && /^version *=/ { gsub(/.*= *"|".*/, ""); print }' "$repo/Cargo.toml")
[ -n "$version" ] || { echo "no version in [workspace.package] of $repo/Cargo.toml" >&2; exit 1; }
echo "$version"
