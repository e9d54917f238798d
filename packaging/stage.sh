#!/bin/bash
# Lay out native-agents' installed files under DESTDIR, from binaries already built:
#   bash packaging/stage.sh --bin-dir target/release DESTDIR
# The one install step behind `make install`, the .deb and the .rpm. Paths come from
# packaging/layout.env; the agents from tests/conformance/list-agents.sh. For each agent:
#   OCF_AGENT_DIR/<name>             the binary, 0755
#   METADATA_DIR/<name>.xml          xml-metadata/<name>.xml
#   MAN_DIR/ocf_native_<name>.7.gz   its man page, generated from that XML (ocf-manpage)
# and DOC_DIR/{README.md[.gz],copyright,changelog.gz}.
# SOURCE_DATE_EPOCH (default: the last commit's date) dates the man pages and the changelog.
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
source "$repo/packaging/layout.env"

usage() { echo "usage: $0 --bin-dir DIR DESTDIR" >&2; exit 2; }
[ $# -eq 3 ] && [ "$1" = --bin-dir ] || usage
bin_dir=$2
dest=$3
[ -n "$dest" ] || usage
[ -x "$bin_dir/ocf-manpage" ] || {
    echo "no $bin_dir/ocf-manpage: build it with the agents (cargo build -p ocf-manpage)" >&2
    exit 1
}

version=$(bash "$repo/packaging/version.sh")
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
day=$(date -u -d "@$epoch" +%Y-%m-%d)

mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
[ ${#agents[@]} -gt 0 ] || echo "warning: no agent builds its binary yet; staging docs only" >&2

install -d -m 0755 "$dest$OCF_AGENT_DIR" "$dest$METADATA_DIR" "$dest$MAN_DIR" "$dest$DOC_DIR"
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

doc="$dest$DOC_DIR"
rm -f "$doc/README.md" "$doc/README.md.gz"
install -m 0644 "$repo/README.md" "$doc/README.md"
# Debian policy: documentation over 4 kB is compressed (gzip -9n, as dh_compress does).
[ "$(stat -c %s "$doc/README.md")" -le 4096 ] || gzip -9nf "$doc/README.md"
install -m 0644 "$repo/packaging/copyright" "$doc/copyright"
maintainer=$(sed -n 's/^Maintainer: //p' "$repo/packaging/debian/control.in")
{
    echo "$PACKAGE ($version) unstable; urgency=medium"
    echo
    echo "  * Release $version, built from $(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'a source tree')."
    echo
    echo " -- $maintainer  $(date -u -R -d "@$epoch")"
} >"$doc/changelog"
gzip -9nf "$doc/changelog"
chmod 0644 "$doc/changelog.gz"
