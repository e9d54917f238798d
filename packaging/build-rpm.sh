#!/bin/bash
# Build the RPM of native-agents from the same release binaries as the .deb:
#   bash packaging/build-rpm.sh
# packaging/build-release.sh (a no-op when build-deb.sh already built them), packaging/stage.sh
# into target/rpm/stage, a %files list from that tree, then rpmbuild -bb with
# packaging/rpm/native-agents.spec. Progress on stderr; the last line of stdout is the .rpm.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"
cd "$repo"

version=$(bash packaging/version.sh)
bash packaging/build-release.sh
top="$repo/target/rpm"
stage="$top/stage"
rm -rf "$top"
mkdir -p "$stage"
bash packaging/stage.sh --bin-dir target/release "$stage" >&2

# %files: the directories this package owns, then every file. Man pages are listed as
# staged (already gzip -9n); rpm's own compression step leaves .gz pages alone.
filelist="$top/files.list"
{
    for owned in "$OCF_AGENT_DIR" "$METADATA_DIR" "$DOC_DIR"; do echo "%dir $owned"; done
    (cd "$stage" && find . -type f -printf '/%P\n' | sort)
} >"$filelist"

rpmbuild -bb --quiet \
    --define "_topdir $top" \
    --define "pkg_version $version" \
    --define "stagedir $stage" \
    --define "filelist $filelist" \
    packaging/rpm/native-agents.spec >&2
rpm=$(find "$top/RPMS" -name "$PACKAGE-$version-*.rpm" | head -n 1)
[ -n "$rpm" ] || { echo "rpmbuild made no $PACKAGE-$version-*.rpm under $top/RPMS" >&2; exit 1; }
echo "$rpm"
