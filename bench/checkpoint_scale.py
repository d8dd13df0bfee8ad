#!/usr/bin/env python3
"""Checkpoint cost against plan size (issue 17, item 4), driving the release binary.

  python3 bench/checkpoint_scale.py [SIZE ...]   (default: 1000 10000)

Runs `twinup up` on bench/files-fleet.yaml (one `file` step per item of a `for_each` map) at
`--parallelism 16` in a fresh directory per run, and reports the wall time and the time per
item. Bounds: 10,000 items finish in under 10 s, and the time per item at the largest size is
within 1.5x of the smallest size's. Environment: TWINUP (binary path, default
target/release/twinup), BENCH_REPEAT (runs per size, the best is taken; default 3), BENCH_DIR
(where the runs' directories go, default target/). Exit code 1 when a bound is missed.
Standard library only.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TWINUP", os.path.join(ROOT, "target", "release", "twinup"))
PLAN = os.path.join(ROOT, "bench", "files-fleet.yaml")
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def run_once(size, scratch):
    """Wall seconds of one `up` over `size` items in a fresh directory under `scratch`.

    The directories are removed only when every run is done: ext4 skips recently deleted
    inodes when it allocates new ones, so removing one run's 10,000 files just before the next
    run would measure the file system's clean-up rather than twinup."""
    work = tempfile.mkdtemp(prefix=f"run-{size}-", dir=scratch)
    with open(os.path.join(work, "answers.yaml"), "w") as f:
        f.write("items:\n")
        for i in range(size):
            f.write(f"  i{i:06d}: {i}\n")
    started = time.monotonic()
    done = subprocess.run(
        [BIN, "up", "--plan", PLAN, "--answers", "answers.yaml", "--non-interactive",
         "--parallelism", "16"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"up over {size} items failed ({done.returncode}): {done.stderr[-2000:]}")
    written = len(os.listdir(os.path.join(work, "out")))
    if written != size:
        sys.exit(f"up over {size} items wrote {written} files")
    return wall


def measure(size, scratch):
    """The best wall time of REPEAT runs over `size` items, printed."""
    walls = [run_once(size, scratch) for _ in range(REPEAT)]
    best = min(walls)
    print(f"  {size:>6} items: best {best:.2f} s of {REPEAT} "
          f"({', '.join(f'{w:.2f}' for w in walls)}), {best / size * 1000:.3f} ms/item")
    return best


def report(results):
    """Prints each bound's result; returns the names of the bounds missed."""
    missed = []
    sizes = sorted(results)
    smallest, largest = sizes[0], sizes[-1]
    if largest != smallest:
        ratio = (results[largest] / largest) / (results[smallest] / smallest)
        ok = ratio <= 1.5
        print(f"  [{'ok  ' if ok else 'MISS'}] time per item at {largest} / at {smallest}: "
              f"{ratio:.2f}   (bound: <= 1.5)")
        if not ok:
            missed.append("per-item ratio")
    if 10000 in results:
        ok = results[10000] < 10
        print(f"  [{'ok  ' if ok else 'MISS'}] 10000 items: {results[10000]:.2f} s   "
              f"(bound: < 10 s)")
        if not ok:
            missed.append("10,000 items under 10 s")
    return missed


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    base = os.environ.get("BENCH_DIR", os.path.join(ROOT, "target"))
    os.makedirs(base, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="twinup-bench-", dir=base)
    try:
        results = {size: measure(size, scratch) for size in sizes}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    missed = report(results)
    if missed:
        sys.exit("missed: " + ", ".join(missed))


if __name__ == "__main__":
    main()
