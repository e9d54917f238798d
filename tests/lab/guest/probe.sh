#!/bin/sh
# lab-probe: what the lab watches on a survivor during a failover.
#   lab-probe start URL TOKEN DIR  - two background loops: an HTTP probe of URL (a good answer
#                                    contains TOKEN) and a writer creating a new file in DIR
#                                    (on GFS2) every 0.2 s. Both log "start end result" lines
#                                    with this node's clock to /run/lab-probe/{http,write}.log.
#   lab-probe stop                 - ends both loops.
set -eu
state=/run/lab-probe
case ${1:-} in
start)
  url=$2 token=$3 dir=$4
  mkdir -p "$state" "$dir"
  : > "$state/http.log"; : > "$state/write.log"
  setsid sh -c '
    while :; do
      t0=$(date +%s.%N)
      if curl -s --connect-timeout 1 --max-time 2 "$1" 2>/dev/null | grep -q "$2"; then r=ok; else r=fail; fi
      echo "$t0 $(date +%s.%N) $r" >> "$3/http.log"
      sleep 0.2
    done' probe-http "$url" "$token" "$state" </dev/null >/dev/null 2>&1 &
  echo $! > "$state/http.pid"
  setsid sh -c '
    i=0
    while :; do
      i=$((i+1)); t0=$(date +%s.%N)
      if echo "$i $t0" > "$1/w-$(hostname)-$i"; then r=ok; else r=fail; fi
      echo "$t0 $(date +%s.%N) $r" >> "$2/write.log"
      sleep 0.2
    done' probe-write "$dir" "$state" </dev/null >/dev/null 2>&1 &
  echo $! > "$state/write.pid"
  ;;
stop)
  for p in http write; do
    [ -f "$state/$p.pid" ] && kill -- "-$(cat "$state/$p.pid")" 2>/dev/null || true
  done
  ;;
*)
  echo "usage: lab-probe start URL TOKEN DIR | stop" >&2; exit 2 ;;
esac
