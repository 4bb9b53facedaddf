"""Integration test of the GMs' evaluation of HQ (issue 4, "Must show" 4 and
part of 5): a round sent to 5 sites, 4 answer (one of them twice, the second
replacing the first), the report shows an 80% response rate, the latest
answers only (means, distributions per item and department, comments by
department) and names the missing site; an answer to a closed round and bad
answer files are refused naming the field, and nothing is stored; the form
can change between rounds; a GM can answer at prompts on a terminal."""

import datetime
import os
import pty
import subprocess
import sys
from decimal import Decimal, ROUND_HALF_UP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402
import feedback_support as fs  # noqa: E402

SITES = [("S%d" % i, kind, region, "classic") for i, (kind, region) in enumerate(
    [("franchise", "east"), ("franchise", "southwest"), ("member", "east"),
     ("managed", "north"), ("franchise", "east")], start=1)]
FORM = {"name": "GM evaluation of HQ services", "items": [
    {"code": "CS-1", "department": "customer_service", "text": "Account manager visits"},
    {"code": "CS-2", "department": "customer_service", "text": "Answers within a day"},
    {"code": "QA-1", "department": "qa", "text": "Inspections are fair"},
    {"code": "TR-1", "department": "training", "text": "Courses meet our needs"},
    {"code": "SM-1", "department": "sales", "text": "Pricing and OTA support"},
    {"code": "SY-1", "department": "systems", "text": "Systems are reliable"},
]}
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
DUE = (TODAY + datetime.timedelta(days=7)).isoformat()
AFTER_DUE = str(9 * 86400)  # seconds: the site's clock 9 days ahead


def answer(ratings, comments=None):
    comments = comments or {}
    return {"answers": [dict({"code": code, "rating": rating},
                             **({"comment": comments[code]} if code in comments else {}))
                        for code, rating in ratings.items()]}


ANSWERS = {  # the latest answer of each site that answers
    "S1": answer({"CS-1": 5, "CS-2": 4, "QA-1": 3, "TR-1": 4, "SM-1": 2, "SY-1": 5},
                 {"SM-1": "OTA prices change too late", "CS-1": "Monthly visits help"}),
    "S2": answer({"CS-1": 4, "CS-2": 4, "QA-1": 2, "TR-1": 5, "SM-1": 3, "SY-1": 4},
                 {"QA-1": "Inspector arrived without the checklist"}),
    "S3": answer({"CS-1": 3, "CS-2": 5, "QA-1": 4, "TR-1": 4, "SM-1": 3, "SY-1": 1},
                 {"SY-1": "PMS down twice in March"}),
    "S4": answer({"CS-1": 5, "CS-2": 5, "QA-1": 5, "TR-1": 3, "SM-1": 4, "SY-1": 4}),
}
FIRST_S2 = answer({"CS-1": 1, "CS-2": 1, "QA-1": 1, "TR-1": 1, "SM-1": 1, "SY-1": 1},
                  {"CS-1": "first draft, replaced"})


def mean(values):
    return str((Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.01"),
                                                                        ROUND_HALF_UP))


def open_round(hq, *extra):
    cp = hq.cli("evaluation", "round", "open", "--due", DUE, *extra)
    lines = cp.stdout.strip().splitlines()
    check(lines, "round open printed nothing")
    return lines[-1].strip()


def give(h, agent, round_id, value, name, env=None, check_rc=True):
    path = fs.write_json(h, name, value)
    return h.run([h.branch_bin, "evaluation", "answer", round_id, path, "--data", agent.data],
                 env=env, check_rc=check_rc)


def wait_round(agent, round_id):
    def arrived():
        return [r for r in agent.cli_json("evaluation", "list") if r["round"] == round_id]
    return fs.wait_inbox(agent, arrived, "%s to receive round %s" % (agent.label, round_id))[0]


def test_round_report_latest_answers_and_missing_site(h):
    hq, agents = fs.setup(h, SITES)
    out = hq.cli_json("evaluation", "form", "set", fs.write_json(h, "form.json", FORM))
    check_eq((out["version"], len(out["items"])), (1, 6), "form set")
    round_id = open_round(hq)
    check(round_id.startswith("EV-%d-" % TODAY.year), "round id %r" % round_id)
    for site in agents:
        r = wait_round(agents[site], round_id)
        check_eq((r["due"], r["open"], r["items_count"], r["answer"]), (DUE, True, 6, None),
                 site + "'s view of the round")
    shown = agents["S1"].cli_json("evaluation", "show", round_id)
    check_eq([i["code"] for i in shown["items"]], [i["code"] for i in FORM["items"]], "items")

    # S2 answers twice: the second answer replaces the first.
    give(h, agents["S2"], round_id, FIRST_S2, "s2-first.json")
    fs.wait_record(agents["S2"], "evaluation/S2/" + round_id)
    for site, value in ANSWERS.items():
        give(h, agents[site], round_id, value, site + ".json")
    for site in ANSWERS:
        fs.wait_record(agents[site], "evaluation/%s/%s" % (site, round_id))
    check_eq(fs.wait_record(agents["S2"], "evaluation/S2/" + round_id)[0], 2, "S2 revision")
    check_eq(agents["S2"].query("SELECT revision, state FROM outbox WHERE record_id = ?"
                                " ORDER BY revision", ("evaluation/S2/" + round_id,)),
             [(1, "acknowledged"), (2, "acknowledged")], "S2's two answers")

    report = hq.cli_json("evaluation", "report", round_id)
    check_eq((report["round"], report["targeted"], report["answered"], report["missing"]),
             (round_id, 5, 4, ["S5"]), "report counts")
    check(abs(report["response_rate"] - 0.8) < 1e-9, "response rate %r" % report["response_rate"])
    items = {i["code"]: i for i in report["items"]}
    check_eq(sorted(items), sorted(i["code"] for i in FORM["items"]), "report items")
    for item in FORM["items"]:
        code = item["code"]
        ratings = [next(a["rating"] for a in ANSWERS[s]["answers"] if a["code"] == code)
                   for s in ANSWERS]
        got = items[code]
        check_eq(got["department"], item["department"], code + " department")
        check_eq(got["count"], 4, code + " count")
        check_eq(got["mean"], mean(ratings), code + " mean (latest answers only)")
        check_eq(got["distribution"], {str(r): ratings.count(r) for r in range(1, 6)},
                 code + " distribution")
    departments = {d["department"]: d for d in report["departments"]}
    cs = [a["rating"] for s in ANSWERS for a in ANSWERS[s]["answers"] if a["code"].startswith("CS")]
    check_eq((departments["customer_service"]["count"], departments["customer_service"]["mean"]),
             (8, mean(cs)), "customer service department")
    comments = report["comments"]
    check_eq(sorted((c["site"], c["code"], c["comment"]) for c in comments["sales"]),
             [("S1", "SM-1", "OTA prices change too late")], "sales comments")
    check_eq([c["comment"] for c in comments["customer_service"]], ["Monthly visits help"],
             "customer service comments (S2's first answer is gone)")
    check_eq([c["site"] for c in comments["qa"]], ["S2"], "QA comments")
    check_eq([c["site"] for c in comments["systems"]], ["S3"], "systems comments")
    text = hq.cli("evaluation", "report", round_id).stdout
    check("4 of 5 sites answered (80%)" in text and "S5" in text, "report text: %r" % text)

    # After the due date: refused at the site, naming the round; nothing stored.
    before = fs.outbox(agents["S5"])
    cp = give(h, agents["S5"], round_id, ANSWERS["S1"], "late.json",
              env={"INNSYNC_CLOCK_OFFSET": AFTER_DUE}, check_rc=False)
    fs.refused(cp, "round", round_id, "closed", "nothing was stored")
    fs.no_new_records(agents["S5"], before)
    before = fs.outbox(agents["S1"])
    cp = give(h, agents["S1"], round_id, ANSWERS["S4"], "s1-late.json",
              env={"INNSYNC_CLOCK_OFFSET": AFTER_DUE}, check_rc=False)
    fs.refused(cp, "round", "closed")
    fs.no_new_records(agents["S1"], before)
    later = hq.h.run_json([h.hq_bin, "evaluation", "report", round_id, "--data", hq.data],
                          env={"INNSYNC_CLOCK_OFFSET": AFTER_DUE})
    check_eq((later["closed"], later["answered"], later["missing"]), (True, 4, ["S5"]),
             "report after the due date")


def test_bad_answers_and_form_changes(h):
    hq, agents = fs.setup(h, SITES[:2])
    bad_form = dict(FORM, items=FORM["items"] + [{"code": "HR-1", "department": "hr",
                                                  "text": "HR support"}])
    cp = hq.cli("evaluation", "form", "set", fs.write_json(h, "bad-form.json", bad_form),
                check_rc=False)
    fs.refused(cp, "items[6].department", "hr")
    fs.refused(hq.cli("evaluation", "round", "open", "--due", DUE, check_rc=False), "no evaluation form")
    hq.cli("evaluation", "form", "set", fs.write_json(h, "form.json", FORM))
    fs.refused(hq.cli("evaluation", "round", "open", "--due", "2020-01-01", check_rc=False),
               "--due", "passed")
    first = open_round(hq)
    wait_round(agents["S1"], first)

    full = {i["code"]: 4 for i in FORM["items"]}
    missing = dict(full)
    del missing["TR-1"]
    cases = [
        ("rating.json", answer(dict(full, **{"QA-1": 6})), ["answers[2].rating", "6"]),
        ("unknown.json", {"answers": answer(full)["answers"] + [{"code": "HR-1", "rating": 3}]},
         ["answers[6].code", "HR-1"]),
        ("missing.json", answer(missing), ["answers", "TR-1", "not rated"]),
        ("twice.json", {"answers": answer(full)["answers"] + [{"code": "CS-1", "rating": 2}]},
         ["answers[6].code", "CS-1", "twice"]),
        ("other-round.json", dict(answer(full), round="EV-1999-01"), ["round", "EV-1999-01"]),
    ]
    before = fs.outbox(agents["S1"])
    for name, value, fragments in cases:
        fs.refused(give(h, agents["S1"], first, value, name, check_rc=False), *fragments)
    fs.refused(give(h, agents["S1"], "EV-0000-99", answer(full), "x.json", check_rc=False),
               "EV-0000-99", "not been received")
    fs.no_new_records(agents["S1"], before)

    # A new form for the next round, sent to one site only.
    form2 = {"name": "GM evaluation, revised", "items": FORM["items"][:2] + [
        {"code": "SY-2", "department": "systems", "text": "New booking engine works"}]}
    check_eq(hq.cli_json("evaluation", "form", "set",
                         fs.write_json(h, "form2.json", form2))["version"], 2, "form version")
    second = open_round(hq, "--sites", "S2")
    check(second != first, "round ids %s %s" % (first, second))
    r = wait_round(agents["S2"], second)
    check_eq(r["items_count"], 3, "items of the second round")
    check_eq([i["code"] for i in agents["S2"].cli_json("evaluation", "show", second)["items"]],
             ["CS-1", "CS-2", "SY-2"], "second round items")
    check_eq([i["code"] for i in agents["S2"].cli_json("evaluation", "show", first)["items"]],
             [i["code"] for i in FORM["items"]], "the first round keeps its form")
    check_eq(hq.cli_json("evaluation", "report", second)["targeted"], 1, "second round sites")
    rounds = {r["round"]: r for r in hq.cli_json("evaluation", "round", "list")}
    check_eq((rounds[first]["form_version"], rounds[second]["form_version"]), (1, 2),
             "form versions of the rounds")

    # A GM at a terminal answers item by item.
    master, slave = pty.openpty()
    proc = subprocess.Popen([h.branch_bin, "evaluation", "answer", second, "--data",
                             agents["S2"].data], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    os.close(slave)
    os.write(master, b"9\n5\n\n4\nquick answers\n3\n\n")
    out, err = proc.communicate(timeout=harness.CLI_TIMEOUT)
    os.close(master)
    check_eq(proc.returncode, 0, "interactive answer exit status (stderr %r)" % err)
    check(b"rating 1-5" in out and b"please type a whole number" in out,
          "prompts: %r" % out)
    fs.wait_record(agents["S2"], "evaluation/S2/" + second)
    report = hq.cli_json("evaluation", "report", second)
    check_eq([(i["code"], i["mean"]) for i in report["items"]],
             [("CS-1", "5.00"), ("CS-2", "4.00"), ("SY-2", "3.00")], "interactive ratings")
    check_eq(report["comments"]["customer_service"][0]["comment"], "quick answers",
             "interactive comment")


if __name__ == "__main__":
    harness.main([test_round_report_latest_answers_and_missing_site,
                  test_bad_answers_and_form_changes])
