"""Helpers for test_hostile_records.py: a protobuf encoder that can write
any value (negative int64, non-UTF-8 strings, wrong members), builders for
every record payload (field numbers: proto/innsync.proto, qa.proto,
feedback.proto), Ed25519 signing with an enrolled agent's sign.pem, and a
DEALER client that speaks the sync protocol (Hello, RecordBatch, DownAck)
with an enrolled agent's CURVE keys.

Standard library and python3-zmq; python3-cryptography is used to sign
when it is installed, else the openssl command (as test_refusals.py)."""

import hashlib
import os
import subprocess
import tempfile
import time

import zmq

import harness
from harness import check

# -- encoding ---------------------------------------------------------------

U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1


def varint(value):
    """A varint; negative values as 64-bit two's complement (int64, enums)."""
    if value < 0:
        value &= U64_MAX
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def f(number, value):
    """One field. int (and bool): varint; str: UTF-8; bytes: as given (also
    an already encoded sub-message); None: nothing."""
    if value is None:
        return b""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    return varint((number << 3) | 2) + varint(len(value)) + bytes(value)


def fields(*pairs):
    return b"".join(f(n, v) for n, v in pairs)


def repeated(number, values):
    return b"".join(f(number, v) for v in values)


# RecordKind and the RecordBody payload member of each kind
SALES, QA, PLAN, DONE, TRAINING_ACK, TRAINING_RESULTS, SATISFACTION, COMPLAINT, EVALUATION = \
    range(1, 10)
PAYLOAD_FIELD = {SALES: 20, QA: 21, PLAN: 22, DONE: 23, TRAINING_ACK: 24, TRAINING_RESULTS: 25,
                 SATISFACTION: 26, COMPLAINT: 27, EVALUATION: 28}

# RefusalCode
INVALID, UNAUTHORISED, STALE, BAD_SIGNATURE, UNKNOWN_SITE = 1, 2, 3, 4, 5
CODE_NAMES = {0: "UNSPECIFIED", INVALID: "INVALID", UNAUTHORISED: "UNAUTHORISED",
              STALE: "STALE_REVISION", BAD_SIGNATURE: "BAD_SIGNATURE",
              UNKNOWN_SITE: "UNKNOWN_SITE"}


def record_body(origin_agent, origin_seq, record_id, kind, site, revision=1, author="hostile",
                created_at_ms=None, reason="", payload=None):
    """RecordBody bytes. payload: (field number, encoded message) or None."""
    if created_at_ms is None:
        created_at_ms = int(time.time() * 1000)
    out = fields((1, origin_agent), (2, origin_seq), (3, record_id), (4, kind), (5, site),
                 (6, revision), (7, author), (8, created_at_ms), (9, reason))
    if payload is not None:
        out += f(payload[0], payload[1])
    return out


# -- payloads -----------------------------------------------------------------

def amount(name, cents):
    return fields((1, name), (2, cents))


def mix(name, nights, cents):
    return fields((1, name), (2, nights), (3, cents))


def sales_report(period="2026-01", currency="CNY", available=3100, sold=2000,
                 revenue=40000000, other=(), segments=(), channels=(), costs=(), analysis="",
                 raw_extra=b""):
    return (fields((1, period), (2, currency), (3, available), (4, sold), (5, revenue))
            + repeated(6, other) + repeated(7, segments) + repeated(8, channels)
            + repeated(9, costs) + f(10, analysis) + raw_extra)


def photo(seed="p", size=1000, mime="image/jpeg", sha256=None, captured=0):
    if sha256 is None:
        sha256 = hashlib.sha256(seed.encode() if isinstance(seed, str) else seed).digest()
    return fields((1, sha256), (2, size), (3, captured), (4, mime))


def finding(id, category="hygiene", severity="major", item="", text="Bathroom floor wet",
            photos=(), created=0):
    return fields((1, id), (2, category), (3, severity), (4, item), (5, text)) + \
        repeated(6, photos) + f(7, created)


def score(category, value):
    return fields((1, category), (2, value))


def weight(category, value):
    return fields((1, category), (2, value))


def inspection(id, site, inspector, type="announced", findings=(), scores=(), accompanied="",
               checklist_version=1, checklist_name="", weights=(), started=0, submitted=0):
    return (fields((1, id), (2, site), (3, type), (4, inspector)) + repeated(5, findings)
            + repeated(6, scores) + f(7, accompanied) + f(8, started) + f(9, submitted)
            + f(10, checklist_version) + f(11, checklist_name) + repeated(12, weights))


def rect_plan(finding, inspection, action="Dry the floor, add a mat", owner="Wang Fang",
              due_date="2026-02-01"):
    return fields((1, finding), (2, inspection), (3, action), (4, owner), (5, due_date))


def rect_done(finding, inspection, note="Mat installed", photos=()):
    return fields((1, finding), (2, inspection), (3, note)) + repeated(4, photos)


def training_ack(plan, plan_revision):
    return fields((1, plan), (2, plan_revision))


def training_result(employee, course, name="Zhang San", role="front_desk", attended=True,
                    scored=True, score=80):
    return fields((1, employee), (2, name), (3, role), (4, course), (5, attended), (6, scored),
                  (7, score))


def training_results(plan, results, plan_revision=2):
    return fields((1, plan), (2, plan_revision)) + repeated(3, results)


def survey(date="2026-02-10", channel="phone", scores=(4, 4, 4, 4, 4, 4), recommend=9,
           comment=""):
    return (fields((1, date), (2, channel))
            + b"".join(f(3 + i, s) for i, s in enumerate(scores))
            + f(9, recommend) + f(10, comment))


DIMENSIONS = ("cleanliness", "service", "value", "location", "facilities", "overall")


def distribution(dimension, counts):
    return f(1, dimension) + repeated(2, counts)


def aggregate(responses, distributions=None, channels=()):
    if distributions is None:
        distributions = [distribution(d, [0, 0, 0, 0, responses]) for d in DIMENSIONS] + \
            [distribution("recommend", [0] * 10 + [responses])]
    return f(1, responses) + repeated(2, distributions) + \
        repeated(3, [fields((1, c), (2, n)) for c, n in channels])


def satisfaction(period="2026-02", responses=(), aggregate_msg=None):
    out = f(1, period) + repeated(2, responses)
    if aggregate_msg is not None:
        out += f(3, aggregate_msg)  # present, even when empty
    return out


def complaint_response(complaint, text="We moved the guest and apologised", resolved=False):
    return fields((1, complaint), (2, text), (3, resolved))


def rating(code, value, comment=""):
    return fields((1, code), (2, value), (3, comment))


def evaluation_answer(round_id, ratings):
    return f(1, round_id) + repeated(2, ratings)


# -- refusal texts --------------------------------------------------------------

def reason_problem(reason):
    """None if reason (bytes) is a non-empty, one-line, printable UTF-8
    text, else what is wrong with it."""
    if not reason:
        return "empty reason"
    try:
        text = reason.decode("utf-8")
    except UnicodeDecodeError as e:
        return "reason is not valid UTF-8 (%s)" % e
    if "\n" in text or "\r" in text:
        return "reason is not one line"
    bad = [c for c in text if ord(c) < 0x20 or ord(c) == 0x7F]
    if bad:
        return "reason contains control characters %r" % "".join(bad)
    if not text.strip():
        return "blank reason"
    return None


def shorten(value, limit=160):
    r = repr(value)
    return r if len(r) <= limit else r[:limit] + "...(%d chars)" % len(r)


# -- signing --------------------------------------------------------------------

class Signer:
    """Ed25519 signatures with an agent's keys/sign.pem."""

    def __init__(self, agent_dir):
        self.pem = os.path.join(agent_dir, "keys", "sign.pem")
        self.key = None
        try:
            from cryptography.hazmat.primitives.serialization import load_pem_private_key
            with open(self.pem, "rb") as fh:
                self.key = load_pem_private_key(fh.read(), password=None)
        except Exception:  # no python3-cryptography: the openssl command
            self.key = None

    def sign(self, data):
        if self.key is not None:
            return self.key.sign(data)
        with tempfile.NamedTemporaryFile(prefix="isy-sign-") as tmp:
            tmp.write(data)
            tmp.flush()
            cp = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.pem,
                                 "-in", tmp.name], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=30)
        check(cp.returncode == 0 and len(cp.stdout) == 64,
              "openssl could not sign: %s" % cp.stderr.decode(errors="replace"))
        return cp.stdout


# -- the sync client ---------------------------------------------------------------

class SyncClient:
    """One DEALER connection with an enrolled agent's CURVE keys. Acks,
    Welcomes and Errors are returned to the caller; downstream items are
    acknowledged as they arrive (so that HQ does not resend them)."""

    def __init__(self, ctx, hq, agent):
        self.hq = hq
        self.agent = agent
        self.signer = Signer(agent.data)
        self.socket = ctx.socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.curve_serverkey = hq.key.encode()
        self.socket.curve_publickey, self.socket.curve_secretkey = agent.curve_keys()
        # unlimited: a DownBatch over 4 MiB must not cut off the test's own
        # sockets (the C agent's 4 MiB limit is exercised by the test)
        self.socket.setsockopt(zmq.MAXMSGSIZE, -1)
        self.socket.connect(hq.sync_endpoint)
        self.cursors = {}
        self.acked = 0

    def close(self):
        self.socket.close(linger=0)

    def send(self, data):
        self.socket.send(data)

    def hello(self, timeout=20):
        """Hello(acked) -> the Welcome's fields, or None."""
        payload = f(1, 1) + f(2, self.acked) + f(3, self.acked)
        for site, seq in sorted(self.cursors.items()):
            payload += f(4, f(1, site) + f(2, seq))
        payload += f(5, "innsync hostile-records test")
        self.send(f(harness.AGENT_HELLO, payload))
        got = self.wait({harness.HQ_WELCOME}, timeout)
        if got is None or got[0] != harness.HQ_WELCOME:
            return None
        return got[1]

    def _down(self, batch):
        for item in batch.get(1, []):
            fields_ = harness.pb_decode(item)
            site = fields_.get(1, [b""])[0].decode("utf-8", errors="replace")
            seq = fields_.get(2, [0])[0]
            if seq == self.cursors.get(site, 0) + 1:
                self.cursors[site] = seq
        ack = b"".join(f(1, f(1, s) + f(2, n)) for s, n in sorted(self.cursors.items()))
        self.send(f(3, ack))

    def wait(self, kinds, timeout):
        """The next HqMessage of one of kinds (or an Error): (kind, fields),
        or None when nothing came in time."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(int(left * 1000) + 1):
                return None
            frame = self.socket.recv()
            kind, body = harness.hq_reply_kind(frame)
            if kind == harness.HQ_DOWN:
                self._down(body)
                continue
            if kind in kinds or kind == harness.HQ_ERROR:
                return kind, body
            if kind == harness.HQ_WELCOME and body.get(8, [0])[0]:
                return kind, body  # resend = true: HQ saw a gap
            # anything else (a late Welcome, an attachment message): ignored

    def batch(self, first_seq, bodies, signatures=None):
        """AgentMessage{batch} bytes for bodies at first_seq.., the manifest
        signed; each body signed too unless signatures[i] is not None."""
        hashes = [hashlib.sha256(b).digest() for b in bodies]
        manifest = harness.manifest_bytes(self.agent.id, first_seq, hashes,
                                          int(time.time() * 1000))
        signatures = signatures or [None] * len(bodies)
        return harness.batch_message(
            manifest, self.signer.sign(manifest),
            [(b, self.signer.sign(b) if s is None else s) for b, s in zip(bodies, signatures)])
