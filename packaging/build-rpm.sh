#!/bin/bash
# Build the source RPM and the RPM of native-agents from the release tarball:
#   bash packaging/build-rpm.sh [--tarball FILE] [RPMBUILD_OPTION...]
# packaging/source-tarball.sh (HEAD, crates vendored; or FILE, such a tarball already made)
# into target/rpm/SOURCES, then `rpmbuild -ba packaging/rpm/native-agents.spec` with _topdir
# target/rpm and the sources unpacked in target/pkg-build (where packaging/build-deb.sh builds),
# plus the options given here (e.g. --without check). On Debian, rpm's database knows none of
# the BuildRequires (cargo, rust, jq): --nodeps skips that check; the build itself runs cargo
# --offline --locked.
# Progress on stderr; the last two lines of stdout are the SRPM's and the RPM's paths.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"
cd "$repo"

spec=packaging/rpm/native-agents.spec
version=$(bash packaging/version.sh)
spec_version=$(sed -n 's/^Version: *//p' "$spec")
[ "$spec_version" = "$version" ] ||
    { echo "$spec says Version $spec_version, Cargo.toml $version" >&2; exit 1; }

tarball=
if [ "${1:-}" = --tarball ]; then
    tarball=$2
    shift 2
fi
top="$repo/target/rpm"
build="$repo/target/pkg-build"
rm -rf "$top"
mkdir -p "$top/SOURCES" "$build"
if [ -n "$tarball" ]; then
    cp "$tarball" "$top/SOURCES/$PACKAGE-$version.tar.xz"
else
    bash packaging/source-tarball.sh --out "$top/SOURCES" >/dev/null
fi
nodeps=()
command -v dpkg >/dev/null && nodeps=(--nodeps)
rpmbuild -ba "${nodeps[@]}" --define "_topdir $top" --define "_builddir $build" "$@" "$spec" >&2
srpm=$(find "$top/SRPMS" -name "$PACKAGE-$version-*.src.rpm" | head -n 1)
rpm=$(find "$top/RPMS" -name "$PACKAGE-$version-*.rpm" | head -n 1)
[ -n "$srpm" ] && [ -n "$rpm" ] || { echo "rpmbuild made no SRPM or RPM under $top" >&2; exit 1; }
echo "$srpm"
echo "$rpm"
