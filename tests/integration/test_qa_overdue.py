"""Integration test 5 of issue 3, overdue findings: HQ gives each finding a
deadline by severity (configured here: critical 2 days, major 14, minor
30; plan 7) counted from when it received the inspection. With the clock
of the commands moved forward (INNSYNC_CLOCK_OFFSET), the findings past
their deadline are listed as overdue at HQ (`qa show`, `qa list`,
`rectification list --overdue`) and in the site's inbox, first; an open
finding is also overdue once the plan's due date passed; a done one never
is (it awaits HQ)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import qa_support as qa  # noqa: E402
from harness import check, check_eq  # noqa: E402

DAY = 86400


def at(days):
    return {"INNSYNC_CLOCK_OFFSET": str(int(days * DAY))}


def overdue_at_hq(hq, inspection, days):
    shown = qa.hq_show(hq, inspection, env=at(days))
    return {f["id"].rsplit("-", 1)[1] for f in shown["findings"] if f["overdue"]}


def overdue_at_site(site, days):
    box = qa.inbox(site, env=at(days))
    flags = [(f["id"].rsplit("-", 1)[1], f["overdue"]) for f in box["findings"]]
    late = [name for name, overdue in flags if overdue]
    # overdue items first
    check_eq([name for name, _ in flags[:len(late)]], late, "site inbox: overdue first")
    return set(late), box


def test_overdue(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",))
    settings = hq.cli_json("qa", "settings", "--critical-days", "2", "--plan-days", "7")
    check_eq((settings["plan_days"], settings["critical_days"], settings["major_days"],
              settings["minor_days"]), (7, 2, 14, 30), "settings")
    site = agents["SH001"]
    inspection = qa.qa_start(inspector, "SH001")
    f1 = qa.qa_finding(inspector, inspection, "safety", "critical", "Extinguisher missing")
    f2 = qa.qa_finding(inspector, inspection, "hygiene", "major", "Mould in shower")
    f3 = qa.qa_finding(inspector, inspection, "hardware", "minor", "Loose handle")
    f4 = qa.qa_finding(inspector, inspection, "conduct", "minor", "Name badge missing")
    qa.qa_submit(inspector, inspection)
    shown = qa.wait_hq_inspection(h, hq, inspection)
    check_eq(overdue_at_hq(hq, inspection, 0), set(), "nothing overdue today")

    # the site plans F2, F3 and F4 and completes F4; F1 stays open
    for f in (f2, f3, f4):
        qa.wait_inbox_finding(h, site, f, "open")
        site.cli("rectify", "--finding", f, "--action", "Repair", "--owner", "Chen",
                 "--due", "2099-01-01")
    site.cli("rectify", "--finding", f4, "--done", "--note", "Badge issued")
    qa.wait_hq_state(h, hq, inspection, f2, "planned")
    qa.wait_hq_state(h, hq, inspection, f4, "done")
    qa.wait_outbox_settled(h, site)

    expected = [
        (1, set()),                    # within every deadline
        (3, {"F1"}),                   # critical: 2 days
        (8, {"F1"}),                   # plan due (7 days): F1 open, others planned
        (15, {"F1", "F2"}),            # major: 14 days
        (31, {"F1", "F2", "F3"}),      # minor: 30 days; F4 is done, never overdue
    ]
    for days, late in expected:
        check_eq(overdue_at_hq(hq, inspection, days), late, "HQ overdue at +%d days" % days)
        site_late, box = overdue_at_site(site, days)
        check_eq(site_late, late, "site overdue at +%d days" % days)
        check_eq(box["overdue_findings"], len(late), "site overdue count at +%d days" % days)

    listed = hq.cli_json("qa", "list", env=at(15))
    check_eq(listed[0]["overdue_findings"], 2, "qa list overdue")
    late = hq.cli_json("rectification", "list", "--overdue", env=at(15))
    check_eq(sorted(f["id"] for f in late), sorted([f1, f2]), "rectification list --overdue")
    check_eq(late[0]["id"], f1, "earliest deadline first")

    # deadlines are counted from HQ's receipt, per severity
    due = {f["id"]: f["due"] for f in shown["findings"]}
    check_eq(due[f3], due[f4], "minor deadlines")
    check(due[f1] < due[f2] < due[f3], "critical < major < minor deadlines: %r" % due)

    # an open finding without a plan: overdue after the plan due date even when its own
    # deadline is later (minor, 30 days)
    inspection2 = qa.qa_start(inspector, "SH001")
    g1 = qa.qa_finding(inspector, inspection2, "service", "minor", "Slow check-in")
    qa.qa_submit(inspector, inspection2)
    qa.wait_hq_inspection(h, hq, inspection2)
    qa.wait_inbox_finding(h, site, g1, "open")
    check_eq(overdue_at_hq(hq, inspection2, 6), set(), "before the plan due date")
    check_eq(overdue_at_hq(hq, inspection2, 8), {"F1"}, "no plan after the plan due date")
    check_eq(overdue_at_site(site, 8)[0], {"F1"}, "site: no plan after the plan due date")


def test_reopened_deadline(h):
    """A reopened finding gets a new deadline, on both sides."""
    hq, agents, inspector = qa.setup(h, sites=("SH001",))
    site = agents["SH001"]
    inspection = qa.qa_start(inspector, "SH001")
    f1 = qa.qa_finding(inspector, inspection, "safety", "critical", "Smoke detector dead")
    qa.qa_submit(inspector, inspection)
    qa.wait_hq_inspection(h, hq, inspection)
    qa.wait_inbox_finding(h, site, f1, "open")
    site.cli("rectify", "--finding", f1, "--action", "Replace", "--owner", "Chen",
             "--due", "2099-01-01")
    site.cli("rectify", "--finding", f1, "--done", "--note", "Replaced")
    qa.wait_hq_state(h, hq, inspection, f1, "done")
    # HQ reopens it 10 days later: a new 3-day deadline from then
    out = hq.cli_json("rectification", "verify", "--finding", f1, "--reject", "--note",
                      "Still beeping", env=at(10))
    f = qa.wait_inbox_finding(h, site, f1, "reopened")
    check_eq(f["due"], out["due"], "site's new deadline")
    check_eq(qa.hq_show(hq, inspection)["findings"][0]["due"], out["due"], "HQ's new deadline")
    check_eq(overdue_at_hq(hq, inspection, 12), set(), "within the new deadline")
    check_eq(overdue_at_hq(hq, inspection, 14), {"F1"}, "past the new deadline")
    check_eq(overdue_at_site(site, 14)[0], {"F1"}, "site: past the new deadline")


if __name__ == "__main__":
    harness.main([test_overdue, test_reopened_deadline])
