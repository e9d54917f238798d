#!/bin/bash
# Every test of native-agents: the README's test command and what CI runs (.ci/run).
#   bash tests/run.sh
# As root on a Debian 12 machine that has the Rust toolchain (cargo, rustfmt, clippy); it
# installs the rest with apt-get. Runs with CI=true whatever the caller set (an inherited CI=1 or
# CI=false must not turn a skipped privileged test back into a pass). Each step prints a header;
# the first failure stops the run.
# RUN_FROM=N starts at step N (after fixing what stopped an earlier run at step N).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
source packaging/layout.env
export CI=true

# What the tests need from Debian. An agent adds its own in agents/<name>/tests/apt-packages
# (one package a line, # comments allowed).
APT_PACKAGES=(
    resource-agents libxml2-utils pacemaker pacemaker-cli-utils corosync pcs apache2
    iproute2 e2fsprogs xfsprogs gfs2-utils lintian rpm strace tcpdump iputils-arping psmisc
    util-linux kmod fakeroot
    # the benchmark's DRBD anchor (ocf:linbit:drbd); nothing starts from it
    drbd-utils
    # the harness itself: agent discovery, dpkg-shlibdeps, make install, pgrep, man pages
    jq dpkg-dev make procps gzip man-db
    # the source packages: debhelper, Debian's own Rust toolchain (the Build-Depends, as a
    # build daemon has them; rustup's stays first in PATH elsewhere), rpmlint
    debhelper cargo-web rustc-web rpmlint
    # the lab's report.html rendered in a browser (tests/lab's own test)
    chromium-headless-shell
)

# "title | command": a command is a function below or a plain command line.
steps=(
    "system packages | install_packages"
    "cargo fmt --all --check | cargo fmt --all --check"
    "cargo clippy (all targets, -D warnings) | cargo clippy --workspace --all-targets --locked -- -D warnings"
    "cargo test (CI=true: a skip is a failure) | cargo test --workspace --locked"
    "unit tests of agents and crates as user nobody | unit_tests_as_nobody"
    "cargo build (debug agents for conformance) | cargo build --workspace --locked"
    "conformance: meta-data of target/debug | bash tests/conformance/metadata.sh target/debug"
    "conformance: ocf-tester of target/debug | bash tests/conformance/ocf-tester.sh target/debug"
    "package: Debian source package, the .deb built from it, lintian | build_deb"
    "package: install the .deb | install_deb"
    "conformance: meta-data of the installed agents | bash tests/conformance/metadata.sh $OCF_AGENT_DIR"
    "Pacemaker sees the installed agents (crm_resource) | bash tests/pacemaker/installed-agents.sh"
    "one-node Pacemaker: ocf:native:ipaddr2 in a netns | bash tests/pacemaker/ipaddr2.sh"
    "pcs refuses a second resource with the same unique parameters | bash tests/pacemaker/unique.sh"
    "one-node Pacemaker: IPaddr2 ported to ocf:native:ipaddr2 and back, by hand (a restart) and live (native-agents-port) | port_tests"
    "one-node Pacemaker: drbd-dualprimary's metadata reloads a changed setting | bash tests/pacemaker/drbd-reload.sh"
    "make install DESTDIR installs what the .deb does | check_make_install"
    "package: SRPM and RPM (rpmbuild -ba), rpmlint | build_rpm"
    "benchmark, quick, side by side with the shell agents (--strict) | run_bench"
    "benchmark at scale, quick: 10 floating IPs in the one-node Pacemaker, both agents (--strict) | run_scale"
    "fuzz every parser, bounded | bash tests/fuzz.sh"
)

install_packages() {
    local wanted=("${APT_PACKAGES[@]}") extra missing=() pkg
    for extra in agents/*/tests/apt-packages; do
        [ -f "$extra" ] || continue
        mapfile -t -O "${#wanted[@]}" wanted < <(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d' "$extra")
    done
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep 'ok installed' >/dev/null || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all ${#wanted[@]} packages installed"
    else
        echo "installing: ${missing[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
    cargo fmt --version && cargo clippy --version
}

# Unit tests need no privileges (CONTRIBUTING.md): the unit-test binaries of every agent and
# crate, built by the step before, run as nobody and must pass. They are copied to a
# directory nobody can reach (the checkout may not be). A test that needs root skips here
# (CI is unset for this step only): the step before ran it as root with CI=true.
unit_tests_as_nobody() {
    local expected bins=() dir bin failed=0
    expected=$(ls agents/*/src/lib.rs crates/*/src/lib.rs | wc -l)
    mapfile -t bins < <(cargo test --workspace --locked --lib --no-run --message-format=json |
        jq -r --arg root "$repo/" 'select(.reason == "compiler-artifact" and .profile.test
            and .executable != null and (.manifest_path | startswith($root + "agents/")
            or startswith($root + "crates/"))) | .executable')
    [ ${#bins[@]} -eq "$expected" ] || { echo "${#bins[@]} unit-test binaries for $expected agents and crates"; return 1; }
    dir=$(mktemp -d /tmp/unit-tests-as-nobody.XXXXXX)
    chmod 0755 "$dir"
    for bin in "${bins[@]}"; do
        cp "$bin" "$dir/"
        echo "== $(basename "$bin"), as nobody"
        (cd "$dir" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
            env -u CI HOME=/nonexistent "./$(basename "$bin")" -q) || failed=$((failed + 1))
    done
    rm -rf "$dir"
    [ "$failed" -eq 0 ] || { echo "$failed of ${#bins[@]} unit-test binaries failed as nobody"; return 1; }
    echo "the unit tests of all ${#bins[@]} agents and crates passed as nobody"
}

# The source packages are built from the release tarball (HEAD, crates vendored) as a
# distribution would: Debian's cargo and rustc (Build-Depends) in a clean unpacked tree, and
# cargo --offline. The .deb and the RPM come from the same tarball unpacked at the same path
# (target/pkg-build) with one CARGO_TARGET_DIR, so the RPM's %build finds the crates compiled (but
# ring, whose C code takes each distribution's CFLAGS, and what links it)
# (`rpmbuild --rebuild` elsewhere compiles it all). The unit tests ran in earlier steps: nocheck.
package_env() {
    export PATH="/usr/bin:$PATH" DEB_BUILD_OPTIONS=nocheck
    export CARGO_TARGET_DIR="$repo/target/pkg-build/cargo-target"
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
    export SOURCE_DATE_EPOCH
}

# Porting a floating IP from IPaddr2 to ours and back on the one-node Pacemaker: the
# administrator's way by hand (Pacemaker restarts it), then native-agents-port (nothing
# restarts, the address never leaves; 54 s here with the cluster's start and stop).
port_tests() {
    bash tests/pacemaker/port.sh
    bash tests/pacemaker/native-agents-port.sh
}

# Each step runs in its own subshell: the .deb's path passes through this file.
deb_path_file=target/debian/built-by-run.sh
build_deb() {
    local deb dsc report
    # debian/copyright and the spec's bundled crates match Cargo.lock.
    bash packaging/crate-licenses.sh --check
    package_env
    deb=$(bash packaging/build-deb.sh | tail -n 1)
    [ -f "$deb" ] || { echo "packaging/build-deb.sh did not end with a .deb path (got '$deb')"; return 1; }
    dsc=$(ls target/debian/*.dsc)
    echo "$deb" >"$deb_path_file"
    echo "built $dsc and, from it, $deb"
    dpkg-deb --info "$deb"
    dpkg-deb --contents "$deb"
    # Any lintian error or warning fails the step (the accepted ones are overridden in
    # debian/native-agents.lintian-overrides, each with its reason); infos are shown.
    report=$(lintian --fail-on error,warning --display-info --pedantic "$dsc" "$deb" 2>&1) ||
        { echo "$report"; return 1; }
    grep -v '^running with root privileges' <<<"$report" || echo "lintian: no tags"
}

install_deb() {
    local deb
    deb=$(cat "$deb_path_file")
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$(realpath "$deb")"
    dpkg -s "$PACKAGE" | grep '^Status: install ok installed' >/dev/null
    local name
    for name in $(bash tests/conformance/list-agents.sh); do
        [ -x "$OCF_AGENT_DIR/$name" ] || { echo "$OCF_AGENT_DIR/$name missing after install"; return 1; }
        echo "installed $OCF_AGENT_DIR/$name"
    done
}

# The same files, but for what only a Debian package carries: its changelog, its lintian
# overrides.
check_make_install() {
    local dest=target/make-install deb
    deb=$(cat "$deb_path_file")
    rm -rf "$dest"
    make install DESTDIR="$dest"
    diff -u <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./||; s|/$||; /^$/d' |
        grep -vx -e "${DOC_DIR#/}/changelog.Debian.gz" -e 'usr/share/lintian.*' | sort) \
        <(cd "$dest" && find . -mindepth 1 | sed 's|^\./||' | sort) &&
        echo "make install DESTDIR=$dest: the same $(find "$dest" -type f | wc -l) files as the .deb"
}

build_rpm() {
    local out srpm rpm orig
    package_env
    orig=$(ls target/debian/*.orig.tar.xz 2>/dev/null || true)
    out=$(bash packaging/build-rpm.sh ${orig:+--tarball "$orig"} --without check)
    srpm=$(tail -n 2 <<<"$out" | head -n 1)
    rpm=$(tail -n 1 <<<"$out")
    [ -f "$srpm" ] && [ -f "$rpm" ] ||
        { echo "packaging/build-rpm.sh did not end with the SRPM and RPM paths (got '$out')"; return 1; }
    rpm -qpil "$rpm"
    rpm -qp --provides --requires --recommends --suggests "$rpm"
    # rpmlint with Fedora's and RHEL's conventions (packaging/rpm/rpmlint.toml): an error fails.
    rpmlint -c packaging/rpm/rpmlint.toml "$srpm" "$rpm" packaging/rpm/native-agents.spec
}

# The quick benchmark proves the promised ratios still hold (exit 3 when one does not) and
# leaves its table in target/bench/quick.md. It measures the release binaries `make` builds
# (packaging/build-release.sh: nothing to compile after the make install step; the bench's
# own `cargo build -p <agent>...` would rebuild a third of the tree with other features and
# without the build stamp).
run_bench() {
    bash packaging/build-release.sh
    cargo run --release --locked -p bench -- --quick --strict --no-build --out target/bench/quick.md
}

# The same at scale, reduced to 10 floating IPs and a 20 s monitoring window (about 2 minutes:
# 85 s without the floor, 119 s with it here): both agents in the one-node Pacemaker, all
# Started, moved away and back with no failed action, and the executor's monitoring CPU
# anchor/ours at least 5x (measured 14x and 18x here).
# --floor adds a third side, an agent that manages nothing, so the report says what each
# agent adds to what the executor spends anyway; the gate is still anchor/ours.
# The full run (100 IPs, README) takes about half an hour.
run_scale() {
    cargo run --release --locked -p bench -- scale --quick --strict --floor --out target/bench/scale-quick.md
}

# Fuzzing shares a bounded time between all targets (FUZZ_TOTAL_SECONDS, 150 s here).
export FUZZ_TOTAL_SECONDS=${FUZZ_TOTAL_SECONDS:-150}

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run.sh runs as root (apt-get, network namespaces, loop devices, Pacemaker)" >&2
    exit 1
fi
total=${#steps[@]}
n=0
started=$SECONDS
for step in "${steps[@]}"; do
    n=$((n + 1))
    title=${step%% | *}
    command=${step#* | }
    if [ "$n" -lt "${RUN_FROM:-1}" ]; then
        printf '\n--- [%d/%d] %s: not run (RUN_FROM=%s)\n' "$n" "$total" "$title" "$RUN_FROM"
        continue
    fi
    printf '\n==> [%d/%d] %s\n' "$n" "$total" "$title"
    t=$SECONDS
    # Not `( ... ) || rc=$?`: bash would then ignore set -e inside the step.
    set +e
    # shellcheck disable=SC2086 # a step's command is words, split on purpose
    (
        set -euo pipefail
        $command
    )
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
        printf '\nFAILED at step %d/%d, "%s" (exit %d, after %ds). Nothing after it ran.\n' \
            "$n" "$total" "$title" "$rc" "$((SECONDS - t))" >&2
        exit 1
    fi
    printf '<== [%d/%d] %s: ok (%ds)\n' "$n" "$total" "$title" "$((SECONDS - t))"
done
if [ "${RUN_FROM:-1}" -gt 1 ]; then
    printf '\nSteps %d to %d passed in %ds (steps before %d not run).\n' "$RUN_FROM" "$total" \
        "$((SECONDS - started))" "$RUN_FROM"
else
    printf '\nAll %d steps passed in %ds.\n' "$total" "$((SECONDS - started))"
fi
