#!/usr/bin/env bash
# Bounded fuzz run of every cargo-fuzz target in fuzz/ (libFuzzer), for CI and by hand.
#
#   tests/fuzz.sh [TARGET...]        all targets (or the ones named)
#   FUZZ_TOTAL_SECONDS=240           time shared by all targets (default 240: under 5 min)
#   FUZZ_SANITIZER=address|none      default address (CI refuses none)
#   FUZZ_MIN_EXECS_PER_SECOND=50     a target that executed fewer units than this many per
#                                    second of its share fails (it did not really fuzz)
#
# Stable Rust: cargo fuzz passes -Z flags, so RUSTC_BOOTSTRAP=1 is set for its build only.
# Installs cargo-fuzz when missing. fuzz/Cargo.lock is checked first (cargo fuzz has no
# --locked: `cargo metadata --locked` fails when the lock would change). Each target starts
# from its committed, minimized corpus fuzz/seeds/<target>/ (a target without one fails),
# which is replayed whole first, with fuzz/regressions/<target>/* (every crash found becomes
# a regression input there); new units go to fuzz/corpus/<target>/ (not committed). Exits
# non-zero when any target crashes, leaks, times out on one input, runs out of memory, or
# executed too few units; the crashing input is left in fuzz/artifacts/<target>/ and printed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

total=${FUZZ_TOTAL_SECONDS:-240}
sanitizer=${FUZZ_SANITIZER:-address}
min_rate=${FUZZ_MIN_EXECS_PER_SECOND:-50}
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

if ! cargo metadata --locked --format-version 1 >/dev/null; then
    echo "fuzz.sh: fuzz/Cargo.lock is stale: run \`cargo metadata --offline --format-version 1 \
--manifest-path fuzz/Cargo.toml >/dev/null\` (or cargo update -p <crate>) and commit it" >&2
    exit 1
fi

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
per=$(( total / ${#targets[@]} ))
[ "$per" -ge 5 ] || per=5
min_units=$(( per * min_rate ))

cargo fuzz build -O --sanitizer "$sanitizer"

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    if ! compgen -G "seeds/$t/*" >/dev/null; then
        echo "== $t: no committed corpus in fuzz/seeds/$t"
        failed+=("$t (no seeds)")
        continue
    fi
    replay=("seeds/$t"/*)
    if compgen -G "regressions/$t/*" >/dev/null; then replay+=("regressions/$t"/*); fi
    echo "== $t: replaying ${#replay[@]} committed inputs"
    if ! cargo fuzz run -O --sanitizer "$sanitizer" "$t" "${replay[@]}" -- -runs=0 \
        >"artifacts/$t/replay.log" 2>&1; then
        tail -40 "artifacts/$t/replay.log"
        failed+=("$t (a committed input)")
        continue
    fi
    echo "== $t: ${per}s from fuzz/seeds/$t"
    if ! cargo fuzz run -O --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$per" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"artifacts/$t/run.log" 2>&1; then
        tail -60 "artifacts/$t/run.log"
        failed+=("$t")
        continue
    fi
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "artifacts/$t/run.log" | tail -n 1)
    added=$(sed -n 's/^stat::new_units_added: *//p' "artifacts/$t/run.log" | tail -n 1)
    echo "   executed ${units:-?} units (at least $min_units wanted), ${added:-?} new"
    if [ -z "$units" ] || [ "$units" -lt "$min_units" ]; then
        echo "   $t executed too few units: ${units:-none reported} < $min_units \
(${per}s x $min_rate/s); see fuzz/artifacts/$t/run.log"
        failed+=("$t (too few units)")
    fi
done
rm -rf /tmp/fuzz-apache-* /tmp/fuzz-pid-*

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${per}s each from their committed corpus, no crash"
