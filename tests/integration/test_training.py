"""Integration test of training plans (issue 4, "Must show" 1 and part of 5):
a plan published to all franchised stores reaches the 3 franchised sites of
5, then a 6th franchised site enrolled a day later; a revision (moved dates,
a cancelled course) reaches all of them and they see what changed; results
uploaded from a spreadsheet's CSV (and from JSON) appear in `training
status`, and the trainer course gives the site's certification. Bad result
files are refused at the site naming the line, and nothing is stored."""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402
import feedback_support as fs  # noqa: E402

PLAN = "TP-2027-Q1"
SITES = [
    ("F1", "franchise", "east", "classic"),
    ("F2", "franchise", "southwest", "premium"),
    ("F3", "franchise", "north", "classic"),
    ("M1", "managed", "east", "classic"),
    ("B1", "member", "east", "select"),
]
FRANCHISED = ["F1", "F2", "F3"]
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def plan(courses=None):
    return {
        "id": PLAN,
        "title": "Q1 front office and trainer programme",
        "audience": {"kinds": ["franchise"]},
        "courses": courses if courses is not None else [
            {"code": "FD-101", "title": "Front desk basics", "role": "front_desk",
             "level": "basic", "mode": "onsite", "start": day(-12), "end": day(-10),
             "hours": 16, "trainer": "Li Na", "pass_mark": 60},
            {"code": "TR-201", "title": "Site trainer certification", "role": "trainer",
             "level": "advanced", "mode": "hq", "start": day(-6), "end": day(-5),
             "hours": 12, "trainer": "Wang Fang", "pass_mark": 70},
            {"code": "HK-101", "title": "Housekeeping standards", "role": "housekeeping",
             "level": "basic", "mode": "online", "start": day(30), "end": day(32),
             "hours": 8, "trainer": "Zhao Min", "pass_mark": 60},
        ],
    }


def revised():
    p = plan()
    fd = p["courses"][0]
    fd["start"], fd["end"] = day(-11), day(-9)  # moved by a day
    p["courses"] = [c for c in p["courses"] if c["code"] != "HK-101"]  # cancelled
    return p


def site_plans(agent):
    return {p["id"]: p for p in agent.cli_json("training", "list")}


def wait_plan_revision(agent, revision):
    def arrived():
        p = site_plans(agent).get(PLAN)
        return p if p is not None and p["revision"] == revision else None
    return fs.wait_inbox(agent, arrived, "%s to receive %s revision %d"
                         % (agent.label, PLAN, revision))


RESULTS_CSV = ("\ufeffemployee_id,name,role,course,attended,score\r\n"
               "E001,\"Zhang, San\",front_desk,FD-101,yes,85\r\n"
               "E002,Li Si,front_desk,FD-101,yes,59\r\n"
               "E003,\"Wang \"\"Xiao\"\" Wu\",front_desk,FD-101,no,\r\n"
               "E010,Chen Qi,trainer,TR-201,Yes,88\r\n"
               ",,,,,\r\n")


def test_plan_reaches_franchised_then_later_site(h):
    hq, agents = fs.setup(h, SITES)
    out = hq.cli_json("training", "publish", fs.write_json(h, "plan.json", plan()))
    check_eq((out["plan"], out["revision"], out["sites_reached"]), (PLAN, 1, 3), "publish")
    for site in FRANCHISED:
        p = wait_plan_revision(agents[site], 1)
        check_eq([c["code"] for c in p["courses"]], ["FD-101", "TR-201", "HK-101"],
                 site + " courses")
        check_eq(p["changes"], [], site + " changes of a first revision")
    for site in ("M1", "B1"):
        check_eq(fs.inbox_kinds(agents[site], fs.DOWN_TRAINING_PLAN), 0,
                 site + " (not franchised) training plans")
        check_eq(agents[site].cli_json("training", "list"), [], site + " training list")
    check_eq(sorted(s["site"] for s in hq.cli_json("training", "status", "--plan", PLAN)),
             FRANCHISED, "sites targeted by the plan")

    # A day later a 6th franchised site is added and enrolled: it gets the plan.
    later = {"INNSYNC_CLOCK_OFFSET": "86400"}
    hq.cli("site", "add", "--id", "F4", "--name", "Hotel F4", "--kind", "franchise",
           "--city", "City", "--rooms", "60", "--region", "east", env=later)
    agents["F4"] = fs.enrol(h, hq, "F4")
    wait_plan_revision(agents["F4"], 1)

    # A revision: FD-101 moved by a day, HK-101 left out (cancelled).
    out = hq.cli_json("training", "revise", fs.write_json(h, "plan2.json", revised()),
                      "--note", "FD-101 moved; housekeeping postponed")
    check_eq((out["revision"], out["sites_reached"]), (2, 4), "revise")
    for site in FRANCHISED + ["F4"]:
        p = wait_plan_revision(agents[site], 2)
        check_eq(p["note"], "FD-101 moved; housekeeping postponed", site + " note")
        check_eq(sorted((c["course"], c["change"]) for c in p["changes"]),
                 [("FD-101", "dates"), ("HK-101", "cancelled")], site + " changes")
        hk = [c for c in p["courses"] if c["code"] == "HK-101"]
        check(hk and hk[0]["cancelled"], site + ": HK-101 not shown as cancelled")
        fd = [c for c in p["courses"] if c["code"] == "FD-101"][0]
        check_eq((fd["start"], fd["end"]), (day(-11), day(-9)), site + " FD-101 dates")
    text = agents["F1"].cli("training", "list").stdout
    check("HK-101 (Housekeeping standards) is cancelled" in text, "list text: %r" % text)
    check("FD-101 moved from %s..%s to %s..%s" % (day(-12), day(-10), day(-11), day(-9)) in text,
          "list text: %r" % text)

    # Acknowledgements and results: CSV at F1, JSON at F2.
    for site in ("F1", "F2"):
        agents[site].cli("training", "ack", PLAN)
    csv_path = fs.write(h, "results.csv", RESULTS_CSV)
    out = agents["F1"].cli_json("training", "results", PLAN, csv_path)
    check_eq((out["results"], out["plan_revision"]), (4, 2), "F1 results queued")
    agents["F2"].cli_json("training", "results", PLAN, fs.write_json(h, "results.json", {
        "results": [
            {"employee_id": "E1", "name": "He Yun", "role": "front_desk", "course": "FD-101",
             "attended": True, "score": 60},
            {"employee_id": "E2", "name": "Xu Lei", "role": "trainer", "course": "TR-201",
             "attended": "yes", "score": 65}]}))
    for site in ("F1", "F2"):
        fs.wait_record(agents[site], "training-ack/%s/%s" % (site, PLAN))
        fs.wait_record(agents[site], "training-results/%s/%s" % (site, PLAN))

    status = {s["site"]: s for s in hq.cli_json("training", "status", "--plan", PLAN)}
    check_eq(sorted(status), FRANCHISED + ["F4"], "status sites")
    expected = {  # acknowledged, enrolled, attended, passed, failed, missing
        "F1": (True, 4, 3, 2, 1, []),
        "F2": (True, 2, 2, 1, 1, []),
        "F3": (False, 0, 0, 0, 0, ["FD-101", "TR-201"]),
        "F4": (False, 0, 0, 0, 0, ["FD-101", "TR-201"]),
    }
    for site, want in expected.items():
        s = status[site]
        check_eq((s["acknowledged"], s["enrolled"], s["attended"], s["passed"], s["failed"],
                  s["missing_results"]), want, "training status of " + site)
        check_eq(s["revision_received"], 2, site + " revision received")
    check_eq(status["F1"]["acknowledged_revision"], 2, "F1 acknowledged revision")
    check_eq(hq.cli_json("training", "status", "--site", "F2")[0]["passed"], 1,
             "status --site F2")

    cert = {c["site"]: c for c in hq.cli_json("training", "certification")}
    check_eq((cert["F1"]["certified"], cert["F1"]["certified_on"], cert["F1"]["course"]),
             (True, day(-5), "TR-201"), "F1 trainer certification")
    check_eq(cert["F1"]["trainer"]["name"], "Chen Qi", "F1 certified trainer")
    check_eq((cert["F2"]["certified"], cert["F2"]["certified_on"], cert["F2"]["failed_attempts"]),
             (False, None, 1), "F2 trainer certification")
    check_eq(cert["M1"]["certified"], False, "M1 trainer certification")
    site_view = site_plans(agents["F1"])[PLAN]
    check_eq((site_view["acknowledged_revision"], site_view["results"]["state"]),
             (2, "acknowledged"), "F1's own view of what it sent")


def test_bad_files_refused_and_nothing_stored(h):
    hq, agents = fs.setup(h, [SITES[0]])
    agent = agents["F1"]

    # HQ refuses a bad plan naming the field, and stores nothing.
    bad_plan = plan()
    bad_plan["courses"][1]["mode"] = "classroom"
    cp = hq.cli("training", "publish", fs.write_json(h, "bad-plan.json", bad_plan),
                check_rc=False)
    fs.refused(cp, "courses[1].mode", "classroom")
    check_eq(hq.cli_json("training", "list"), [], "plans after a refused publish")

    # HQ checks results against its latest revision: a site that has not
    # received the revision cancelling HK-101 yet sends results for it.
    hq.cli("training", "publish", fs.write_json(h, "plan.json", plan()))
    wait_plan_revision(agent, 1)
    agent.stop()
    hq.cli("training", "revise", fs.write_json(h, "plan2.json", revised()))
    header = "employee_id,name,role,course,attended,score\n"
    agent.cli("training", "results", PLAN, fs.write(h, "stale.csv", header +
              "E1,A,housekeeping,HK-101,yes,90\n"))
    agent.start()
    _, _, reason = fs.wait_record(agent, "training-results/F1/" + PLAN, state="refused")
    check("results[0].course" in reason and "HK-101" in reason and "cancelled" in reason,
          "HQ's refusal: %r" % reason)
    check_eq(hq.cli_json("training", "status", "--plan", PLAN)[0]["enrolled"], 0,
             "results stored at HQ after the refusal")
    wait_plan_revision(agent, 2)
    before = fs.outbox(agent)
    cases = [
        ("wrong-columns.csv", "employee_id,name,course,attended,score\nE1,A,FD-101,yes,80\n",
         ["line 1", "5 columns, want 6"]),
        ("out-of-range.csv", header + "E1,A,front_desk,FD-101,yes,80\nE2,B,front_desk,FD-101,yes,140\n",
         ["line 3", "score", "140"]),
        ("unknown-course.csv", header + "E1,A,front_desk,FD-101,yes,80\n\nE2,B,trainer,TR-999,yes,75\n",
         ["line 4", "course", "TR-999", "not a course of plan " + PLAN]),
        ("cancelled-course.csv", header + "E1,A,housekeeping,HK-101,no,\n",
         ["line 2", "HK-101"]),
        ("attended.csv", header + "E1,A,front_desk,FD-101,maybe,80\n",
         ["line 2", "attended", "maybe"]),
        ("unquoted-quote.csv", header + "E1,A \"Ace\" B,front_desk,FD-101,yes,80\n",
         ["line 2", "quote"]),
        ("bad.json", '{"results": [{"employee_id": "E1", "name": "A", "role": "r",'
                     ' "course": "FD-101", "attended": true, "score": 101}]}',
         ["results[0].score", "101"]),
    ]
    for name, text, fragments in cases:
        cp = agent.cli("training", "results", PLAN, fs.write(h, name, text), check_rc=False)
        line = fs.refused(cp, *fragments)
        check("nothing was stored" in line, "%s: %r" % (name, line))
    cp = agent.cli("training", "results", "TP-UNKNOWN", fs.write(h, "ok.csv", header +
                   "E1,A,front_desk,FD-101,yes,80\n"), check_rc=False)
    fs.refused(cp, "TP-UNKNOWN", "not been received")
    fs.no_new_records(agent, before)
    check_eq(site_plans(agent)[PLAN]["results"]["state"], "refused",
             "the site's view of its refused results")

    # Corrected results need a reason (they replace what was sent).
    ok = fs.write(h, "ok.csv", header + "E1,A,front_desk,FD-101,yes,80\n")
    fs.refused(agent.cli("training", "results", PLAN, ok, check_rc=False), "--reason")
    agent.cli("training", "results", PLAN, ok, "--reason", "HK-101 was cancelled")
    fs.wait_record(agent, "training-results/F1/" + PLAN, revision=2)
    agent.cli("training", "results", PLAN, fs.write(h, "ok2.csv", header +
              "E1,A,front_desk,FD-101,yes,50\n"), "--reason", "score corrected")
    fs.wait_record(agent, "training-results/F1/" + PLAN, revision=3)
    s = hq.cli_json("training", "status", "--plan", PLAN)[0]
    check_eq((s["enrolled"], s["passed"], s["failed"], s["results_revision"]), (1, 0, 1, 3),
             "status after the corrected results")


if __name__ == "__main__":
    harness.main([test_plan_reaches_franchised_then_later_site,
                  test_bad_files_refused_and_nothing_stored])
