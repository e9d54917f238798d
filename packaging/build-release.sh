#!/bin/bash
# cargo build --release --locked of every agent (tests/conformance/list-agents.sh), of the
# administrators' tools (layout.env TOOLS) and of the man-page generator: the binaries
# packaging/stage.sh installs from target/release (or $CARGO_TARGET_DIR/release). Arguments
# are added to cargo's (the RPM passes --offline).
# The one cargo command of debian/rules, the RPM spec and `make`. Cargo's output goes to stderr.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"
mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
packages=(-p ocf-manpage)
for name in "${agents[@]}" $TOOLS; do packages+=(-p "$name"); done
# The build stamp `<agent> --version` shows (crates/ocf/src/version.rs): the commit, with
# -dirty when tracked files differ from it. A caller may set it instead. The release tarball
# has no .git but packaging/source-commit (packaging/source-tarball.sh writes it); git is
# asked only when this tree is a checkout's top level, never a repository around it.
if [ -z "${NATIVE_AGENTS_GIT:-}" ]; then
    if [ -f "$repo/packaging/source-commit" ]; then
        NATIVE_AGENTS_GIT=$(cat "$repo/packaging/source-commit")
    elif [ "$(git -C "$repo" rev-parse --show-toplevel 2>/dev/null)" = "$repo" ]; then
        NATIVE_AGENTS_GIT=$(git -C "$repo" describe --always --dirty --abbrev=12 --exclude='*')
    fi
fi
export NATIVE_AGENTS_GIT
echo "cargo build --release --locked $* ${packages[*]} (NATIVE_AGENTS_GIT=${NATIVE_AGENTS_GIT:-unset})" >&2
cargo build --release --locked "$@" --manifest-path "$repo/Cargo.toml" "${packages[@]}" >&2
