"""Integration test 2 (issue 2), offline: records written at a site while HQ
is down (500 revisions through the normal outbox plus ordinary submits) all
reach HQ once HQ is up, exactly once and in order."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

SITE = "SH001"
BULK = 500


def check_hq_holds_outbox(hq, agent, total):
    """HQ holds seq 1..total of the agent exactly once, accepted, with the
    bytes the agent wrote (same SHA-256), received in sequence order."""
    rows = hq.query("SELECT seq, record_id, revision, sha256, status, received_at"
                    " FROM records WHERE agent = ? ORDER BY seq", (agent.id,))
    count, low, high, distinct = hq.query(
        "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM records"
        " WHERE agent = ?", (agent.id,))[0]
    check_eq((count, low, high, distinct), (total, 1, total, total),
             "HQ records of the agent (count, min, max, distinct seq)")
    check_eq([r[0] for r in rows], list(range(1, total + 1)), "HQ record seqs")
    bad = [(r[0], r[4]) for r in rows if r[4] != "accepted"]
    check_eq(bad, [], "records HQ did not accept")
    received = [r[5] for r in rows]
    out_of_order = [rows[i][0] for i in range(1, len(rows)) if received[i] < received[i - 1]]
    check_eq(out_of_order, [], "seqs received before their predecessor")
    outbox = agent.query("SELECT seq, record_id, revision, sha256 FROM outbox ORDER BY seq")
    check_eq([tuple(r[:4]) for r in rows], [tuple(r) for r in outbox],
             "HQ records versus the agent's outbox (seq, record_id, revision, sha256)")
    check_eq(agent.query("SELECT count(*) FROM outbox WHERE state != 'acknowledged'"),
             [(0,)], "outbox records not acknowledged")


def queue_offline_records(agent):
    """Three months, 500 revisions of a fourth, another month and a
    correction: returns how many records that makes."""
    for period in ("2026-01", "2026-02", "2026-03"):
        agent.submit(harness.demo_report(SITE, period))
    agent.bulk(BULK, harness.demo_report(SITE, "2026-04"))
    agent.submit(harness.demo_report(SITE, "2026-05"))
    out = agent.submit(harness.demo_report(SITE, "2026-01"), reason="late correction")
    check_eq(out["revision"], 2, "revision of the correction")
    total = 3 + BULK + 2
    check_eq(out["seq"], total, "seq of the last record")
    return total


def check_reports(hq):
    got = {r["period"]: (r["revision"], r["revisions"]) for r in hq.reports("--site", SITE)}
    check_eq(got, {"2026-01": (2, 2), "2026-02": (1, 1), "2026-03": (1, 1),
                   "2026-04": (BULK, BULK), "2026-05": (1, 1)}, "reports at HQ")
    check_eq(hq.query("SELECT count(*), min(revision), max(revision) FROM sales_reports"
                      " WHERE site = ? AND period = '2026-04'", (SITE,)),
             [(BULK, 1, BULK)], "revisions of 2026-04 at HQ")
    check_eq(hq.alarms(), [], "alarms")


def test_backlog_written_while_hq_down(h):
    hq = h.hq()
    hq.init()
    hq.add_demo_site(SITE)
    hq.start()
    agent = h.agent("site")
    agent.enroll(hq, hq.token(SITE))
    check_eq(hq.stop(), 0, "innsync-hq exit status on SIGTERM")

    agent.start()  # reconnecting, HQ is down
    total = queue_offline_records(agent)
    st = agent.status()
    check_eq((st["pending"], st["acknowledged"], st["refused"]), (total, 0, []),
             "status while HQ is down (pending, acknowledged, refused)")
    check(st["last_contact"] is None, "last_contact set before any contact: %r" %
          st["last_contact"])
    check(agent.running(), "the agent stopped while HQ was down:\n" + agent.log())

    hq.start()
    st = agent.wait_acknowledged(total, timeout=60)
    check_eq((st["pending"], st["acknowledged"], st["refused"]), (0, total, []),
             "status after HQ came back")
    check(st["last_contact"] is not None, "last_contact still null")
    check_hq_holds_outbox(hq, agent, total)
    check_reports(hq)
    check_eq(hq.agents()[agent.id]["acked_seq"], total, "HQ's acked_seq of the agent")


def test_hq_outage_after_contact(h):
    """The agent was in touch with HQ, HQ goes down, the site keeps writing
    (and its agent is restarted meanwhile), HQ comes back."""
    hq, agents = harness.setup_hq_with_agents(h, [SITE])
    agent = agents[SITE]
    agent.submit(harness.demo_report(SITE, "2026-01"))
    agent.wait_acknowledged(1)

    check_eq(hq.stop(), 0, "innsync-hq exit status on SIGTERM")
    agent.bulk(BULK, harness.demo_report(SITE, "2026-02"))
    check_eq(agent.stop(), 0, "innsync-branch exit status on SIGTERM")
    agent.submit(harness.demo_report(SITE, "2026-03"))
    agent.start()
    total = 1 + BULK + 1
    st = agent.status()
    check_eq((st["pending"], st["acknowledged"]), (BULK + 1, 1),
             "status while HQ is down (pending, acknowledged)")

    hq.start()
    agent.wait_acknowledged(total, timeout=60)
    check_hq_holds_outbox(hq, agent, total)
    got = {r["period"]: (r["revision"], r["revisions"]) for r in hq.reports("--site", SITE)}
    check_eq(got, {"2026-01": (1, 1), "2026-02": (BULK, BULK), "2026-03": (1, 1)},
             "reports at HQ")
    check_eq(hq.alarms(), [], "alarms")
    h.wait_until(lambda: hq.sites()[SITE]["backlog"] == 0, 30, "HQ to see no backlog")


if __name__ == "__main__":
    harness.main([test_backlog_written_while_hq_down, test_hq_outage_after_contact])
