"""Integration test of guest complaints (issue 4, "Must show" 3): HQ sends a
complaint down to its site with a first-response deadline computed from the
site's region (12 h in HQ's home region, 24 h elsewhere, configurable);
sites answer and close them; HQ lists open and late complaints, a response
written after the deadline (the site's clock moved forward with
INNSYNC_CLOCK_OFFSET) is listed as late."""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402
import feedback_support as fs  # noqa: E402

SITES = [("E1", "franchise", "east", "classic"), ("E2", "managed", "east", "classic"),
         ("W1", "franchise", "southwest", "premium")]
HOUR = datetime.timedelta(hours=1)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def add(hq, site, received, text, *extra):
    return hq.cli_json("complaint", "add", "--site", site, "--received", received,
                       "--text", text, *extra)


def hq_list(hq, *args):
    return {c["id"]: c for c in hq.cli_json("complaint", "list", *args)}


def wait_received(agent, complaint_id):
    def arrived():
        return [c for c in agent.cli_json("complaint", "list", "--all")
                if c["id"] == complaint_id]
    return fs.wait_inbox(agent, arrived, "%s to receive complaint %s"
                         % (agent.label, complaint_id))[0]


def respond(agent, complaint_id, text, *extra, env=None):
    return agent.h.run_json([agent.h.branch_bin, "complaint", "respond", complaint_id,
                             "--text", text, "--data", agent.data] + list(extra), env=env)


def test_deadline_per_region_and_late_response(h):
    hq, agents = fs.setup(h, SITES)
    t0 = now()
    # E1: home region (default "east"), received an hour ago: 12 h.
    east = add(hq, "E1", iso(t0 - HOUR), "Air conditioner noisy all night",
               "--guest", "Mr. Chen", "--channel", "phone")
    check_eq((east["deadline_hours"], east["due_at"], east["in_home_region"]),
             (12, iso(t0 - HOUR + 12 * HOUR), True), "E1 deadline")
    # W1: another region, received 30 hours ago (with an offset): 24 h, overdue.
    west = add(hq, "W1", (t0 - 30 * HOUR).strftime("%Y-%m-%dT%H:%M:%S") + "+08:00",
               "Towels not changed")
    check_eq((west["deadline_hours"], west["due_at"], west["in_home_region"]),
             (24, iso(t0 - 30 * HOUR - 8 * HOUR + 24 * HOUR), False), "W1 deadline")
    # E2: home region, received now; its answer will come 13 h later.
    e2 = add(hq, "E2", iso(t0), "Wrong bill at check-out")
    check_eq(e2["deadline_hours"], 12, "E2 deadline")

    listed = hq_list(hq)
    check_eq(sorted(listed), sorted([east["id"], west["id"], e2["id"]]), "open complaints")
    check_eq((listed[west["id"]]["state"], listed[west["id"]]["late"],
              listed[west["id"]]["overdue"]), ("open", True, True), "W1 overdue")
    check_eq((listed[east["id"]]["state"], listed[east["id"]]["late"]), ("open", False),
             "E1 open in time")

    # The sites receive them with their deadlines.
    seen = wait_received(agents["E1"], east["id"])
    check_eq((seen["text"], seen["guest"], seen["channel"], seen["due_at"], seen["state"]),
             ("Air conditioner noisy all night", "Mr. Chen", "phone", east["due_at"], "open"),
             "E1's view of the complaint")
    check_eq(wait_received(agents["W1"], west["id"])["late"], True, "W1's view: late")
    wait_received(agents["E2"], e2["id"])
    check_eq([c["id"] for c in agents["W1"].cli_json("complaint", "list")], [west["id"]],
             "W1 sees only its own complaint")

    # E1 answers in time, then closes it; W1 answers late; E2 answers 13 h later.
    respond(agents["E1"], east["id"], "Technician replaced the fan; guest moved to 1203")
    respond(agents["E1"], east["id"], "Guest called back, satisfied", "--resolved")
    respond(agents["W1"], west["id"], "Apologised, housekeeping retrained", "--resolved")
    respond(agents["E2"], e2["id"], "Refund issued", env={"INNSYNC_CLOCK_OFFSET": "46800"})
    fs.wait_record(agents["E1"], "complaint-response/E1/%s" % east["id"], revision=2)
    fs.wait_record(agents["W1"], "complaint-response/W1/%s" % west["id"])
    fs.wait_record(agents["E2"], "complaint-response/E2/%s" % e2["id"])

    everything = hq_list(hq, "--all")
    e = everything[east["id"]]
    check_eq((e["state"], e["late"], e["responses"], e["last_response"]),
             ("resolved", False, 2, "Guest called back, satisfied"), "E1 resolved in time")
    w = everything[west["id"]]
    check_eq((w["state"], w["late"], w["overdue"]), ("resolved", True, False), "W1 late")
    x = everything[e2["id"]]
    check_eq((x["state"], x["late"]), ("responded", True), "E2 answered after 13 h")
    check(x["first_response_at"] > x["due_at"], "E2 first response %s not after due %s"
          % (x["first_response_at"], x["due_at"]))
    listed = hq_list(hq)
    check_eq(sorted(listed), sorted([west["id"], e2["id"]]),
             "listed: open or late (E1 resolved in time is not)")
    text = hq.cli("complaint", "list").stdout
    check("LATE" in text and west["id"] in text, "human list: %r" % text)

    # Closed is closed; unknown complaints are refused at the site.
    cp = agents["E1"].cli("complaint", "respond", east["id"], "--text", "more", check_rc=False)
    fs.refused(cp, east["id"], "already resolved")
    cp = agents["E1"].cli("complaint", "respond", west["id"], "--text", "x", check_rc=False)
    fs.refused(cp, west["id"], "not been received")
    check_eq(agents["E1"].cli_json("complaint", "list"), [], "E1 open complaints")


def test_settings_change_deadlines(h):
    hq, agents = fs.setup(h, SITES, start=False)
    check_eq(hq.cli_json("complaint", "settings"),
             {"home_region": "east", "home_hours": 12, "other_hours": 24}, "default settings")
    out = hq.cli_json("complaint", "settings", "--home-region", "southwest",
                      "--home-hours", "6", "--other-hours", "48")
    check_eq(out, {"home_region": "southwest", "home_hours": 6, "other_hours": 48},
             "new settings")
    t0 = now()
    check_eq(add(hq, "W1", iso(t0), "Slow lift")["deadline_hours"], 6, "W1 is now home")
    check_eq(add(hq, "E1", iso(t0), "Cold shower")["deadline_hours"], 48, "E1 is now away")
    cp = hq.cli("complaint", "add", "--site", "E1", "--received", "yesterday", "--text", "x",
                check_rc=False)
    fs.refused(cp, "--received", "yesterday")
    cp = hq.cli("complaint", "add", "--site", "Z9", "--received", iso(t0), "--text", "x",
                check_rc=False)
    fs.refused(cp, "Z9")
    cp = hq.cli("complaint", "add", "--site", "E1", "--received", iso(t0 + 48 * HOUR),
                "--text", "x", check_rc=False)
    fs.refused(cp, "future")
    fs.refused(hq.cli("complaint", "settings", "--home-hours", "0", check_rc=False),
               "--home-hours")
    check_eq(len(hq.cli_json("complaint", "list")), 2, "complaints stored")


if __name__ == "__main__":
    harness.main([test_deadline_per_region_and_late_response, test_settings_change_deadlines])
