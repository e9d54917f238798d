#!/bin/bash
# ocf-tester over every agent, run over a directory of agent binaries:
#   bash tests/conformance/ocf-tester.sh target/debug
# For each agent of the workspace (tests/conformance/list-agents.sh) this runs the agent's own
# fixture, agents/<name>/tests/ocf-tester.sh DIR/<name>, which prepares what the agent needs
# (a netns, a loop device, ...), runs `ocf-tester -n <name> -o k=v ... BINARY`, cleans up and
# exits with ocf-tester's status.
#
# Lab-only agents: an agent whose resource exists only in the two-node lab (a DRBD peer, a DLM
# lockspace) says so with a file agents/<name>/tests/LAB_ONLY (its first line is the reason),
# or by exiting 77 from its script on a host that lacks what it needs. It is reported
# 'lab-only'. Under CI=true only the agents in LAB_ONLY_ALLOWED may be lab-only; any other
# skip is a failure.
# One line per agent, then "N passed, N failed, N skipped"; exit 1 when any failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LAB_ONLY_ALLOWED=(drbd-dualprimary dlm-controld-wrapper)
# Bound on one agent's whole fixture run (ocf-tester runs every action, some twice).
FIXTURE_TIMEOUT=${FIXTURE_TIMEOUT:-600}

dir=$(agent_dir "$@")
command -v ocf-tester >/dev/null || { echo "missing ocf-tester (Debian package resource-agents)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    in_ci && { echo "ocf-tester needs root, and under CI=true a skip is a failure" >&2; exit 1; }
    echo "SKIP all: ocf-tester runs agents as root; run as root"
    exit 0
fi
logs="$repo/target/conformance/ocf-tester"
mkdir -p "$logs"

mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
echo "ocf-tester over ${#agents[@]} agent(s) in $dir; logs in $logs"
[ ${#agents[@]} -gt 0 ] || echo "(no agent builds its binary yet: agents/*/ are all placeholders)"

lab_only() {
    local name=$1 why=$2 allowed
    for allowed in "${LAB_ONLY_ALLOWED[@]}"; do
        if [ "$allowed" = "$name" ]; then
            skip "$name: lab-only ($why)"
            return
        fi
    done
    if in_ci; then
        fail "$name: skipped ($why), but only ${LAB_ONLY_ALLOWED[*]} may be lab-only"
    else
        skip "$name: lab-only ($why); in CI this agent may not skip"
    fi
}

for name in "${agents[@]}"; do
    bin="$dir/$name"
    fixture="$repo/agents/$name/tests/ocf-tester.sh"
    marker="$repo/agents/$name/tests/LAB_ONLY"
    log="$logs/$name.log"
    if [ -f "$marker" ]; then
        lab_only "$name" "$(head -n 1 "$marker")"
        continue
    fi
    if [ ! -f "$bin" ]; then
        fail "$name: no binary $bin (build it first)"
        continue
    fi
    if [ ! -f "$fixture" ]; then
        fail "$name: no agents/$name/tests/ocf-tester.sh"
        continue
    fi
    rc=0
    # setsid: the fixture and everything it starts form a group that timeout can end whole.
    (cd "$repo/agents/$name" &&
        timeout --kill-after=10 "$FIXTURE_TIMEOUT" setsid --wait bash "$fixture" "$bin") \
        >"$log" 2>&1 || rc=$?
    case $rc in
        0) pass "$name: ocf-tester passed" ;;
        77) lab_only "$name" "$(grep -i -m1 'skip\|lab' "$log" || echo 'exit 77 from its fixture')" ;;
        124 | 137) fail "$name: fixture still running after ${FIXTURE_TIMEOUT}s, killed (log: $log)" ;;
        *)
            fail "$name: ocf-tester failed, exit $rc (log: $log)"
            tail -n 15 "$log" | sed 's/^/    /'
            ;;
    esac
done
summary
