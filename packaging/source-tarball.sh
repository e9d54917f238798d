#!/bin/bash
# The release source tarball, every crate of Cargo.lock vendored into it, so that building it
# needs no network:
#   bash packaging/source-tarball.sh [--out DIR] [REV]
# writes DIR/native-agents-<version>.tar.xz (DIR: target/source) from the committed tree REV
# (HEAD): `git archive` (without debian/: a distribution adds its own packaging, ours comes in
# the Debian source package's own tarball), then `cargo vendor --locked` into vendor/ and a
# .cargo/config.toml
# that replaces the crates-io source with that directory. Cargo.lock decides every crate and
# version, and each vendored crate carries its .cargo-checksum.json, which cargo verifies.
# The crates are never committed to git: this script adds them to the tarball only.
# The same tarball is the Debian orig tarball (packaging/build-deb.sh) and the RPM's Source0
# (packaging/build-rpm.sh). Reproducible: files sorted, owned by root, dated at REV's commit.
# Progress on stderr; the last line of stdout is the tarball's path.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"

out="$repo/target/source"
rev=HEAD
while [ $# -gt 0 ]; do
    case $1 in
    --out) out=$2; shift 2 ;;
    -*) echo "usage: $0 [--out DIR] [REV]" >&2; exit 2 ;;
    *) rev=$1; shift ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

git -C "$repo" rev-parse --verify --quiet "$rev^{commit}" >/dev/null ||
    { echo "$rev is not a commit of $repo" >&2; exit 1; }
if [ "$rev" = HEAD ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
    echo "warning: uncommitted changes in $repo are not in the tarball (it is built from HEAD)" >&2
fi
version=$(git -C "$repo" show "$rev:Cargo.toml" |
    awk '/^\[workspace.package\]/ { s = 1; next } /^\[/ { s = 0 }
         s && /^version *=/ { gsub(/.*= *"|".*/, ""); print }')
[ -n "$version" ] || { echo "no [workspace.package] version in $rev:Cargo.toml" >&2; exit 1; }
epoch=$(git -C "$repo" log -1 --format=%ct "$rev")
name="$PACKAGE-$version"
tarball="$out/$name.tar.xz"

work=$(mktemp -d "$out/.tarball.XXXXXX")
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive --format=tar --prefix="$name/" "$rev" | tar -x -C "$work" --exclude="$name/debian"
tree="$work/$name"

# The registry cache answers first; cargo goes to the configured sources only for what it
# lacks.
echo "cargo vendor --locked into $name/vendor" >&2
vendor=(cargo vendor --locked --versioned-dirs --manifest-path "$tree/Cargo.toml" "$tree/vendor")
"${vendor[@]}" --offline >/dev/null 2>"$work/vendor.log" || {
    echo "not everything is in the local cargo cache; asking the configured sources" >&2
    "${vendor[@]}" >/dev/null 2>"$work/vendor.log" || { cat "$work/vendor.log" >&2; exit 1; }
}
# Windows-only crates: cargo needs their manifests to resolve Cargo.lock, but nothing builds
# them on Linux. Each is kept as its manifest, build script, licence files and an empty lib.rs,
# its checksum list emptied: the source package carries no prebuilt Windows import libraries
# (70 MB of the 90 MB vendored before).
for dir in "$tree"/vendor/windows-* "$tree"/vendor/windows_*; do
    [ -d "$dir" ] || continue
    find "$dir" -mindepth 1 -maxdepth 1 ! -name Cargo.toml ! -name build.rs \
        ! -name .cargo-checksum.json -regextype posix-extended \
        ! -iregex '.*/(licen[cs]e|copying|notice|copyright)([-._][^/]*)?' -exec rm -rf {} +
    mkdir "$dir/src"
    : >"$dir/src/lib.rs"
    jq -c '{files: {}, package: .package}' "$dir/.cargo-checksum.json" >"$dir/checksums"
    mv "$dir/checksums" "$dir/.cargo-checksum.json"
done

# The commit, for the build stamp (packaging/build-release.sh): the tarball has no .git.
git -C "$repo" rev-parse --short=12 "$rev" >"$tree/packaging/source-commit"
mkdir -p "$tree/.cargo"
cat >"$tree/.cargo/config.toml" <<'EOF'
# Written by packaging/source-tarball.sh: build from the crates vendored in this tarball.
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "vendor"
EOF

# gzip and xz -T1 give the same bytes on every machine; xz -6 is dpkg-source's default level.
tar -C "$work" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -c "$name" |
    xz -6 -T1 >"$tarball.part"
mv "$tarball.part" "$tarball"
echo "$tarball: $(du -h "$tarball" | cut -f1), $(find "$tree/vendor" -mindepth 1 -maxdepth 1 -type d | wc -l) vendored crates, from $(git -C "$repo" rev-parse --short "$rev")" >&2
echo "$tarball"
