"""Integration test of guest satisfaction (issue 4, "Must show" 2 and part of
5): 200 survey responses exported from a spreadsheet (UTF-8 with BOM, CRLF,
quoted comments with commas, quotes, line breaks and Chinese) give HQ per
site and month the same response count, means (half-up, two decimals) and
NPS (half away from zero) as an independent computation here in Decimal; a
monthly aggregate with counts gives the same figures as its responses would;
a corrected month replaces the first; bad files are refused at the site
naming the line or field, and nothing is stored."""

import csv
import io
import os
import random
import sys
from decimal import Decimal, ROUND_HALF_UP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402
import feedback_support as fs  # noqa: E402

DIMENSIONS = ["cleanliness", "service", "value", "location", "facilities", "overall"]
HEADER = ["date", "channel"] + DIMENSIONS + ["recommend", "comment"]
SITES = [("S1", "franchise", "east", "classic"), ("S2", "member", "southwest", "select")]
PERIOD = "2026-11"
COMMENTS = ["", "", "Great stay", "Room was clean, staff friendly",
            'The "deluxe" room was small', "Breakfast ok\r\nparking hard to find",
            "\u670d\u52a1\u5f88\u597d\uff0c\u623f\u95f4\u5e72\u51c0", "Will come back; 10/10",
            "noisy, \"thin\" walls, slow lift"]
CHANNELS = ["questionnaire", "phone", "On-site", "online review", "Online_Review", "onsite"]


def responses(seed, count=200):
    """count rows of one month; the figures are made to need rounding."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        scores = [rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5]) for _ in DIMENSIONS]
        recommend = rng.choice([0, 2, 3, 5, 6, 6, 7, 8, 8, 9, 10])
        rows.append(["%s-%02d" % (PERIOD, i % 30 + 1), rng.choice(CHANNELS)] + scores +
                    [recommend, rng.choice(COMMENTS)])
    return rows


def make_ties(rows):
    """Makes NPS a negative exact half before rounding (an odd promoters -
    detractors over 200 responses) so half away from zero is exercised."""
    def p_minus_d():
        return sum(1 for r in rows if r[8] >= 9) - sum(1 for r in rows if r[8] <= 6)
    for r in rows:  # turn promoters into detractors until NPS is negative
        if p_minus_d() < -10:
            break
        if r[8] >= 9:
            r[8] = 3
    if p_minus_d() % 2 == 0:
        for r in rows:
            if r[8] in (7, 8):
                r[8] = 6
                break
    check(p_minus_d() % 2 != 0 and p_minus_d() < 0, "test data: NPS is not a negative half")
    if sum(r[2] for r in rows) % 2 == 0:  # cleanliness: a mean ending in 5 at 3 decimals
        rows[0][2] = rows[0][2] + 1 if rows[0][2] < 5 else 4
    return rows


def to_csv(rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return "\ufeff" + buf.getvalue()


def expected(rows):
    """Figures computed independently: Decimal, ROUND_HALF_UP (ties away
    from zero, which for NPS is what "half away from zero" means)."""
    n = len(rows)
    means = {}
    for d, name in enumerate(DIMENSIONS):
        total = sum(r[2 + d] for r in rows)
        means[name] = str((Decimal(total) / Decimal(n)).quantize(Decimal("0.01"), ROUND_HALF_UP))
    promoters = sum(1 for r in rows if r[8] >= 9)
    detractors = sum(1 for r in rows if r[8] <= 6)
    nps = int((Decimal(100 * (promoters - detractors)) / Decimal(n)).quantize(
        Decimal("1"), ROUND_HALF_UP))
    return {"responses": n, "means": means, "nps": nps}


def hq_figures(hq, site, period):
    out = hq.cli_json("satisfaction", "--site", site, "--period", period)
    check_eq(len(out), 1, "satisfaction rows for %s %s" % (site, period))
    return out[0]


def check_figures(got, want, what):
    check_eq(got["responses"], want["responses"], what + " responses")
    check_eq(got["means"], want["means"], what + " means")
    check_eq(got["nps"], want["nps"], what + " NPS")


def aggregate_of(rows):
    """The same month as a monthly aggregate with counts."""
    scores = {}
    for d, name in enumerate(DIMENSIONS):
        counts = {}
        for r in rows:
            counts[str(r[2 + d])] = counts.get(str(r[2 + d]), 0) + 1
        scores[name] = counts
    recommend = {}
    for r in rows:
        recommend[str(r[8])] = recommend.get(str(r[8]), 0) + 1
    return {"period": "2026-10", "aggregate": {"responses": len(rows), "scores": scores,
                                               "recommend": recommend}}


def test_200_responses_match_independent_computation(h):
    hq, agents = fs.setup(h, SITES)
    rows = make_ties(responses(4))
    half = [Decimal(sum(r[2 + d] for r in rows)) / 200 for d in range(6)]
    check(any(x * 100 % 1 == Decimal("0.5") for x in half),
          "test data: no mean is an exact half at two decimals")
    path = fs.write(h, "survey-2026-11.csv", to_csv(rows))
    out = agents["S1"].cli_json("satisfaction", "submit", path)
    want = expected(rows)
    check_eq(out["record"], "satisfaction/S1/" + PERIOD, "record id")
    check_figures(out, want, "the site's preview")
    fs.wait_record(agents["S1"], "satisfaction/S1/" + PERIOD)
    got = hq_figures(hq, "S1", PERIOD)
    check_figures(got, want, "HQ's figures")
    check_eq((got["site"], got["period"], got["revision"], got["form"]),
             ("S1", PERIOD, 1, "responses"), "HQ row")
    check_eq(sum(got["channels"].values()), 200, "channel counts")
    check_eq(set(got["channels"]) <= {"questionnaire", "phone", "onsite", "online_review"},
             True, "channel names")

    # S2 sends a month as an aggregate: the same figures as its responses.
    other = responses(11)
    agents["S2"].cli_json("satisfaction", "submit",
                          fs.write_json(h, "aggregate.json", aggregate_of(other)))
    fs.wait_record(agents["S2"], "satisfaction/S2/2026-10")
    got = hq_figures(hq, "S2", "2026-10")
    check_figures(got, expected(other), "HQ's figures of an aggregate")
    check_eq(got["form"], "aggregate", "aggregate form")

    # A corrected month: the first 20 responses were entered twice.
    cp = agents["S1"].cli("satisfaction", "submit", fs.write(h, "fix.csv", to_csv(rows[20:])),
                          check_rc=False)
    fs.refused(cp, "--reason")
    agents["S1"].cli("satisfaction", "submit", fs.write(h, "fix.csv", to_csv(rows[20:])),
                     "--reason", "20 questionnaires were entered twice")
    fs.wait_record(agents["S1"], "satisfaction/S1/" + PERIOD, revision=2)
    got = hq_figures(hq, "S1", PERIOD)
    check_figures(got, expected(rows[20:]), "HQ's figures after the correction")
    check_eq(got["revision"], 2, "corrected revision")
    listed = hq.cli_json("satisfaction")
    check_eq(sorted((r["site"], r["period"]) for r in listed),
             [("S1", PERIOD), ("S2", "2026-10")], "one row per site and month")
    text = hq.cli("satisfaction").stdout
    check("S1" in text and expected(rows[20:])["means"]["overall"] in text,
          "human output: %r" % text)


def test_bad_survey_files_refused(h):
    hq, agents = fs.setup(h, SITES[:1])
    agent = agents["S1"]
    good = responses(5, 3)
    head = ",".join(HEADER) + "\n"

    def line(row):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        return buf.getvalue()

    bad_score = [list(r) for r in good]
    bad_score[2][3] = 6  # service
    two_months = [list(r) for r in good]
    two_months[1][0] = "2026-12-01"
    cases = [
        ("wrong-columns.csv", ",".join(HEADER[:-1]) + "\n" + "".join(line(r[:-1]) for r in good),
         ["line 1", "9 columns, want 10"]),
        ("renamed-column.csv", head.replace("facilities", "facility") + "".join(map(line, good)),
         ["line 1", "column 7", "facility"]),
        ("score.csv", head + "".join(map(line, bad_score)), ["line 4", "service", "6"]),
        ("recommend.csv", head + line(good[0][:8] + [11, ""]), ["line 2", "recommend", "11"]),
        ("months.csv", head + "".join(map(line, two_months)), ["line 3", "2026-12-01", PERIOD]),
        ("channel.csv", head + line(good[0][:1] + ["fax"] + good[0][2:]), ["line 2", "channel"]),
        ("comma.csv", head + "2026-11-02,phone,5,5,5,5,5,5,9,good, but noisy\n",
         ["line 2", "11 fields, want 10"]),
        ("date.csv", head + line(["11/02/2026"] + good[0][1:]), ["line 2", "date"]),
        ("aggregate.json", '{"period": "2026-11", "aggregate": {"responses": 3, "scores": {'
         '"cleanliness": {"5": 3}, "service": {"5": 3}, "value": {"5": 2}, "location": {"5": 3},'
         ' "facilities": {"5": 3}, "overall": {"5": 3}}, "recommend": {"9": 3}}}',
         ["aggregate.scores.value", "add up to 2"]),
        ("response.json", '{"period": "2026-11", "responses": [{"date": "2026-11-02",'
         ' "channel": "phone", "cleanliness": 5, "service": 5, "value": 0, "location": 5,'
         ' "facilities": 5, "overall": 5, "recommend": 9}]}', ["responses[0].value", "0"]),
    ]
    before = fs.outbox(agent)
    for name, text, fragments in cases:
        cp = agent.cli("satisfaction", "submit", fs.write(h, name, text), check_rc=False)
        refusal = fs.refused(cp, *fragments)
        check("nothing was stored" in refusal, "%s: %r" % (name, refusal))
    gbk = os.path.join(h.root, "gbk.csv")
    with open(gbk, "wb") as f:
        f.write((head + "2026-11-02,phone,5,5,5,5,5,5,9,\u5f88\u597d\n").encode("gbk"))
    fs.refused(agent.cli("satisfaction", "submit", gbk, check_rc=False), "line 2", "UTF-8")
    fs.no_new_records(agent, before)
    check_eq(agent.cli_json("satisfaction", "list"), [], "months sent after refusals")

    # the one good file goes through, so the agent was able to send all along
    agent.cli("satisfaction", "submit", fs.write(h, "good.csv", head + "".join(map(line, good))))
    fs.wait_record(agent, "satisfaction/S1/" + PERIOD)
    check_eq([r["responses"] for r in hq.cli_json("satisfaction")], [3], "HQ rows")


if __name__ == "__main__":
    harness.main([test_200_responses_match_independent_computation,
                  test_bad_survey_files_refused])
