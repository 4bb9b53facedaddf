"""Hostile but correctly signed records of every kind (1-9) from enrolled
agents: a site's agent (branch role) and an inspector's agent, both fresh
(never ran `innsync-branch run`), driven over their own DEALER socket with
their CURVE keys; every record and manifest is signed with the agent's
sign.pem. Payloads: the payload member missing or of another kind, empty
strings, very long strings, huge repeated counts, int64/uint32 extremes,
ids with path, control and non-UTF-8 bytes, record ids against the
convention, revision 0 and 2^32-1, photos with bad hashes, duplicate ids,
ratings 0/6/255, unknown plans, courses, complaints, rounds and findings,
impossible dates, kinds the role may not write.

For each case: the Ack covers the record; it is refused with a non-empty,
one-line, printable UTF-8 reason (with the code and text the protocol
gives), or accepted where the record is valid. Afterwards: HQ is running
and still acknowledges a normal agent's report, the verdicts HQ stored are
those of the Acks, no refused record left effects, `innsync-hq verify`
passes, PRAGMA integrity_check is ok, the staff views still read the store,
and HQ's log has no sanitizer report (run it against the ASan build too).

A case that crashes HQ or gets no Ack is run again on its own, to name it.
Prints one line per case and `N passed, M failed`; exit status 1 on failure.

    /usr/bin/python3 test_hostile_records.py --hq PATH/innsync-hq --branch PATH/innsync-branch
"""

import datetime
import json
import os
import signal
import sqlite3
import sys
import time
import traceback

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq  # noqa: E402
import hostile_support as hs  # noqa: E402
from hostile_support import (  # noqa: E402
    SALES, QA, PLAN, DONE, TRAINING_ACK, TRAINING_RESULTS, SATISFACTION, COMPLAINT, EVALUATION,
    INVALID, UNAUTHORISED, STALE, UNKNOWN_SITE, U32_MAX, U64_MAX, I64_MIN, I64_MAX)

INSPECTOR = "Li Na"
SITES = [("S1", "franchise", "east", "classic"), ("S2", "managed", "north", "classic"),
         ("S3", "member", "east", "select"), ("S4", "member", "east", "select")]
BIG_REPORTS = 40  # large QA inspections of S4 while its agent is offline
CHECKLIST = {"name": "Standard audit 2026", "items": [
    {"code": "SV-01", "category": "service", "text": "Guest greeted within 30 s", "weight": 2},
    {"code": "HY-01", "category": "hygiene", "text": "Bathroom floor dry and clean", "weight": 2},
    {"code": "HY-02", "category": "hygiene", "text": "Bed linen changed", "weight": 3},
    {"code": "SF-01", "category": "safety", "text": "Fire exits unobstructed", "weight": 4},
    {"code": "HW-01", "category": "hardware", "text": "Air conditioning works", "weight": 1},
    {"code": "CD-01", "category": "conduct", "text": "Staff in uniform", "weight": 1}]}
WEIGHTS = [("service", 2), ("hygiene", 5), ("safety", 4), ("hardware", 1), ("conduct", 1)]
FORM = {"name": "GM evaluation of HQ services", "items": [
    {"code": "CS-1", "department": "customer_service", "text": "Account manager visits"},
    {"code": "CS-2", "department": "customer_service", "text": "Answers within a day"},
    {"code": "QA-1", "department": "qa", "text": "Inspections are fair"},
    {"code": "TR-1", "department": "training", "text": "Courses meet our needs"},
    {"code": "SM-1", "department": "sales", "text": "Pricing and OTA support"},
    {"code": "SY-1", "department": "systems", "text": "Systems are reliable"}]}
ITEMS = [i["code"] for i in FORM["items"]]
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
# 13 courses with 64-character codes: the "(courses: ...)" list of TR3 is cut
LONG_COURSES = ["LONG-%02d-" % i + "x" * 56 for i in range(13)]

BATCH_ACK_TIMEOUT = 15
SINGLE_ACK_TIMEOUT = 5
MAX_BATCH_BYTES = 1024 * 1024
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                   "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def write_json(h, name, value):
    path = os.path.join(h.root, name)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False)
    return path


def b(text):
    return text if isinstance(text, bytes) else text.encode("utf-8")


# -- cases ---------------------------------------------------------------------

ACCEPTED, REFUSED = "accepted", "refused"


class Case:
    """One record: who sends it ("B" the site's agent, "I" the inspector's),
    the RecordBody fields, and the verdict expected."""

    def __init__(self, name, who, kind, record_id, payload, expect=REFUSED, code=None, frags=(),
                 site="S1", revision=1, reason="", payload_field=None, created_at_ms=None,
                 origin_agent=None, seq_offset=0, raw=None, author="hostile test", extra=b"",
                 alone=False, signature=None):
        self.name = name
        self.who = who
        self.kind = kind
        self.record_id = record_id
        self.payload = payload
        self.expect = expect
        self.code = code
        self.frags = tuple(frags) if isinstance(frags, (list, tuple)) else (frags,)
        self.site = site
        self.revision = revision
        self.reason = reason
        self.payload_field = payload_field
        self.created_at_ms = created_at_ms
        self.origin_agent = origin_agent
        self.seq_offset = seq_offset
        self.raw = raw
        self.author = author
        self.extra = extra
        self.alone = alone or signature is not None  # a batch of its own
        self.signature = signature  # None: signed with the agent's key
        self.seq = None
        self.verdict = None   # (status, code, reason bytes)
        self.problems = []    # what went wrong besides the verdict check

    def body(self, world, seq):
        if self.raw is not None:
            return self.raw(world, seq) if callable(self.raw) else self.raw
        me = world.ids[self.who]
        origin = self.origin_agent(world) if callable(self.origin_agent) else \
            (self.origin_agent if self.origin_agent is not None else me)
        field = self.payload_field or hs.PAYLOAD_FIELD.get(self.kind, 20)
        payload = None if self.payload is None else (field, self.payload)
        return hs.record_body(origin, seq + self.seq_offset, self.record_id, self.kind,
                              self.site, self.revision, self.author, self.created_at_ms,
                              self.reason, payload) + self.extra

    def repro(self):
        parts = ["agent=%s" % ("site S1 (branch)" if self.who == "B" else "inspector"),
                 "kind=%d" % self.kind, "site=%s" % hs.shorten(self.site, 60),
                 "record_id=%s" % hs.shorten(self.record_id, 90),
                 "revision=%d" % self.revision]
        if self.reason:
            parts.append("reason=%s" % hs.shorten(self.reason, 40))
        if self.created_at_ms is not None:
            parts.append("created_at_ms=%d" % self.created_at_ms)
        if self.origin_agent is not None:
            parts.append("origin_agent overridden")
        if self.payload_field:
            parts.append("payload member=%d" % self.payload_field)
        if self.signature is not None:
            parts.append("SignedRecord.signature=%r" % self.signature)
        if self.raw is not None:
            parts.append("raw body %s" % hs.shorten(self.raw if not callable(self.raw) else
                                                     "(built per seq)", 80))
        elif self.payload is not None:
            parts.append("payload=%s" % hs.shorten(self.payload, 200))
        else:
            parts.append("payload=absent")
        return ", ".join(parts)

    def check(self):
        """The problems with this case's outcome ([] if it passed)."""
        problems = list(self.problems)
        if self.verdict is None:
            return problems or ["no verdict (the Ack did not cover the record)"]
        status, code, reason = self.verdict
        if self.expect not in (ACCEPTED, REFUSED):  # any verdict will do
            pass
        elif status != self.expect:
            text = "expected %s, got %s" % (self.expect, status)
            if status == REFUSED:
                text += " (%s: %s)" % (hs.CODE_NAMES.get(code, code),
                                      reason.decode("utf-8", errors="replace"))
            problems.append(text)
            return problems
        if status == REFUSED and self.expect != REFUSED:
            bad = hs.reason_problem(reason)
            if bad:
                problems.append("%s: %s" % (bad, hs.shorten(reason, 300)))
        if status == REFUSED and self.expect == REFUSED:
            if self.code is not None and code != self.code:
                problems.append("refusal code %s, expected %s" % (
                    hs.CODE_NAMES.get(code, code), hs.CODE_NAMES.get(self.code)))
            missing = [fr for fr in self.frags if b(fr) not in reason]
            if missing:
                problems.append("reason %s does not contain %r" % (hs.shorten(reason, 300),
                                                                   missing))
            bad = hs.reason_problem(reason)
            if bad:
                problems.append("%s: %s" % (bad, hs.shorten(reason, 300)))
        return problems


def cases_judge(w):
    """Rules every kind shares: body, identity, site, kind, role (J1-J6),
    revision and reason (J8, J9)."""
    out = []

    def sales_case(name, rid, expect=REFUSED, **kw):
        out.append(Case(name, "B", SALES, rid, hs.sales_report(period="2026-05"), expect, **kw))

    out += [
        Case("J1 body of 0xff bytes", "B", SALES, "", None, raw=b"\xff" * 64, code=INVALID,
             frags="record body is not a valid RecordBody"),
        Case("J1 body with record_id sent as a varint", "B", SALES, "", None,
             raw=lambda w_, s: hs.f(1, w_.ids["B"]) + hs.f(2, s) + hs.f(3, 7), code=INVALID,
             frags="record body is not a valid RecordBody"),
        Case("J1 body cut in its payload", "B", SALES, "sales/S1/2026-05", None, code=INVALID,
             raw=lambda w_, s: hs.record_body(w_.ids["B"], s, "sales/S1/2026-05", SALES, "S1",
                                              payload=(20, hs.sales_report("2026-05")))[:-5],
             frags="record body is not a valid RecordBody"),
        Case("J2 empty body (0 bytes: a RecordBody of defaults)", "B", SALES, "", None, raw=b"",
             code=INVALID, frags="record names agent", alone=True),
        Case("empty SignedRecord.signature on a valid record (HQ 0.1.0 does not check it)",
             "B", SALES, "sales/S1/2027-04", hs.sales_report("2027-04"), "any",
             signature=b""),
        Case("J2 origin_agent is the inspector's id", "B", SALES, "sales/S1/2026-05",
             hs.sales_report("2026-05"), origin_agent=lambda w_: w_.ids["I"], code=INVALID,
             frags="record names agent"),
        Case("J2 origin_agent with a newline and an escape sequence", "B", SALES,
             "sales/S1/2026-05", hs.sales_report("2026-05"), origin_agent="ag-\n\x1b[2J",
             code=INVALID, frags="record names agent"),
        Case("J2 origin_agent of 100 KB", "B", SALES, "sales/S1/2026-05",
             hs.sales_report("2026-05"), origin_agent="a" * 100000, code=INVALID,
             frags="record names agent"),
        Case("J2 origin_seq one ahead", "B", SALES, "sales/S1/2026-05",
             hs.sales_report("2026-05"), seq_offset=1, code=INVALID, frags="record names agent"),
        Case("J2 origin_seq 2^64-1", "B", SALES, "sales/S1/2026-05", None, code=INVALID,
             raw=lambda w_, s: hs.record_body(w_.ids["B"], U64_MAX, "sales/S1/2026-05", SALES,
                                              "S1", payload=(20, hs.sales_report("2026-05"))),
             frags="seq 18446744073709551615"),
    ]
    for label, site in [("unknown", "ZZ9"), ("empty", ""), ("../S1", "../S1"),
                        ("S1/../S2", "S1/../S2"), ("lower-case s1", "s1"),
                        ("100 KB", "A" * 100000)]:
        out.append(Case("J3 site %s" % label, "B", SALES, "sales/S1/2026-05",
                        hs.sales_report("2026-05"), site=site, code=UNKNOWN_SITE,
                        frags="is not known at HQ"))
    for label, site in [("with a newline", "S1\nS2"), ("with ESC", "S1\x1b[31m"),
                        ("non-UTF-8", b"S\xff1"), ("of CJK (cut at 64 bytes)", "中" * 30)]:
        out.append(Case("J3 site %s" % label, "B", SALES, "sales/S1/2026-05",
                        hs.sales_report("2026-05"), site=site, code=UNKNOWN_SITE,
                        frags="is not known at HQ"))
    out += [
        Case("J4 site S2 is not the agent's", "B", SALES, "sales/S2/2026-05",
             hs.sales_report("2026-05"), site="S2", code=UNAUTHORISED,
             frags="may not write records for site S2"),
        Case("J4 inspector writes for unassigned S3", "I", QA, "qa/QA-S3-20260101-0001",
             hs.inspection("QA-S3-20260101-0001", "S3", INSPECTOR, scores=[hs.score("safety", 50)],
                           weights=[hs.weight(c, v) for c, v in WEIGHTS]),
             site="S3", code=UNAUTHORISED, frags="may not write records for site S3"),
    ]
    for kind in (0, 10, -1, 2147483647):
        out.append(Case("J5 kind %d" % kind, "B", kind, "sales/S1/2026-05",
                        hs.sales_report("2026-05"), payload_field=20, code=INVALID,
                        frags="record kind %d is not known to this HQ" % kind))
    # J6: the kinds a role may not write, each with its own payload
    out.append(Case("J6 site's agent writes a QA inspection", "B", QA, "qa/QA-S1-20260101-0999",
                    w.valid_inspection("QA-S1-20260101-0999"), code=UNAUTHORISED,
                    frags="a site's agent may not write QA inspection records"))
    f1 = w.finding_id(1)
    for kind, name, payload, rid in [
            (SALES, "sales-report", hs.sales_report("2026-05"), "sales/S1/2026-05"),
            (PLAN, "rectification plan", hs.rect_plan(f1, w.v1), "rectification-plan/" + f1),
            (DONE, "rectification", hs.rect_done(f1, w.v1), "rectification-done/" + f1),
            (TRAINING_ACK, "training acknowledgement", hs.training_ack("TP-1", 2),
             "training-ack/S1/TP-1"),
            (TRAINING_RESULTS, "training results",
             hs.training_results("TP-1", [hs.training_result("E1", "FD-101")]),
             "training-results/S1/TP-1"),
            (SATISFACTION, "guest satisfaction", hs.satisfaction("2026-02", [hs.survey()]),
             "satisfaction/S1/2026-02"),
            (COMPLAINT, "complaint response", hs.complaint_response(w.c1),
             "complaint-response/S1/" + w.c1),
            (EVALUATION, "evaluation answer", w.full_answer(), "evaluation/S1/" + w.r1)]:
        out.append(Case("J6 inspector writes %s" % name, "I", kind, rid, payload,
                        code=UNAUTHORISED,
                        frags="an inspector's agent may not write %s records" % name))
    # J8, J9 on sales-report records
    sales_case("J8 revision 0", "sales/S1/2026-05", revision=0, code=INVALID,
               frags="revision: must be 1 or more")
    sales_case("J8 valid report 2026-05 rev 1", "sales/S1/2026-05", expect=ACCEPTED)
    sales_case("J9 rev 1 again", "sales/S1/2026-05", code=STALE,
               frags="revision 1 of sales/S1/2026-05 is not newer than revision 1 already held")
    sales_case("J8 rev 2 without a reason", "sales/S1/2026-05", revision=2, code=INVALID,
               frags="reason: revision 2 of sales/S1/2026-05 needs a reason")
    sales_case("J8 rev 2^32-1 with a reason", "sales/S1/2026-05", expect=ACCEPTED,
               revision=U32_MAX, reason="corrected")
    sales_case("J9 rev 2^32-1 again", "sales/S1/2026-05", revision=U32_MAX, reason="again",
               code=STALE, frags="is not newer than revision 4294967295")
    sales_case("J9 rev 2 after 2^32-1", "sales/S1/2026-05", revision=2, reason="late",
               code=STALE, frags="revision 2 of sales/S1/2026-05 is not newer")
    out += [
        Case("protobuf: unknown fields are ignored", "B", SALES, "sales/S1/2026-11",
             hs.sales_report("2026-11") + hs.f(99, 5) + hs.f(98, b"\x00\x01"), ACCEPTED,
             extra=hs.f(77, b"unknown") + hs.f(76, 1)),
        Case("protobuf: two payload members, the sales report last", "B", SALES,
             "sales/S1/2026-12", None, ACCEPTED,
             raw=lambda w_, s: hs.record_body(
                 w_.ids["B"], s, "sales/S1/2026-12", SALES, "S1",
                 payload=(26, hs.satisfaction("2026-02", [hs.survey()]))) +
             hs.f(20, hs.sales_report("2026-12"))),
        Case("protobuf: two payload members, a survey last", "B", SALES, "sales/S1/2027-01",
             None, code=INVALID, frags="a sales-report record carries no sales report",
             raw=lambda w_, s: hs.record_body(
                 w_.ids["B"], s, "sales/S1/2027-01", SALES, "S1",
                 payload=(20, hs.sales_report("2027-01"))) +
             hs.f(26, hs.satisfaction("2026-02", [hs.survey()]))),
        Case("protobuf: record_id given twice (the last counts)", "B", SALES, "sales/S1/2027-02",
             hs.sales_report("2027-02"), ACCEPTED, extra=hs.f(3, "sales/S1/2027-02"),
             raw=None),
        Case("body of exactly 131072 bytes (author padding)", "B", SALES, "sales/S1/2027-03",
             None, ACCEPTED, raw=lambda w_, s: padded_body(w_, s, 131072)),
    ]
    return out


def padded_body(w, seq, size):
    """A valid 2027-03 sales record whose body is exactly size bytes."""
    def make(n):
        return hs.record_body(w.ids["B"], seq, "sales/S1/2027-03", SALES, "S1",
                              author="a" * n, created_at_ms=1700000000000,
                              payload=(20, hs.sales_report("2027-03")))
    n = size - len(make(0))
    for _ in range(4):  # the author's length prefix grows with n
        body = make(n)
        n += size - len(body)
    check_eq(len(make(n)), size, "padded body size")
    return make(n)


def cases_downstream(w):
    """Valid, large (about 125 KB) QA inspections of S4 while S4's agent is
    offline: HQ must still deliver S4's log when the agent connects (each
    sync message at most 4 MiB, section 3.4)."""
    out = []
    weights = [hs.weight(c, v) for c, v in WEIGHTS]
    for k in range(BIG_REPORTS):
        iid = "QA-S4-BIG-%03d" % k
        findings = [hs.finding("%s-F%d" % (iid, i + 1), "hygiene", "minor", "", "x" * 580)
                    for i in range(200)]
        out.append(Case("downstream: large inspection %d of S4 (valid)" % (k + 1), "I", QA,
                        "qa/" + iid, hs.inspection(iid, "S4", INSPECTOR, findings=findings,
                                                  weights=weights), ACCEPTED, site="S4"))
    return out


def cases_sales(w):
    out = []

    def case(name, report, expect=REFUSED, frags=(), period=None, rid=None, **kw):
        if rid is None:
            rid = b"sales/S1/" + b(period if period is not None else "2026-01")
        out.append(Case("sales: " + name, "B", SALES, rid, report, expect,
                        code=None if expect == ACCEPTED else kw.pop("code", INVALID),
                        frags=frags, **kw))

    case("payload absent", None, frags="a sales-report record carries no sales report")
    case("payload is a satisfaction report", hs.satisfaction("2026-02", [hs.survey()]),
         payload_field=26, frags="a sales-report record carries no sales report")
    case("payload is an empty QA inspection", b"", payload_field=21,
         frags="a sales-report record carries no sales report")
    case("every string empty", hs.sales_report(period="", currency="", analysis=""), period="",
         frags='period: "" is not a month (want YYYY-MM)')
    case("payload present but empty", b"", period="",
         frags='period: "" is not a month (want YYYY-MM)')
    for period, text in [("2026-13", "is not a month"), ("2026-00", "is not a month"),
                         ("1999-12", "is out of range"), ("2100-01", "is out of range"),
                         ("2026-1", "is not a month"), ("2026/01", "is not a month"),
                         ("../../..", "is not a month"), ("2026-01\n", "is not a month"),
                         ("２０２６-01", "is not a month"), (b"20\xff6-01", "is not a month"),
                         ("9" * 5000, "is not a month")]:
        case("period %s" % hs.shorten(period, 30), hs.sales_report(period=period), period=period,
             frags="period: ")
        out[-1].frags = ("period: ", text)
    for currency in ["cny", "", "CNYX", "C\nY", b"\xc3\x28A", "€€€"]:
        case("currency %r" % (currency,), hs.sales_report(currency=currency),
             frags="currency: ")
    for name, kw, text in [
            ("rooms_available -1", dict(available=-1), "rooms_available: -1 is negative"),
            ("rooms_available int64 min", dict(available=I64_MIN),
             "rooms_available: -9223372036854775808 is negative"),
            ("rooms_available int64 max", dict(available=I64_MAX),
             "rooms_available: 9223372036854775807 is more than the maximum 100000000"),
            ("rooms_sold int64 min", dict(sold=I64_MIN), "rooms_sold: -9223372036854775808"),
            ("rooms_sold above available", dict(sold=3101),
             "rooms_sold: 3101 is more than rooms_available (3100)"),
            ("room_revenue -1 cent", dict(revenue=-1), "room_revenue: -0.01 is negative"),
            ("room_revenue int64 min", dict(revenue=I64_MIN),
             "room_revenue: -92233720368547758.08 is negative"),
            ("room_revenue int64 max", dict(revenue=I64_MAX),
             "room_revenue: 92233720368547758.07 is more than the maximum 100000000000.00"),
            ("room_revenue 10^13 + 1", dict(revenue=10 ** 13 + 1), "is more than the maximum")]:
        case(name, hs.sales_report(**kw), frags=text)
    many = [hs.amount("line%03d" % i, 100) for i in range(65)]
    case("other_revenue 65 entries", hs.sales_report(other=many),
         frags="other_revenue: 65 entries, at most 64 allowed")
    case("other_revenue 10,000 empty entries", hs.sales_report(other=[b""] * 10000),
         frags=())
    case("other_revenue name twice", hs.sales_report(other=[hs.amount("fnb", 1),
                                                            hs.amount("fnb", 2)]),
         frags="other_revenue.fnb: appears twice")
    case("other_revenue empty name", hs.sales_report(other=[hs.amount("", 1)]),
         frags="other_revenue: empty name")
    case("other_revenue name of 65 bytes", hs.sales_report(other=[hs.amount("n" * 65, 1)]),
         frags="is longer than 64 bytes")
    case("other_revenue name with a newline", hs.sales_report(other=[hs.amount("a\nb", 1)]),
         frags="contains a control character")
    case("other_revenue name non-UTF-8", hs.sales_report(other=[hs.amount(b"\xff\xfe", 1)]),
         frags="is not valid UTF-8")
    case("other_revenue cents int64 min",
         hs.sales_report(other=[hs.amount("fnb", I64_MIN)]),
         frags="other_revenue.fnb: -92233720368547758.08 is negative")
    case("costs cents int64 max", hs.sales_report(costs=[hs.amount("labour", I64_MAX)]),
         frags="costs.labour: 92233720368547758.07 is more than the maximum")
    case("segments do not add up", hs.sales_report(segments=[hs.mix("ota", 1000, 40000000)]),
         frags="segments: room_nights add up to 1000 but rooms_sold is 2000")
    case("segments room_nights int64 min",
         hs.sales_report(segments=[hs.mix("ota", I64_MIN, 0)]),
         frags="segments[0].room_nights: -9223372036854775808 is negative")
    case("segments 65 lines", hs.sales_report(segments=[hs.mix("s%d" % i, 0, 0)
                                                        for i in range(65)]),
         frags="segments: 65 lines, at most 64 allowed")
    case("channels name twice", hs.sales_report(channels=[hs.mix("ota", 1000, 20000000),
                                                          hs.mix("ota", 1000, 20000000)]),
         frags='channels[1].name: "ota" appears twice (also channels[0])')
    case("analysis 32769 bytes", hs.sales_report(analysis="a" * 32769),
         frags="analysis: 32769 bytes, at most 32768 allowed")
    case("analysis non-UTF-8", hs.sales_report(analysis=b"ok \xc0\xaf"),
         frags="analysis: not valid UTF-8")
    for rid, label in [("sales/S1/2026-02", "another month"), ("sales/S2/2026-01", "another site"),
                       ("sales/S1/../S2/2026-01", "with ../"), ("", "empty"),
                       ("/etc/passwd", "an absolute path"),
                       ("sales/S1/2026-01\n", "with a newline"),
                       ("sales/S1/" + "中" * 20, "of CJK (cut at 64 bytes)")]:
        case("record_id %s" % label, hs.sales_report(), rid=b(rid),
             frags=("record_id: a sales report of S1 for 2026-01 must have id sales/S1/2026-01",))
    # valid ones: each month once
    case("names with path characters are only labels (valid)",
         hs.sales_report(period="2026-03", other=[hs.amount("../../etc/passwd", 5),
                                                  hs.amount("a/b\\c", 5)]),
         ACCEPTED, period="2026-03")
    text = ("Occupancy 80%.\n\t会员增长明显。" * 1200)
    text = text.encode("utf-8")[:32768].decode("utf-8", errors="ignore")
    text += "x" * (32768 - len(text.encode("utf-8")))
    case("analysis of exactly 32768 bytes, multi-line CJK (valid)",
         hs.sales_report(period="2026-04", analysis=text), ACCEPTED, period="2026-04")
    seg = [hs.mix("seg%02d" % i, 31, 620000) for i in range(64)]
    case("64 lines in every list (valid)",
         hs.sales_report(period="2026-06", available=3100, sold=31 * 64, revenue=620000 * 64,
                         other=[hs.amount("o%02d" % i, I64_MAX // 10 ** 7) for i in range(64)],
                         segments=seg, channels=seg,
                         costs=[hs.amount("c%02d" % i, 10 ** 13) for i in range(64)]),
         ACCEPTED, period="2026-06")
    case("created_at_ms int64 min (valid)", hs.sales_report(period="2026-07"), ACCEPTED,
         period="2026-07", created_at_ms=I64_MIN)
    case("created_at_ms int64 max (valid)", hs.sales_report(period="2026-08"), ACCEPTED,
         period="2026-08", created_at_ms=I64_MAX)
    case("author of 100 KB (valid: free text)", hs.sales_report(period="2026-09"), ACCEPTED,
         period="2026-09", author="\u00e9" * 50000)
    case("rev 2 with a 100 KB reason (valid)", hs.sales_report(period="2026-09"), ACCEPTED,
         period="2026-09", revision=2, reason="r" * 100000)
    case("record_id of 100 KB", hs.sales_report(), rid="sales/S1/" + "x" * 100000,
         frags="record_id: a sales report of S1 for 2026-01 must have id sales/S1/2026-01")
    return out


def cases_inspection(w):
    out = []
    weights = [hs.weight(c, v) for c, v in WEIGHTS]

    def case(name, ins_id, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("QA inspection: " + name, "I", QA,
                        rid if rid is not None else b"qa/" + b(ins_id), payload, expect,
                        code=code, frags=frags, **kw))

    def ins(ins_id, findings=None, **kw):
        kw.setdefault("scores", [hs.score("hygiene", 70)])
        kw.setdefault("weights", weights)
        site = kw.pop("site", "S1")
        inspector = kw.pop("inspector", INSPECTOR)
        if findings is None:
            findings = [hs.finding(b(ins_id) + b"-F1", item="HY-01",
                                   photos=[hs.photo(b(ins_id) + b"p")])]
        return hs.inspection(ins_id, site, inspector, findings=findings, **kw)

    def fnd(ins_id, n=1, **kw):
        return hs.finding(b(ins_id) + b"-F%d" % n, **kw)

    mismatch = "payload: the record's kind and payload do not match"
    # the valid inspections the rectification cases need: first
    case("valid, 4 findings on S1 (rectification targets)", w.v1, w.valid_inspection(w.v1),
         ACCEPTED)
    case("valid, on S2", w.v2, w.valid_inspection(w.v2, site="S2"), ACCEPTED, site="S2")
    case("the same inspection again (J9)", w.v1, w.valid_inspection(w.v1), code=STALE,
         frags="revision 1 of qa/%s is not newer than revision 1" % w.v1)
    case("payload absent", "QA-S1-H001", None, frags=mismatch)
    case("payload is a rectification plan", "QA-S1-H002", hs.rect_plan(w.finding_id(1), w.v1),
         payload_field=22, frags=mismatch)
    case("revision 2 with a reason", "QA-S1-H003", ins("QA-S1-H003"), revision=2,
         reason="edit", frags="is a submitted inspection and cannot be edited")
    case("revision 0", "QA-S1-H004", ins("QA-S1-H004"), revision=0,
         frags="(revision 0 refused; a submitted inspection is immutable)")
    case("record_id of another inspection", "QA-S1-H005", ins("QA-S1-H005"),
         rid="qa/QA-S1-OTHER", frags="record_id: an inspection QA-S1-H005 must have id")
    case("record_id with ../", "QA-S1-H006", ins("QA-S1-H006"), rid="qa/../../QA-S1-H006",
         frags="record_id: an inspection QA-S1-H006 must have id qa/QA-S1-H006")
    case("record_id of CJK (cut at 80 bytes)", "QA-S1-H006b", ins("QA-S1-H006b"),
         rid="qa/x" + "中" * 30, frags="record_id: an inspection QA-S1-H006b must have id")
    case("inspection names S2, record for S1", "QA-S1-H007", ins("QA-S1-H007", site="S2"),
         frags="site: the inspection names site S2 but the record is for S1")
    case("inspection site with a newline", "QA-S1-H007b", ins("QA-S1-H007b", site="S1\nX"),
         frags="site: the inspection names site")
    case("another inspector's name", "QA-S1-H008", ins("QA-S1-H008", inspector="Zhang Min"),
         code=UNAUTHORISED, frags='is enrolled for inspector "Li Na", not "Zhang Min"')
    case("inspector name with a trailing newline", "QA-S1-H009",
         ins("QA-S1-H009", inspector="Li Na\n"), code=UNAUTHORISED,
         frags='is enrolled for inspector "Li Na"')
    case("inspector name non-UTF-8", "QA-S1-H009b", ins("QA-S1-H009b", inspector=b"Li \xff"),
         code=UNAUTHORISED, frags='is enrolled for inspector "Li Na"')
    case("inspector name empty", "QA-S1-H010", ins("QA-S1-H010", inspector=""),
         code=UNAUTHORISED, frags='is enrolled for inspector "Li Na", not ""')
    for ins_id, label in [("", "empty"), ("QA-../../etc", "with ../"), ("QA-", "QA- alone"),
                          ("QA-" + "x" * 62, "of 65 characters"), ("qa-S1-1", "lower-case qa-"),
                          ("QA-S1/1", "with /"), ("QA-S1\x1b[31m", "with ESC"),
                          ("QA-S1\nX", "with a newline"), (b"QA-S1-\xff", "non-UTF-8")]:
        case("id %s" % label, ins_id, ins(ins_id, findings=[]),
             frags=("id: ", "is not an inspection id"))
    case("every string empty", "", hs.inspection("", "", "", type="", checklist_version=0),
         frags="site: the inspection names site  but the record is for S1")
    case("type surprise", "QA-S1-H011", ins("QA-S1-H011", type="surprise"),
         frags='type: "surprise" is not announced or mystery')
    case("type with a newline", "QA-S1-H011b", ins("QA-S1-H011b", type="mystery\n"),
         frags="is not announced or mystery")
    many = [fnd("QA-S1-H012", i + 1, text="t") for i in range(201)]
    case("201 findings", "QA-S1-H012", ins("QA-S1-H012", findings=many),
         frags="findings: 201, at most 200 per inspection")
    case("10,000 empty findings", "QA-S1-H013", ins("QA-S1-H013", findings=[b""] * 10000))
    case("no finding and no score", "QA-S1-H014", ins("QA-S1-H014", findings=[], scores=[]),
         frags="findings: an inspection needs at least one finding or score")
    case("checklist_version 99", "QA-S1-H015", ins("QA-S1-H015", checklist_version=99),
         frags="checklist_version: 99 is not a checklist HQ published")
    case("checklist_version 2^32-1", "QA-S1-H016", ins("QA-S1-H016", checklist_version=U32_MAX),
         frags="checklist_version: 4294967295 is not a checklist HQ published")
    case("checklist_version 0 without weights", "QA-S1-H017",
         ins("QA-S1-H017", checklist_version=0, weights=[]),
         frags="weights: service weighs 1 in checklist v0, the inspection says 0")
    case("first finding numbered F2", "QA-S1-H018",
         ins("QA-S1-H018", findings=[fnd("QA-S1-H018", 2)]),
         frags='findings[0].id: "QA-S1-H018-F2", want "QA-S1-H018-F1"')
    case("two findings both F1", "QA-S1-H019",
         ins("QA-S1-H019", findings=[fnd("QA-S1-H019"), fnd("QA-S1-H019")]),
         frags='findings[1].id: "QA-S1-H019-F1", want "QA-S1-H019-F2"')
    case("finding id with path characters", "QA-S1-H020",
         ins("QA-S1-H020", findings=[hs.finding("../../QA-S1-H020-F1")]),
         frags='findings[0].id: "../../QA-S1-H020-F1", want "QA-S1-H020-F1"')
    case("category dirt", "QA-S1-H021", ins("QA-S1-H021", findings=[fnd("QA-S1-H021",
                                                                        category="dirt")]),
         frags='findings[0].category: "dirt" is not a category')
    case("category empty", "QA-S1-H022", ins("QA-S1-H022", findings=[fnd("QA-S1-H022",
                                                                         category="")]),
         frags='findings[0].category: "" is not a category')
    case("category with a newline", "QA-S1-H023",
         ins("QA-S1-H023", findings=[fnd("QA-S1-H023", category="hygiene\n")]),
         frags="findings[0].category: ")
    case("severity fatal", "QA-S1-H024", ins("QA-S1-H024", findings=[fnd("QA-S1-H024",
                                                                         severity="fatal")]),
         frags='findings[0].severity: "fatal" is not minor, major or critical')
    case("severity non-UTF-8", "QA-S1-H024b",
         ins("QA-S1-H024b", findings=[fnd("QA-S1-H024b", severity=b"\xffmajor")]),
         frags="is not minor, major or critical")
    for label, text, frag in [("empty", "", "findings[0].text: must not be empty"),
                              ("blank", " \n\t ", "findings[0].text: must not be empty"),
                              ("of 4001 bytes", "t" * 4001,
                               "findings[0].text: 4001 bytes, at most 4000 allowed"),
                              ("with \\x01", "bad\x01text",
                               "findings[0].text: control characters are not allowed"),
                              ("non-UTF-8", b"dirty \xff\xfe floor", "findings[0].text: ")]:
        iid = "QA-S1-H025-%d" % len(out)
        case("finding text %s" % label, iid, ins(iid, findings=[fnd(iid, text=text)]),
             frags=frag)
    for label, item, frag in [
            ("../x", "../x", """findings[0].item: "../x": use letters, digits"""),
            ("of 33 characters", "I" * 33, "findings[0].item: an item code has 1 to 32"),
            ("not in the checklist", "ZZ-99",
             'findings[0].item: "ZZ-99" is not an item of checklist "Standard audit 2026" v1'),
            ("of another category", "SF-01",
             "findings[0].item: item SF-01 is in category safety, not hygiene"),
            ("with a newline", "HY-01\n", "findings[0].item: ")]:
        iid = "QA-S1-H026-%d" % len(out)
        case("item %s" % label, iid, ins(iid, findings=[fnd(iid, item=item)]), frags=frag)
    for label, photos, frag in [
            ("17 photos", [hs.photo("p%d" % i) for i in range(17)],
             "findings[0].photos: 17 photos, at most 16"),
            ("1,000 photos", [hs.photo("p%d" % i) for i in range(1000)], ()),
            ("sha256 of 31 bytes", [hs.photo(sha256=b"\x01" * 31)],
             "findings[0].photos[0].sha256: want 32 bytes, got 31"),
            ("sha256 of 33 bytes", [hs.photo(sha256=b"\x01" * 33)],
             "findings[0].photos[0].sha256: want 32 bytes, got 33"),
            ("sha256 empty", [hs.photo(sha256=b"")],
             "findings[0].photos[0].sha256: want 32 bytes, got 0"),
            ("size 0", [hs.photo(size=0)],
             "findings[0].photos[0].size: 0 bytes, want 1 to 1073741824"),
            ("size 2^30 + 1", [hs.photo(size=(1 << 30) + 1)],
             "findings[0].photos[0].size: 1073741825 bytes"),
            ("size 2^64-1", [hs.photo(size=U64_MAX)],
             "findings[0].photos[0].size: 18446744073709551615 bytes"),
            ("mime image/gif", [hs.photo(mime="image/gif")],
             'findings[0].photos[0].mime: "image/gif": a photo is image/jpeg or image/png'),
            ("mime empty", [hs.photo(mime="")], 'findings[0].photos[0].mime: ""'),
            ("mime with a newline", [hs.photo(mime="image/jpeg\n")],
             "findings[0].photos[0].mime: ")]:
        iid = "QA-S1-H027-%d" % len(out)
        case("photos: %s" % label, iid, ins(iid, findings=[fnd(iid, photos=photos)]),
             frags=frag)
    for label, scores, frag in [
            ("score 101", [hs.score("hygiene", 101)], "scores[0].score: 101, want 0 to 100"),
            ("score 2^32-1", [hs.score("hygiene", U32_MAX)],
             "scores[0].score: 4294967295, want 0 to 100"),
            ("a category scored twice", [hs.score("hygiene", 1), hs.score("hygiene", 2)],
             "scores[1].category: hygiene is scored twice"),
            ("category empty", [hs.score("", 5)], 'scores[0].category: "" is not a category'),
            ("10,000 scores", [hs.score("hygiene", 5)] * 10000, ())]:
        iid = "QA-S1-H028-%d" % len(out)
        case("scores: %s" % label, iid, ins(iid, scores=scores), frags=frag)
    case("weights: a category listed twice", "QA-S1-H029",
         ins("QA-S1-H029", weights=weights + [hs.weight("service", 2)]),
         frags="weights[5].category: service is listed twice")
    case("weights: 2^32-1", "QA-S1-H030",
         ins("QA-S1-H030", weights=[hs.weight("service", U32_MAX)] + weights[1:]),
         frags="weights: service weighs 2 in checklist v1, the inspection says 4294967295")
    case("accompanied_by of 129 bytes", "QA-S1-H031", ins("QA-S1-H031", accompanied="a" * 129),
         frags="accompanied_by: 129 bytes, at most 128 allowed")
    case("accompanied_by with ESC", "QA-S1-H032", ins("QA-S1-H032", accompanied="\x1b[2J"),
         frags="accompanied_by: control characters are not allowed")
    case("accompanied_by non-UTF-8", "QA-S1-H033", ins("QA-S1-H033", accompanied=b"Wang \xff"),
         frags="accompanied_by: ")
    case("checklist_name non-UTF-8", "QA-S1-H034", ins("QA-S1-H034", checklist_name=b"\xfe\xff"),
         frags="checklist_name: ")
    case("finding text of 100 KB", "QA-S1-H035",
         ins("QA-S1-H035", findings=[fnd("QA-S1-H035", text="t" * 100000)]),
         frags="findings[0].text: 100000 bytes, at most 4000 allowed")
    case("int64 extremes in every time field (valid)", "QA-S1-20260107-T64",
         ins("QA-S1-20260107-T64", started=I64_MIN, submitted=I64_MAX,
             findings=[fnd("QA-S1-20260107-T64", created=I64_MAX,
                           photos=[hs.photo("t64", captured=I64_MIN)])]), ACCEPTED)
    # valid ones
    many = [fnd("QA-S1-20260102-MAX", i + 1, category=WEIGHTS[i % 5][0], text="x" * 100,
                photos=[hs.photo("max-%d-%d" % (i, j)) for j in range(4)]) for i in range(200)]
    case("200 findings with 4 photos each (valid)", "QA-S1-20260102-MAX",
         ins("QA-S1-20260102-MAX", findings=many), ACCEPTED)
    case("checklist v0, all weights 1, any item code (valid)", "QA-S1-20260103-V0",
         ins("QA-S1-20260103-V0", checklist_version=0,
             weights=[hs.weight(c, 1) for c, _ in WEIGHTS],
             findings=[fnd("QA-S1-20260103-V0", item="ANY.CODE_1")]), ACCEPTED)
    case("a score of 0 and no finding (valid)", "QA-S1-20260104-SC",
         ins("QA-S1-20260104-SC", findings=[], scores=[hs.score("conduct", 0)]), ACCEPTED)
    case("the same photo twice in a finding (valid)", "QA-S1-20260105-DUP",
         ins("QA-S1-20260105-DUP", findings=[fnd("QA-S1-20260105-DUP",
                                                 photos=[hs.photo("dup"), hs.photo("dup")])]),
         ACCEPTED)
    case("multi-line CJK text, DEL and emoji (valid)", "QA-S1-20260106-TXT",
         ins("QA-S1-20260106-TXT", findings=[fnd("QA-S1-20260106-TXT",
                                                 text="地面湿滑\n\tfloor \x7f wet 🚿")],
             accompanied="王芳"), ACCEPTED)
    return out


def cases_rectification(w):
    out = []
    f1, f2, f3, f4 = (w.finding_id(n) for n in (1, 2, 3, 4))
    s2 = w.v2 + "-F1"

    def plan(name, finding, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("rectification plan: " + name, "B", PLAN,
                        rid if rid is not None else b"rectification-plan/" + b(finding),
                        payload, expect, code=code, frags=frags, **kw))

    def done(name, finding, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("rectification done: " + name, "B", DONE,
                        rid if rid is not None else b"rectification-done/" + b(finding),
                        payload, expect, code=code, frags=frags, **kw))

    mismatch = "payload: the record's kind and payload do not match"
    plan("payload absent", f1, None, frags=mismatch)
    plan("payload is a completion", f1, hs.rect_done(f1, w.v1), payload_field=23,
         frags=mismatch)
    done("payload is a plan", f1, hs.rect_plan(f1, w.v1), payload_field=22, frags=mismatch)
    plan("every string empty", "", hs.rect_plan("", "", "", "", ""),
         frags='finding: "" is not a finding id (<inspection>-F<n>)')
    for label, finding in [("F0", w.v1 + "-F0"), ("F02", w.v1 + "-F02"),
                           ("F12345", w.v1 + "-F12345"), ("../../", "QA-../../etc-F1"),
                           ("an absolute path", "/etc/passwd-F1"),
                           ("with a newline", f1 + "\n"), ("non-UTF-8", b"QA-S1-\xff-F1")]:
        plan("finding id %s" % label, finding, hs.rect_plan(finding, w.v1),
             frags=("finding: ", "is not a finding id"))
    plan("finding F9999 that does not exist", w.v1 + "-F9999",
         hs.rect_plan(w.v1 + "-F9999", w.v1),
         frags="finding: %s-F9999 is not a finding known at HQ" % w.v1)
    plan("a finding of an inspection that does not exist", "QA-S1-NONE-F1",
         hs.rect_plan("QA-S1-NONE-F1", "QA-S1-NONE"),
         frags="finding: QA-S1-NONE-F1 is not a finding known at HQ")
    plan("S2's finding", s2, hs.rect_plan(s2, w.v2), code=UNAUTHORISED,
         frags="finding: %s belongs to site S2; site S1 may not rectify it" % s2)
    plan("inspection not the finding's", f1, hs.rect_plan(f1, w.v2),
         frags='inspection: "%s", finding %s belongs to %s' % (w.v2, f1, w.v1))
    plan("inspection with a newline", f1, hs.rect_plan(f1, w.v1 + "\n"),
         frags="inspection: ")
    plan("record_id of another finding", f1, hs.rect_plan(f1, w.v1),
         rid="rectification-plan/" + f2,
         frags="record_id: a record about finding %s must have id rectification-plan/%s"
         % (f1, f1))
    plan("record_id with ../", f1, hs.rect_plan(f1, w.v1),
         rid="rectification-plan/../" + f1, frags="record_id: a record about finding")
    plan("action empty", f2, hs.rect_plan(f2, w.v1, action=""),
         frags="action: must not be empty")
    plan("action of 4001 bytes", f2, hs.rect_plan(f2, w.v1, action="a" * 4001),
         frags="action: 4001 bytes, at most 4000 allowed")
    plan("owner with a newline", f2, hs.rect_plan(f2, w.v1, owner="Wang\nFang"),
         frags="owner: control characters are not allowed")
    plan("owner of 129 bytes", f2, hs.rect_plan(f2, w.v1, owner="o" * 129),
         frags="owner: 129 bytes, at most 128 allowed")
    # revisions 10, 11: accepted by mistake, they do not make the valid rev 20 stale
    plan("owner non-UTF-8", f2, hs.rect_plan(f2, w.v1, owner=b"Wang \xe6"), frags="owner: ",
         revision=10, reason="x")
    plan("action non-UTF-8", f2, hs.rect_plan(f2, w.v1, action=b"mop \xff\xff"),
         frags="action: ", revision=11, reason="x")
    for due in ["2026-02-30", "2026-02-29", "1969-12-31", "2026-2-1", "", "2026-13-01",
                "20260201", "2026-02-01T00:00", "２０２６-02-01", "2026-02-01\x1b"]:
        plan("due_date %r" % due, f2, hs.rect_plan(f2, w.v1, due_date=due),
             frags="due_date: ")
        out[-1].frags = ("due_date: ", "is not a date (want YYYY-MM-DD)")
    done("F3 is open: no plan yet", f3, hs.rect_done(f3, w.v1),
         frags="finding %s: finding has no rectification plan yet: record the plan first "
         "(state open)" % f3)
    plan("F1 (valid)", f1, hs.rect_plan(f1, w.v1), ACCEPTED)
    plan("F1 rev 1 again (J9)", f1, hs.rect_plan(f1, w.v1), code=STALE,
         frags="revision 1 of rectification-plan/%s is not newer than revision 1" % f1)
    plan("F1 rev 2 without a reason", f1, hs.rect_plan(f1, w.v1), revision=2,
         frags="reason: revision 2 of rectification-plan/%s needs a reason" % f1)
    plan("F1 rev 2, due 9999-12-31 (valid)", f1, hs.rect_plan(f1, w.v1, due_date="9999-12-31"),
         ACCEPTED, revision=2, reason="later date")
    done("F1: 17 photos", f1, hs.rect_done(f1, w.v1, photos=[hs.photo("e%d" % i)
                                                             for i in range(17)]),
         frags="evidence.photos: 17 photos, at most 16")
    done("F1: 1,000 photos", f1, hs.rect_done(f1, w.v1, photos=[hs.photo("e%d" % i)
                                                                for i in range(1000)]))
    done("F1: sha256 of 31 bytes", f1, hs.rect_done(f1, w.v1,
                                                    photos=[hs.photo(sha256=b"\x02" * 31)]),
         frags="evidence.photos[0].sha256: want 32 bytes, got 31")
    done("F1: photo size 0", f1, hs.rect_done(f1, w.v1, photos=[hs.photo(size=0)]),
         frags="evidence.photos[0].size: 0 bytes")
    done("F1: photo mime text/html", f1, hs.rect_done(f1, w.v1,
                                                      photos=[hs.photo(mime="text/html")]),
         frags='evidence.photos[0].mime: "text/html"')
    done("F1: note empty", f1, hs.rect_done(f1, w.v1, note=""), frags="note: must not be empty")
    done("F1: note of 4001 bytes", f1, hs.rect_done(f1, w.v1, note="n" * 4001),
         frags="note: 4001 bytes, at most 4000 allowed")
    done("finding that does not exist", w.v1 + "-F77", hs.rect_done(w.v1 + "-F77", w.v1),
         frags="is not a finding known at HQ")
    done("S2's finding", s2, hs.rect_done(s2, w.v2), code=UNAUTHORISED,
         frags="belongs to site S2; site S1 may not rectify it")
    done("F1 with 2 photos (valid)", f1, hs.rect_done(f1, w.v1, photos=[hs.photo("ev1"),
                                                                         hs.photo("ev2")]),
         ACCEPTED)
    plan("F1 is done: no new plan", f1, hs.rect_plan(f1, w.v1), revision=3, reason="again",
         frags="finding is done and awaits HQ's verification: no new plan (state done)")
    done("F1 is done already", f1, hs.rect_done(f1, w.v1), revision=2, reason="again",
         frags="finding is already done and awaits HQ's verification (state done)")
    plan("F2 with action and owner at their limits (valid)", f2,
         hs.rect_plan(f2, w.v1, action="动作" * 666, owner="o" * 128, due_date="2024-02-29"),
         ACCEPTED, revision=20, reason="final plan")
    plan("F4 (valid)", f4, hs.rect_plan(f4, w.v1), ACCEPTED)
    done("F4: note non-UTF-8", f4, hs.rect_done(f4, w.v1, note=b"done \xc0\xaf"),
         frags="note: ")
    plan("F3 by an author of non-UTF-8 bytes", f3,
         hs.rect_plan(f3, w.v1), author=b"\xff\xfe staff", frags="author: not valid UTF-8")
    plan("F4 by a plan with site S2 in the body (J4)", f4, hs.rect_plan(f4, w.v1), site="S2",
         code=UNAUTHORISED, frags="may not write records for site S2")
    return out


def cases_training(w):
    out = []

    def ack(name, plan_id, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("training ack: " + name, "B", TRAINING_ACK,
                        rid if rid is not None else b"training-ack/S1/" + b(plan_id), payload,
                        expect, code=code, frags=frags, **kw))

    def res(name, plan_id, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("training results: " + name, "B", TRAINING_RESULTS,
                        rid if rid is not None else b"training-results/S1/" + b(plan_id),
                        payload, expect, code=code, frags=frags, **kw))

    ack("payload absent", "TP-1", None,
        frags="a training acknowledgement record carries no acknowledgement")
    ack("payload is results", "TP-1", hs.training_results("TP-1", []), payload_field=25,
        frags="a training acknowledgement record carries no acknowledgement")
    ack("every field empty", "", hs.training_ack("", 0),
        frags="is not a training plan HQ published")
    for label, plan_id in [("unknown NOPE", "NOPE"), ("../TP-1", "../TP-1"),
                           ("TP-1/../TP-1", "TP-1/../TP-1"), ("tp-1", "tp-1"),
                           ("with a newline", "TP-1\n"), ("non-UTF-8", b"TP-\xff"),
                           ("of 300 characters", "A" * 300)]:
        rid = b"training-ack/S1/" + b(plan_id)
        if len(rid) > 255:
            rid = rid[:255]  # what fb_record_id_is compares with (snprintf into 256 bytes)
        ack("plan %s" % label, plan_id, hs.training_ack(plan_id, 1), rid=rid,
            frags=("plan: ", "is not a training plan HQ published"))
    ack("plan TP-2 was not sent to S1", "TP-2", hs.training_ack("TP-2", 1),
        frags="plan: TP-2 was not sent to site S1")
    for rev in (0, 3, U32_MAX):
        ack("plan_revision %d" % rev, "TP-1", hs.training_ack("TP-1", rev),
            frags="plan_revision: %d is not a revision of plan TP-1 (1 to 2)" % rev)
    ack("record_id of S2", "TP-1", hs.training_ack("TP-1", 2), rid="training-ack/S2/TP-1",
        frags="record_id: this record must have id training-ack/S1/TP-1, not "
        "training-ack/S2/TP-1")
    ack("record_id with ../", "TP-1", hs.training_ack("TP-1", 2),
        rid="training-ack/S1/TP-1/../../x", frags="record_id: this record must have id")
    ack("TP-1 rev 2 (valid)", "TP-1", hs.training_ack("TP-1", 2), ACCEPTED)
    ack("TP-1 again (J9)", "TP-1", hs.training_ack("TP-1", 2), code=STALE,
        frags="revision 1 of training-ack/S1/TP-1 is not newer than revision 1")
    ack("TP-1 record rev 2, plan rev 1 (valid)", "TP-1", hs.training_ack("TP-1", 1), ACCEPTED,
        revision=2, reason="acknowledged the first revision")

    r = hs.training_result
    res("payload absent", "TP-1", None, frags="a training results record carries no results")
    res("payload is an ack", "TP-1", hs.training_ack("TP-1", 2), payload_field=24,
        frags="a training results record carries no results")
    res("unknown plan", "NOPE", hs.training_results("NOPE", [r("E1", "FD-101")]),
        frags="plan: NOPE is not a training plan HQ published")
    res("plan TP-2 was not sent to S1", "TP-2", hs.training_results("TP-2", [r("E1", "FD-101")]),
        frags="plan: TP-2 was not sent to site S1")
    res("no results", "TP-1", hs.training_results("TP-1", []),
        frags="results: none (report at least one employee)")
    res("2001 results", "TP-1", hs.training_results(
        "TP-1", [r("E%d" % i, "FD-101", name="N", role="r") for i in range(2001)]))
    res("10,000 empty results", "TP-1", hs.training_results("TP-1", [b""] * 10000))
    res("unknown course", "TP-1", hs.training_results("TP-1", [r("E1", "XX-1")]),
        frags='results[0].course: "XX-1" is not a course of plan TP-1 (courses: FD-101, TR-201')
    res("course with ESC", "TP-1", hs.training_results("TP-1", [r("E1", "\x1b[2J")]),
        frags="is not a course of plan TP-1")
    res("course non-UTF-8", "TP-1", hs.training_results("TP-1", [r("E1", b"FD-\xff")]),
        frags="is not a course of plan TP-1")
    res("cancelled course HK-101", "TP-1", hs.training_results("TP-1", [r("E1", "HK-101")]),
        frags="results[0].course: HK-101 was cancelled in revision 2 of plan TP-1; remove its "
        "rows")
    res("attended without a score", "TP-1",
        hs.training_results("TP-1", [r("E1", "FD-101", scored=False, score=0)]),
        frags="results[0].score: missing (the employee attended: give a score from 0 to 100)")
    res("a score without attending", "TP-1",
        hs.training_results("TP-1", [r("E1", "FD-101", attended=False)]),
        frags="results[0].score: must be empty when attended is no")
    res("score 101", "TP-1", hs.training_results("TP-1", [r("E1", "FD-101", score=101)]),
        frags="results[0].score: 101 is not from 0 to 100")
    res("score 2^32-1", "TP-1", hs.training_results("TP-1", [r("E1", "FD-101", score=U32_MAX)]),
        frags="results[0].score: 4294967295 is not from 0 to 100")
    res("employee and course twice", "TP-1",
        hs.training_results("TP-1", [r("E1", "FD-101"), r("E1", "FD-101", score=10)]),
        frags="results[1].course: employee E1 already has a result for FD-101 in results[0]")
    for label, kw, frag in [
            ("employee_id empty", dict(employee=""), "results[0].employee_id: missing"),
            ("employee_id of 65 bytes", dict(employee="e" * 65),
             "results[0].employee_id: longer than 64 bytes"),
            ("name with BEL", dict(name="Zhang\x07"), "results[0].name: contains a control"),
            ("name with DEL", dict(name="Zhang\x7f"), "results[0].name: contains a control"),
            ("name non-UTF-8", dict(name=b"Zh\xe4ng"), "results[0].name: not UTF-8 text"),
            ("name of 201 bytes", dict(name="n" * 201), "results[0].name: longer than 200"),
            ("role blank", dict(role="  "), "results[0].role: missing")]:
        args = dict(employee="E1", course="FD-101")
        args.update(kw)
        res(label, "TP-1", hs.training_results("TP-1", [r(args.pop("employee"),
                                                          args.pop("course"), **args)]),
            frags=frag)
    res("record_id of TP-2", "TP-1", hs.training_results("TP-1", [r("E1", "FD-101")]),
        rid="training-results/S1/TP-2",
        frags="record_id: this record must have id training-results/S1/TP-1")
    big = [r("E%04d" % i, ["FD-101", "TR-201"][i % 2], name="员工%d" % i, role="front_desk",
             score=i % 101) for i in range(300)]
    res("300 results, a path-like employee id is only text (valid)", "TP-1",
        hs.training_results("TP-1", big + [r("../../etc/passwd", LONG_COURSES[0])]), ACCEPTED)
    # TR3 allows 2000 results; encoded as protobuf-c packs them (no default fields)
    packed = [hs.fields((1, "E%04d" % i), (2, "Li Si"), (3, "front_desk"), (4, "FD-101"),
                        (5, 1), (6, 1), (7, 80)) for i in range(2000)]
    res("2000 results, TR3's maximum, as the C agent encodes them (valid)", "TP-1",
        hs.fields((1, "TP-1"), (2, 2)) + hs.repeated(3, packed), ACCEPTED, revision=2,
        reason="all staff")
    res("employee name of 100 KB", "TP-1",
        hs.training_results("TP-1", [r("E1", "FD-101", name="n" * 100000)]),
        frags="results[0].name: longer than 200 bytes")
    res("rev 3 replaces them with one (valid)", "TP-1",
        hs.training_results("TP-1", [r("E1", "TR-201", attended=False, scored=False, score=0)],
                            plan_revision=0), ACCEPTED, revision=3, reason="re-count")
    return out


def cases_satisfaction(w):
    out = []

    def case(name, period, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("satisfaction: " + name, "B", SATISFACTION,
                        rid if rid is not None else b"satisfaction/S1/" + b(period), payload,
                        expect, code=code, frags=frags, **kw))

    sv = hs.survey
    none_text = "a guest satisfaction record carries no survey results"
    case("payload absent", "2026-02", None, frags=none_text)
    case("payload is a complaint response", "2026-02", hs.complaint_response(w.c1),
         payload_field=27, frags=none_text)
    case("every field empty", "", b"", frags='period: "" is not a month (want YYYY-MM)')
    for period in ["2026-13", "1969-12", "2026-02-30", "2026-2", "../2026-02", "2026-02\n",
                   b"20\xff6-02", b"2026-0\xe4"]:
        case("period %r" % (period,), period, hs.satisfaction(period, [sv()]),
             frags=("period: ", "is not a month (want YYYY-MM)"))
    case("responses and an aggregate", "2026-02",
         hs.satisfaction("2026-02", [sv()], hs.aggregate(1)),
         frags="responses: a report holds responses or an aggregate, not both")
    case("no response", "2026-02", hs.satisfaction("2026-02", []),
         frags="responses: none (a month needs at least one response)")
    case("1001 responses", "2026-02", hs.satisfaction("2026-02", [sv()] * 1001))
    case("10,000 empty responses", "2026-02", hs.satisfaction("2026-02", [b""] * 10000))
    for date, frag in [("2026-02-30", 'responses[0].date: "2026-02-30" is not a date'),
                       ("2026-02-29", 'responses[0].date: "2026-02-29" is not a date'),
                       ("2026-03-01", "responses[0].date: 2026-03-01 is not in 2026-02"),
                       ("", 'responses[0].date: "" is not a date'),
                       ("2026-02-10\n", "responses[0].date: "),
                       (b"2026-02-1\xff", "responses[0].date: "),
                       ("2026-02-10T10:00", "is not a date")]:
        case("response date %r" % (date,), "2026-02", hs.satisfaction("2026-02", [sv(date=date)]),
             frags=frag)
    case("channel email", "2026-02", hs.satisfaction("2026-02", [sv(channel="email")]),
         frags='responses[0].channel: "email" is not questionnaire, phone, onsite or '
         "online_review")
    case("channel non-UTF-8", "2026-02", hs.satisfaction("2026-02", [sv(channel=b"\xfe\xff")]),
         frags="responses[0].channel: ")
    for value in (0, 6, 255, U32_MAX):
        case("scores %d" % value, "2026-02",
             hs.satisfaction("2026-02", [sv(scores=(4, 4, value, 4, 4, 4))]),
             frags="responses[0].value: %d is not from 1 to 5" % value)
    case("recommend 11", "2026-02", hs.satisfaction("2026-02", [sv(recommend=11)]),
         frags="responses[0].recommend: 11 is not from 0 to 10")
    case("comment of 1001 bytes", "2026-02", hs.satisfaction("2026-02", [sv(comment="c" * 1001)]),
         frags="responses[0].comment: longer than 1000 bytes")
    case("comment non-UTF-8", "2026-02", hs.satisfaction("2026-02", [sv(comment=b"nice \xff")]),
         frags="responses[0].comment: not UTF-8 text")
    agg = hs.aggregate
    dist = hs.distribution
    dims = hs.DIMENSIONS
    full = [dist(d, [0, 0, 0, 0, 10]) for d in dims] + [dist("recommend", [0] * 10 + [10])]
    for label, msg, frag in [
            ("aggregate present but empty", b"",
             "aggregate.responses: 0 is not from 1 to 1000000"),
            ("aggregate of 1000001", agg(1000001),
             "aggregate.responses: 1000001 is not from 1 to 1000000"),
            ("aggregate of 2^32-1", agg(U32_MAX),
             "aggregate.responses: 4294967295 is not from 1 to 1000000"),
            ("aggregate with 6 distributions", agg(10, full[:6]),
             "aggregate.scores: want the six dimensions and recommend, each once"),
            ("aggregate with cleanliness twice, overall missing",
             agg(10, full[:5] + [full[0], full[6]]), "aggregate.scores.overall: missing"),
            ("aggregate with 4 counts", agg(10, [dist("cleanliness", [0, 0, 0, 10])] + full[1:]),
             "aggregate.scores.cleanliness: want 5 counts"),
            ("aggregate counts not adding up",
             agg(10, [dist("cleanliness", [1, 0, 0, 0, 10])] + full[1:]),
             "aggregate.scores.cleanliness: the counts add up to 11, not responses (10)"),
            ("aggregate counts of 2^32-1",
             agg(10, [dist("cleanliness", [U32_MAX] * 5)] + full[1:]),
             "the counts add up to 21474836475, not responses (10)"),
            ("aggregate recommend of 10 counts", agg(10, full[:6] + [dist("recommend", [1] * 10)]),
             "aggregate.recommend: want 11 counts"),
            ("aggregate channel email", agg(10, full, [("email", 10)]),
             'aggregate.channels: "email" is not questionnaire'),
            ("aggregate channel twice", agg(10, full, [("phone", 5), ("phone", 5)]),
             "aggregate.channels: phone given twice"),
            ("aggregate channels not adding up", agg(10, full, [("phone", U32_MAX)]),
             "aggregate.channels: the counts add up to 4294967295, not responses (10)")]:
        case(label, "2026-02", hs.satisfaction("2026-02", aggregate_msg=msg), frags=frag)
    case("record_id of another month", "2026-02", hs.satisfaction("2026-02", [sv()]),
         rid="satisfaction/S1/2026-03",
         frags="record_id: this record must have id satisfaction/S1/2026-02, not "
         "satisfaction/S1/2026-03")
    case("record_id of CJK (cut at 64 bytes)", "2026-02", hs.satisfaction("2026-02", [sv()]),
         rid="satisfaction/S1/x" + "月" * 30, frags="record_id: this record must have id")
    case("one response (valid)", "2026-02", hs.satisfaction("2026-02", [sv()]), ACCEPTED)
    case("2024-02-29 in 2024-02 (valid)", "2024-02",
         hs.satisfaction("2024-02", [sv(date="2024-02-29", comment="好")]), ACCEPTED)
    case("an aggregate of 1000000 (valid)", "2026-03",
         hs.satisfaction("2026-03", aggregate_msg=agg(
             1000000, [dist(d, [0, 0, 0, 0, 1000000]) for d in dims] +
             [dist("recommend", [1000000] + [0] * 10)], [("online_review", 1000000)])),
         ACCEPTED)
    # GS4 allows 1000 responses; encoded as protobuf-c packs them (no comment)
    packed = [hs.fields((1, "2026-05-%02d" % (1 + i % 28)), (2, "online_review"), (3, 4), (4, 4),
                        (5, 4), (6, 4), (7, 4), (8, 4), (9, 9)) for i in range(1000)]
    case("1000 responses, GS4's maximum, as the C agent encodes them (valid)", "2026-05",
         hs.f(1, "2026-05") + hs.repeated(2, packed), ACCEPTED)
    case("comment of 100 KB", "2026-02", hs.satisfaction("2026-02", [sv(comment="c" * 100000)]),
         frags="responses[0].comment: longer than 1000 bytes")
    case("400 responses (valid)", "2026-04",
         hs.satisfaction("2026-04", [sv(date="2026-04-%02d" % (1 + i % 30),
                                        channel=["phone", "onsite", "questionnaire",
                                                 "online_review"][i % 4],
                                        scores=tuple(1 + (i + k) % 5 for k in range(6)),
                                        recommend=i % 11) for i in range(400)]), ACCEPTED)
    return out


def cases_complaint(w):
    out = []

    def case(name, complaint, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("complaint response: " + name, "B", COMPLAINT,
                        rid if rid is not None else b"complaint-response/S1/" + b(complaint),
                        payload, expect, code=code, frags=frags, **kw))

    cr = hs.complaint_response
    case("payload absent", w.c1, None, frags="a complaint response record carries no response")
    case("payload is an evaluation answer", w.c1, w.full_answer(), payload_field=28,
         frags="a complaint response record carries no response")
    case("every field empty", "", b"", frags="complaint: missing")
    for label, cid in [("../C-0001", "../" + w.c1), ("with a newline", w.c1 + "\n"),
                       ("non-UTF-8", b"C-\xff\xfe"), ("of 65 characters", "C" * 65)]:
        case("complaint id %s" % label, cid, cr(cid),
             frags=("complaint: ", "is not an id (use 1-64 letters, digits"))
    case("complaint C-9999 unknown", "C-9999", cr("C-9999"),
         frags="complaint: C-9999 is not a complaint HQ sent to site S1")
    case("S2's complaint", w.c3, cr(w.c3),
         frags="complaint: %s is not a complaint HQ sent to site S1" % w.c3)
    for label, text, frag in [("empty", "", "text: missing (it must not be empty)"),
                              ("blank", " \t\n", "text: missing"),
                              ("of 2001 bytes", "t" * 2001, "text: longer than 2000 bytes"),
                              ("of 100 KB", "t" * 100000, "text: longer than 2000 bytes"),
                              ("non-UTF-8", b"sorry \xc3", "text: not UTF-8 text"),
                              ("with BEL", "sorry\x07", "text: contains a control character"),
                              ("with DEL", "sorry\x7f", "text: contains a control character")]:
        case("text %s" % label, w.c1, cr(w.c1, text=text), frags=frag)
    case("record_id of another complaint", w.c1, cr(w.c1), rid="complaint-response/S1/" + w.c2,
         frags="record_id: this record must have id complaint-response/S1/%s" % w.c1)
    case("C-0001 (valid)", w.c1, cr(w.c1), ACCEPTED)
    case("C-0001 rev 1 again (J9)", w.c1, cr(w.c1), code=STALE,
         frags="revision 1 of complaint-response/S1/%s is not newer than revision 1" % w.c1)
    case("C-0001 resolved, written at int64 max (valid)", w.c1,
         cr(w.c1, text="解决了" * 222, resolved=True), ACCEPTED, revision=2, reason="closing",
         created_at_ms=I64_MAX)
    case("C-0001 after it was resolved", w.c1, cr(w.c1), revision=3, reason="more",
         frags="complaint: %s was already resolved at " % w.c1)
    case("C-0002 written at int64 min (valid)", w.c2, cr(w.c2), ACCEPTED, created_at_ms=I64_MIN)
    return out


def cases_evaluation(w):
    out = []
    r1 = w.r1

    def case(name, round_id, payload, expect=REFUSED, frags=(), rid=None, **kw):
        code = None if expect == ACCEPTED else kw.pop("code", INVALID)
        out.append(Case("evaluation answer: " + name, "B", EVALUATION,
                        rid if rid is not None else b"evaluation/S1/" + b(round_id), payload,
                        expect, code=code, frags=frags, **kw))

    def ratings(values, comments=None):
        comments = comments or {}
        return [hs.rating(code, v, comments.get(code, "")) for code, v in zip(ITEMS, values)]

    ans = hs.evaluation_answer
    case("payload absent", r1, None, frags="an evaluation answer record carries no answer")
    case("payload is a training ack", r1, hs.training_ack("TP-1", 1), payload_field=24,
         frags="an evaluation answer record carries no answer")
    case("every field empty", "", b"", frags="is not an evaluation round HQ opened")
    for label, rnd in [("unknown NOPE", "NOPE"), ("../" + r1, "../" + r1),
                       ("with a newline", r1 + "\n"), ("non-UTF-8", b"EV-\xff"),
                       ("lower-case", r1.lower())]:
        case("round %s" % label, rnd, ans(rnd, ratings([3] * 6)),
             frags=("round: ", "is not an evaluation round HQ opened"))
    case("round of S2 only", w.r2, ans(w.r2, ratings([3] * 6)),
         frags="round: %s was not sent to site S1" % w.r2)
    for value in (0, 6, 255, U32_MAX):
        case("rating %d" % value, r1, ans(r1, ratings([3, 3, value, 3, 3, 3])),
             frags="answers[2].rating: %d is not from 1 to 5" % value)
    case("unknown item code", r1, ans(r1, [hs.rating("XX-1", 3)] + ratings([3] * 6)),
         frags='answers[0].code: "XX-1" is not an item of round %s (items: CS-1, CS-2, QA-1'
         % r1)
    case("item code with ESC", r1, ans(r1, [hs.rating("\x1b[2J", 3)]),
         frags="is not an item of round")
    case("an item rated twice", r1, ans(r1, ratings([3] * 6) + [hs.rating("CS-1", 4)]),
         frags="answers[6].code: CS-1 is rated twice (also answers[0])")
    case("an item not rated", r1, ans(r1, ratings([3] * 5)),
         frags="answers: item SY-1 (systems) is not rated")
    case("no rating at all", r1, ans(r1, []),
         frags="answers: item CS-1 (customer_service) is not rated")
    case("10,000 ratings", r1, ans(r1, [hs.rating("CS-1", 3)] * 10000))
    for label, comment, frag in [("of 1001 bytes", "c" * 1001,
                                  "answers[0].comment: longer than 1000 bytes"),
                                 ("of 100 KB", "c" * 100000,
                                  "answers[0].comment: longer than 1000 bytes"),
                                 ("non-UTF-8", b"\xff", "answers[0].comment: not UTF-8 text"),
                                 ("with ESC", "\x1b[2J", "answers[0].comment: contains a control")]:
        case("comment %s" % label, r1, ans(r1, ratings([3] * 6, {"CS-1": comment})),
             frags=frag)
    case("written at int64 max: after the round closed", r1, ans(r1, ratings([3] * 6)),
         created_at_ms=I64_MAX,
         frags="round: %s closed at the end of %s (UTC); answers are no longer accepted"
         % (r1, w.due))
    case("record_id of S2", r1, ans(r1, ratings([3] * 6)), rid="evaluation/S2/" + r1,
         frags="record_id: this record must have id evaluation/S1/%s" % r1)
    case("written at int64 min (valid)", r1, ans(r1, ratings([1, 2, 3, 4, 5, 5])), ACCEPTED,
         created_at_ms=I64_MIN)
    case("rev 2 replaces it (valid)", r1,
         ans(r1, ratings([5] * 6, {"SY-1": "系统稳定\n\tgood"})), ACCEPTED, revision=2,
         reason="second thoughts")
    case("rev 2 again (J9)", r1, ans(r1, ratings([4] * 6)), code=STALE, revision=2,
         reason="again", frags="revision 2 of evaluation/S1/%s is not newer than revision 2"
         % r1)
    return out


# -- the world -------------------------------------------------------------------

class World:
    """HQ with sites S1-S3, a checklist, training plans TP-1 (S1, S2; rev 2,
    HK-101 cancelled) and TP-2 (S2), complaints (2 for S1, 1 for S2),
    evaluation rounds (one for S1, one for S2); the hostile agents B (site
    S1) and I (inspector of S1, S2), enrolled but never run; a normal
    running agent for S2."""

    def __init__(self, h):
        self.h = h
        self.v1 = "QA-S1-20260101-0001"
        self.v2 = "QA-S2-20260101-0001"
        self.due = day(7)
        hq = self.hq = h.hq()
        hq.init()
        for site_id, kind, region, tier in SITES:
            hq.add_site(site_id, name="Hotel " + site_id, kind=kind, city="City", rooms=100,
                        region=region, tier=tier)
        hq.start()
        hq.cli("qa", "checklist", "set", write_json(h, "checklist.json", CHECKLIST))
        hq.cli_json("training", "publish", write_json(h, "tp1.json", self.plan("TP-1",
                                                                               ["S1", "S2"])))
        revised = self.plan("TP-1", ["S1", "S2"])
        revised["courses"] = [c for c in revised["courses"] if c["code"] != "HK-101"]
        hq.cli_json("training", "revise", write_json(h, "tp1-r2.json", revised),
                    "--note", "HK-101 postponed")
        hq.cli_json("training", "publish", write_json(h, "tp2.json", self.plan("TP-2", ["S2"])))
        received = (datetime.datetime.now(datetime.timezone.utc) -
                    datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.c1, self.c2, self.c3 = (
            hq.cli_json("complaint", "add", "--site", site, "--received", received,
                        "--text", "Noisy room")["id"] for site in ("S1", "S1", "S2"))
        hq.cli_json("evaluation", "form", "set", write_json(h, "form.json", FORM))
        self.r1 = self.open_round("S1")
        self.r2 = self.open_round("S2")
        branch = h.agent("b1")
        branch.enroll(hq, hq.token("S1"))
        token = hq.cli_json("token", "--inspector", INSPECTOR, "--sites", "S1,S2,S4")["token"]
        inspector = h.agent("inspector")
        inspector.enroll(hq, token)
        self.normal = h.agent("s2")
        self.normal.enroll(hq, hq.token("S2"))
        self.normal.start()
        self.offline = h.agent("s4")  # started only after the inspections of S4
        self.offline.enroll(hq, hq.token("S4"))
        self.agents = {"B": branch, "I": inspector}
        self.ids = {"B": branch.id, "I": inspector.id}

    def open_round(self, site):
        cp = self.hq.cli("evaluation", "round", "open", "--due", self.due, "--sites", site)
        lines = cp.stdout.strip().splitlines()
        check(lines, "round open printed nothing")
        return lines[-1].strip()

    @staticmethod
    def plan(plan_id, sites):
        def course(code, role, start, end):
            return {"code": code, "title": "Course " + code[:20], "role": role,
                    "level": "basic", "mode": "onsite", "start": day(start), "end": day(end),
                    "hours": 8, "trainer": "Li Na", "pass_mark": 60}
        courses = [course("FD-101", "front_desk", -12, -10), course("TR-201", "trainer", -6, -5),
                   course("HK-101", "housekeeping", 30, 32)]
        courses += [course(code, "front_desk", 1, 2) for code in LONG_COURSES]
        return {"id": plan_id, "title": "Plan " + plan_id, "audience": {"sites": sites},
                "courses": courses}

    def finding_id(self, n):
        return "%s-F%d" % (self.v1, n)

    def valid_inspection(self, ins_id, site="S1"):
        findings = [hs.finding("%s-F1" % ins_id, "hygiene", "major", "HY-01", "Floor wet",
                               [hs.photo(ins_id + "-p1")]),
                    hs.finding("%s-F2" % ins_id, "safety", "critical", "SF-01", "Exit blocked"),
                    hs.finding("%s-F3" % ins_id, "service", "minor", "", "Slow check-in"),
                    hs.finding("%s-F4" % ins_id, "conduct", "minor", "CD-01", "No uniform")]
        return hs.inspection(ins_id, site, INSPECTOR, findings=findings if site == "S1"
                             else findings[:1],
                             scores=[hs.score("hygiene", 70), hs.score("safety", 80)],
                             weights=[hs.weight(c, v) for c, v in WEIGHTS],
                             checklist_name=CHECKLIST["name"])

    def full_answer(self):
        return hs.evaluation_answer(self.r1, [hs.rating(c, 4) for c in ITEMS])


# -- running the cases ---------------------------------------------------------------

class Runner:
    def __init__(self, h, world):
        self.h = h
        self.w = world
        self.hq = world.hq
        self.ctx = zmq.Context()
        self.clients = {}
        self.next_seq = {}
        self.crashes = []      # (what, log tail)
        self.hq_mark = 0
        self.connect()

    def connect(self):
        for who, agent in self.w.agents.items():
            old = self.clients.get(who)
            if old is not None:
                old.close()
            client = hs.SyncClient(self.ctx, self.hq, agent)
            welcome = client.hello()
            check(welcome is not None, "no Welcome for %s's agent" % who)
            acked = welcome.get(2, [0])[0]
            client.acked = acked
            self.next_seq[who] = acked + 1
            self.clients[who] = client

    def close(self):
        for client in self.clients.values():
            client.close()
        self.ctx.term()

    def recover(self, what):
        """After a batch got no Ack: restart HQ if it died, reconnect."""
        if not self.hq.running_or_reap():
            self.crashes.append((what, harness.tail(self.hq.log_path, 80)))
            self.hq.start()
        self.connect()

    def send(self, who, cases, timeout):
        """Sends cases as one batch; sets their verdicts. None, or what went wrong."""
        client = self.clients[who]
        first = self.next_seq[who]
        bodies = []
        for i, case in enumerate(cases):
            case.seq = first + i
            bodies.append(case.body(self.w, case.seq))
        client.send(client.batch(first, bodies, [c.signature for c in cases]))
        deadline = time.monotonic() + timeout
        got = None
        while got is None and time.monotonic() < deadline and self.hq.running():
            got = client.wait({harness.HQ_ACK}, min(0.5, deadline - time.monotonic()))
        last = first + len(cases) - 1
        if got is None:
            if self.hq.running():
                return "no Ack within %d s (HQ is running)" % timeout
            status = self.hq.proc.poll() if self.hq.proc is not None else self.hq.returncode
            return "no Ack (HQ exited with status %s)" % status
        kind, fields = got
        if kind == harness.HQ_ERROR:
            return "Error %s: %s" % (fields.get(1, [0])[0],
                                     fields.get(2, [b""])[0].decode(errors="replace"))
        if kind == harness.HQ_WELCOME:
            return "Welcome{resend} instead of an Ack (HQ saw a gap)"
        upto = fields.get(1, [0])[0]
        refusals = {}
        for raw in fields.get(2, []):
            r = harness.pb_decode(raw)
            refusals[r.get(1, [0])[0]] = (r.get(2, [0])[0], r.get(3, [b""])[0])
        if upto < last:
            return "Ack.upto %d does not cover seqs %d..%d" % (upto, first, last)
        for case in cases:
            if case.seq in refusals:
                code, reason = refusals[case.seq]
                case.verdict = (REFUSED, code, reason)
            else:
                case.verdict = (ACCEPTED, 0, b"")
        client.acked = upto
        self.next_seq[who] = upto + 1
        if client.hello() is None:  # moves hello_acked: the next Ack lists only new refusals
            return "no Welcome after the Ack"
        return None

    def run(self, cases):
        for who, batch in batches(self.w, cases):
            problem = self.send(who, batch, SINGLE_ACK_TIMEOUT if len(batch) == 1
                                else BATCH_ACK_TIMEOUT)
            if problem is None and self.hq.running():
                continue
            if len(batch) == 1:
                self.fail_single(batch[0], problem)
                continue
            # find the record(s) responsible: again, one by one
            print("batch of %d records (%s..%s): %s; sending them one by one"
                  % (len(batch), batch[0].name, batch[-1].name, problem or "HQ died"))
            for case in batch:
                case.verdict = None
            self.recover("batch " + batch[0].name)
            for case in batch:
                problem = self.send(who, [case], SINGLE_ACK_TIMEOUT)
                if problem is None and self.hq.running():
                    continue
                self.fail_single(case, problem)

    def fail_single(self, case, problem):
        case.verdict = None
        crashed = not self.hq.running()
        case.problems.append("%s%s" % ("HQ CRASHED: " if crashed else "",
                                       problem or "HQ exited after the Ack"))
        log = harness.tail(self.hq.log_path, 40 if crashed else 3)
        case.problems.append("HQ log:\n" + log)
        self.recover(case.name)


def batches(world, cases):
    """Consecutive cases of the same agent, at most 256 records and 1 MiB
    of bodies per batch (Welcome.max_batch_bytes)."""
    out = []
    for case in cases:
        size = len(case.body(world, 1 << 40))
        if out and out[-1][0] == case.who and len(out[-1][1]) < 256 and \
                out[-1][2] + size <= MAX_BATCH_BYTES and not case.alone and \
                not out[-1][1][-1].alone:
            out[-1][1].append(case)
            out[-1][2] += size
        else:
            out.append([case.who, [case], size])
    return [(who, batch) for who, batch, _ in out]


# -- checks after the cases ---------------------------------------------------------

EFFECT_TABLES = ["sales_reports", "qa_inspections", "qa_events", "training_acks",
                 "training_submissions", "satisfaction", "complaint_responses",
                 "evaluation_answers"]


def query(hq, sql, params=()):
    """Rows of HQ's store, read-only, with TEXT as bytes (hostile records
    put non-UTF-8 bytes into text columns)."""
    db = sqlite3.connect("file:%s?mode=ro" % hq.db_path, uri=True, timeout=30)
    db.text_factory = bytes
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def check_store(w, cases):
    """The verdicts HQ stored are those of the Acks; no record that HQ
    stored as refused left an effect; record heads are the highest
    accepted revisions; the QA, training and evaluation tables agree."""
    hq = w.hq
    problems = []
    mine = {b(i) for i in w.ids.values()}
    stored = {}
    for agent, seq, record_id, revision, status, code, reason in query(
            hq, "SELECT agent, seq, record_id, revision, status, refusal_code, reason"
            " FROM records WHERE agent IN (?, ?)", (w.ids["B"], w.ids["I"])):
        stored[(agent, seq)] = (record_id, revision, status.decode(), code, reason or b"")
    for case in cases:
        if case.verdict is None:
            continue
        row = stored.get((b(w.ids[case.who]), case.seq))
        if row is None:
            problems.append("%s: seq %d acknowledged but not stored" % (case.name, case.seq))
            continue
        status, code, reason = case.verdict
        if row[2] != status or (status == REFUSED and (row[3] != code or row[4] != reason)):
            problems.append("%s: stored verdict %r differs from the Ack's %r"
                            % (case.name, row[2:], case.verdict))
    accepted = {k for k, row in stored.items() if row[2] == ACCEPTED}
    for table in EFFECT_TABLES:
        for agent, seq in query(hq, "SELECT agent, seq FROM %s" % table):
            if agent in mine and (agent, seq) not in accepted:
                problems.append("%s holds a row of %s seq %s, a record HQ refused"
                                % (table, agent.decode(), seq))
    heads = dict(query(hq, "SELECT record_id, revision FROM record_heads"))
    best = {}
    for row in stored.values():
        if row[2] == ACCEPTED:
            best[row[0]] = max(best.get(row[0], 0), row[1])
    for record_id in sorted({row[0] for row in stored.values()}):
        if heads.get(record_id) != best.get(record_id):
            problems.append("record_heads[%r] = %r, highest accepted revision %r"
                            % (record_id, heads.get(record_id), best.get(record_id)))
    orphans = query(hq, "SELECT count(*) FROM qa_findings WHERE inspection NOT IN"
                        " (SELECT id FROM qa_inspections)")[0][0]
    if orphans:
        problems.append("%d QA findings without their inspection" % orphans)
    accepted_qa = [k for k in accepted if k[0] == b(w.ids["I"])]
    held = query(hq, "SELECT count(*) FROM qa_inspections WHERE agent = ?",
                 (w.ids["I"],))[0][0]
    if held != len(accepted_qa):
        problems.append("%d QA inspections held, %d accepted" % (held, len(accepted_qa)))
    reports = query(hq, "SELECT count(*) FROM downstream WHERE site = 'S1' AND kind = 3")[0][0]
    s1 = query(hq, "SELECT count(*) FROM qa_inspections WHERE site = 'S1'")[0][0]
    if reports != s1:
        problems.append("%d QaReport items in S1's log for %d inspections" % (reports, s1))
    rows = query(hq, "SELECT count(*) FROM training_results WHERE plan = 'TP-1' AND site = 'S1'")
    ran = {c.name for c in cases if c.verdict is not None and c.verdict[0] == ACCEPTED}
    if "training results: rev 3 replaces them with one (valid)" in ran and rows[0][0] != 1:
        problems.append("training_results of TP-1 at S1: %d rows, the latest accepted record"
                        " has 1" % rows[0][0])
    rows = query(hq, "SELECT count(*) FROM evaluation_ratings WHERE round = ? AND site = 'S1'",
                 (w.r1,))
    if "evaluation answer: rev 2 replaces it (valid)" in ran and rows[0][0] != len(ITEMS):
        problems.append("evaluation ratings of S1: %d rows, want %d" % (rows[0][0], len(ITEMS)))
    return problems


def staff_views(w):
    """Every staff command that reads what the records wrote still works."""
    hq = w.hq
    problems = []
    commands = [("reports",), ("sites",), ("agents",), ("alarms",), ("qa", "list"),
                ("training", "status", "--plan", "TP-1"), ("satisfaction",),
                ("complaint", "list", "--all"), ("evaluation", "report", w.r1)]
    ids = [r[0].decode("utf-8", errors="replace")
           for r in query(hq, "SELECT id FROM qa_inspections ORDER BY id")]
    commands += [("qa", "show", i) for i in ids]
    # `qa show` lists every finding HQ holds (staff act on them)
    for ins_id in ids:
        cp = hq.cli("qa", "show", ins_id, "--json", check_rc=False)
        held = query(hq, "SELECT id FROM qa_findings WHERE inspection = ? ORDER BY n",
                     (ins_id,))
        try:
            shown = [f.get("id") for f in json.loads(cp.stdout).get("findings", [])]
        except (ValueError, AttributeError):
            continue  # reported below
        if len(shown) != len(held):
            problems.append("qa show %s lists %d findings, HQ holds %d (%s)"
                            % (ins_id, len(shown), len(held),
                               ", ".join(h[0].decode("utf-8", errors="replace")
                                         for h in held)[:200]))
    for argv in commands:
        for as_json in (True, False):
            cp = hq.cli(*(list(argv) + (["--json"] if as_json else [])), check_rc=False)
            what = "innsync-hq %s%s" % (" ".join(argv), " --json" if as_json else "")
            if cp.returncode != 0:
                problems.append("%s: exit %d: %s" % (what, cp.returncode,
                                                     cp.stderr.strip()[-300:]))
            elif as_json:
                try:
                    json.loads(cp.stdout)
                except ValueError as e:
                    problems.append("%s: not JSON (%s): %s" % (what, e, cp.stdout[:200]))
            if any(m in cp.stderr for m in SANITIZER_MARKS):
                problems.append("%s: sanitizer report:\n%s" % (what, cp.stderr[-2000:]))
    return problems


def integrity_problems(hq):
    """PRAGMA integrity_check, less the false "NULL value in T.C" reports of
    SQLite 3.40.0-3.41.0 (WITHOUT ROWID tables whose PRIMARY KEY order
    differs from the column order, e.g. attachment_refs): each such message
    counts only if the column really holds a NULL."""
    problems = []
    for (message,) in query(hq, "PRAGMA integrity_check(1000)"):
        text = message.decode("utf-8", errors="replace")
        if text == "ok":
            continue
        if text.startswith("NULL value in ") and text.count(".") == 1:
            table, column = text[len("NULL value in "):].split(".")
            nulls = query(hq, 'SELECT count(*) FROM "%s" WHERE typeof("%s") = \'null\''
                          % (table, column))[0][0]
            if nulls == 0:
                continue
        problems.append("integrity_check: " + text)
    return problems[:20]


def sanitizer_report(text):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(m in line for m in SANITIZER_MARKS):
            return "\n".join(lines[max(0, i - 2):i + 30])
    return None


# -- main --------------------------------------------------------------------------------

def main():
    args = harness.parse_args()
    for path in (args.hq, args.branch):
        if not os.access(path, os.X_OK):
            print("not an executable: %s" % path)
            print("0 passed, 1 failed")
            sys.exit(1)

    def on_term(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)

    started = time.monotonic()
    h = harness.Harness(os.path.abspath(args.hq), os.path.abspath(args.branch), "hostile")
    results = []  # (name, problems, repro)
    runner = None
    try:
        try:
            w = World(h)
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print(h.logs())
            print("0 passed, 1 failed")
            sys.exit(1)
        print("world ready in %.1f s" % (time.monotonic() - started))
        cases = (cases_inspection(w) + cases_downstream(w) + cases_judge(w) + cases_sales(w) +
                 cases_rectification(w) + cases_training(w) + cases_satisfaction(w) +
                 cases_complaint(w) + cases_evaluation(w))
        if args.only:
            keep = [c for c in cases if args.only in c.name]
            # the valid inspections the rectification cases need always go first
            cases = [c for c in cases if c.name.startswith("QA inspection: valid, ")
                     and c not in keep] + keep
        runner = Runner(h, w)
        t0 = time.monotonic()
        runner.run(cases)
        print("%d records sent in %.1f s" % (len(cases), time.monotonic() - t0))
        big = [c for c in cases if c.name.startswith("downstream: ")]
        if big:
            w.offline.start()
            offline_started = time.monotonic()
        verbose = os.environ.get("INNSYNC_HOSTILE_VERBOSE") == "1"
        for case in cases:
            name = case.name
            if verbose and case.verdict is not None:
                status, code, reason = case.verdict
                name += "  -> %s%s" % (status, "" if status == ACCEPTED else " %s: %s" % (
                    hs.CODE_NAMES.get(code, code), hs.shorten(reason, 200)))
            results.append((name, case.check(), case.repro()))

        def named(name, fn):
            try:
                problems = fn()
            except Exception as e:  # a check that cannot run is a failure
                problems = ["%s: %s" % (type(e).__name__, e)]
            results.append((name, problems or [], None))

        def alive():
            return [] if w.hq.running() else ["innsync-hq is not running:\n" +
                                              harness.tail(w.hq.log_path, 60)]

        def crashes():
            return ["HQ crashed (%s):\n%s" % what for what in runner.crashes]

        def serves():
            before = w.normal.status()["acknowledged"]
            w.normal.submit(harness.fixture("valid-full.json"))
            w.normal.wait_acknowledged(before + 1, timeout=30)
            st = w.normal.status()
            return [] if not st["refused"] else ["normal agent's report refused: %r"
                                                 % st["refused"]]

        def hostile_still_served():
            # the hostile site agent too: one more valid record, acknowledged
            case = Case("valid", "B", SALES, "sales/S1/2027-12", hs.sales_report("2027-12"),
                        ACCEPTED)
            problem = runner.send("B", [case], SINGLE_ACK_TIMEOUT)
            return ([problem] if problem else []) + case.check()

        def verify():
            cp = w.hq.cli("verify", "--json", check_rc=False)
            try:
                out = json.loads(cp.stdout)
            except ValueError:
                return ["verify printed no JSON (exit %d): %s %s" % (cp.returncode, cp.stdout,
                                                                     cp.stderr)]
            # the records sent unsigned on purpose may (only) fail their signature
            unsigned = {(w.ids[c.who], c.seq) for c in cases if c.signature is not None}
            problems = [p for p in out.get("problems", [])
                        if not (p.get("kind") == "record" and
                                (p.get("agent"), p.get("seq")) in unsigned and
                                "signature" in p.get("problem", ""))]
            if problems or (cp.returncode != 0 and len(problems) == len(out.get("problems", []))):
                return ["verify: exit %d, problems %s" % (cp.returncode,
                                                          json.dumps(problems)[:2000])]
            return []

        def integrity():
            return integrity_problems(w.hq)

        def log_clean():
            report = sanitizer_report(w.hq.log())
            return [] if report is None else ["sanitizer report in HQ's log:\n" + report]

        named("HQ did not crash during the cases", crashes)
        named("HQ is running after the hostile records", alive)
        named("HQ still acknowledges a normal agent's report", serves)
        named("HQ's stored verdicts and effects match the Acks", lambda: check_store(w, cases))
        named("HQ still acknowledges the hostile agent's next valid record",
              hostile_still_served)
        named("innsync-hq verify passes", verify)
        named("PRAGMA integrity_check is ok", integrity)
        named("staff views read the store", lambda: staff_views(w))
        def offline_site_catches_up():
            if not big:
                return []
            accepted = sum(1 for c in big if c.verdict and c.verdict[0] == ACCEPTED)

            def received():
                return query(w.hq, "SELECT 1")[0] and w.offline.query(
                    "SELECT count(*) FROM inbox WHERE kind = 3")[0][0] >= accepted
            deadline = offline_started + 20
            while time.monotonic() < deadline and not received():
                time.sleep(0.2)
            if received():
                return []
            got = w.offline.query("SELECT count(*) FROM inbox WHERE kind = 3")[0][0]
            return ["S4's agent, offline while %d large QA reports were appended to S4's log,"
                    " received %d of them in %.0f s after it started; its log:\n%s"
                    % (accepted, got, time.monotonic() - offline_started,
                       harness.tail(w.offline.log_path, 4))]

        named("no sanitizer report in HQ's log", log_clean)
        named("a site agent back from offline receives its site's log", offline_site_catches_up)
        runner.close()
        runner = None
        w.normal.stop()
        w.offline.stop()
        mark = w.hq.mark()
        status = w.hq.stop()

        def clean_exit():
            problems = []
            if status not in (0, None):
                problems.append("innsync-hq exit status %s on SIGTERM" % status)
            report = sanitizer_report(w.hq.log_since(mark))
            if report:
                problems.append("sanitizer report when HQ stopped:\n" + report)
            return problems
        named("HQ stops cleanly, no sanitizer report at exit", clean_exit)
    finally:
        if runner is not None:
            runner.close()
        h.close()

    passed = failed = 0
    for name, problems, repro in results:
        if problems:
            failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print("     " + p.replace("\n", "\n     "))
            if repro:
                print("     repro: " + repro)
        else:
            passed += 1
            print("ok   %s" % name)
    print("(%.1f s)" % (time.monotonic() - started))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
