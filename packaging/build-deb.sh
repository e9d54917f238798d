#!/bin/bash
# Build the Debian package native-agents from this tree:
#   bash packaging/build-deb.sh
# packaging/build-release.sh (cargo build --release --locked of every agent and of the man-page
# generator), packaging/stage.sh into target/debian/<package>_<version>_<arch>/, a
# DEBIAN/control (Depends from dpkg-shlibdeps) and md5sums, then dpkg-deb --root-owner-group.
# Progress goes to stderr; the LAST line of stdout is the .deb's path (scripts rely on it).
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"
cd "$repo"

version=$(bash packaging/version.sh)
arch=$(dpkg --print-architecture)
mapfile -t agents < <(bash tests/conformance/list-agents.sh)
echo "building $PACKAGE $version ($arch) with ${#agents[@]} agent(s): ${agents[*]:-none}" >&2

bash packaging/build-release.sh

out="$repo/target/debian"
root="$out/${PACKAGE}_${version}_${arch}"
deb="$root.deb"
rm -rf "$root" "$deb"
mkdir -p "$root/DEBIAN"
bash packaging/stage.sh --bin-dir target/release "$root" >&2

# Shared-library dependencies of the binaries, as dh_shlibdeps would compute them.
depends=
if [ ${#agents[@]} -gt 0 ]; then
    shlibs=$(mktemp -d)
    trap 'rm -rf "$shlibs"' EXIT
    mkdir "$shlibs/debian"
    printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$shlibs/debian/control"
    bins=()
    for name in "${agents[@]}"; do bins+=("$root$OCF_AGENT_DIR/$name"); done
    depends=$(cd "$shlibs" && dpkg-shlibdeps -O "${bins[@]}" | sed -n 's/^shlibs:Depends=//p')
fi
if [ ${#agents[@]} -gt 0 ]; then
    list="Agents in this package: $(printf '%s, ' "${agents[@]}" | sed 's/, $/./')"
else
    list="This build contains no agent yet."
fi
installed_size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
    -e "s/@DEPENDS@/$depends/" -e '/^Depends: $/d' -e '/^@AGENTS@$/d' \
    packaging/debian/control.in >"$root/DEBIAN/control"
fold -s -w 70 <<<"$list" | sed 's/ *$//; s/^/ /' >>"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0r md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
