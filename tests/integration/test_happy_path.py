"""Integration test 1 (issue 2), the happy path: an HQ with two sites, one
enrolled agent per site, monthly sales reports submitted at the sites reach
HQ, which lists them with the right derived figures; a correction with
--reason replaces the latest revision; the sites see HQ's acknowledgement."""

import json
import os
import sys
from decimal import Decimal, ROUND_HALF_UP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

SITES = ["SH001", "HZ002"]          # managed, franchise
PERIODS = ["2026-01", "2026-02", "2026-03"]
CENT = Decimal("0.01")


def money(value):
    """A report's money value (string or number) as a two-decimal string."""
    return str(Decimal(str(value)).quantize(CENT))


def expected_figures(report):
    """Occupancy, ADR and RevPAR computed independently, in Decimal."""
    available = report["rooms_available"]
    sold = report["rooms_sold"]
    revenue = Decimal(str(report["room_revenue"]))
    occupancy = Decimal(sold) / Decimal(available)
    adr = (revenue / sold).quantize(CENT, ROUND_HALF_UP) if sold else Decimal("0.00")
    revpar = (revenue / available).quantize(CENT, ROUND_HALF_UP)
    return occupancy, str(adr), str(revpar)


def mix(lines):
    return [{"name": l["name"], "room_nights": l["room_nights"], "revenue": money(l["revenue"])}
            for l in lines]


def check_listed(listed, report, site, revision, revisions):
    where = "report %s %s" % (site, report["period"])
    check_eq(listed["site"], site, where + " site")
    check_eq(listed["period"], report["period"], where + " period")
    check_eq(listed["revision"], revision, where + " revision")
    check_eq(listed["revisions"], revisions, where + " revisions")
    check_eq(listed["rooms_available"], report["rooms_available"], where + " rooms_available")
    check_eq(listed["rooms_sold"], report["rooms_sold"], where + " rooms_sold")
    check_eq(listed["room_revenue"], money(report["room_revenue"]), where + " room_revenue")
    occupancy, adr, revpar = expected_figures(report)
    # a number in 0-1; HQ may round it (to 4 decimals, at the coarsest)
    check(isinstance(listed["occupancy"], (int, float)) and
          abs(Decimal(repr(listed["occupancy"])) - occupancy) <= Decimal("0.00005"),
          "%s occupancy: expected %s, got %r" % (where, occupancy, listed["occupancy"]))
    check_eq(listed["adr"], adr, where + " adr")
    check_eq(listed["revpar"], revpar, where + " revpar")
    check_eq(mix(listed["segments"]), mix(report.get("segments", [])), where + " segments")
    check_eq(mix(listed["channels"]), mix(report.get("channels", [])), where + " channels")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_two_sites_reports_reach_hq(h):
    hq, agents = harness.setup_hq_with_agents(h, SITES)
    check(agents["SH001"].id != agents["HZ002"].id, "the two agents got the same id")

    submitted = {}
    for site in SITES:
        for n, period in enumerate(PERIODS, start=1):
            out = agents[site].submit(harness.demo_report(site, period))
            check_eq(out["record"], "sales/%s/%s" % (site, period), "submit record id")
            check_eq(out["seq"], n, "submit seq")
            check_eq(out["revision"], 1, "submit revision")
            submitted[(site, period)] = load(harness.demo_report(site, period))

    for site in SITES:
        agents[site].wait_acknowledged(len(PERIODS))

    listed = hq.reports()
    check_eq(sorted((r["site"], r["period"]) for r in listed), sorted(submitted),
             "reports listed by HQ")
    for r in listed:
        check_listed(r, submitted[(r["site"], r["period"])], r["site"], 1, 1)

    # filters
    only = hq.reports("--site", "HZ002", "--period", "2026-02")
    check_eq([(r["site"], r["period"]) for r in only], [("HZ002", "2026-02")],
             "reports --site HZ002 --period 2026-02")
    check_eq(sorted(r["period"] for r in hq.reports("--site", "SH001")), PERIODS,
             "reports --site SH001")

    # The sites: acknowledged counts, last contact, HQ's acceptance notices.
    def downstream_arrived(site):
        st = agents[site].status()
        return st if st["downstream"] >= 1 else None
    for site in SITES:
        st = h.wait_until(lambda: downstream_arrived(site), 30,
                          "%s to receive HQ's acceptance notice" % site)
        check_eq(st["acknowledged"], len(PERIODS), site + " status acknowledged")
        check_eq(st["pending"], 0, site + " status pending")
        check_eq(st["refused"], [], site + " status refused")
        check(st["last_contact"] is not None, site + " status last_contact is null")
        check_eq(st["hq_acked_seq"], len(PERIODS), site + " status hq_acked_seq")

    # HQ's view of sites and agents.
    sites = hq.sites()
    for site in SITES:
        check_eq(sites[site]["latest_period"], "2026-03", site + " latest_period")
        check_eq(sites[site]["agents"], [agents[site].id], site + " agents")
        check_eq(sites[site]["backlog"], 0, site + " backlog")
        check_eq(sites[site]["kind"], harness.demo_sites()[site]["kind"], site + " kind")
    hq_agents = hq.agents()
    for site in SITES:
        a = hq_agents[agents[site].id]
        check_eq(a["acked_seq"], len(PERIODS), site + " agent acked_seq")
        check_eq(a["refused"], 0, site + " agent refused")
        check_eq(a["revoked"], False, site + " agent revoked")
    h.wait_until(lambda: all(hq.sites()[s]["last_contact"] for s in SITES), 30,
                 "HQ to record the sites' last contact")

    # HQ kept every record, verified, each from its agent, gap-free.
    for site in SITES:
        rows = hq.query("SELECT seq, site, status, length(signature) FROM records"
                        " WHERE agent = ? ORDER BY seq", (agents[site].id,))
        check_eq(rows, [(n, site, "accepted", 64) for n in (1, 2, 3)],
                 site + " records at HQ")
    check_eq(hq.alarms(), [], "alarms")


def test_revision_replaces_latest(h):
    hq, agents = harness.setup_hq_with_agents(h, SITES)
    agent = agents["SH001"]
    original = harness.demo_report("SH001", "2026-02")
    agent.submit(original)
    agents["HZ002"].submit(harness.demo_report("HZ002", "2026-02"))
    agent.wait_acknowledged(1)
    agents["HZ002"].wait_acknowledged(1)

    # A correction: more rooms available (a wing reopened), so occupancy
    # and RevPAR change while ADR does not.
    corrected = load(original)
    corrected["rooms_available"] += 310
    corrected["analysis"] = "Corrected: the east wing reopened on the 3rd."
    path = os.path.join(h.root, "SH001-2026-02-corrected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(corrected, f)

    cp = agent.submit(path, check_rc=False)
    check(cp.returncode != 0, "a second submit without --reason was accepted")
    check("--reason" in cp.stderr, "no hint about --reason: %r" % cp.stderr)
    check_eq(agent.status()["pending"] + agent.status()["acknowledged"], 1,
             "outbox records after the refused resubmit")

    out = agent.submit(path, reason="east wing reopened")
    check_eq(out["revision"], 2, "corrected revision")
    check_eq(out["record"], "sales/SH001/2026-02", "corrected record id")
    agent.wait_acknowledged(2)

    listed = hq.reports("--site", "SH001", "--period", "2026-02")
    check_eq(len(listed), 1, "reports for SH001 2026-02")
    check_listed(listed[0], corrected, "SH001", 2, 2)
    check_eq(listed[0].get("reason"), "east wing reopened", "reason of revision 2")
    # the other site's report is untouched
    other = hq.reports("--site", "HZ002")
    check_eq([(r["period"], r["revision"], r["revisions"]) for r in other],
             [("2026-02", 1, 1)], "HZ002 reports")
    check_listed(other[0], load(harness.demo_report("HZ002", "2026-02")), "HZ002", 1, 1)
    check_eq(hq.query("SELECT revision FROM sales_reports WHERE site = 'SH001'"
                      " AND period = '2026-02' ORDER BY revision"), [(1,), (2,)],
             "revisions kept at HQ")
    h.wait_until(lambda: agent.status()["downstream"] >= 2, 30,
                 "SH001 to receive both acceptance notices")


if __name__ == "__main__":
    harness.main([test_two_sites_reports_reach_hq, test_revision_replaces_latest])
