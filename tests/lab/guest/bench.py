#!/usr/bin/python3
"""lab-bench: times two agents' monitor side by side on this node.

    lab-bench N AGENT_A AGENT_B   (the environment carries the OCF variables for both)

Runs `AGENT monitor` 2N times, alternating A and B so that both see the same node state
and load, and prints one line per run ("a|b SECONDS EXIT") and a last line
"median a SECONDS b SECONDS ratio B/A codes A_CODES B_CODES" (each agent's exit codes, sorted,
comma-separated). The lab judges the codes: a benchmark of a wrong answer means nothing.
"""
import statistics
import subprocess
import sys
import time


def once(agent):
    t = time.perf_counter()
    rc = subprocess.run([agent, "monitor"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t, rc


def main():
    n, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    once(a), once(b)  # warm both (page cache, score caches)
    times = {"a": [], "b": []}
    codes = {"a": set(), "b": set()}
    for _ in range(n):
        for key, agent in (("a", a), ("b", b)):
            secs, rc = once(agent)
            times[key].append(secs)
            codes[key].add(rc)
            print(f"{key} {secs:.6f} {rc}")
    ma, mb = statistics.median(times["a"]), statistics.median(times["b"])
    shown = {k: ",".join(str(c) for c in sorted(v)) for k, v in codes.items()}
    print(f"median a {ma:.6f} b {mb:.6f} ratio {mb / ma:.2f} codes {shown['a']} {shown['b']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
