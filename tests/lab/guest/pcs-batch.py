#!/usr/bin/python3
"""lab-pcs: runs pcs commands, one per line on stdin, in one Python process.

Each line is a pcs command line as an administrator types it ("pcs -f x resource create ...").
pcs itself runs each one (pcs.app.main with that argv). When lab-pcsd is ready each line is
the lab's `pcs` (a process forked from lab-pcsd, which imported pcs at boot); until then
they all run in this process, so that pcs's import, 20-45 s under software emulation, is
paid once. Stops at the first failing command and exits with its status.
"""
import os
import shlex
import subprocess
import sys
import time

CLIENT = "/usr/local/sbin/pcs"


def zygote():
    """Whether lab-pcsd serves pcs: the lab's pcs client (guest/pcs-client.py) waits for it,
    at most 180 s, while it is importing pcs."""
    return subprocess.call([CLIENT, "--lab-wait-ready"]) == 0


ZYGOTE = zygote()
if not ZYGOTE:
    from pcs import app, utils
    from pcs.cli.common import lib_wrapper


def clear_state():
    """Forgets what the last command left in pcs's module globals and caches.

    pcs keeps -f in module globals and caches what it derives from it (library modules bound
    to a CIB file, a command runner with CIB_file set): a command must not inherit the last
    one's file, so each starts from a clean state. pcs 0.11 keeps a cache in lib_wrapper,
    0.12 does not; every functools cache of a pcs module is cleared either way.
    """
    app.usefile, app.filename = False, ""
    utils.usefile, utils.filename = False, ""
    cache = getattr(lib_wrapper, "_CACHE", None)
    if cache is not None:
        cache.clear()
    for name, module in list(sys.modules.items()):
        if name != "pcs" and not name.startswith("pcs."):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


def run(line):
    argv = shlex.split(line)
    if argv and argv[0] == "pcs":
        argv = argv[1:]
    if ZYGOTE:
        sys.stdout.flush()
        return subprocess.call([CLIENT] + argv)
    clear_state()
    try:
        app.main(argv)
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 0


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        t = time.monotonic()
        print("+ " + line, file=sys.stderr, flush=True)
        code = run(line)
        sys.stdout.flush()
        print("  (exit %d, %.1f s)" % (code, time.monotonic() - t), file=sys.stderr, flush=True)
        if code != 0:
            sys.exit(code)


if __name__ == "__main__":
    main()
