#!/usr/bin/python3 -IS
"""pcs (the lab's, first in root's PATH): runs the command in lab-pcsd (guest/pcs-zygote.py),
which imported pcs once at boot, with this process's stdin, stdout, stderr, working directory
and environment, and exits with its status. While lab-pcsd is still importing pcs it waits
for it (at most 180 s); without lab-pcsd it is /usr/sbin/pcs.

`pcs --lab-wait-ready` (the lab's own word, never pcs's) only waits as above and exits 0 when
lab-pcsd serves, 1 when it does not: lab-pcs (guest/pcs-batch.py) asks it so."""
import json
import os
import socket
import sys
import time

REAL = "/usr/sbin/pcs"
SOCK = "/run/lab-pcs.sock"


def daemon_ready():
    """Whether the socket exists, after waiting for a lab-pcsd that is still importing pcs."""
    try:
        with open("/run/lab-pcs.starting") as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return os.path.exists(SOCK)
    deadline = time.monotonic() + 180
    while not os.path.exists(SOCK) and os.path.exists("/proc/%d" % pid):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return os.path.exists(SOCK)


def connect():
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect(SOCK)
    return conn


if sys.argv[1:] == ["--lab-wait-ready"]:
    sys.exit(0 if daemon_ready() else 1)
try:
    conn = connect()
except OSError:
    try:
        if not daemon_ready():
            raise OSError("no lab-pcsd")
        conn = connect()
    except OSError:
        os.execv(REAL, [REAL] + sys.argv[1:])
request = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
status = conn.recv(16)
sys.exit(int(status) if status.strip() else 255)
