"""Integration test 1 of issue 3, the full QA loop with real processes:
HQ publishes a checklist; an inspector, offline, records an inspection of
SH001 with 3 findings and 4 photos; back online, HQ holds it with its
weighted score and every photo (byte-identical); the site's inbox shows
the same findings; the site plans and completes each with evidence; HQ
accepts two and reopens one, which the site plans and completes again;
HQ accepts it: every finding closed on both sides. Also: `qa import`, and a
site fetching a photo of its own inspection from HQ."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import qa_support as qa  # noqa: E402
from harness import check, check_eq  # noqa: E402

DUE = "2099-12-31"  # a plan's own target date, far enough to be valid whatever the clock


def record_offline_inspection(h, inspector):
    """3 findings, 4 photos, 3 scores; returns (id, {finding: [photo paths]})."""
    inspection = qa.qa_start(inspector, "SH001", "--type", "announced",
                             "--accompanied-by", "Li Wei (duty manager)")
    check(inspection.startswith("QA-SH001-"), "inspection id %r" % inspection)
    p1 = qa.photo(h, "floor1.png", 1)
    p2 = qa.photo(h, "floor2.png", 2)
    p3 = qa.write(os.path.join(h.root, "exit.jpg"), qa.jpeg_bytes(40000, seed=3))
    p4 = qa.photo(h, "desk.png", 4)
    f1 = qa.qa_finding(inspector, inspection, "hygiene", "major", "Bathroom floor wet in 1203",
                       item="HY-01", photos=[p1, p2])
    f2 = qa.qa_finding(inspector, inspection, "safety", "critical", "Fire exit B blocked by carts",
                       item="SF-01", photos=[p3])
    f3 = qa.qa_finding(inspector, inspection, "service", "minor", "Front desk greeting missing",
                       photos=[p4])
    check_eq([f1, f2, f3], ["%s-F%d" % (inspection, n) for n in (1, 2, 3)], "finding ids")
    qa.qa_score(inspector, inspection, "hygiene", 70)
    qa.qa_score(inspector, inspection, "safety", 60)
    qa.qa_score(inspector, inspection, "service", 95)
    return inspection, {f1: [p1, p2], f2: [p3], f3: [p4]}


def check_hq_inspection(shown, inspection, photos):
    check_eq(shown["id"], inspection, "id")
    check_eq(shown["site"], "SH001", "site")
    check_eq(shown["inspector"], qa.INSPECTOR, "inspector")
    check_eq(shown["type"], "announced", "type")
    # weights: hygiene 2+3, safety 4, service 2; hardware and conduct not inspected
    check_eq(shown["category_scores"], {"hygiene": 70, "safety": 60, "service": 95},
             "category_scores")
    check(abs(shown["overall_score"] - round((70 * 5 + 60 * 4 + 95 * 2) / 11, 1)) < 1e-9,
          "overall_score %r, want 70.9" % shown["overall_score"])
    check_eq([f["id"] for f in shown["findings"]], list(photos), "finding ids")
    expected = {"F1": ("hygiene", "major", "HY-01"), "F2": ("safety", "critical", "SF-01"),
                "F3": ("service", "minor", None)}
    for f in shown["findings"]:
        category, severity, item = expected[f["id"].rsplit("-", 1)[1]]
        check_eq((f["category"], f["severity"], f["item"]), (category, severity, item), f["id"])
        check_eq(f["state"], "open", f["id"] + " state")
        check_eq(f["overdue"], False, f["id"] + " overdue")
        check(f["due"] is not None, f["id"] + " has no due date")
        got = [(p["sha256"], p["size"]) for p in f["photos"]]
        want = [(qa.sha256_file(p), os.path.getsize(p)) for p in photos[f["id"]]]
        check_eq(got, want, f["id"] + " photos")


def plan_and_complete(h, site_agent, finding, n):
    out = site_agent.cli_json("rectify", "--finding", finding, "--action",
                              "Fix it (%d)" % n, "--owner", "Wang Fang", "--due", DUE)
    check_eq(out["record"], "rectification-plan/" + finding, "plan record id")
    evidence = qa.photo(h, "evidence-%d.png" % n, 100 + n)
    out = site_agent.cli_json("rectify", "--finding", finding, "--done", "--note",
                              "Done, see photo (%d)" % n, "--photo", evidence)
    check_eq(out["record"], "rectification-done/" + finding, "done record id")
    return evidence


def test_full_loop(h):
    hq, agents, inspector = qa.setup(h)
    site = agents["SH001"]
    inspector.stop()  # on site, offline
    inspection, photos = record_offline_inspection(h, inspector)
    submitted = qa.qa_submit(inspector, inspection)
    check_eq(submitted["photos"], 4, "photos submitted")
    check_eq(inspector.status()["pending"], 1, "inspection queued while offline")
    out = inspector.cli("qa", "finding", inspection, "--category", "hygiene", "--severity",
                        "minor", "--text", "one more", check_rc=False)
    check(out.returncode != 0 and "sealed" in out.stderr,
          "a finding added to a submitted inspection: %r" % out.stderr)

    inspector.start()  # back online
    shown = qa.wait_hq_inspection(h, hq, inspection, timeout=40, complete=True)
    check_hq_inspection(shown, inspection, photos)
    listed = hq.cli_json("qa", "list", "--site", "SH001")
    check_eq([i["id"] for i in listed], [inspection], "qa list")
    check_eq(listed[0]["photos_arrived"], 4, "photos arrived")
    out_path = os.path.join(h.root, "photo2.out")
    hq.cli("qa", "photo", inspection, "2", "--out", out_path)
    check_eq(qa.sha256_file(out_path), qa.sha256_file(photos[inspection + "-F1"][1]),
             "qa photo 2 bytes")

    # the site sees the same findings, deadlines and states
    for finding in photos:
        qa.wait_inbox_finding(h, site, finding, "open")
    box = qa.inbox(site)
    check_eq([i["id"] for i in box["inspections"]], [inspection], "inbox inspections")
    hq_due = {f["id"]: f["due"] for f in shown["findings"]}
    check_eq({f["id"]: f["due"] for f in box["findings"]}, hq_due, "inbox due dates")
    check_eq(box["findings"][0]["id"], inspection + "-F2", "most urgent (critical) first")
    check_eq(box["awaiting_plan"], 3, "awaiting a plan")

    # the site fetches a photo of its own inspection from HQ
    fetched = os.path.join(h.root, "fetched.jpg")
    site.cli("qa", "photo", inspection, "3", "--out", fetched, "--wait", "30")
    check_eq(qa.sha256_file(fetched), qa.sha256_file(photos[inspection + "-F2"][0]),
             "site's copy of photo 3")

    # plan and complete each finding, with evidence
    evidence = {}
    for n, finding in enumerate(photos, start=1):
        evidence[finding] = plan_and_complete(h, site, finding, n)
        check_eq(qa.wait_inbox_finding(h, site, finding)["state"], "done", "site state")
    for finding in photos:
        f = qa.wait_hq_state(h, hq, inspection, finding, "done")
        check_eq(f["plan"]["owner"], "Wang Fang", finding + " plan owner")

    def evidence_arrived():
        shown = qa.hq_show(hq, inspection)
        return all(f["done"]["complete"] for f in shown["findings"])
    h.wait_until(evidence_arrived, 40, "evidence photos at HQ")
    shown = qa.hq_show(hq, inspection)
    for f in shown["findings"]:
        check_eq([p["sha256"] for p in f["done"]["photos"]], [qa.sha256_file(evidence[f["id"]])],
                 f["id"] + " evidence")

    # HQ accepts two, reopens the third
    f1, f2, f3 = list(photos)
    hq.cli("rectification", "verify", "--finding", f1, "--accept", "--note", "Checked by call")
    hq.cli("rectification", "verify", "--finding", f2, "--accept", "--note", "Exit clear")
    out = hq.cli_json("rectification", "verify", "--finding", f3, "--reject", "--note",
                      "Greeting still missing on the night shift")
    check_eq(out["state"], "reopened", "rejected finding")
    again = hq.cli("rectification", "verify", "--finding", f1, "--accept", "--note", "x",
                   check_rc=False)
    check(again.returncode != 0 and "already verified" in again.stderr,
          "accepting twice: %r" % again.stderr)
    qa.wait_inbox_finding(h, site, f3, "reopened")
    qa.wait_inbox_finding(h, site, f1, "verified")

    # the site plans and completes it again: new revisions
    out = site.cli_json("rectify", "--finding", f3, "--action", "Retrain night shift",
                        "--owner", "Wang Fang", "--due", DUE, "--reason", "HQ reopened it")
    check_eq(out["revision"], 2, "re-plan revision")
    out = site.cli_json("rectify", "--finding", f3, "--done", "--note", "Night shift retrained")
    check_eq(out["revision"], 2, "re-done revision")
    qa.wait_hq_state(h, hq, inspection, f3, "done")
    hq.cli("rectification", "verify", "--finding", f3, "--accept", "--note", "Mystery call OK")

    # closed on both sides
    qa.wait_inbox_finding(h, site, f3, "verified")
    shown = qa.hq_show(hq, inspection)
    check_eq([f["state"] for f in shown["findings"]], ["verified"] * 3, "HQ states")
    check_eq(hq.cli_json("qa", "list", "--open"), [], "HQ open inspections")
    check_eq(qa.inbox(site)["findings"], [], "site's open findings")
    closed = qa.inbox(site, "--all")["findings"]
    check_eq(sorted((f["id"], f["state"]) for f in closed),
             [(f, "verified") for f in photos], "site: closed findings")
    check_eq(qa.refusals(site), {}, "site refusals")
    check_eq(qa.refusals(inspector), {}, "inspector refusals")


def test_import(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",))
    os.mkdir(os.path.join(h.root, "visit"))
    qa.write(os.path.join(h.root, "visit", "a.png"), qa.png_bytes(7))
    spec = {
        "site": "SH001", "type": "mystery",
        "scores": {"hygiene": 80, "conduct": 100},
        "findings": [
            {"category": "hygiene", "severity": "minor", "item": "HY-02",
             "text": "Stained pillowcase", "photos": ["a.png"]},
            {"category": "conduct", "severity": "major", "text": "Staff smoking at entrance"},
        ],
    }
    path = os.path.join(h.root, "visit", "inspection.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f)
    out = inspector.cli_json("qa", "import", path)
    inspection = out["id"]
    check(abs(out["overall_score"] - round((80 * 5 + 100 * 1) / 6, 1)) < 1e-9,
          "imported overall %r" % out["overall_score"])
    shown = qa.wait_hq_inspection(h, hq, inspection, complete=True)
    check_eq(shown["type"], "mystery", "type")
    check_eq([(f["category"], f["severity"], f["item"]) for f in shown["findings"]],
             [("hygiene", "minor", "HY-02"), ("conduct", "major", None)], "imported findings")
    bad = dict(spec, findings=[{"category": "hygiene", "severity": "minor", "item": "HY-99",
                                "text": "x"}])
    with open(path, "w", encoding="utf-8") as f:
        json.dump(bad, f)
    cp = inspector.cli("qa", "import", path, check_rc=False)
    check(cp.returncode != 0 and "HY-99" in cp.stderr, "unknown item imported: %r" % cp.stderr)


if __name__ == "__main__":
    harness.main([test_full_loop, test_import])
