#!/usr/bin/env bash
# Bounded fuzz run of every cargo-fuzz target in fuzz/ (libFuzzer), for CI and by hand.
#
#   tests/fuzz.sh [TARGET...]        all targets (or the ones named)
#   FUZZ_TOTAL_SECONDS=240           time shared by all targets (default 240: under 5 min)
#   FUZZ_SANITIZER=address|none      default address
#
# Stable Rust: cargo fuzz passes -Z flags, so RUSTC_BOOTSTRAP=1 is set for its build only.
# Installs cargo-fuzz when missing. Replays fuzz/regressions/<target>/* first (every crash
# found becomes a regression input there). Exits non-zero when any target crashes, leaks,
# times out on one input or runs out of memory; the crashing input is left in
# fuzz/artifacts/<target>/ and printed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

total=${FUZZ_TOTAL_SECONDS:-240}
sanitizer=${FUZZ_SANITIZER:-address}
# Under CI (tests/run.sh exports CI=true) every target runs with AddressSanitizer: without it
# out-of-bounds reads and leaks pass unseen.
case "${CI:-}" in "" | 0 | false | FALSE | False) ;; *)
    if [ "$sanitizer" != address ]; then
        echo "fuzz.sh: FUZZ_SANITIZER=$sanitizer refused under CI=$CI (CI fuzzes with address)" >&2
        exit 2
    fi ;;
esac
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
per=$(( total / ${#targets[@]} ))
[ "$per" -ge 5 ] || per=5

cargo fuzz build -O --sanitizer "$sanitizer"

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    if [ -d "regressions/$t" ] && [ -n "$(ls -A "regressions/$t")" ]; then
        echo "== $t: replaying regressions/$t"
        if ! cargo fuzz run -O --sanitizer "$sanitizer" "$t" "regressions/$t"/* -- -runs=0 \
            >"artifacts/$t/regressions.log" 2>&1; then
            tail -40 "artifacts/$t/regressions.log"
            failed+=("$t (regression)")
            continue
        fi
    fi
    echo "== $t: ${per}s"
    if ! cargo fuzz run -O --sanitizer "$sanitizer" "$t" -- \
        -max_total_time="$per" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"artifacts/$t/run.log" 2>&1; then
        tail -60 "artifacts/$t/run.log"
        failed+=("$t")
    else
        grep -E "^(stat::number_of_executed_units|stat::new_units_added)" "artifacts/$t/run.log" \
            | tr '\n' ' '
        echo
    fi
done
rm -rf /tmp/fuzz-apache-* /tmp/fuzz-pid-*

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${per}s each, no crash"
