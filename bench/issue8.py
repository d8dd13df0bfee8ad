#!/usr/bin/env python3
"""The performance benchmarks of issue 8 against the twinup emulator, driving the release binary.

  python3 bench/issue8.py [critical|economy|overhead|fleet ...]   (default: all four)

Environment: BENCH_SCALE (time scale of benchmarks 1-2, default 1 = realistic durations),
BENCH_FLEET_SCALE (default 0.1), BENCH_FLEET_SIZE (default 200), TWINUP (binary path,
default target/release/twinup). Each figure is printed next to its bound; the exit code is 1
when a bound is missed. Standard library only.
"""

import json
import math
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TWINUP", os.path.join(ROOT, "target", "release", "twinup"))
ANSWERS = os.path.join(ROOT, "plans", "examples", "answers.yaml")
FLEET = os.path.join(ROOT, "plans", "examples", "fleet.yaml")
MISSED = []


def report(name, value, bound, ok, note=""):
    mark = "ok  " if ok else "MISS"
    print(f"  [{mark}] {name}: {value}   (bound: {bound}){'  ' + note if note else ''}")
    if not ok:
        MISSED.append(name)


class Emulator:
    """`twinup emulator --tls` as a process, with its admin API."""

    def __init__(self, directory, scale):
        self.proc = subprocess.Popen(
            [BIN, "emulator", "--port", "0", "--tls", "--time-scale", str(scale),
             "--state", os.path.join(directory, "emulator.json")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.url = self.info["url"]
        self.ssl = ssl.create_default_context(cafile=self.info["ca_cert"])

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type": "application/json",
                                              "x-twinup-admin-token": self.info["admin_token"]})
        with urllib.request.urlopen(req, context=self.ssl) as resp:
            text = resp.read()
        return json.loads(text) if text.strip() else None

    def requests(self):
        return self.admin("GET", "/_emulator/requests")["requests"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def up(self, checkpoint, *extra, plan=None):
        """Runs `twinup up` against this emulator; returns (exit code, wall s, peak RSS MiB)."""
        env = dict(os.environ, AZURE_TENANT_ID=self.info["tenant_id"],
                   AZURE_CLIENT_ID=self.info["client_id"],
                   AZURE_CLIENT_SECRET=self.info["client_secret"],
                   SSL_CERT_FILE=self.info["ca_cert"])
        args = [BIN, "up", "--cloud", "custom", "--authority-host", self.url, "--arm-endpoint",
                self.url, "--graph-endpoint", self.url, "--non-interactive", "--output", "json",
                "--checkpoint", checkpoint]
        if plan:
            args += ["--plan", plan]
        return run_timed(args + list(extra), env=env, cwd=os.path.dirname(checkpoint))


def run_timed(args, env=None, cwd=None, kill_after=None):
    """Runs a command; returns (exit code, wall seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return code, wall, usage.ru_maxrss / 1024.0


def is_write(r):
    m, route = r["method"], r["route"]
    if m in ("PUT", "PATCH", "DELETE"):
        return True
    return m == "POST" and "oauth2" not in route and "checkNameAvailability" not in route


def kinds(log):
    counts = {}
    for r in log:
        key = f'{r["method"]} {r["route"]}'
        counts[key] = counts.get(key, 0) + 1
    return counts


def ts(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def critical_path(emulator):
    """The longest chain of the emulator's own operation durations for the built-in plan:
    resource group -> instance (its long-running operation) -> role assignment; the app branch
    (manifest -> app registration) has no long-running operation. Synchronous requests count
    as the time the emulator took to answer them (a few ms), taken as zero."""
    state = emulator.admin("GET", "/_emulator/state")
    ops = [o for o in state["operations"].values() if o["kind"] == "DigitalTwinsCreate"]
    return max(ts(o["ends"]) - ts(o["started"]) for o in ops), ops


def bench_critical(scale):
    print(f"1. critical path (built-in plan, --time-scale {scale})")
    results = {}
    for parallelism in (4, 1):
        with tempfile.TemporaryDirectory() as d:
            emu = Emulator(d, scale)
            code, wall, rss = emu.up(os.path.join(d, "checkpoint.json"), "--answers", ANSWERS,
                                     "--parallelism", str(parallelism))
            cp, _ = critical_path(emu)
            results[parallelism] = (code, wall, cp, rss, emu.requests())
            if parallelism == 4:
                emu.admin("DELETE", "/_emulator/requests")
                code2, wall2, rss2 = emu.up(os.path.join(d, "checkpoint.json"), "--answers",
                                            ANSWERS)
                results["noop"] = (code2, wall2, rss2, emu.requests())
            emu.stop()
    code, wall, cp, rss, _ = results[4]
    report("clean run exit code", code, "0", code == 0)
    report("wall / critical path", f"{wall / cp:.3f} ({wall:.2f} s / {cp:.2f} s)", "<= 1.05",
           wall / cp <= 1.05)
    code1, wall1, cp1, _, _ = results[1]
    report("--parallelism 1: wall / critical path", f"{wall1 / cp1:.3f} ({wall1:.2f} s)",
           "reported", code1 == 0)
    report("parallel wall / one-after-another wall", f"{wall / wall1:.3f}", "reported", True)
    report("peak memory of a clean run", f"{rss:.1f} MiB", "reported", True)
    return results, scale


def bench_economy(results, scale):
    print(f"2. request economy (built-in plan, --time-scale {scale})")
    _, _, cp, _, log = results[4]
    for key, n in sorted(kinds(log).items()):
        print(f"       clean  {n:3d}  {key}")
    retry_after = 10.0 * scale  # the emulator's Retry-After for Digital Twins (10 s real)
    polls = sum(1 for r in log if "operationStatuses" in r["route"])
    bound = math.ceil(cp / retry_after) + 1
    report("instance LRO status polls", f"{polls} (+1 read of the instance when done)",
           f"<= ceil({cp:.1f}/{retry_after:g})+1 = {bound}", polls <= bound)
    tokens = sum(1 for r in log if "oauth2" in r["route"])
    report("token requests, clean run", tokens, "<= 2 (one per audience: ARM, Graph)",
           tokens <= 2)
    code, _, _, noop = results["noop"]
    for key, n in sorted(kinds(noop).items()):
        print(f"       no-op  {n:3d}  {key}")
    writes = [r for r in noop if is_write(r)]
    reads = [r for r in noop if r["method"] == "GET"]
    steps = 5
    report("no-op rerun writes", len(writes), "0", code == 0 and not writes)
    report("no-op rerun reads", len(reads), f"<= {steps} (one per step)", len(reads) <= steps)
    tokens = sum(1 for r in noop if "oauth2" in r["route"])
    report("token requests, no-op rerun", tokens, "<= 2", tokens <= 2)


def bench_overhead():
    print("3. overhead")
    for name, args, runs in (("twinup --version", [BIN, "--version"], 50),
                             ("twinup plan", [BIN, "plan"], 30)):
        with tempfile.TemporaryDirectory() as d:
            walls = [run_timed(args, cwd=d)[1] * 1000 for _ in range(runs)]
        report(f"{name} wall", f"min {min(walls):.1f} ms, median {statistics.median(walls):.1f} ms"
               f" over {runs} runs", "reported", True)
    with tempfile.TemporaryDirectory() as d:
        args = [BIN, "up", "--cloud", "local", "--answers", ANSWERS, "--non-interactive"]
        code, wall, rss = run_timed(args, cwd=d)
        report("local clean run (in-process emulator, scale 0.01)",
               f"exit {code}, {wall:.2f} s, peak {rss:.1f} MiB", "reported", code == 0)
        walls, peaks = [], []
        for _ in range(20):
            c, w, r = run_timed(args, cwd=d)
            walls.append(w * 1000)
            peaks.append(r)
        med = statistics.median(walls)
        report("no-op rerun, --cloud local, end to end",
               f"min {min(walls):.1f} ms, median {med:.1f} ms over 20 runs", "< 100 ms", med < 100)
        report("peak memory of a no-op rerun", f"{max(peaks):.1f} MiB", "reported", True)


def bench_fleet(scale, size):
    print(f"4. fleet ({size} instances + role assignments, ARM throttling on, --time-scale {scale})")
    customers = {f"c{i:03d}": {"location": "westus2"} for i in range(size)}
    runs = {}
    for mode in ("clean", "killed"):
        with tempfile.TemporaryDirectory() as d:
            answers = os.path.join(d, "answers.yaml")
            with open(answers, "w") as f:
                f.write("customers: " + json.dumps(customers) + "\n")
            emu = Emulator(d, scale)
            emu.admin("POST", "/_emulator/throttling", {"enabled": True})
            checkpoint = os.path.join(d, "checkpoint.json")
            extra = ("--answers", answers, "--parallelism", "64")
            if mode == "clean":
                runs[mode] = emu.up(checkpoint, *extra, plan=FLEET) + (emu.requests(),)
            else:
                env_kill = runs["clean"][1] / 2
                first = run_kill(emu, checkpoint, extra, env_kill)
                second = emu.up(checkpoint, *extra, plan=FLEET)
                state = emu.admin("GET", "/_emulator/state")
                with open(checkpoint) as f:
                    cp = json.load(f)
                runs[mode] = (first, second, state, cp, emu.requests())
            emu.stop()
    code, wall, rss, log = runs["clean"]
    failed = sum(1 for r in log if r["status"] >= 400 and r["status"] != 404)
    sent = [r for r in log if r["status"] != 429]
    arm = [r for r in sent if r["route"].startswith("/subscriptions")]
    writes = sum(1 for r in arm if r["method"] in ("PUT", "POST", "PATCH"))
    reads = sum(1 for r in arm if r["method"] in ("GET", "HEAD"))
    bound_w = max(0.0, (writes - 200) / 10.0)
    bound_r = max(0.0, (reads - 250) / 25.0)
    lower = max(bound_w, bound_r)
    deploy_writes = sum(1 for r in arm if r["method"] == "PUT")
    print(f"       ARM requests answered: {writes} writes (of them {deploy_writes} PUTs), {reads} reads;"
          f" 429s: {sum(1 for r in log if r['status'] == 429)}")
    report("fleet exit code / failed requests", f"{code} / {failed}", "0 / 0",
           code == 0 and failed == 0)
    report("fleet wall / token-bucket lower bound",
           f"{wall / lower:.3f} ({wall:.1f} s / {lower:.1f} s; writes bound {bound_w:.1f} s, reads bound {bound_r:.1f} s)",
           "<= 1.15", wall / lower <= 1.15)
    # The fewest writes the plan needs while keeping preflight (every instance name checked
    # before the first write): 1 group PUT + per customer a name check, an instance PUT and a
    # role assignment PUT. The reads it needs (status polls, one read of each finished
    # instance) stay under the read bucket's bound, so the writes decide.
    minimal_w = 1 + 3 * size
    bound_min = max(0.0, (minimal_w - 200) / 10.0)
    report("fleet wall / lower bound of the minimal requests",
           f"{wall / bound_min:.3f} ({minimal_w} writes -> {bound_min:.1f} s)", "reported", True)
    report("fleet wall / lower bound of the deployment's PUTs alone (no preflight)",
           f"{wall / max(0.001, (deploy_writes - 200) / 10.0):.3f}", "reported", True)
    report("fleet peak memory", f"{rss:.1f} MiB", "< 100 MiB", rss < 100)
    first, second, state, cp, log2 = runs["killed"]
    done = sum(1 for s in cp["steps"].values() if s["state"] == "succeeded")
    instances = len(state["digital_twins"])
    puts = sum(1 for r in log2 if r["method"] == "PUT" and r["route"].endswith("digitalTwinsInstances/{}"))
    report("kill mid-fleet then rerun",
           f"killed at {first[1]:.1f} s; rerun exit {second[0]} in {second[1]:.1f} s; {done} steps"
           f" succeeded; {instances} instances; {puts} instance PUTs in both runs",
           f"exit 0, {2 * size + 1} steps, {size} instances, {size} PUTs",
           second[0] == 0 and done == 2 * size + 1 and instances == size and puts == size)


def run_kill(emu, checkpoint, extra, after):
    env = dict(os.environ, AZURE_TENANT_ID=emu.info["tenant_id"],
               AZURE_CLIENT_ID=emu.info["client_id"], AZURE_CLIENT_SECRET=emu.info["client_secret"],
               SSL_CERT_FILE=emu.info["ca_cert"])
    args = [BIN, "up", "--cloud", "custom", "--authority-host", emu.url, "--arm-endpoint",
            emu.url, "--graph-endpoint", emu.url, "--non-interactive", "--output", "json",
            "--checkpoint", checkpoint, "--plan", FLEET] + list(extra)
    return run_timed(args, env=env, cwd=os.path.dirname(checkpoint), kill_after=after)


def main():
    which = sys.argv[1:] or ["critical", "economy", "overhead", "fleet"]
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found; build it with `cargo build --release -p twinup`")
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    print(f"twinup issue-8 benchmarks, {BIN}, {os.cpu_count()} cores")
    if "critical" in which or "economy" in which:
        results, s = bench_critical(scale)
        if "economy" in which:
            bench_economy(results, s)
    if "overhead" in which:
        bench_overhead()
    if "fleet" in which:
        bench_fleet(float(os.environ.get("BENCH_FLEET_SCALE", "0.1")),
                    int(os.environ.get("BENCH_FLEET_SIZE", "200")))
    if MISSED:
        print("bounds missed: " + ", ".join(MISSED))
        sys.exit(1)
    print("all bounds met")


if __name__ == "__main__":
    main()
