#!/bin/bash
# Build the Debian source package of native-agents, then the binary package from it alone:
#   bash packaging/build-deb.sh [DPKG_BUILDPACKAGE_OPTION...]
# 1. packaging/source-tarball.sh: the release tarball of HEAD, crates vendored, which is the
#    orig tarball target/debian/native-agents_<version>.orig.tar.xz;
# 2. dpkg-source -b on it unpacked with debian/ of HEAD added:
#    target/debian/native-agents_<version>-<rev>.dsc and .debian.tar.xz (3.0 (quilt));
# 3. dpkg-source -x of that .dsc into target/pkg-build/, then `dpkg-buildpackage -us -uc -b`
#    there (offline: cargo reads vendor/), plus the options given here (e.g. -d when the Rust
#    toolchain is not Debian's cargo/rustc of Build-Depends).
# The RPM is built in the same directory (packaging/build-rpm.sh): with one CARGO_TARGET_DIR
# for both, cargo compiles the identical tarball's sources once.
# Progress on stderr; the last line of stdout is the .deb's path.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"
cd "$repo"

out="$repo/target/debian"
build="$repo/target/pkg-build"
rm -rf "$out"
mkdir -p "$out/src" "$build"
tarball=$(bash packaging/source-tarball.sh --out "$out/src" | tail -n 1)
name=$(basename "$tarball" .tar.xz)
version=${name#"$PACKAGE"-}
orig="$out/${PACKAGE}_$version.orig.tar.xz"
mv "$tarball" "$orig"

# The source package: the orig tarball unpacked, debian/ added, and dpkg-source -b.
tar -xJf "$orig" -C "$out/src"
git archive --format=tar --prefix="$name/" HEAD debian | tar -x -C "$out/src"
deb_version=$(dpkg-parsechangelog -l "$out/src/$name/debian/changelog" -S Version)
[ "${deb_version%-*}" = "$version" ] ||
    { echo "debian/changelog is at $deb_version, Cargo.toml at $version" >&2; exit 1; }
ln -sf ../"$(basename "$orig")" "$out/src/"
(cd "$out/src" && dpkg-source -b "$name" >&2)
mv "$out/src/${PACKAGE}_$deb_version".{dsc,debian.tar.xz} "$out/"
rm -rf "$out/src"
dsc="$out/${PACKAGE}_$deb_version.dsc"
echo "source package: $dsc" >&2

# The binary package, from nothing but the source package.
rm -rf "${build:?}/$name"
(cd "$build" && dpkg-source -x "$dsc" "$name" >&2)
(cd "$build/$name" && dpkg-buildpackage -us -uc -b "$@" >&2)
arch=$(dpkg --print-architecture)
deb="$out/${PACKAGE}_${deb_version}_$arch.deb"
mv "$build/${PACKAGE}_${deb_version}_$arch".{deb,buildinfo,changes} "$out/"
rm -rf "${build:?}/$name"
[ -f "$deb" ] || { echo "dpkg-buildpackage made no $deb" >&2; exit 1; }
echo "$deb"
