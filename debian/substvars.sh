#!/bin/bash
# The substvars of what the agents link statically, for debian/control (debian/rules appends
# them to debian/native-agents.substvars before dh_gencontrol):
#   cargo:X-Cargo-Built-Using   every linked crate and its version, from Cargo.lock
#                               (packaging/crate-licenses.sh --list); the crates are vendored
#                               in this source package, so they are crate names, not
#                               Debian source packages
#   cargo:Static-Built-Using    the Debian source package of the Rust standard library the
#                               agents embed, when the toolchain is Debian's (cargo/rustc
#                               Build-Depends); empty for a toolchain dpkg does not know
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
crates=$(bash packaging/crate-licenses.sh --list |
    awk '{ printf "%s%s (= %s)", sep, $1, $2; sep = ", " }')
echo "cargo:X-Cargo-Built-Using=$crates"

host=$(rustc -vV | sed -n 's/^host: //p')
std=$(find "$(rustc --print sysroot)/lib/rustlib/$host/lib" -maxdepth 1 -name 'libstd-*.rlib' | head -n 1)
owner=$(dpkg-query -S "$(readlink -f "$std")" 2>/dev/null | cut -d: -f1 | head -n 1 || true)
if [ -n "$owner" ]; then
    echo "cargo:Static-Built-Using=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' "$owner")"
else
    echo "debian/substvars.sh: $std belongs to no Debian package (not Debian's toolchain): no Static-Built-Using" >&2
    echo "cargo:Static-Built-Using="
fi
