#!/bin/bash
# Lay out native-agents' installed files under DESTDIR, from binaries already built:
#   bash packaging/stage.sh --bin-dir target/release [--no-docs] DESTDIR
# The one install step behind `make install`, the .deb and the .rpm. Paths come from
# packaging/layout.env; the agents from tests/conformance/list-agents.sh. For each agent:
#   OCF_AGENT_DIR/<name>             the binary, 0755
#   METADATA_DIR/<name>.xml          xml-metadata/<name>.xml
#   MAN_DIR/ocf_native_<name>.7.gz   its man page, generated from that XML (ocf-manpage)
# for each administrators' tool (layout.env TOOLS): SBIN_DIR/<tool>, 0755, and its man page
# tools/<tool>/<tool>.8 as ADMIN_MAN_DIR/<tool>.8.gz;
# and, unless --no-docs (the .deb and the .rpm install them their own way), in DOC_DIR:
# admin-guide.md.gz (doc/admin-guide.md), faults.md.gz (tests/matrix/FAULTS.md), copyright
# (debian/copyright) and crate-licenses.gz (packaging/crate-licenses.sh).
# SOURCE_DATE_EPOCH (default: the last commit's date, else now) dates the man pages.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"

usage() { echo "usage: $0 --bin-dir DIR [--no-docs] DESTDIR" >&2; exit 2; }
docs=yes
[ "${1:-}" = --bin-dir ] && [ $# -ge 3 ] || usage
bin_dir=$2
shift 2
[ "$1" = --no-docs ] && { docs=no; shift; }
[ $# -eq 1 ] && [ -n "$1" ] || usage
dest=$1
[ -x "$bin_dir/ocf-manpage" ] || {
    echo "no $bin_dir/ocf-manpage: build it with the agents (cargo build -p ocf-manpage)" >&2
    exit 1
}

version=$(bash "$repo/packaging/version.sh")
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
day=$(date -u -d "@$epoch" +%Y-%m-%d)

mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
[ ${#agents[@]} -gt 0 ] || echo "warning: no agent builds its binary yet; staging docs only" >&2

install -d -m 0755 "$dest$OCF_AGENT_DIR" "$dest$METADATA_DIR" "$dest$MAN_DIR"
[ "$docs" = no ] || install -d -m 0755 "$dest$DOC_DIR"
for name in "${agents[@]}"; do
    bin="$bin_dir/$name"
    xml="$repo/xml-metadata/$name.xml"
    [ -f "$bin" ] || { echo "no binary $bin: build the agents first" >&2; exit 1; }
    [ -f "$xml" ] || { echo "agent $name has no xml-metadata/$name.xml" >&2; exit 1; }
    install -m 0755 "$bin" "$dest$OCF_AGENT_DIR/$name"
    install -m 0644 "$xml" "$dest$METADATA_DIR/$name.xml"
    page="$dest$MAN_DIR/$MAN_PREFIX$name.$MAN_SECTION"
    "$bin_dir/ocf-manpage" --provider "$OCF_PROVIDER" --version "$version" --date "$day" \
        --agent-dir "$OCF_AGENT_DIR" --metadata-dir "$METADATA_DIR" "$xml" >"$page"
    gzip -9nf "$page"
    chmod 0644 "$page.gz"
    echo "staged $name" >&2
done

for tool in $TOOLS; do
    [ -f "$bin_dir/$tool" ] || { echo "no binary $bin_dir/$tool: build it first (packaging/build-release.sh)" >&2; exit 1; }
    install -d -m 0755 "$dest$SBIN_DIR" "$dest$ADMIN_MAN_DIR"
    install -m 0755 "$bin_dir/$tool" "$dest$SBIN_DIR/$tool"
    install -m 0644 "$repo/tools/$tool/$tool.8" "$dest$ADMIN_MAN_DIR/$tool.8"
    gzip -9nf "$dest$ADMIN_MAN_DIR/$tool.8"
    echo "staged $tool" >&2
done

[ "$docs" = yes ] || exit 0
doc="$dest$DOC_DIR"
rm -f "$doc"/{admin-guide.md,faults.md,crate-licenses}{,.gz}
install -m 0644 "$repo/doc/admin-guide.md" "$doc/admin-guide.md"
install -m 0644 "$repo/tests/matrix/FAULTS.md" "$doc/faults.md"
bash "$repo/packaging/crate-licenses.sh" >"$doc/crate-licenses"
# Debian policy: documentation over 4 kB is compressed (gzip -9n, as dh_compress does).
for file in "$doc/admin-guide.md" "$doc/faults.md" "$doc/crate-licenses"; do
    chmod 0644 "$file"
    [ "$(stat -c %s "$file")" -le 4096 ] || gzip -9nf "$file"
done
install -m 0644 "$repo/debian/copyright" "$doc/copyright"
