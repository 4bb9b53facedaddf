"""Integration tests 2 and 4 (priority) of issue 3: photo uploads.

On loopback a 15 MiB photo uploads in a fraction of a second, too fast to
interrupt "at several points" by polling. So the agent is run in time
slices (SIGCONT for a few milliseconds, then SIGSTOP): it makes progress
only while the test lets it, which puts each interruption at a chosen
point of the upload whatever the machine's speed.

  2. A 15 MiB photo, interrupted by kill -9 of HQ and of the agent at
     several points, resumes without restarting from zero (all chunk bytes
     HQ received, resends included, < 2x the file) and arrives
     byte-identical.
  4. A sales report submitted 1 s into a 15 MiB upload is acknowledged
     before the upload ends (records go before photo chunks)."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import qa_support as qa  # noqa: E402
from harness import check, check_eq  # noqa: E402

MIB = 1024 * 1024
SIZE = 15 * MIB


class Slicer:
    """Runs an agent in slices; the agent is stopped between them."""

    def __init__(self, h, agent, run_s=0.004, gap_s=0.01):
        self.h = h
        self.agent = agent
        self.run_s = run_s    # the agent runs this long per slice
        self.gap_s = gap_s    # then HQ drains what is in flight and commits

    def stop(self):
        if self.agent.running():
            self.agent.proc.send_signal(signal.SIGSTOP)

    def cont(self):
        if self.agent.running():
            self.agent.proc.send_signal(signal.SIGCONT)

    def slice(self):
        self.cont()
        time.sleep(self.run_s)
        self.stop()
        time.sleep(self.gap_s)

    def restart(self):
        """kill -9, start again, stopped at once."""
        self.agent.kill9()
        self.agent.start()
        self.stop()

    def run_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                self.cont()
                raise harness.TestFailure("timed out after %d s waiting for %s\n%s" %
                                          (timeout, what, self.h.logs()))
            self.slice()


def received(hq, sha):
    row = qa.hq_photo_row(hq, sha)
    return (row[0], row[1]) if row else ("absent", 0)


def big_photo(h, name, seed):
    path = qa.write(os.path.join(h.root, name), qa.jpeg_bytes(SIZE, seed=seed))
    return path, qa.sha256_file(path)


def hq_rss_kib(hq):
    """VmHWM (peak resident set) of the HQ daemon, KiB."""
    with open("/proc/%d/status" % hq.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_resume_after_kill9(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",), checklist=False)
    slicer = Slicer(h, inspector)
    photo, sha = big_photo(h, "lobby.jpg", 11)
    inspection = qa.qa_start(inspector, "SH001")
    qa.qa_finding(inspector, inspection, "hardware", "major", "Lobby ceiling stain",
                  photos=[photo])
    slicer.stop()
    qa.qa_submit(inspector, inspection)
    points = [(3 * MIB, "hq"), (6 * MIB, "agent"), (9 * MIB, "hq"), (12 * MIB, "agent")]
    try:
        for target, victim in points:
            at = slicer.run_until(lambda: received(hq, sha)[1] >= target and received(hq, sha),
                                  40, "%d MiB at HQ" % (target // MIB))
            check(at[0] != "complete", "upload completed before the %s kill" % victim)
            if victim == "hq":
                hq.kill9()
                hq.start()
            else:
                slicer.restart()
    finally:
        slicer.cont()
    shown = qa.wait_hq_inspection(h, hq, inspection, timeout=40, complete=True)
    state, total = received(hq, sha)
    check_eq(state, "complete", "photo state")
    check(total < 2 * SIZE, "bytes HQ received %d: not < 2 x %d (restarted from zero?)" %
          (total, SIZE))
    out = os.path.join(h.root, "lobby.out")
    hq.cli("qa", "photo", inspection, "1", "--out", out)
    check_eq(qa.sha256_file(out), sha, "photo at HQ")
    check_eq(os.path.getsize(out), SIZE, "photo size")
    check_eq(shown["findings"][0]["photos"][0]["sha256"], sha, "photo reference")
    print("     15 MiB upload with 2 HQ and 2 agent kills: %d bytes received (%.2fx)" %
          (total, total / SIZE))


def test_records_before_photos(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",), checklist=False)
    site = agents["SH001"]
    inspection = qa.qa_start(inspector, "SH001")
    finding = qa.qa_finding(inspector, inspection, "hygiene", "minor", "Dusty shelves")
    qa.qa_submit(inspector, inspection)
    qa.wait_inbox_finding(h, site, finding, "open")
    site.cli("rectify", "--finding", finding, "--action", "Dust", "--owner", "Li",
             "--due", "2099-01-01")
    photo, sha = big_photo(h, "shelves.jpg", 12)
    # about 1 MiB per slice (the agent's window): 1 s of slices is ~5 MiB
    slicer = Slicer(h, site, run_s=0.002, gap_s=0.2)
    slicer.stop()
    try:
        rss_before = hq_rss_kib(hq)
        site.cli("rectify", "--finding", finding, "--done", "--note", "Dusted", "--photo", photo)
        # 1 s into the upload (in agent time slices), the site submits a sales report
        slicer.run_until(lambda: received(hq, sha)[1] > 0, 30, "the upload to start")
        started = time.monotonic()
        slicer.run_until(lambda: time.monotonic() - started >= 1.0, 30, "1 s of upload")
        before = received(hq, sha)
        check(before[0] != "complete", "the upload ended within 1 s of slices")
        # (the agent runs while the command writes: a stopped agent may hold the lock)
        slicer.cont()
        report = site.submit(harness.demo_report("SH001", "2026-01"))
        slicer.stop()

        def acknowledged():
            rows = site.query("SELECT state FROM outbox WHERE seq = ?", (report["seq"],))
            return rows and rows[0][0] == "acknowledged"
        slicer.run_until(acknowledged, 30, "the sales report's acknowledgement")
        at_ack = received(hq, sha)
        check(at_ack[0] != "complete" and at_ack[1] < SIZE,
              "the report was acknowledged only after the upload ended (%r)" % (at_ack,))
    finally:
        slicer.cont()

    def arrived():
        return received(hq, sha)[0] == "complete"
    h.wait_until(arrived, 40, "the evidence photo at HQ")
    check_eq(hq.reports("--site", "SH001")[0]["period"], "2026-01", "report at HQ")
    rss_after = hq_rss_kib(hq)
    print("     report submitted at %.1f MiB, acknowledged at %.1f of 15 MiB uploaded;"
          " HQ peak RSS %d -> %d KiB" % (before[1] / MIB, at_ack[1] / MIB, rss_before, rss_after))


if __name__ == "__main__":
    harness.main([test_resume_after_kill9, test_records_before_photos])
