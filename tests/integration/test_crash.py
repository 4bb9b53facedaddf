"""Integration test 3 (issue 2), crashes: 10,000 records are written at a
site while its agent uploads them; HQ is killed with SIGKILL five times at
random moments (and restarted each time), the agent twice. In the end HQ
holds exactly the 10,000 records: seq 1..10000, no gap, no duplicate, all
accepted, the bytes the agent signed, and no sequence-fork alarm.

The random schedule is printed; set INNSYNC_TEST_SEED to replay one."""

import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

SITE = "SH001"
PERIOD = "2026-06"
TOTAL = 10000
CHUNKS = 8          # the records are written by CHUNKS bulk commands
HQ_KILLS = 5
AGENT_KILLS = 2


class Writer(threading.Thread):
    """Writes TOTAL records with `debug bulk`, in CHUNKS commands spaced out
    at random, so that the upload goes on while processes are killed."""

    def __init__(self, agent, rng):
        super().__init__(daemon=True)
        self.agent = agent
        self.gaps = [rng.uniform(0.2, 0.9) for _ in range(CHUNKS)]
        self.error = None

    def run(self):
        try:
            for gap in self.gaps:
                time.sleep(gap)  # pacing only, nothing waits on it
                self.agent.bulk(TOTAL // CHUNKS, harness.demo_report(SITE, PERIOD))
        except BaseException as e:  # reported by the main thread
            self.error = e


def hq_acked(hq, agent_id):
    """How many records of the agent HQ has committed (read-only)."""
    return hq.query("SELECT count(*) FROM records WHERE agent = ?", (agent_id,))[0][0]


def test_kill9_during_upload(h):
    seed = int(os.environ.get("INNSYNC_TEST_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print("seed %d" % seed)
    hq, agents = harness.setup_hq_with_agents(h, [SITE])
    agent = agents[SITE]

    events = ["hq"] * HQ_KILLS + ["agent"] * AGENT_KILLS
    rng.shuffle(events)
    writer = Writer(agent, rng)
    writer.start()
    history = []
    held_at_start = 0
    t0 = time.monotonic()

    def progress():
        return (hq_acked(hq, agent.id), agent.query("SELECT count(*) FROM outbox")[0][0])

    def uploading(since):
        """True while HQ is committing the agent's records (it holds more
        than `since` but not all that was written)."""
        held, written = progress()
        if held >= TOTAL:
            return True  # all delivered: kill now, nothing to aim at
        return since < held < written or (held < written and since < 0)

    try:
        for event in events:
            time.sleep(rng.uniform(0.3, 1.2))  # a random moment, not a wait
            # Aim at an upload in progress; after 5 s, kill anyway.
            deadline = time.monotonic() + 5
            since = held_at_start if event == "hq" else -1
            while time.monotonic() < deadline and not uploading(since):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.05))
            held, written = progress()
            if event == "hq":
                hq.kill9()
                history.append(("hq", held, written, round(time.monotonic() - t0, 1)))
                time.sleep(rng.uniform(0.0, 0.3))  # down for a moment
                hq.start()
                held_at_start = hq_acked(hq, agent.id)
            else:
                agent.kill9()
                history.append(("agent", held, written, round(time.monotonic() - t0, 1)))
                agent.start()
    finally:
        writer.join(timeout=120)
    check(not writer.is_alive(), "debug bulk did not finish")
    if writer.error is not None:
        raise writer.error
    print("kills (process, records HQ held, records written, at s): %s" % history)
    midway = sum(1 for _, held, written, _ in history if held < written)
    print("%d of %d kills while records were on their way" % (midway, len(history)))

    st = agent.wait_acknowledged(TOTAL, timeout=120)
    print("all %d acknowledged after %.1f s" % (TOTAL, time.monotonic() - t0))
    check_eq((st["pending"], st["acknowledged"], st["refused"]), (0, TOTAL, []),
             "agent status (pending, acknowledged, refused)")
    check(hq.running() and agent.running(), "a daemon died:\n" + h.logs())

    count, low, high, distinct = hq.query(
        "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM records"
        " WHERE agent = ?", (agent.id,))[0]
    check_eq((count, low, high, distinct), (TOTAL, 1, TOTAL, TOTAL),
             "HQ records of the agent (count, min, max, distinct seq)")
    check_eq(hq.query("SELECT count(*) FROM records"), [(TOTAL,)], "all HQ records")
    check_eq(hq.query("SELECT status, count(*) FROM records GROUP BY status"),
             [("accepted", TOTAL)], "HQ record statuses")
    rows = hq.query("SELECT seq, record_id, revision, sha256 FROM records WHERE agent = ?"
                    " ORDER BY seq", (agent.id,))
    outbox = agent.query("SELECT seq, record_id, revision, sha256 FROM outbox ORDER BY seq")
    check(rows == [tuple(r) for r in outbox],
          "HQ's records differ from the agent's outbox (seq, record_id, revision, sha256)")
    check_eq(hq.query("SELECT count(*), count(DISTINCT revision), min(revision), max(revision)"
                      " FROM sales_reports WHERE site = ? AND period = ?", (SITE, PERIOD)),
             [(TOTAL, TOTAL, 1, TOTAL)], "sales_reports revisions")
    listed = hq.reports("--site", SITE, "--period", PERIOD)
    check_eq([(r["revision"], r["revisions"]) for r in listed], [(TOTAL, TOTAL)],
             "reports (revision, revisions)")
    check_eq(hq.alarms(), [], "alarms")
    check_eq(hq.query("PRAGMA integrity_check"), [("ok",)], "HQ store integrity")
    h.wait_until(lambda: hq.agents()[agent.id]["acked_seq"] == TOTAL, 30,
                 "HQ's agents to show acked_seq %d" % TOTAL)
    check(hq.stop() == 0, "innsync-hq did not stop cleanly on SIGTERM")
    check(agent.stop() == 0, "innsync-branch did not stop cleanly on SIGTERM")


if __name__ == "__main__":
    harness.main([test_kill9_during_upload])
