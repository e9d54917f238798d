#!/bin/bash
# pcs refuses a second resource whose unique parameters repeat another's, for every installed
# agent: pcs 0.11 checks an OCF 1.1 agent through its unique-group attributes, a 1.0 agent
# through unique="1" (README, "Unique parameters"):
#   bash tests/pacemaker/unique.sh
# A 1.1 agent's unique="1" parameter outside any unique-group fails (pcs would not check it).
# For each group (1.0: each unique parameter alone), on a scratch CIB file (pcs -f: no
# cluster is touched): resource 1 with the
# group's parameters set to one value, resource 2 with the same values must be refused by
# `pcs resource create`, and by `pcs resource update` of a resource 3 made with other values,
# which must be accepted. Required parameters get a placeholder value (pcs does not run the
# agent). Needs the agents installed in OCF_AGENT_DIR and pcs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source "$here/../conformance/common.sh"

command -v pcs >/dev/null || { echo "FAIL unique: no pcs (Debian package pcs)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

groups_seen=0
for agent in $(bash "$repo/tests/conformance/list-agents.sh"); do
    [ -x "$OCF_AGENT_DIR/$agent" ] || {
        fail "$agent: $OCF_AGENT_DIR/$agent is not installed (install the .deb first)"
        continue
    }
    xml=$("$OCF_AGENT_DIR/$agent" meta-data)
    version=$(xmllint --xpath 'string(/resource-agent/version)' - <<<"$xml")
    if [ "$version" = 1.0 ]; then
        group_attr=name
        mapfile -t groups < <(xmllint --xpath '//parameter[@unique="1"]/@name' - <<<"$xml" 2>/dev/null |
            sed -n 's/.*name="\([^"]*\)".*/\1/p')
    else
        group_attr=unique-group
        mapfile -t groups < <(xmllint --xpath '//parameter/@unique-group' - <<<"$xml" 2>/dev/null |
            sed -n 's/.*unique-group="\([^"]*\)".*/\1/p' | sort -u)
        # unique="1" alone means nothing to pcs 0.11 for a 1.1 agent.
        unchecked=$(xmllint --xpath '//parameter[@unique="1" and not(@unique-group)]/@name' - <<<"$xml" \
            2>/dev/null | sed -n 's/.*name="\([^"]*\)".*/\1/p' | paste -sd' ' || true)
        [ -z "$unchecked" ] ||
            fail "$agent (OCF 1.1): unique=\"1\" without a unique-group, which pcs does not check: $unchecked"
    fi
    mapfile -t required < <(xmllint --xpath '//parameter[@required="1"]/@name' - <<<"$xml" 2>/dev/null |
        sed -n 's/.*name="\([^"]*\)".*/\1/p')
    for group in "${groups[@]}"; do
        groups_seen=$((groups_seen + 1))
        mapfile -t members < <(xmllint --xpath "//parameter[@$group_attr='$group']/@name" - <<<"$xml" |
            sed -n 's/.*name="\([^"]*\)".*/\1/p')
        # name=value for the group set to $1, and a placeholder for other required parameters.
        options() {
            local p
            for p in "${required[@]}"; do
                [[ " ${members[*]} " == *" $p "* ]] || echo "$p=placeholder"
            done
            for p in "${members[@]}"; do echo "$p=$1-$p"; done
        }
        cib="$work/$agent-$group.xml"
        cibadmin --empty >"$cib"
        what="$agent (OCF $version), unique: ${members[*]}"
        if ! out=$(pcs -f "$cib" resource create r1 "ocf:$OCF_PROVIDER:$agent" $(options same) 2>&1); then
            fail "$what: the first resource was refused: $out"
            continue
        fi
        if out=$(pcs -f "$cib" resource create r2 "ocf:$OCF_PROVIDER:$agent" $(options same) 2>&1); then
            fail "$what: pcs accepted a second resource with the same values"
            continue
        fi
        grep -q "not unique" <<<"$out" || { fail "$what: refused for another reason: $out"; continue; }
        if ! out=$(pcs -f "$cib" resource create r3 "ocf:$OCF_PROVIDER:$agent" $(options other) 2>&1); then
            fail "$what: a resource with other values was refused: $out"
            continue
        fi
        if out=$(pcs -f "$cib" resource update r3 $(options same) 2>&1); then
            fail "$what: pcs accepted an update to the same values as r1"
            continue
        fi
        pass "$what: pcs refuses a repeat at create and update: $(grep -m1 'not unique' <<<"$out" | cut -c1-120)"
    done
done
[ "$groups_seen" -gt 0 ] || fail "no installed agent declares a unique parameter"
summary
