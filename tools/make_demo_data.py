#!/usr/bin/env python3
"""Build innsync's demo data set (deploy/demo/) from the public hotel booking data.

Usage (from the repository root):
    python3 tools/make_demo_data.py [BOOKINGS.csv.gz] [--out DIR]
    python3 tools/make_demo_data.py --check [--out DIR]

The first form reads the "Hotel booking demand" CSV (Antonio, de Almeida, Nunes,
Data in Brief 22 (2019) 41-49, doi:10.1016/j.dib.2018.11.126, CC BY 4.0), default
../shared/data/hotel-booking-demand/hotel_bookings.csv.gz relative to the repository
root, writes DIR/sites.json and DIR/reports/<SITE>/<YYYY-MM>.json (DIR defaults to
deploy/demo), then runs the check. The second form only checks the written files.
deploy/demo/README.md describes the derivation. Python 3 standard library only; the
output is a pure function of the input (no randomness, no clock).
"""

import argparse
import calendar
import csv
import datetime
import gzip
import hashlib
import io
import json
import os
import re
import sys
from fractions import Fraction

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_INPUT = os.path.join(REPO, "..", "shared", "data", "hotel-booking-demand",
                             "hotel_bookings.csv.gz")
DEFAULT_OUT = os.path.join(REPO, "deploy", "demo")
# sha256 of the uncompressed CSV the committed files were made from (SOURCE.md).
EXPECTED_SHA256 = "7c2ae42a7353905ea136e5c2287f17c92c5435826598bfbb8491c6f0c7b1fc06"

SOURCE_YEAR = 2016        # the one complete calendar year in the data
REPORT_YEAR = 2026        # source month 2016-MM is reported as 2026-MM
EUR_TO_CNY = Fraction(78, 10)
CURRENCY = "CNY"

# Real hotels of the source, with the room count we assume (the data has no inventory;
# SOURCE.md: at most 187 / 226 rooms occupied on one night).
HOTELS = {"Resort Hotel": 200, "City Hotel": 240}

# The four demo sites: source hotel and scale factor. Rooms = hotel rooms x factor.
SITES = [
    {"id": "SH001", "name": "Shanghai Hongqiao Inn", "kind": "managed",
     "city": "Shanghai", "region": "east", "tier": "classic",
     "source": "City Hotel", "factor": Fraction(1)},
    {"id": "HZ002", "name": "Hangzhou West Lake Resort", "kind": "franchise",
     "city": "Hangzhou", "region": "east", "tier": "premium",
     "source": "Resort Hotel", "factor": Fraction(1)},
    {"id": "SZ003", "name": "Suzhou Jinji Lake Hotel", "kind": "member",
     "city": "Suzhou", "region": "east", "tier": "select",
     "source": "Resort Hotel", "factor": Fraction(8, 10)},
    {"id": "CD004", "name": "Chengdu Chunxi Road Inn", "kind": "franchise",
     "city": "Chengdu", "region": "southwest", "tier": "classic",
     "source": "City Hotel", "factor": Fraction(6, 10)},
]
SITE_KEYS = ("id", "name", "kind", "city", "rooms", "region", "tier")
KINDS = ("member", "franchise", "managed")

# F&B: price per person (adults + children) per night, CNY cents, by meal plan.
MEAL_PRICE = {"BB": 4800, "HB": 4800 + 8800, "FB": 4800 + 6800 + 8800,
              "SC": 0, "Undefined": 0}
MEETING_PER_NIGHT = 2500      # CNY cents per corporate or group room-night
PARKING_PER_NIGHT = 3000      # CNY cents per parking space per night
REQUEST_PRICE = 1500          # CNY cents per special request, on the first night

SEGMENT_WORDS = {"ota": "online travel agencies", "offline_ta": "offline travel agencies",
                 "group": "groups", "corporate": "corporate guests",
                 "walk_in": "walk-in guests", "member": "members",
                 "complimentary": "complimentary stays", "other": "other guests"}

MAX_FILE_BYTES = 64 * 1024
MAX_LINES = 64
MAX_NAME = 64


def round_half_up(x):
    """Nearest integer to the non-negative Fraction (or int) x, .5 rounded up."""
    x = Fraction(x)
    if x < 0:
        raise ValueError("negative amount %s" % x)
    return int((x + Fraction(1, 2)) // 1)


def report_days(year, month):
    """Days of the reporting month a source month maps to (year + 10)."""
    return calendar.monthrange(year + REPORT_YEAR - SOURCE_YEAR, month)[1]


def money(cents):
    return "%d.%02d" % divmod(cents, 100)


def segment_of(row):
    seg = row["market_segment"]
    if seg == "Direct":
        return "member" if row["is_repeated_guest"] == "1" else "walk_in"
    return {"Online TA": "ota", "Offline TA/TO": "offline_ta", "Groups": "group",
            "Corporate": "corporate", "Aviation": "corporate",
            "Complementary": "complimentary"}.get(seg, "other")


def channel_of(row):
    ch = row["distribution_channel"]
    if ch == "TA/TO":
        return "ota" if row["market_segment"] == "Online TA" else "travel_agency"
    if ch == "Direct":
        return "walk_in" if row["lead_time"] == "0" else "brand_app"
    return {"Corporate": "corporate", "GDS": "gds"}.get(ch, "other")


def num(text):
    return 0 if text in ("NA", "NULL", "") else int(text)


class Month:
    """Exact figures of one hotel in one calendar month (EUR cents for room revenue,
    CNY cents for the other revenue)."""

    def __init__(self):
        self.sold = 0
        self.revenue_eur = 0
        self.segments = {}   # name -> [room_nights, revenue_eur_cents]
        self.channels = {}
        self.fnb = 0
        self.meeting = 0
        self.other = 0


def read_bookings(path):
    """Returns ({hotel: {(year, month): Month}}, sha256 hex of the uncompressed CSV)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    digest = hashlib.sha256(raw).hexdigest()
    months_by_name = {calendar.month_name[i]: i for i in range(1, 13)}
    data = {h: {} for h in HOTELS}
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")):
        if row["is_canceled"] != "0" or row["hotel"] not in HOTELS:
            continue
        arrival = datetime.date(int(row["arrival_date_year"]),
                                months_by_name[row["arrival_date_month"]],
                                int(row["arrival_date_day_of_month"]))
        nights = int(row["stays_in_weekend_nights"]) + int(row["stays_in_week_nights"])
        adr = Fraction(row["adr"])
        adr_cents = 0 if adr < 0 else int(adr * 100)   # one ADR is negative: 0
        assert adr_cents == adr * 100 or adr < 0, row["adr"]
        persons = num(row["adults"]) + num(row["children"])
        meal = MEAL_PRICE.get(row["meal"], 0)
        seg, chan = segment_of(row), channel_of(row)
        parking = num(row["required_car_parking_spaces"])
        first = True
        for i in range(nights):
            day = arrival + datetime.timedelta(days=i)
            if day.day > report_days(day.year, day.month):
                continue     # 29 February 2016: 2026 is not a leap year
            m = data[row["hotel"]].setdefault((day.year, day.month), Month())
            m.sold += 1
            m.revenue_eur += adr_cents
            for lines, name in ((m.segments, seg), (m.channels, chan)):
                line = lines.setdefault(name, [0, 0])
                line[0] += 1
                line[1] += adr_cents
            m.fnb += persons * meal
            if seg in ("corporate", "group"):
                m.meeting += MEETING_PER_NIGHT
            m.other += parking * PARKING_PER_NIGHT
            if first:
                m.other += num(row["total_of_special_requests"]) * REQUEST_PRICE
                first = False
    return data, digest


def apportion(total, exact):
    """Integers for the {name: Fraction} exact values, each rounded half-up, whose sum
    is total: the rounding difference goes to the largest line."""
    out = {k: round_half_up(v) for k, v in exact.items()}
    if out:
        largest = max(exact, key=lambda k: (exact[k], k))
        out[largest] += total - sum(out.values())
        assert out[largest] >= 0
    return out


def mix(lines, factor, sold, revenue):
    """Scaled segment or channel lines adding up exactly to sold and revenue."""
    nights = apportion(sold, {k: v[0] * factor for k, v in lines.items()})
    cents = apportion(revenue, {k: v[1] * EUR_TO_CNY * factor for k, v in lines.items()})
    names = sorted((k for k in lines if nights[k] or cents[k]),
                   key=lambda k: (-nights[k], -cents[k], k))
    return [{"name": k, "room_nights": nights[k], "revenue": cents[k]} for k in names]


def site_month(site, m, year, month):
    """The figures (integers, money in cents) of a site for one month."""
    days = report_days(year, month)
    available = site["rooms"] * days
    factor = site["factor"]
    if m.sold * factor > available:    # never with the rooms above; kept consistent
        factor = Fraction(available, m.sold)
    sold = round_half_up(m.sold * factor)
    revenue = round_half_up(m.revenue_eur * EUR_TO_CNY * factor)
    return {
        "available": available, "sold": sold, "revenue": revenue,
        "other": {"fnb": round_half_up(m.fnb * factor),
                  "meeting": round_half_up(m.meeting * factor),
                  "other": round_half_up(m.other * factor)},
        "segments": mix(m.segments, factor, sold, revenue),
        "channels": mix(m.channels, factor, sold, revenue),
    }


def costs_of(site, f):
    """A franchised store's monthly costs (CNY cents): part fixed by room inventory,
    part proportional to activity."""
    available, rooms = f["available"], site["rooms"]
    total = f["revenue"] + sum(f["other"].values())
    ota = sum(l["revenue"] for l in f["channels"] if l["name"] == "ota")
    exact = [
        ("labour", available * 6000 + Fraction(12, 100) * total),
        ("energy", available * 1500 + Fraction(25, 1000) * total),
        ("supplies", f["sold"] * 3500 + Fraction(30, 100) * f["other"]["fnb"]),
        ("maintenance", available * 1800 + Fraction(1, 100) * total),
        ("rent", rooms * 240000),
        ("fees", Fraction(5, 100) * f["revenue"] + Fraction(15, 100) * ota),
    ]
    return {k: round_half_up(v) for k, v in exact}


def percent(part, whole):
    return Fraction(part, whole) * 100 if whole else Fraction(0)


def analysis_of(site, f, prev, year, month):
    occ = percent(f["sold"], f["available"])
    text = "Occupancy %.1f%%" % float(occ)
    if prev is not None:
        delta = round_half_up(abs(occ - percent(prev["sold"], prev["available"])) * 10)
        prev_name = calendar.month_name[month - 1 if month > 1 else 12]
        if delta == 0:
            text += ", unchanged from %s" % prev_name
        else:
            up = occ > percent(prev["sold"], prev["available"])
            text += ", %s %d.%d points on %s" % ("up" if up else "down", delta // 10,
                                                 delta % 10, prev_name)
    adr = round_half_up(Fraction(f["revenue"], f["sold"])) if f["sold"] else 0
    revpar = round_half_up(Fraction(f["revenue"], f["available"]))
    text += "; ADR CNY %s, RevPAR CNY %s." % (money(adr), money(revpar))
    if f["segments"]:
        top = f["segments"][0]
        text += " The largest segment was %s with %d%% of room-nights" % (
            SEGMENT_WORDS.get(top["name"], top["name"]),
            round_half_up(percent(top["room_nights"], f["sold"])))
        if "costs" in f:
            total = f["revenue"] + sum(f["other"].values())
            gop = total - sum(f["costs"].values())
            share = "%.1f%%" % abs(float(percent(gop, total)))
            if gop >= 0:
                text += ", and gross operating profit was %s of total revenue" % share
            else:
                text += ", and the month ran a gross operating loss of %s of total " \
                        "revenue" % share
        text += "."
    return text


def report_json(period, f):
    """The report file text: top-level keys one per line, one list item per line."""
    def lines(items):
        return [{"name": l["name"], "room_nights": l["room_nights"],
                 "revenue": money(l["revenue"])} for l in items]

    fields = [("period", period), ("currency", CURRENCY),
              ("rooms_available", f["available"]), ("rooms_sold", f["sold"]),
              ("room_revenue", money(f["revenue"])),
              ("other_revenue", {k: money(v) for k, v in f["other"].items()}),
              ("segments", lines(f["segments"])), ("channels", lines(f["channels"]))]
    if "costs" in f:
        fields.append(("costs", {k: money(v) for k, v in f["costs"].items()}))
    fields.append(("analysis", f["analysis"]))
    out = []
    for key, value in fields:
        if isinstance(value, list):
            items = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in value)
            text = "[\n%s\n  ]" % items if value else "[]"
        else:
            text = json.dumps(value, ensure_ascii=False)
        out.append("  %s: %s" % (json.dumps(key), text))
    return "{\n" + ",\n".join(out) + "\n}\n"


def sites_json():
    items = []
    for s in SITES:
        d = dict(s, rooms=int(HOTELS[s["source"]] * s["factor"]))
        assert d["rooms"] == HOTELS[s["source"]] * s["factor"]
        items.append("  " + json.dumps({k: d[k] for k in SITE_KEYS}, ensure_ascii=False))
    return "[\n" + ",\n".join(items) + "\n]\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def generate(src, out):
    data, digest = read_bookings(src)
    if digest != EXPECTED_SHA256:
        print("warning: %s is not the CSV the committed files were made from "
              "(sha256 %s)" % (src, digest), file=sys.stderr)
    write(os.path.join(out, "sites.json"), sites_json())
    for s in SITES:
        site = dict(s, rooms=int(HOTELS[s["source"]] * s["factor"]))
        months = data[s["source"]]
        prev = site_month(site, months[(SOURCE_YEAR - 1, 12)], SOURCE_YEAR - 1, 12)
        for month in range(1, 13):
            f = site_month(site, months[(SOURCE_YEAR, month)], SOURCE_YEAR, month)
            if site["kind"] == "franchise":
                f["costs"] = costs_of(site, f)
            f["analysis"] = analysis_of(site, f, prev, SOURCE_YEAR, month)
            period = "%04d-%02d" % (REPORT_YEAR, month)
            write(os.path.join(out, "reports", site["id"], period + ".json"),
                  report_json(period, f))
            prev = f


# ---- Check ---------------------------------------------------------------------------

MONEY_RE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$")   # non-negative, <= 2 decimals
PERIOD_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
SITE_ID_RE = re.compile(r"^[A-Z]{2}[0-9]{3}$")


class CheckError(Exception):
    pass


def need(cond, where, what):
    if not cond:
        raise CheckError("%s: %s" % (where, what))


def load_json(data, where):
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError as e:      # bad UTF-8 or bad JSON
        raise CheckError("%s: %s" % (where, e))


def cents_of(value, where):
    need(isinstance(value, str) and MONEY_RE.match(value), where,
         "%r is not a non-negative amount with at most two decimals" % (value,))
    whole, _, frac = value.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def count_of(value, where):
    need(isinstance(value, int) and not isinstance(value, bool) and value >= 0, where,
         "%r is not a non-negative integer" % (value,))
    return value


def check_amounts(obj, where):
    need(isinstance(obj, dict) and len(obj) <= MAX_LINES, where, "not an object of amounts")
    for k, v in obj.items():
        need(0 < len(k.encode()) <= MAX_NAME, where, "bad name %r" % k)
        cents_of(v, "%s.%s" % (where, k))


def check_report(path, site, period):
    size = os.path.getsize(path)
    need(size < MAX_FILE_BYTES, path, "%d bytes, not under 64 KiB" % size)
    with open(path, "rb") as f:
        r = load_json(f.read(), path)
    need(isinstance(r, dict), path, "not an object")
    allowed = {"period", "currency", "rooms_available", "rooms_sold", "room_revenue",
               "other_revenue", "segments", "channels", "costs", "analysis"}
    need(set(r) <= allowed, path, "unknown keys %s" % sorted(set(r) - allowed))
    m = PERIOD_RE.match(r.get("period") or "")
    need(m is not None and r["period"] == period, path, "period %r" % r.get("period"))
    need(r.get("currency") == CURRENCY, path, "currency %r" % r.get("currency"))
    available = count_of(r.get("rooms_available"), path + ": rooms_available")
    days = calendar.monthrange(int(m.group(1)), int(m.group(2)))[1]
    need(available == site["rooms"] * days, path, "rooms_available is not rooms x days")
    sold = count_of(r.get("rooms_sold"), path + ": rooms_sold")
    need(sold <= available, path, "rooms_sold %d > rooms_available %d" % (sold, available))
    revenue = cents_of(r.get("room_revenue"), path + ": room_revenue")
    need(sold > 0 or revenue == 0, path, "room revenue without rooms sold")
    check_amounts(r.get("other_revenue"), path + ": other_revenue")
    for key in ("segments", "channels"):
        lines = r.get(key)
        need(isinstance(lines, list) and 0 < len(lines) <= MAX_LINES, path, key)
        names, nights, cents = set(), 0, 0
        for i, line in enumerate(lines):
            where = "%s: %s[%d]" % (path, key, i)
            need(isinstance(line, dict) and set(line) == {"name", "room_nights", "revenue"},
                 where, "keys")
            need(isinstance(line["name"], str) and 0 < len(line["name"].encode()) <= MAX_NAME
                 and line["name"] not in names, where, "name %r" % line["name"])
            names.add(line["name"])
            nights += count_of(line["room_nights"], where + ".room_nights")
            cents += cents_of(line["revenue"], where + ".revenue")
        need(nights == sold, path, "%s room_nights add up to %d, not %d" % (key, nights, sold))
        need(cents == revenue, path, "%s revenue adds up to %s, not %s"
             % (key, money(cents), money(revenue)))
    if site["kind"] == "franchise":
        need("costs" in r, path, "a franchised store's report without costs")
        check_amounts(r["costs"], path + ": costs")
    else:
        need("costs" not in r, path, "costs in a %s site's report" % site["kind"])
    analysis = r.get("analysis")
    need(isinstance(analysis, str) and 0 < len(analysis.encode()) <= 32 * 1024, path,
         "analysis")
    return sold, available, revenue


def check(out):
    """Re-reads DIR/sites.json and every report; returns a list of summary lines."""
    with open(os.path.join(out, "sites.json"), "rb") as f:
        sites = load_json(f.read(), "sites.json")
    need(isinstance(sites, list) and sites, "sites.json", "not a non-empty array")
    ids = set()
    for s in sites:
        need(isinstance(s, dict) and set(s) == set(SITE_KEYS), "sites.json", "keys of %r" % s)
        need(SITE_ID_RE.match(s["id"]) and s["id"] not in ids, "sites.json", "id %r" % s["id"])
        need(s["kind"] in KINDS, "sites.json", "kind %r" % s["kind"])
        count_of(s["rooms"], "sites.json: rooms")
        ids.add(s["id"])
    reports_dir = os.path.join(out, "reports")
    need(sorted(os.listdir(reports_dir)) == sorted(ids), reports_dir,
         "site directories do not match sites.json")
    summary, total_bytes = [], 0
    for s in sites:
        d = os.path.join(reports_dir, s["id"])
        files = sorted(os.listdir(d))
        need(files == ["%04d-%02d.json" % (REPORT_YEAR, mo) for mo in range(1, 13)], d,
             "expected the twelve months of %d, found %s" % (REPORT_YEAR, files))
        sold = available = revenue = 0
        for name in files:
            a, b, c = check_report(os.path.join(d, name), s, name[:-5])
            sold, available, revenue = sold + a, available + b, revenue + c
            total_bytes += os.path.getsize(os.path.join(d, name))
        summary.append("%s %-9s year: occupancy %.1f%%, ADR CNY %s, RevPAR CNY %s" % (
            s["id"], s["kind"], float(percent(sold, available)),
            money(round_half_up(Fraction(revenue, sold))),
            money(round_half_up(Fraction(revenue, available)))))
    summary.append("ok: %d sites, %d reports, %d bytes of reports"
                   % (len(sites), 12 * len(sites), total_bytes))
    return summary


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input", nargs="?", default=DEFAULT_INPUT,
                   help="hotel_bookings.csv.gz (default: %(default)s)")
    p.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    p.add_argument("--check", action="store_true", help="only check the written files")
    args = p.parse_args()
    try:
        if not args.check:
            generate(args.input, args.out)
        for line in check(args.out):
            print(line)
    except CheckError as e:
        print("check failed: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
