# Shared by the conformance scripts (sourced, not run): where the repository, the shared
# schemas and the agents are, and how results are counted and printed.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=../../packaging/layout.env
source "$repo/packaging/layout.env"

# The project-wide metadata schemas: ../shared/schemas beside the clone (as CI lays it out),
# else the development machine's copy.
shared_schemas() {
    local dir
    for dir in "$repo/../shared/schemas" /work/shared/schemas; do
        if compgen -G "$dir/*.rng" >/dev/null; then
            (cd "$dir" && pwd -P)
            return 0
        fi
    done
    return 1
}

# The agent binaries directory given as $1, made absolute.
agent_dir() {
    if [ $# -ne 1 ] || [ ! -d "$1" ]; then
        echo "usage: $0 DIR (target/debug, target/release or $OCF_AGENT_DIR)" >&2
        exit 2
    fi
    (cd "$1" && pwd -P)
}

# Under CI: CI set to anything but empty, 0 or false (tests/run.sh exports CI=true).
in_ci() { case "${CI:-}" in "" | 0 | false | FALSE | False) return 1 ;; *) return 0 ;; esac; }

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }
skip() { skipped=$((skipped + 1)); printf 'SKIP %s\n' "$*"; }

# The closing line; the exit status is 1 when anything failed.
summary() {
    local line="$passed passed, $failed failed"
    [ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
    echo "$line"
    [ "$failed" -eq 0 ]
}
