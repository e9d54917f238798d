#!/bin/bash
# Print this workspace's agents, one name a line: every agents/<name>/ whose package builds a
# binary called <name>. A placeholder (a library without that binary) is not an agent yet.
# Everything that iterates over agents (conformance, packaging, Makefile) asks this script.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cargo metadata --no-deps --format-version 1 --offline --manifest-path "$repo/Cargo.toml" |
    jq -r --arg root "$repo/agents/" '
        .packages[]
        | select(.manifest_path | startswith($root))
        | (.manifest_path | ltrimstr($root) | rtrimstr("/Cargo.toml")) as $dir
        | select($dir | contains("/") | not)
        | .targets[]
        | select(.kind == ["bin"] and .name == $dir)
        | .name' |
    sort -u
