#!/bin/sh
# ocf-tester for apache-clone against a generated httpd configuration on 127.0.0.40:8040.
# Usage: ocf-tester.sh /path/to/apache-clone
set -u
agent=${1:?usage: $0 AGENT_BINARY}
dir=$(mktemp -d /tmp/apache-clone-ocf-tester.XXXXXX)
modules=/usr/lib/apache2/modules

cleanup() {
	# Stop whatever is left of our httpd (the agent's own stop; idempotent).
	OCF_RESKEY_configfile="$dir/httpd.conf" OCF_RESKEY_envfiles= HA_RSCTMP="$dir/state" \
		OCF_RESOURCE_INSTANCE=ocf-tester "$agent" stop >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

mkdir -p "$dir/htdocs"
echo '<html><body>ocf-tester</body></html>' > "$dir/htdocs/index.html"
cat > "$dir/httpd.conf" <<CONF
ServerRoot $dir
ServerName ocf-tester
Listen 127.0.0.40:8040
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_host_module $modules/mod_authz_host.so
LoadModule status_module $modules/mod_status.so
ErrorLog $dir/error.log
DefaultRuntimeDir $dir/run
Mutex file:$dir/lock default
DocumentRoot $dir/htdocs
<Location /server-status>
  SetHandler server-status
  Require local
</Location>
CONF

export HA_RSCTMP="$dir/state"
ocf-tester -n apache-clone -o configfile="$dir/httpd.conf" -o envfiles= "$agent"
