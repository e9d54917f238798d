#!/bin/bash
# The licences of the crates in native-agents, from Cargo.lock:
#   bash packaging/crate-licenses.sh           the licences of every crate linked into the
#                                              agents, with the texts of their licence files:
#                                              /usr/share/doc/native-agents/crate-licenses,
#                                              generated at build time by debian/rules and the
#                                              RPM spec
#   bash packaging/crate-licenses.sh --list    one "NAME VERSION LICENCE" line per linked crate
#   bash packaging/crate-licenses.sh --check   whether the two lists kept in git match
#                                              Cargo.lock (tests/run.sh runs it)
#   bash packaging/crate-licenses.sh --update  rewrite them; run it after changing Cargo.lock
# The lists kept in git: in debian/copyright, a "Files: vendor/<crate>-<version>/*" paragraph
# for every crate of Cargo.lock (the release tarball vendors them all, linked or not); in
# packaging/rpm/native-agents.spec, between its "bundled crates" markers, the License tag and a
# `Provides: bundled(crate(NAME)) = VERSION` for each linked crate.
# "Linked" is what `cargo tree -e normal,no-proc-macro` resolves for this machine's target from
# every agent (tests/conformance/list-agents.sh) and administrators' tool (layout.env TOOLS):
# build scripts, proc-macros, dev-dependencies and the developer tools' crates are not in the
# binaries. The Rust standard library, linked into every Rust binary, is listed last in the
# document.
# Crate sources come from vendor/ in the release tarball, else from cargo's registry cache.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"

case ${1:-} in
"") mode=document ;;
--list | --check | --update) mode=${1#--} ;;
*) echo "usage: $0 [--list | --check | --update]" >&2; exit 2 ;;
esac

cargo_() { cargo "$@" --locked --manifest-path "$repo/Cargo.toml"; }
host=$(rustc -vV | sed -n 's/^host: //p')
licence_files='.*/(licen[cs]e|copying|unlicense|notice|copyright)([-._][^/]*)?'

# Every crate of Cargo.lock that is not ours, for every platform: name, version, licence,
# source directory, authors (separated by \001). Sorted by name and version.
all_crates() {
    cargo_ metadata --format-version 1 |
        jq -r '.packages[] | select(.source != null)
               | [.name, .version, (.license // "NOASSERTION"),
                  (.manifest_path | rtrimstr("/Cargo.toml")), (.authors | join("\u0001"))]
               | @tsv' |
        sort -t$'\t' -k1,1 -k2,2V
}

# The crates linked into the agents and the administrators' tools (layout.env TOOLS) for this
# target, as all_crates prints them.
linked_crates() {
    local agents packages=() name
    mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
    [ ${#agents[@]} -gt 0 ] || { echo "no agent to list crates for" >&2; return 1; }
    for name in "${agents[@]}" $TOOLS; do packages+=(-p "$name"); done
    # "name version" per crate; ours carry their path in {p}.
    cargo_ tree "${packages[@]}" -e normal,no-proc-macro --target "$host" --prefix none \
        --format '{p}' | grep -v ' (/' | sed '/^$/d; s/ (\*)$//; s/ v/\t/' | sort -u |
        awk -F'\t' 'FNR == NR { linked[$1 "\t" $2] = 1; next } ($1 "\t" $2) in linked' \
            - <(all_crates)
}

# The copyright lines of the crate in directory $1, from its licence files (the holders an
# MIT or BSD text names), else its Cargo.toml authors ($2, one a line), else "the authors".
copyright_of() {
    local dir=$1 authors=$2 name=$3 lines
    lines=$(find "$dir" -maxdepth 1 -type f -regextype posix-extended -iregex "$licence_files" \
        -print0 | sort -z |
        xargs -0r grep -hiE '^[[:space:]]*copyright[[:space:]]+(\(c\)|©)?[[:space:]]*[0-9A-Za-z]' |
        grep -viE 'license to|and permission|notice|owner|\[yyyy\]|\{yyyy\}' |
        sed -E 's/^[[:space:]]*copyright[[:space:]]+(\(c\)|©)?[[:space:]]*//I; s/[[:space:]]+$//' |
        awk '!seen[$0]++') || true
    [ -n "$lines" ] || lines=$authors
    [ -n "$lines" ] || lines="the $name authors"
    printf '%s\n' "$lines"
}

# debian/copyright's paragraph for each vendored crate.
dep5_paragraphs() {
    local name version license dir authors
    all_crates | while IFS=$'\t' read -r name version license dir authors; do
        printf 'Files: vendor/%s-%s/*\nCopyright:' "$name" "$version"
        copyright_of "$dir" "$(tr '\001' '\n' <<<"$authors" | sed 's/ *<[^>]*>//')" "$name" |
            sed 's/^/ /'
        # DEP-5 spells the operators in lower case.
        printf 'License: %s\n\n' "$(sed -E 's/ OR / or /g; s/ AND / and /g;
            s/ WITH ([A-Za-z0-9.]+)-exception/ with \1 exception/g;
            s/BSD-([0-9])-Clause/BSD-\1-clause/g' <<<"$license")"
    done
}

# The spec's lines between its markers: the License tag (ours, then each distinct licence
# of a linked crate) and one bundled() Provides per linked crate.
rpm_lines() {
    local crates
    crates=$(linked_crates)
    printf 'License:        GPL-2.0-or-later'
    cut -f3 <<<"$crates" | sort -u |
        awk '{ printf " AND %s", (/ OR / ? "(" $0 ")" : $0) } END { print "" }'
    cut -f1,2 <<<"$crates" | awk -F'\t' '{ printf "Provides:       bundled(crate(%s)) = %s\n", $1, $2 }'
}

if [ "$mode" = check ] || [ "$mode" = update ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    copyright="$repo/debian/copyright"
    spec="$repo/packaging/rpm/native-agents.spec"
    dep5_paragraphs >"$work/paragraphs"
    # The vendor paragraphs sit together: the generated ones take their place.
    awk -v RS= -v ORS='\n\n' 'FNR == NR { gen = gen $0 ORS; next }
        /^Files: vendor\// { if (!done) { printf "%s", gen; done = 1 } next }
        { print }' "$work/paragraphs" "$copyright" |
        sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$work/copyright"
    rpm_lines >"$work/lines"
    awk 'FNR == NR { gen = gen $0 "\n"; next }
        /^# END bundled crates/ { inside = 0 }
        !inside { print }
        /^# BEGIN bundled crates/ { inside = 1; printf "%s", gen }' "$work/lines" "$spec" >"$work/spec"
    if [ "$mode" = update ]; then
        cp "$work/copyright" "$copyright"
        cp "$work/spec" "$spec"
        echo "updated debian/copyright ($(grep -c '^Files: vendor/' "$copyright") vendored crates) and" \
            "the spec ($(grep -c '^Provides: *bundled' "$spec") linked crates)" >&2
    else
        diff -u "$copyright" "$work/copyright" && diff -u "$spec" "$work/spec" || {
            echo "Cargo.lock changed what is vendored or linked: bash packaging/crate-licenses.sh --update" >&2
            exit 1
        }
        echo "debian/copyright covers the $(grep -c '^Files: vendor/' "$copyright") crates of" \
            "Cargo.lock; the spec bundles the $(grep -c '^Provides: *bundled' "$spec") linked ones" >&2
    fi
    exit 0
fi

mapfile -t linked < <(linked_crates)
[ ${#linked[@]} -gt 0 ] || { echo "cargo tree listed no crate" >&2; exit 1; }
if [ "$mode" = list ]; then
    printf '%s\n' "${linked[@]}" | cut -f1-3 | tr '\t' ' '
    exit 0
fi

rule() { echo "========================================================================"; }
rust_version=$(rustc -V | cut -d' ' -f2)
{
    echo "Licences of the crates linked into $PACKAGE $(bash "$repo/packaging/version.sh")"
    echo
    echo "The agents ($(bash "$repo/tests/conformance/list-agents.sh" | paste -sd' ')) and" \
        "the tools ($TOOLS) are built" \
        "from Cargo.lock and statically linked with the ${#linked[@]} crates below and with the" \
        "Rust standard library. Each crate is listed with the licence its Cargo.toml declares," \
        "then the text of every licence file it ships. Generated at build time by" \
        "packaging/crate-licenses.sh for $host. The agents themselves are GPL-2.0-or-later:" \
        "see the copyright file next to this one." | fold -s -w 78 | sed 's/ *$//'
}
echo
for crate in "${linked[@]}"; do
    IFS=$'\t' read -r name version license _ <<<"$crate"
    printf '  %-24s %-10s %s\n' "$name" "$version" "$license"
done
printf '  %-24s %-10s %s\n\n' "Rust standard library" "$rust_version" "MIT OR Apache-2.0"

for crate in "${linked[@]}"; do
    IFS=$'\t' read -r name version license dir _ <<<"$crate"
    rule
    echo "$name $version: $license"
    rule
    found=0
    while IFS= read -r -d '' file; do
        found=1
        printf '\n--- %s\n\n' "${file##*/}"
        cat "$file"
    done < <(find "$dir" -maxdepth 1 -type f -regextype posix-extended -iregex "$licence_files" \
        -print0 | sort -z)
    [ "$found" = 1 ] || { echo "$name $version ships no licence file in $dir" >&2; exit 1; }
    echo
done

rule
echo "Rust standard library $rust_version: MIT OR Apache-2.0"
rule
echo
echo "Copyright: the Rust Project Developers. The standard library and the crates it is built"
echo "from are listed with their licences in the Rust toolchain's COPYRIGHT-library file."
# rustup's toolchains ship the licence texts; Debian's (libstd-rust-*-dev) in its copyright
# file, which also covers the whole compiler: the two texts are the ones above.
sysroot=$(rustc --print sysroot)
mapfile -t texts < <(find "$sysroot/share/doc/rust" -maxdepth 2 -type f \
    \( -name 'MIT.txt' -o -name 'Apache-2.0.txt' -o -name 'LICENSE-MIT*' -o -name 'LICENSE-APACHE*' \) \
    2>/dev/null | sort)
for file in "${texts[@]}"; do
    printf '\n--- %s\n\n' "${file#"$sysroot"/}"
    cat "$file"
done
[ ${#texts[@]} -gt 0 ] || echo "Their texts: LICENSE-MIT and LICENSE-APACHE of the crates above (e.g. libc)."
