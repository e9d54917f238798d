#!/bin/bash
# What CI's 60 minutes cannot hold: every lab run that is not the main job, one after the
# other, as root on the machine that runs .ci/run (about 5 hours there under software
# emulation). Run it, or the named runs, before resolving an issue that needs them.
#
#   bash tests/lab/beyond-ci.sh                 every run below, in this order
#   bash tests/lab/beyond-ci.sh fenced port     only those
#
# Runs (each `cargo run --release -p lab -- scenario ...`; the first builds our package, the
# others find it compiled in target/pkg-build):
#   heartbeat         --agents heartbeat: the shell agents, for the side-by-side timelines
#                     and monitoring cost (first: our runs' report.html draws them beside ours)
#   faults            --faults: the tutorial profile with the reload and the faults (18-25)
#   fenced            --profile fenced --faults: SBD, DLM and DRBD fencing (30, 31, 33), faults
#   bookworm          --release bookworm --faults: Debian 12, Pacemaker 2.1, pcs 0.11
#   bookworm-fenced   --release bookworm --profile fenced --faults
#   port              --port: booted on the shell agents, ported live (27-29)
# A failed run does not stop the others. Each report is kept as
# target/lab/beyond-ci/<run>.json (and .html); the summary table says which passed and how
# long each took; the exit status is 0 only when every run passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "beyond-ci.sh runs as root (the lab: apt, mmdebstrap, QEMU)" >&2; exit 1; }

declare -A ARGS=(
    [heartbeat]="--agents heartbeat"
    [faults]="--faults"
    [fenced]="--profile fenced --faults"
    [bookworm]="--release bookworm --faults"
    [bookworm-fenced]="--release bookworm --profile fenced --faults"
    [port]="--port"
)
ORDER=(heartbeat faults fenced bookworm bookworm-fenced port)
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=("${ORDER[@]}")
for run in "${runs[@]}"; do
    [ -n "${ARGS[$run]+set}" ] || { echo "unknown run '$run' (known: ${ORDER[*]})" >&2; exit 2; }
done

out=target/lab/beyond-ci
mkdir -p "$out"
summary=()
failed=0
for run in "${runs[@]}"; do
    echo
    echo "==> $run: cargo run --release --locked -p lab -- scenario ${ARGS[$run]}"
    t=$SECONDS
    rm -f target/lab/report.json target/lab/report.html
    # shellcheck disable=SC2086 # the arguments are words, split on purpose
    cargo run --release --locked -p lab -- scenario ${ARGS[$run]}
    rc=$?
    cp target/lab/report.json "$out/$run.json" 2>/dev/null
    cp target/lab/report.html "$out/$run.html" 2>/dev/null
    verdict=passed
    [ "$rc" -eq 0 ] || { verdict="FAILED (exit $rc)"; failed=$((failed + 1)); }
    summary+=("$(printf '%-16s %-18s %5d s  %s' "$run" "$verdict" "$((SECONDS - t))" "$out/$run.json")")
    echo "<== $run: $verdict after $((SECONDS - t)) s"
    # A failed run may leave its machines up: the next one starts from nothing.
    cargo run --release --locked -p lab -- down >/dev/null 2>&1
done
echo
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] && echo "every run passed" || echo "$failed of ${#runs[@]} runs failed"
[ "$failed" -eq 0 ]
