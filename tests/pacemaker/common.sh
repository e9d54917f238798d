# Shared by the one-node Pacemaker tests (sourced after ../conformance/common.sh, with `here`
# set to this directory): taking the cluster of cluster.sh, crm_mon's view of a resource, and a
# test network with a floating-address primitive on it.

harness_dir=${PCMK_HARNESS_DIR:-$repo/target/pacemaker}
started_cluster=no

crm_mon_xml() { crm_mon -1 --output-as=xml 2>/dev/null; }

# Attribute $2 (role, resource_agent, ...) of the resource whose id starts with $1, or "".
resource_attr() {
    crm_mon_xml | xmllint --xpath "string(//resources//resource[starts-with(@id, '$1')]/@$2)" - \
        2>/dev/null || true
}

# The failed actions of the resource whose id starts with $1, or "".
failures() {
    crm_mon_xml | xmllint --xpath "//failures/failure[starts-with(@op_key, '$1')]" - 2>/dev/null || true
}

# One test at a time on the one cluster (ocf_testkit::pacemaker takes the same lock); started
# here unless it runs, and then stopped again by release_cluster.
take_cluster() {
    mkdir -p "$harness_dir"
    exec 9>"$harness_dir/turn.lock"
    flock 9
    if ! bash "$here/cluster.sh" status >/dev/null; then
        started_cluster=yes
        bash "$here/cluster.sh" start
    fi
}
release_cluster() { [ "$started_cluster" = no ] || bash "$here/cluster.sh" stop || true; }

# Network namespace $1 with a veth pair: na0 192.0.2.1/24 and na1, both up.
make_test_net() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" link add na0 type veth peer name na1
    ip -n "$1" link set na0 up
    ip -n "$1" link set na1 up
    ip -n "$1" addr add 192.0.2.1/24 dev na0
}

# Primitive $1 of agent ocf:$2:$3 managing address $4/24 on na0 in namespace $5 (IPaddr2's
# parameters, which ipaddr2 keeps), monitored every 10 s.
create_vip() {
    local id=$1 provider=$2 type=$3 vip=$4 ns=$5
    cibadmin --create -o resources --xml-text "
<primitive id=\"$id\" class=\"ocf\" provider=\"$provider\" type=\"$type\">
  <instance_attributes id=\"$id-params\">
    <nvpair id=\"$id-ip\" name=\"ip\" value=\"$vip\"/>
    <nvpair id=\"$id-cidr\" name=\"cidr_netmask\" value=\"24\"/>
    <nvpair id=\"$id-nic\" name=\"nic\" value=\"na0\"/>
    <nvpair id=\"$id-ns\" name=\"network_namespace\" value=\"$ns\"/>
  </instance_attributes>
  <operations>
    <op id=\"$id-monitor\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/>
  </operations>
</primitive>"
}

# What a test shows when resource $1 is not where it should be.
show_why() {
    echo "    failed actions: $(failures "${1}_")"
    crm_mon -1 | sed 's/^/    /'
    tail -n 30 "$harness_dir/pacemaker.log" | sed 's/^/    /'
}

# The cleanup of create_vip and make_test_net: primitive $1 deleted and gone from crm_mon
# (waiting up to $WAIT s), namespace $2 deleted, the cluster released.
tear_down_vip() {
    cibadmin --delete -o resources --xml-text "<primitive id=\"$1\"/>" >/dev/null 2>&1 || true
    local t=$SECONDS
    while [ -n "$(resource_attr "$1" role)" ] && [ $((SECONDS - t)) -lt "$WAIT" ]; do sleep 0.5; done
    ip netns del "$2" 2>/dev/null || true
    release_cluster
}
