#!/bin/bash
# cargo build --release --locked of every agent (tests/conformance/list-agents.sh) and of the
# man-page generator: the binaries packaging/stage.sh installs from target/release.
# Shared by build-deb.sh, build-rpm.sh and `make install`. Cargo's output goes to stderr.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
packages=(-p ocf-manpage)
for name in "${agents[@]}"; do packages+=(-p "$name"); done
echo "cargo build --release --locked ${packages[*]}" >&2
cargo build --release --locked --manifest-path "$repo/Cargo.toml" "${packages[@]}" >&2
