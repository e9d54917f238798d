#!/bin/bash
# cargo build --release --locked of every agent (tests/conformance/list-agents.sh) and of the
# man-page generator: the binaries packaging/stage.sh installs from target/release.
# Shared by build-deb.sh, build-rpm.sh and `make install`. Cargo's output goes to stderr.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
packages=(-p ocf-manpage)
for name in "${agents[@]}"; do packages+=(-p "$name"); done
# The build stamp `<agent> --version` shows (crates/ocf/src/version.rs): the commit, with
# -dirty when tracked files differ from it. A caller (a source package built from a tarball)
# may set it instead.
if [ -z "${NATIVE_AGENTS_GIT:-}" ]; then
    NATIVE_AGENTS_GIT=$(git -C "$repo" describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || true)
fi
export NATIVE_AGENTS_GIT
echo "cargo build --release --locked ${packages[*]} (NATIVE_AGENTS_GIT=${NATIVE_AGENTS_GIT:-unset})" >&2
cargo build --release --locked --manifest-path "$repo/Cargo.toml" "${packages[@]}" >&2
