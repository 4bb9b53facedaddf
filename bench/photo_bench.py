#!/usr/bin/python3
"""bench/photo_bench.py: the photo-upload benchmark of issue 3 ("Performance").

Target: attachment upload throughput on loopback with CURVE of at least
50 MB/s for one agent, and HQ memory that stays flat (bounded by the chunk
window, not by the file size).

What it does, with the real programs (tests/integration/harness.py):
  1. a fresh temporary directory on a real disk (refused on tmpfs/ramfs);
     `innsync-hq init`, site SH001, `innsync-hq run` on two free loopback
     ports; the checklist published; one inspector agent enrolled
     (`token --inspector ... --sites SH001`, CURVE with HQ's key), started
     until it holds the checklist, then stopped;
  2. offline: `qa start`, one finding per photo (JPEG header FF D8 FF E0 +
     random bytes of the given size), a score, `qa submit`;
  3. HQ's resident memory is read and its peak (VmHWM) reset through
     /proc/PID/clear_refs, then the agent is started: that instant is t=0.
     Every 10 ms the bench reads HQ's attachments table (state,
     bytes_received, completed_at) and HQ's VmRSS, until every photo is
     'complete' (or the deadline);
  4. afterwards: HQ's peak RSS over the phase (VmHWM), `qa show --json`
     `complete`, and every photo written back with `innsync-hq qa photo ID
     N --out` and compared byte for byte with the original (and the blob
     file's size).

Figures (MB = 10^6 bytes):
  - per photo: transfer = its completed_at (HQ's clock, ms) minus the last
    poll at which HQ had none of its bytes (so a rate is never flattered by
    the 10 ms poll), and span = since the previous photo completed
    (includes the agent's offer round trip between photos);
  - overall: all bytes / (last completed_at - first byte), and also from the
    agent's start (includes the agent's start, CURVE handshake, the record
    and its ack, and the agent's 1 s photo-pick poll);
  - resend ratio: bytes_received (all chunk bytes HQ got, resends included)
    / size;
  - HQ memory: VmRSS before, VmRSS sampled during (max), peak (VmHWM) over
    the phase, growth = peak - RSS before;
  - machine: cores, /proc/loadavg, the CPU other processes used in the 1 s
    before t=0 (NOISY above 0.1 cores), and during the phase the CPU used by
    everything but HQ, the agent and this script (/proc/stat; this includes
    kernel work the uploads cause, such as writeback).

Verdict: throughput from the first byte >= 50 MB/s, and HQ's peak RSS
growth < 10% of the bytes uploaded (it would grow by the file sizes if HQ
held files in memory).

usage: bench/photo_bench.py [--hq PATH] [--branch PATH] [--sizes-mib LIST]
                            [--dir DIR] [--timeout S] [--keep] [--json]
Exit status: 0 every photo arrived byte-identical and both targets are met;
1 a target is missed; 2 bad command line; 3 the run failed (setup, a photo
missing or different, a process exited).
"""

import argparse
import filecmp
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402
import qa_support as qa  # noqa: E402

MIB = 1024 * 1024
MB = 1000 * 1000
POLL_S = 0.010
TARGET_MBPS = 50.0
MEMORY_FRACTION = 0.10          # peak growth must stay under this share of the bytes
AGENT_CHUNK_WINDOW = 1 * MIB    # branch/agent.c: photo bytes in flight beyond HQ's `have`
SITE = "SH001"
CATEGORIES = ("hygiene", "safety", "hardware", "service", "conduct")

out = sys.stdout  # human-readable lines (stderr with --json)


def say(line=""):
    print(line, file=out, flush=True)


class BenchFailure(Exception):
    pass


# -- command line -------------------------------------------------------------

def default_binary(name):
    for build in ("build-bench", "build"):
        path = os.path.join(REPO, build, name)
        if os.access(path, os.X_OK):
            return path
    return os.path.join(REPO, "build", name)


def parse_sizes(text):
    sizes = []
    for part in text.split(","):
        try:
            mib = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % part)
        size = int(mib * MIB)
        if size < 16 or size > 20 * MIB:
            raise argparse.ArgumentTypeError("photo size %s MiB: must be 16 bytes to 20 MiB"
                                             " (the agent's limit)" % part)
        sizes.append(size)
    if not sizes or len(sizes) > 16:
        raise argparse.ArgumentTypeError("1 to 16 sizes")
    return sizes


def parse_args():
    p = argparse.ArgumentParser(description="innsync photo-upload benchmark (issue 3)")
    p.add_argument("--hq", default=default_binary("innsync-hq"),
                   help="innsync-hq (default: build-bench/ or build/ under the repo)")
    p.add_argument("--branch", default=default_binary("innsync-branch"),
                   help="innsync-branch (default: build-bench/ or build/ under the repo)")
    p.add_argument("--sizes-mib", type=parse_sizes, default=parse_sizes("15,19,19,19,19,19"),
                   help="photo sizes in MiB, comma-separated (default 15,19,19,19,19,19)")
    p.add_argument("--dir", default=None,
                   help="where the temporary directory goes (default $TMPDIR or /tmp);"
                        " a real disk, not tmpfs")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="deadline for the uploads, seconds (default 120)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", action="store_true", help="JSON results on stdout")
    args = p.parse_args()
    for path in (args.hq, args.branch):
        if not os.access(path, os.X_OK):
            p.error("not an executable: %s" % path)
    return args


# -- /proc ----------------------------------------------------------------------

def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchFailure("no %s in /proc/%d/status" % (key, pid))


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux >= 4.0). False if refused."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def proc_cpu_s(pid):
    """utime + stime of a process (all threads), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s():
    """CPU seconds all cores spent busy so far (/proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def filesystem_of(path):
    """(mount point, type) of the filesystem holding path."""
    path = os.path.realpath(path)
    best = ("/", "?")
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1].replace("\\040", " ")
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                best = (mnt, parts[2])
    return best


def git_head():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


# -- the run ------------------------------------------------------------------

def setup(h, sizes):
    """HQ running, the inspector's agent enrolled with the checklist and
    stopped, an inspection with the photos submitted offline. Returns
    (hq, inspector, inspection, photos) with photos = [{path, size, sha256}]."""
    hq = h.hq()
    hq.init()
    hq.add_demo_site(SITE)
    hq.start()
    hq.cli("qa", "checklist", "set", qa.checklist_file(h))
    inspector = qa.enroll_inspector(h, hq, [SITE], start=True)
    qa.wait_checklist(h, inspector)
    check_stopped(inspector.stop(), inspector)

    seed_base = int.from_bytes(os.urandom(4), "big")
    photos = []
    for i, size in enumerate(sizes):
        path = qa.write(os.path.join(h.root, "photo-%d.jpg" % (i + 1)),
                        qa.jpeg_bytes(size, seed=seed_base + i))
        photos.append({"n": i + 1, "path": path, "size": size, "sha256": qa.sha256_file(path)})
    inspection = qa.qa_start(inspector, SITE)
    for i, photo in enumerate(photos):
        qa.qa_finding(inspector, inspection, CATEGORIES[i % len(CATEGORIES)], "major",
                      "Bench photo %d" % photo["n"], photos=[photo["path"]])
    qa.qa_score(inspector, inspection, "hygiene", 80)
    qa.qa_submit(inspector, inspection)
    return hq, inspector, inspection, photos


def check_stopped(code, daemon):
    if code not in (0, None):
        raise BenchFailure("%s stopped with status %s:\n%s" %
                           (daemon.label, code, harness.tail(daemon.log_path)))


def measure(h, hq, inspector, photos, timeout):
    """Starts the agent and polls HQ until every photo is complete."""
    hq_pid = hq.proc.pid
    by_sha = {bytes.fromhex(p["sha256"]): p for p in photos}
    for p in photos:
        p.update(last_empty=None, first_byte=None, complete_poll=None, completed_at_ms=None,
                 state="absent", bytes_received=0)

    # other load on the machine just before (nothing of ours busy: HQ idles)
    busy_a, hq_a, self_a, t_a = machine_busy_s(), proc_cpu_s(hq_pid), sum(os.times()[:4]), time.monotonic()
    time.sleep(1.0)
    background = max(0.0, (machine_busy_s() - busy_a - (proc_cpu_s(hq_pid) - hq_a)
                           - (sum(os.times()[:4]) - self_a)) / (time.monotonic() - t_a))
    rss_before = proc_status_kib(hq_pid, "VmRSS")
    hwm_before = proc_status_kib(hq_pid, "VmHWM")
    hwm_reset = reset_peak_rss(hq_pid)
    load_before = loadavg()
    hq_cpu0 = proc_cpu_s(hq_pid)
    busy0 = machine_busy_s()
    self0 = sum(os.times()[:4])

    db = sqlite3.connect("file:%s?mode=ro" % hq.db_path, uri=True, timeout=5)
    rss_samples = []
    polls = 0
    cpu_at_first = None  # (t, HQ cpu, agent cpu) at the first poll that saw photo bytes
    try:
        t0_wall = time.time()
        t0 = time.monotonic()
        inspector.start()
        agent_pid = inspector.proc.pid
        deadline = t0 + timeout
        next_tick = t0
        next_agent_check = t0 + 0.5
        while True:
            now = time.monotonic() - t0
            polls += 1
            try:
                rows = db.execute("SELECT sha256, state, bytes_received, completed_at"
                                  " FROM attachments").fetchall()
            except sqlite3.OperationalError:  # busy: try at the next tick
                rows = None
            if rows is not None:
                seen = {}
                for sha, state, received, completed_at in rows:
                    if sha in by_sha:
                        seen[sha] = (state, received, completed_at)
                for sha, p in by_sha.items():
                    state, received, completed_at = seen.get(sha, ("absent", 0, None))
                    p["state"], p["bytes_received"] = state, received
                    if received == 0:
                        p["last_empty"] = now
                    elif p["first_byte"] is None:
                        p["first_byte"] = now
                        if cpu_at_first is None:
                            cpu_at_first = (now, proc_cpu_s(hq_pid), proc_cpu_s(agent_pid))
                    if state == "complete" and p["complete_poll"] is None:
                        p["complete_poll"] = now
                        p["completed_at_ms"] = completed_at
            try:
                rss_samples.append(proc_status_kib(hq_pid, "VmRSS"))
            except (OSError, BenchFailure):
                pass
            if all(p["complete_poll"] is not None for p in photos):
                break
            if not hq.running():
                raise BenchFailure("innsync-hq exited during the uploads:\n%s" %
                                   harness.tail(hq.log_path))
            if not inspector.running():
                raise BenchFailure("the agent exited during the uploads:\n%s" %
                                   harness.tail(inspector.log_path))
            if time.monotonic() >= next_agent_check:
                next_agent_check += 0.5
                failed = inspector.query("SELECT error FROM attachments WHERE state = 'failed'")
                if failed:
                    raise BenchFailure("the agent gave up a photo: %r" % (failed,))
            if time.monotonic() >= deadline:
                raise BenchFailure("timed out after %.0f s: %s\n%s" % (
                    timeout, ", ".join("photo %d %s %d/%d" % (p["n"], p["state"],
                                                             p["bytes_received"], p["size"])
                                       for p in photos), h.logs()))
            next_tick += POLL_S
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_tick = time.monotonic()
        t_end = time.monotonic() - t0
        hq_cpu_end = proc_cpu_s(hq_pid)
        hq_cpu = hq_cpu_end - hq_cpu0
        agent_cpu = proc_cpu_s(agent_pid)  # the agent started at t0
        if cpu_at_first is not None and t_end > cpu_at_first[0]:
            window = t_end - cpu_at_first[0]
            transfer_cpu = {"window_s": window,
                            "hq_cores": (hq_cpu_end - cpu_at_first[1]) / window,
                            "agent_cores": (agent_cpu - cpu_at_first[2]) / window}
        else:
            transfer_cpu = None
        busy = machine_busy_s() - busy0
        self_cpu = sum(os.times()[:4]) - self0
        hwm_after = proc_status_kib(hq_pid, "VmHWM")
        rss_after = proc_status_kib(hq_pid, "VmRSS")
    finally:
        db.close()
    # final bytes_received (resends counted until completion)
    for sha, p in by_sha.items():
        p["bytes_received"] = hq.query("SELECT bytes_received FROM attachments WHERE sha256 = ?",
                                       (sha,))[0][0]
    return {
        "t0_wall": t0_wall, "elapsed_s": t_end, "polls": polls,
        "hq_cpu_s": hq_cpu, "agent_cpu_s": agent_cpu, "bench_cpu_s": self_cpu,
        "transfer_cpu": transfer_cpu,
        "other_cores_before": background,
        "other_cores": max(0.0, (busy - hq_cpu - agent_cpu - self_cpu) / t_end),
        "loadavg_before": load_before, "loadavg_after": loadavg(),
        "rss_before_kib": rss_before, "hwm_since_start_kib": hwm_before, "hwm_reset": hwm_reset,
        "rss_max_sampled_kib": max(rss_samples) if rss_samples else None,
        "rss_min_sampled_kib": min(rss_samples) if rss_samples else None,
        "rss_samples": len(rss_samples),
        "hwm_after_kib": hwm_after, "rss_after_kib": rss_after,
    }


def verify(h, hq, inspection, photos):
    """qa show complete; every photo written back by HQ equals the original."""
    shown = qa.hq_show(hq, inspection)
    problems = []
    if shown.get("complete") is not True:
        problems.append("qa show: complete is %r" % shown.get("complete"))
    refs = [ph for f in shown["findings"] for ph in f["photos"]]
    for p in photos:
        ref = next((r for r in refs if r["sha256"] == p["sha256"]), None)
        if ref is None or ref["size"] != p["size"]:
            problems.append("photo %d: qa show has %r" % (p["n"], ref))
        outp = os.path.join(h.root, "out-%d.jpg" % p["n"])
        cp = hq.cli("qa", "photo", inspection, str(ref["n"] if ref else p["n"]), "--out", outp,
                    check_rc=False)
        if cp.returncode != 0:
            problems.append("photo %d: qa photo failed: %s" % (p["n"], cp.stderr.strip()))
            p["identical"] = False
            continue
        p["identical"] = filecmp.cmp(p["path"], outp, shallow=False)
        if not p["identical"]:
            problems.append("photo %d: HQ's copy differs from the original" % p["n"])
        os.unlink(outp)
        blob = qa.blob_path(hq.data, p["sha256"])
        if not os.path.isfile(blob) or os.path.getsize(blob) != p["size"]:
            problems.append("photo %d: blob %s missing or of the wrong size" % (p["n"], blob))
    return problems


def figures(m, photos):
    """Throughput figures from the polls and HQ's completed_at."""
    t0_wall = m["t0_wall"]
    for p in photos:
        end = p["completed_at_ms"] / 1000.0 - t0_wall if p["completed_at_ms"] else p["complete_poll"]
        start = p["last_empty"] if p["last_empty"] is not None else 0.0
        p["start_s"] = start
        p["end_s"] = end
        p["transfer_s"] = end - start
        p["transfer_mbps"] = p["size"] / MB / p["transfer_s"] if p["transfer_s"] > 0 else None
        p["resend_ratio"] = p["bytes_received"] / p["size"]
    # the agent uploads one photo at a time, in its own order (record, then
    # SHA-256), not the findings' order: spans follow the order of completion
    prev_end = None
    for p in sorted(photos, key=lambda p: p["end_s"]):
        p["span_s"] = (p["end_s"] - prev_end) if prev_end is not None else p["transfer_s"]
        prev_end = p["end_s"]
    total = sum(p["size"] for p in photos)
    first = min(p["start_s"] for p in photos)
    last = max(p["end_s"] for p in photos)
    received = sum(p["bytes_received"] for p in photos)
    growth_kib = (m["hwm_after_kib"] if m["hwm_reset"] else
                  max(m["hwm_after_kib"], m["rss_max_sampled_kib"] or 0)) - m["rss_before_kib"]
    return {
        "photos": len(photos), "bytes": total,
        "first_byte_s": first, "last_complete_s": last,
        "mbps_from_first_byte": total / MB / (last - first),
        "mbps_from_agent_start": total / MB / last,
        "resend_ratio": received / total,
        "hq_peak_growth_kib": growth_kib,
        "hq_peak_growth_share": growth_kib * 1024 / total,
    }


def report(args, env, m, f, photos, problems):
    mib = lambda kib: kib / 1024.0  # noqa: E731
    say("photos: %d, %.1f MiB in all (%s MiB)" % (
        f["photos"], f["bytes"] / MIB, ",".join("%g" % (p["size"] / MIB) for p in photos)))
    say("agent started at t=0; HQ got the first photo byte at %.3f s; last photo complete"
        " at %.3f s" % (f["first_byte_s"], f["last_complete_s"]))
    say("photos in upload order (photo n = finding n; start = last poll with none of its"
        " bytes at HQ; end = HQ's completed_at):")
    for p in sorted(photos, key=lambda p: p["end_s"]):
        say("  photo %d  %5.1f MiB  %.3f -> %.3f s  transfer %.3f s  %6.1f MB/s"
            "  (%.3f s since the previous)  received %.2fx  %s" % (
                p["n"], p["size"] / MIB, p["start_s"], p["end_s"], p["transfer_s"],
                p["transfer_mbps"] or 0, p["span_s"], p["resend_ratio"],
                "byte-identical" if p.get("identical") else "DIFFERS"))
    say("throughput, first byte -> last complete: %.1f MB/s (%.1f MiB/s)" % (
        f["mbps_from_first_byte"], f["mbps_from_first_byte"] * MB / MIB))
    say("throughput, agent start -> last complete: %.1f MB/s" % f["mbps_from_agent_start"])
    say("bytes HQ received / bytes of the photos: %.3fx" % f["resend_ratio"])
    say("HQ RSS: before %.1f MiB (peak since start %.1f MiB); during: max sampled %.1f MiB"
        " (%d samples); peak over the uploads (VmHWM%s) %.1f MiB; after %.1f MiB" % (
            mib(m["rss_before_kib"]), mib(m["hwm_since_start_kib"]),
            mib(m["rss_max_sampled_kib"] or 0), m["rss_samples"],
            ", reset at t=0" if m["hwm_reset"] else ", NOT reset: peak since start",
            mib(m["hwm_after_kib"]), mib(m["rss_after_kib"])))
    say("HQ peak growth: %.2f MiB for %.1f MiB uploaded (%.1f%%; agent chunk window %d MiB)" % (
        mib(f["hq_peak_growth_kib"]), f["bytes"] / MIB, 100 * f["hq_peak_growth_share"],
        AGENT_CHUNK_WINDOW // MIB))
    say("CPU over %.2f s: HQ %.2f s (%.2f cores), agent %.2f s, bench %.2f s; everything else"
        " (other processes, and kernel work such as writeback) %.2f cores; in the 1 s before"
        " t=0 other processes used %.2f cores%s" % (
            m["elapsed_s"], m["hq_cpu_s"], m["hq_cpu_s"] / m["elapsed_s"], m["agent_cpu_s"],
            m["bench_cpu_s"], m["other_cores"], m["other_cores_before"],
            "  NOISY" if m["other_cores_before"] > 0.1 else ""))
    if m["transfer_cpu"]:
        say("CPU while photos moved (%.2f s from the first poll that saw bytes): HQ %.2f cores,"
            " agent %.2f cores" % (m["transfer_cpu"]["window_s"], m["transfer_cpu"]["hq_cores"],
                                   m["transfer_cpu"]["agent_cores"]))
    say("machine: %d cores, loadavg %s before, %s after; store on %s (%s)" % (
        env["cores"], m["loadavg_before"], m["loadavg_after"], env["fs_mount"], env["fs_type"]))
    for problem in problems:
        say("PROBLEM: %s" % problem)
    speed_ok = f["mbps_from_first_byte"] >= TARGET_MBPS
    memory_ok = f["hq_peak_growth_share"] < MEMORY_FRACTION
    say("verdict: throughput %.1f MB/s %s %g MB/s: %s; HQ peak growth %.2f MiB %s %d%% of"
        " %.1f MiB: %s; photos byte-identical: %s" % (
            f["mbps_from_first_byte"], ">=" if speed_ok else "<", TARGET_MBPS,
            "PASS" if speed_ok else "FAIL", mib(f["hq_peak_growth_kib"]),
            "<" if memory_ok else ">=", int(MEMORY_FRACTION * 100), f["bytes"] / MIB,
            "PASS" if memory_ok else "FAIL", "yes" if not problems else "NO"))
    return speed_ok, memory_ok


def main():
    global out
    args = parse_args()
    if args.json:
        out = sys.stderr
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
        tempfile.tempdir = os.path.abspath(args.dir)
    fs_mount, fs_type = filesystem_of(tempfile.gettempdir())
    if fs_type in ("tmpfs", "ramfs"):
        print("%s is on %s: fsync would cost nothing; use --dir on a real disk" %
              (tempfile.gettempdir(), fs_type), file=sys.stderr)
        sys.exit(2)

    def on_term(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)

    env = {"hq": os.path.abspath(args.hq), "branch": os.path.abspath(args.branch),
           "hq_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(args.hq))),
           "repo_head": git_head(), "cores": os.cpu_count(), "fs_mount": fs_mount,
           "fs_type": fs_type, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    if args.keep:
        os.environ["INNSYNC_KEEP_TMP"] = "1"
    h = harness.Harness(env["hq"], env["branch"], "photo-bench")
    say("innsync photo-upload benchmark (issue 3): one inspector agent, loopback, CURVE")
    say("hq %s (built %s), repo %s, %s" % (env["hq"], env["hq_mtime"], env["repo_head"],
                                             env["date"]))
    say("store: %s (%s)" % (h.root, fs_type))
    status = 3
    result = {"env": env}
    try:
        hq, inspector, inspection, photos = setup(h, args.sizes_mib)
        say("inspection %s submitted offline with %d photos; starting the agent" %
            (inspection, len(photos)))
        m = measure(h, hq, inspector, photos, args.timeout)
        problems = verify(h, hq, inspection, photos)
        f = figures(m, photos)
        speed_ok, memory_ok = report(args, env, m, f, photos, problems)
        status = 3 if problems else (0 if speed_ok and memory_ok else 1)
        result.update(
            measure=m, summary=f, problems=problems,
            verdict={"throughput_ok": speed_ok, "memory_ok": memory_ok,
                     "identical": not problems},
            photos=[{k: p[k] for k in ("n", "size", "sha256", "start_s", "end_s", "transfer_s",
                                       "transfer_mbps", "span_s", "bytes_received",
                                       "resend_ratio", "identical")} for p in photos])
    except (BenchFailure, harness.TestFailure) as e:
        say("FAILED: %s" % e)
        result["error"] = str(e)
    except Exception as e:  # noqa: BLE001 (report, stop the processes, exit 3)
        traceback.print_exc(file=out)
        result["error"] = repr(e)
    finally:
        h.close()
    result["exit_status"] = status
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    sys.exit(status)


if __name__ == "__main__":
    main()
