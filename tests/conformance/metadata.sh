#!/bin/bash
# Conformance of every agent's `meta-data`, run over a directory of agent binaries:
#   bash tests/conformance/metadata.sh target/debug
#   bash tests/conformance/metadata.sh /usr/lib/ocf/resource.d/native
# For each agent of the workspace (tests/conformance/list-agents.sh) the binary DIR/<name> must
# be world-executable, print its metadata as user nobody (Pacemaker does not run meta-data as
# root), and that output must
#   - validate against every schema in ../shared/schemas, resource-agents' metadata.rng and
#     ra-api-1.dtd as ocf-tester checks it (xmllint --valid beside the DTD, so the document's
#     internal subset counts: it may declare OCF 1.1's unique-group attribute, nothing else);
#     an OCF 1.1 document is checked against the two OCF 1.0 schemas (pcs-ocf-1.0.rng, which
#     pcs applies only to agents declaring 1.0, and metadata.rng) with its unique-group
#     attributes removed, every other rule kept: unique-group is how pcs 0.11 refuses a second
#     resource with the same ip or configfile for an OCF 1.1 agent (README, "Unique parameters"),
#   - declare <version>1.1</version> (or 1.0 with the action reload and no reload-agent: an
#     agent whose settings Pacemaker must reload, by its legacy rule, since ra-api-1.dtd
#     refuses reload-agent and reloadable; drbd-dualprimary, see the README) and name="<name>",
#   - be byte for byte xml-metadata/<name>.xml (what packaging installs and man pages show).
# And the agent's own tests must call ocf::testing::assert_params_match_metadata (the XML's
# parameter list and the agent's parameter handling agree).
# One PASS/FAIL line per agent, then "N passed, N failed"; exit 1 when any failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir=$(agent_dir "$@")
ra_rng=/usr/share/resource-agents/metadata.rng
ra_dtd=/usr/share/resource-agents/ra-api-1.dtd
for need in "$ra_rng" "$ra_dtd"; do
    [ -r "$need" ] || { echo "missing $need (Debian package resource-agents)" >&2; exit 1; }
done
command -v xmllint >/dev/null || { echo "missing xmllint (Debian package libxml2-utils)" >&2; exit 1; }
schemas=$(shared_schemas) || {
    echo "no *.rng in $repo/../shared/schemas nor /work/shared/schemas" >&2
    exit 1
}
mapfile -t rngs < <(compgen -G "$schemas/*.rng" | sort)

out="$repo/target/conformance/metadata"
mkdir -p "$out"
# A directory user nobody can reach, for a copy of a binary that sits in a private tree.
copies=$(mktemp -d)
trap 'rm -rf "$copies"' EXIT
chmod 0755 "$copies"

mapfile -t agents < <(bash "$repo/tests/conformance/list-agents.sh")
echo "meta-data of ${#agents[@]} agent(s) in $dir; schemas: $schemas (${#rngs[@]}), $ra_rng, $ra_dtd"
[ ${#agents[@]} -gt 0 ] || echo "(no agent builds its binary yet: agents/*/ are all placeholders)"

# Run "$1 meta-data" as nobody; stdout to $2, stderr to $3. Prints who ran it.
meta_data_as_nobody() {
    local bin=$1 user=nobody
    if [ "$(id -u)" -ne 0 ]; then
        # Only root can switch users; outside CI run as ourselves and say so.
        in_ci && { echo "not root: cannot run as nobody" >"$3"; return 1; }
        user=$(id -un)
        (cd / && timeout 10 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$bin" meta-data) >"$2" 2>"$3" || return 1
    else
        if ! runuser -u nobody -- test -x "$bin"; then
            # e.g. target/ under a 0700 home: run a copy, the file's own mode still checked.
            cp "$bin" "$copies/" && chmod 0755 "$copies/${bin##*/}"
            bin="$copies/${bin##*/}"
        fi
        (cd / && timeout 10 runuser -u nobody -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
            "$bin" meta-data) >"$2" 2>"$3" || return 1
    fi
    echo "$user"
}

# xmllint's complaints without the noise: the DOCTYPE's relative "ra-api-1.dtd" is not beside
# the output (for the schemas) and " validates" lines.
quiet() {
    grep -v -e 'failed to load external entity ".*ra-api-1.dtd"' -e '^<!DOCTYPE' -e '^ *\^$' \
        -e ' validates$' || true
}

for name in "${agents[@]}"; do
    bin="$dir/$name"
    xml="$out/$name.xml"
    problems=()
    details=()
    if [ ! -f "$bin" ]; then
        fail "$name: no binary $bin (build it first)"
        continue
    fi
    mode=$(stat -L -c %A "$bin")
    [ "${mode:9:1}" = x ] || problems+=("$bin is $mode, not world-executable")
    if ! user=$(meta_data_as_nobody "$bin" "$xml" "$out/$name.stderr"); then
        fail "$name: meta-data failed: $(head -c 300 "$out/$name.stderr" | tr '\n' ' ')"
        continue
    fi
    if [ ! -s "$xml" ]; then
        fail "$name: meta-data printed nothing"
        continue
    fi
    # The OCF 1.0 schemas predate unique-group: a 1.1 document meets them without it.
    declared_version=$(xmllint --xpath 'string(/resource-agent/version)' "$xml" 2>/dev/null || true)
    sed -E 's/ unique-group="[^"]*"//' "$xml" >"$out/$name.ocf-1.0.xml"
    for schema in "${rngs[@]}" "$ra_rng"; do
        doc=$xml
        case ${schema##*/} in
        pcs-ocf-1.0.rng | metadata.rng) [ "$declared_version" != 1.1 ] || doc="$out/$name.ocf-1.0.xml" ;;
        esac
        if ! err=$(xmllint --noout --relaxng "$schema" "$doc" 2>&1); then
            problems+=("invalid against ${schema##*/}")
            details+=("$(quiet <<<"$err" | head -n 5 || true)")
        fi
    done
    # ocf-tester's own check: `cd /usr/share/resource-agents && xmllint --noout --valid -`.
    if ! err=$(cd "${ra_dtd%/*}" && xmllint --noout --valid - <"$xml" 2>&1); then
        problems+=("invalid against ra-api-1.dtd (as ocf-tester validates)")
        details+=("$(quiet <<<"$err" | head -n 5 || true)")
    fi
    grep -Eq '^<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd"( \[)?>?$' "$xml" ||
        problems+=("no <!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\"> line (ocf-tester needs it)")
    # An internal subset may add unique-group to the DTD, and nothing else.
    if grep -q '^<!DOCTYPE.*\[$' "$xml"; then
        subset=$(sed -n '/^<!DOCTYPE/,/^]>$/p' "$xml" | sed '1d; $d; /^<!--.*-->$/d' |
            grep -vx '<!ATTLIST parameter unique-group CDATA #IMPLIED>' || true)
        [ -z "$subset" ] ||
            problems+=("the DOCTYPE's internal subset declares more than unique-group: $subset")
    fi
    version=$(xmllint --xpath 'string(/resource-agent/version)' "$xml" 2>/dev/null || true)
    has_action() { [ "$(xmllint --xpath "count(//actions/action[@name='$1'])" "$xml" 2>/dev/null)" != 0 ]; }
    if [ "$version" = 1.0 ] && has_action reload && ! has_action reload-agent; then
        version="1.0 (legacy reload)"
    elif [ "$version" != 1.1 ]; then
        problems+=("declares <version>${version}</version>, not 1.1 (nor 1.0 with reload for Pacemaker's legacy reload)")
    fi
    declared=$(xmllint --xpath 'string(/resource-agent/@name)' "$xml" 2>/dev/null || true)
    [ "$declared" = "$name" ] || problems+=("resource-agent name=\"$declared\", not \"$name\"")
    source_xml="$repo/xml-metadata/$name.xml"
    if [ ! -f "$source_xml" ]; then
        problems+=("no xml-metadata/$name.xml")
    elif ! cmp -s "$xml" "$source_xml"; then
        problems+=("output differs from xml-metadata/$name.xml")
        details+=("$(diff "$source_xml" "$xml" | head -n 10 || true)")
    fi
    grep -rqs 'assert_params_match_metadata' "$repo/agents/$name/src" "$repo/agents/$name/tests" ||
        problems+=("no test calls ocf::testing::assert_params_match_metadata")

    if [ ${#problems[@]} -eq 0 ]; then
        pass "$name: meta-data as $user; valid against ${#rngs[@]} shared schemas, metadata.rng and ra-api-1.dtd as ocf-tester checks it; version $version; same as xml-metadata/$name.xml"
    else
        fail "$name: $(IFS=';'; echo "${problems[*]}" | sed 's/;/; /g')"
        for d in "${details[@]}"; do
            [ -n "$d" ] && sed 's/^/    /' <<<"$d"
        done
        echo "    (output kept in $xml)"
    fi
done
summary
