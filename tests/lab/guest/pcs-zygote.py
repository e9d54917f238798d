#!/usr/bin/python3
"""lab-pcsd: pcs imported once per boot; each pcs command runs in a process forked from it.

Importing pcs costs 20-45 s per process under software emulation (17 s of it in building the
dataclasses of pcs.common.reports.messages), and the lab runs pcs some forty times. This
daemon imports pcs.app once and listens on /run/lab-pcs.sock (SOCK_SEQPACKET). The `pcs`
in /usr/local/sbin (guest/pcs-client.py) sends its argv, working directory and environment
with its stdin, stdout and stderr (SCM_RIGHTS); a forked child takes them over and runs pcs's
own entry point, pcs.app.main(argv), exactly as /usr/sbin/pcs would; the child's parent
waits for it and reports its status on the connection (128+N when a signal ended it, as a
shell says). Nothing of one command reaches the next: each child starts from the state right
after the import.
"""
import json
import os
import signal
import socket
import sys
import traceback

SOCK = "/run/lab-pcs.sock"
# Present (with this pid) while pcs is being imported: a pcs started meanwhile waits for the
# socket instead of importing pcs a second time on the same CPU.
STARTING = "/run/lab-pcs.starting"
with open(STARTING, "w") as f:
    f.write("%d\n" % os.getpid())

from pcs import app  # noqa: E402 - the import this daemon exists for


def run_pcs(request, fds):
    """The forked worker: pcs with the client's streams, directory and environment."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    sys.argv = ["/usr/sbin/pcs"] + argv
    code = 0
    try:
        app.main(argv)
    except SystemExit as e:
        code = 0 if e.code is None else e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: B036 - reported like an uncaught exception of pcs
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    os._exit(code & 0xFF)


def serve(conn, request, fds):
    """The forked child of the daemon: runs the worker, reports how it ended."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    worker = os.fork()
    if worker == 0:
        conn.close()
        run_pcs(request, fds)
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(worker, 0)
    code = os.waitstatus_to_exitcode(status)
    try:
        conn.sendall(b"%d" % (code if code >= 0 else 128 - code))
    except OSError:
        pass
    os._exit(0)


def main():
    # Children are reaped by the kernel; each reports its own status on its connection.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    tmp = SOCK + ".new"
    for path in (tmp, SOCK):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(tmp)
    os.chmod(tmp, 0o600)
    server.listen(16)
    os.rename(tmp, SOCK)  # the socket appears only once pcs is imported
    os.unlink(STARTING)
    while True:
        conn, _ = server.accept()
        try:
            msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            request = json.loads(msg)
            if len(fds) != 3:
                raise ValueError("3 file descriptors expected, got %d" % len(fds))
        except (OSError, ValueError) as e:
            print("lab-pcsd: bad request: %s" % e, file=sys.stderr, flush=True)
            conn.close()
            continue
        if os.fork() == 0:
            server.close()
            serve(conn, request, fds)
        conn.close()
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    main()
