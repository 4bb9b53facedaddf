"""Integration test 4 (issue 2), refusals: invalid report files, a
cross-site write, unknown CURVE keys and plain clients, a revoked agent,
reused/expired/forged tokens, random, truncated and oversized messages, a
sequence fork and a second `init`: each refused with the right reason, the
daemon still serving the others, the store unchanged."""

import calendar
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

# tests/data/reports/README.md: the start of each refusal message.
BAD_REPORTS = {
    "bad-period.json": 'period: "2026-13" is not a month (want YYYY-MM)',
    "bad-negative.json": "other_revenue.fnb: -42000.00 is negative",
    "bad-sold-over-available.json": "rooms_sold: 4000 is more than rooms_available (3720)",
    "bad-segments-nights.json": "segments: room_nights add up to 2876 but rooms_sold is 2976",
    "bad-segments-revenue.json":
        "segments: revenue adds up to 595000.00 but room_revenue is 595200.00",
    "bad-channels.json": "channels: room_nights add up to 2876 but rooms_sold is 2976",
    "bad-unknown-field.json": 'unknown field "foo" (allowed: period, currency, '
                              "rooms_available, rooms_sold, room_revenue, other_revenue, "
                              "segments, channels, costs, analysis)",
    "bad-not-utf8.json": "file is not valid UTF-8 JSON: unable to decode byte 0xff",
    "bad-not-json.json": "file is not valid UTF-8 JSON: ",
    "bad-too-large.json": "larger than 65536 bytes",
    "bad-money-decimals.json": 'room_revenue: "350000.005" has more than two decimals',
    "bad-missing-field.json": "rooms_sold: missing (required)",
    "bad-duplicate-key.json": "file is not valid UTF-8 JSON: duplicate object key",
}
FRANCHISE_WARNING = ("costs: a franchised store's report should include its operating costs")
MAX_REPORT_BYTES = 65536
NO_REPLY_S = 2.0


# -- helpers -------------------------------------------------------------

class Client:
    """A pyzmq socket to one of HQ's endpoints, closed by close()."""

    def __init__(self, ctx, kind, endpoint, server_key=None, keys=None):
        self.socket = ctx.socket(kind)
        self.socket.linger = 0
        if server_key is not None:
            self.socket.curve_serverkey = server_key
            self.socket.curve_publickey, self.socket.curve_secretkey = keys
        self.socket.connect(endpoint)

    def send(self, data):
        self.socket.send(data)

    def recv(self, timeout_s):
        """The reply's frames, or None if nothing arrives in time."""
        if self.socket.poll(int(timeout_s * 1000)):
            return self.socket.recv_multipart()
        return None

    def request(self, data, timeout_s=20):
        self.send(data)
        reply = self.recv(timeout_s)
        check(reply is not None, "no reply from HQ in %s s" % timeout_s)
        check_eq(len(reply), 1, "frames in HQ's reply")
        return harness.hq_reply_kind(reply[0])

    def close(self):
        self.socket.close(linger=0)


def check_error_reply(reply, code, what):
    kind, fields = reply
    check_eq(kind, harness.HQ_ERROR, what + ": HqMessage field (4 = Error)")
    check_eq(fields.get(1, [0])[0], code, what + ": error code")


def serves(h, hq, agent, period, timeout=30):
    """HQ still serves `agent`: a new report is submitted and acknowledged."""
    before = agent.status()["acknowledged"]
    agent.submit(harness.demo_report(agent_site(agent), period))
    agent.wait_acknowledged(before + 1, timeout=timeout)


def agent_site(agent):
    return os.path.basename(agent.data).upper()


def report_of_size(h, name, period, size):
    """valid-full.json for `period`, padded with whitespace (inside the
    object) to exactly `size` bytes."""
    with open(harness.fixture("valid-full.json"), encoding="utf-8") as f:
        report = json.load(f)
    report["period"] = period
    text = json.dumps(report)
    text = "{" + " " * (size - len(text.encode("utf-8"))) + text[1:]
    path = os.path.join(h.root, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    check_eq(os.path.getsize(path), size, "size of " + name)
    return path


def sign(h, agent, data):
    """Ed25519 signature of data with the agent's signing key (openssl CLI)."""
    path = os.path.join(h.root, "to-sign-%d" % secrets.randbits(32))
    with open(path, "wb") as f:
        f.write(data)
    cp = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                         os.path.join(agent.data, "keys", "sign.pem"), "-in", path],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check(cp.returncode == 0 and len(cp.stdout) == 64,
          "openssl could not sign: %s" % cp.stderr.decode(errors="replace"))
    return cp.stdout


def outbox_record(agent, seq):
    rows = agent.query("SELECT body, signature, sha256 FROM outbox WHERE seq = ?", (seq,))
    check(rows, "no outbox record %d" % seq)
    return rows[0]


def iso_to_epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


# -- (a) invalid report files ------------------------------------------------

def test_invalid_report_files(h):
    hq, agents = harness.setup_hq_with_agents(h, ["HZ002"], start_agents=False)
    agent = agents["HZ002"]  # a franchised store
    fixtures = sorted(f for f in os.listdir(harness.REPORTS)
                      if f.startswith("bad-") and f.endswith(".json"))
    check_eq(fixtures, sorted(BAD_REPORTS), "bad-*.json fixtures known to this test")

    big_ok = report_of_size(h, "max-size.json", "2026-11", MAX_REPORT_BYTES)
    big_bad = report_of_size(h, "max-size-plus-one.json", "2026-12", MAX_REPORT_BYTES + 1)
    cases = [(harness.fixture(f), BAD_REPORTS[f]) for f in fixtures]
    cases.append((big_bad, "larger than 65536 bytes"))

    before = agent.outbox_digest()
    problems = []
    for path, expected in cases:
        cp = agent.submit(path, check_rc=False)
        name = os.path.basename(path)
        if not isinstance(cp, subprocess.CompletedProcess) or cp.returncode == 0:
            problems.append("%s: accepted" % name)
            continue
        message = cp.stderr.strip()
        if expected not in message:
            problems.append("%s: expected %r in %r" % (name, expected, message))
        elif len(message.splitlines()) != 1:
            problems.append("%s: not a one-line reason: %r" % (name, message))
    check(not problems, "invalid report files:\n  " + "\n  ".join(problems))
    check_eq(agent.outbox_digest(), before, "outbox after the refused files")

    # The valid fixtures pass: the full one silently, the minimal one with
    # the franchise warning; a file of exactly 64 KiB is accepted.
    out = agent.submit(harness.fixture("valid-full.json"))
    check_eq(out.get("warning", ""), "", "warning for valid-full.json")
    out = agent.submit(harness.fixture("valid-minimal.json"), reason="minimal resubmission")
    check(FRANCHISE_WARNING in out.get("warning", ""),
          "no franchise warning for valid-minimal.json: %r" % out)
    out = agent.submit(big_ok)
    check_eq(out["seq"], 3, "seq of the 65536-byte report")
    agent.start()
    agent.wait_acknowledged(3)
    check_eq(agent.status()["refused"], [], "refused at HQ")
    check_eq(sorted((r["period"], r["revision"]) for r in hq.reports()),
             [("2026-10", 2), ("2026-11", 1)], "reports at HQ")


# -- (b) cross-site write ---------------------------------------------------

def test_cross_site_write_refused(h):
    hq, agents = harness.setup_hq_with_agents(h, ["SH001", "HZ002"])
    agent = agents["SH001"]
    agent.forge("HZ002", harness.demo_report("HZ002", "2026-01"))

    def refused():
        st = agent.status()
        return st if st["refused"] else None
    st = h.wait_until(refused, 30, "HQ to refuse the forged record")
    check_eq(len(st["refused"]), 1, "refused records")
    refusal = st["refused"][0]
    check_eq(refusal["record"], 1, "refused record seq")
    check("HZ002" in refusal["reason"], "refusal reason does not name the site: %r" % refusal)
    check_eq((st["pending"], st["acknowledged"]), (0, 0), "status (pending, acknowledged)")

    check_eq(hq.query("SELECT count(*) FROM sales_reports WHERE site = 'HZ002'"), [(0,)],
             "HZ002 sales reports at HQ")
    check_eq(hq.reports("--site", "HZ002"), [], "reports --site HZ002")
    check_eq(hq.query("SELECT seq, status FROM records WHERE agent = ?", (agent.id,)),
             [(1, "refused")], "the forged record at HQ")
    h.wait_until(lambda: hq.agents()[agent.id]["refused"] == 1, 30,
                 "agents --json to count the refusal")
    # The refusal does not block the site's own reports, nor the other site.
    serves(h, hq, agent, "2026-01")
    serves(h, hq, agents["HZ002"], "2026-01")
    check_eq(hq.query("SELECT site, agent FROM sales_reports ORDER BY site"),
             [("HZ002", agents["HZ002"].id), ("SH001", agent.id)], "sales reports at HQ")


# -- (c) unknown CURVE key, plain client ---------------------------------------

def test_unknown_key_and_plain_client(h):
    hq, agents = harness.setup_hq_with_agents(h, ["SH001"])
    agent = agents["SH001"]
    serves(h, hq, agent, "2026-01")
    digest = hq.records_digest()
    ctx = zmq.Context()
    clients = []
    try:
        mark = hq.mark()
        stranger = Client(ctx, zmq.DEALER, hq.sync_endpoint, hq.key.encode(),
                          zmq.curve_keypair())
        plain = Client(ctx, zmq.DEALER, hq.sync_endpoint)
        plain_enrol = Client(ctx, zmq.REQ, hq.enroll_endpoint)
        clients += [stranger, plain, plain_enrol]
        stranger.send(harness.hello_message())
        plain.send(harness.hello_message())
        plain_enrol.send(b"\x0a\x00")
        # All are refused at the handshake: nothing comes back.
        poller = zmq.Poller()
        for client in clients:
            poller.register(client.socket, zmq.POLLIN)
        deadline = time.monotonic() + NO_REPLY_S
        while time.monotonic() < deadline:
            ready = dict(poller.poll(max(1, int((deadline - time.monotonic()) * 1000))))
            names = {stranger.socket: "unknown CURVE key", plain.socket: "plain client",
                     plain_enrol.socket: "plain client on the enrolment endpoint"}
            check(not ready, "got a reply: %s" % [names[s] for s in ready])
        h.wait_until(lambda: "refused connection" in hq.log_since(mark), 10,
                     "HQ to log the refused CURVE key")
    finally:
        for client in clients:
            client.close()
        ctx.term()
    check(hq.running(), "innsync-hq died")
    check_eq(hq.records_digest(), digest, "HQ store after the hostile clients")
    serves(h, hq, agent, "2026-02")


# -- (d) revoked agent --------------------------------------------------------

def test_revoked_agent(h):
    hq, agents = harness.setup_hq_with_agents(h, ["SH001", "HZ002"])
    agent = agents["SH001"]
    serves(h, hq, agent, "2026-01")
    hq.cli("revoke", "--agent", agent.id)
    check_eq(hq.agents()[agent.id]["revoked"], True, "agents --json revoked")

    h.wait_until(lambda: not agent.running_or_reap(), 20,
                 "the revoked agent to exit")
    check_eq(agent.returncode, 3, "exit status of the revoked agent")
    digest = hq.records_digest(agent.id)

    # Written after the revocation: it must never reach HQ.
    agent.submit(harness.demo_report("SH001", "2026-02"))
    mark = hq.mark()
    agent.start()
    # HQ turns the revoked key away at the handshake (or tells the agent,
    # which exits with status 3 again).
    h.wait_until(lambda: "refused connection" in hq.log_since(mark) or
                 not agent.running_or_reap(), 20, "HQ to refuse the revoked agent again")
    serves(h, hq, agents["HZ002"], "2026-01")  # meanwhile HQ serves the others
    check_eq(hq.records_digest(agent.id), digest, "HQ records of the revoked agent")
    st = agent.status()
    check_eq((st["pending"], st["acknowledged"]), (1, 1),
             "revoked agent's status (pending, acknowledged)")
    check_eq(hq.query("SELECT count(*) FROM sales_reports WHERE site = 'SH001'"), [(1,)],
             "SH001 reports at HQ")
    if agent.running():
        agent.stop()
    elif agent.returncode is not None:
        check_eq(agent.returncode, 3, "exit status of the revoked agent, restarted")


# -- (e) tokens ------------------------------------------------------------------

def test_tokens(h):
    hq = h.hq()
    hq.init()
    hq.add_demo_site("SH001")
    hq.start()

    def refused(name, token, expected):
        cp = h.agent(name).enroll(hq, token, check_rc=False)
        check(cp.returncode != 0, "%s token accepted" % name)
        check(expected in cp.stderr, "%s token: expected %r in %r" % (name, expected, cp.stderr))

    refused("forged", "isy1." + secrets.token_hex(24), "token not recognised")
    refused("garbled", "not-a-token", "token not recognised")

    token = hq.token("SH001")
    first = h.agent("first")
    first.enroll(hq, token)
    refused("reused", token, "already used")

    issued = hq.cli_json("token", "--site", "SH001", "--ttl", "1")
    expires = iso_to_epoch(issued["expires_at"])
    h.wait_until(lambda: time.time() > expires + 1.0, 10, "the 1-second token to expire",
                 interval=0.1)
    refused("expired", issued["token"], "expired")

    check_eq(sorted(hq.agents()), [first.id], "enrolled agents")

    # Garbage on the enrolment endpoint (any CURVE client key is let in):
    # an EnrollRefused, and HQ goes on enrolling.
    ctx = zmq.Context()
    try:
        client = Client(ctx, zmq.REQ, hq.enroll_endpoint, hq.key.encode(), zmq.curve_keypair())
        client.send(os.urandom(200))
        reply = client.recv(20)
        check(reply is not None, "no reply to garbage on the enrolment endpoint")
        fields = harness.pb_decode(reply[0])
        check(2 in fields and 1 not in fields, "EnrollReply is not a refusal: %r" % reply)
        client.close()
    finally:
        ctx.term()
    second = h.agent("second")
    second.enroll(hq, hq.token("SH001"))
    check_eq(sorted(hq.agents()), sorted([first.id, second.id]), "enrolled agents")
    check(hq.running(), "innsync-hq died")


# -- (f) random, truncated, badly signed and oversized messages -----------------

def test_hostile_messages_from_enrolled_key(h):
    hq, agents = harness.setup_hq_with_agents(h, ["SH001", "HZ002"])
    victim, other = agents["SH001"], agents["HZ002"]
    serves(h, hq, victim, "2026-01")
    serves(h, hq, victim, "2026-02")
    check_eq(victim.stop(), 0, "innsync-branch exit status on SIGTERM")
    victim.submit(harness.demo_report("SH001", "2026-03"))  # seq 3, pending
    digest = hq.records_digest(victim.id)
    body, signature, sha = outbox_record(victim, 3)
    manifest = harness.manifest_bytes(victim.id, 3, [sha], int(time.time() * 1000))

    ctx = zmq.Context()
    try:
        c = Client(ctx, zmq.DEALER, hq.sync_endpoint, hq.key.encode(), victim.curve_keys())
        check_eq(c.request(harness.hello_message(3, 2))[0], harness.HQ_WELCOME,
                 "reply to Hello")
        check_error_reply(c.request(os.urandom(300)), harness.ERROR_BAD_MESSAGE,
                          "random bytes")
        full = harness.batch_message(manifest, bytes(64), [(body, signature)])
        check_error_reply(c.request(full[:len(full) // 2]), harness.ERROR_BAD_MESSAGE,
                          "truncated batch")
        check_error_reply(c.request(full[:-7]), harness.ERROR_BAD_MESSAGE,
                          "batch without its last bytes")
        # Well-formed, but the manifest signature is not the agent's.
        check_error_reply(c.request(full), harness.ERROR_BAD_BATCH,
                          "batch with a bad manifest signature")
        if shutil.which("openssl"):
            # Correctly signed manifest, but the body is not what it lists.
            tampered = body.replace(b"2026-03", b"2026-04", 1)
            check(tampered != body, "cannot tamper with the body")
            bad = harness.batch_message(manifest, sign(h, victim, manifest),
                                        [(tampered, signature)])
            check_error_reply(c.request(bad), harness.ERROR_BAD_BATCH,
                              "body that does not match its manifest hash")
        # More than 4 MiB: libzmq drops the connection, nothing comes back.
        c.send(os.urandom(5 * 1024 * 1024))
        check(c.recv(NO_REPLY_S) is None, "reply to an oversized message")
        c.close()
        check(hq.running(), "innsync-hq died")
        # HQ still knows the agent and holds what it held.
        c = Client(ctx, zmq.DEALER, hq.sync_endpoint, hq.key.encode(), victim.curve_keys())
        kind, welcome = c.request(harness.hello_message(3, 2))
        check_eq(kind, harness.HQ_WELCOME, "reply to Hello after the hostile messages")
        check_eq(welcome.get(2, [0])[0], 2, "Welcome.upstream_acked")
        c.close()
    finally:
        ctx.term()
    check_eq(hq.records_digest(victim.id), digest, "HQ store of the hostile agent's key")
    serves(h, hq, other, "2026-01")
    check_eq(hq.alarms(), [], "alarms")
    # The real agent, restarted, delivers its pending record normally.
    victim.start()
    victim.wait_acknowledged(3)


# -- sequence fork --------------------------------------------------------------

def test_sequence_fork_alarm(h):
    if not shutil.which("openssl"):
        print("skipped: no openssl command to sign a manifest")
        return
    hq, agents = harness.setup_hq_with_agents(h, ["SH001"])
    agent = agents["SH001"]
    serves(h, hq, agent, "2026-01")
    agent.stop()
    digest = hq.records_digest()
    body, signature, sha = outbox_record(agent, 1)

    def signed_batch(record_body):
        digest_ = hashlib.sha256(record_body).digest()
        manifest = harness.manifest_bytes(agent.id, 1, [digest_], int(time.time() * 1000))
        return harness.batch_message(manifest, sign(h, agent, manifest),
                                     [(record_body, sign(h, agent, record_body))])

    ctx = zmq.Context()
    try:
        c = Client(ctx, zmq.DEALER, hq.sync_endpoint, hq.key.encode(), agent.curve_keys())
        check_eq(c.request(harness.hello_message(1, 1))[0], harness.HQ_WELCOME,
                 "reply to Hello")
        # The same bytes again: a duplicate, acknowledged again, no alarm.
        check_eq(hashlib.sha256(body).digest(), sha, "outbox sha256")
        kind, ack = c.request(signed_batch(body))
        check_eq(kind, harness.HQ_ACK, "reply to a duplicate of seq 1")
        check_eq(ack.get(1, [0])[0], 1, "Ack.upto for the duplicate")
        check_eq(hq.alarms(), [], "alarms after a true duplicate")
        # Other bytes for seq 1, correctly signed: a fork.
        forked = body.replace(b"Occupancy", b"Occupancz", 1)
        check(forked != body, "cannot alter the body")
        check_error_reply(c.request(signed_batch(forked)), harness.ERROR_SEQUENCE_FORK,
                          "forked seq 1")
        c.close()
    finally:
        ctx.term()
    alarms = hq.alarms()
    check_eq([(a["kind"], a["agent"], a["seq"]) for a in alarms],
             [("sequence fork", agent.id, 1)], "alarms after the fork")
    check_eq(hq.records_digest(), digest, "HQ records after the fork")
    check_eq(hq.query("SELECT sha256 FROM records WHERE agent = ? AND seq = 1", (agent.id,)),
             [(sha,)], "HQ keeps the original bytes of seq 1")


# -- (g) a second init ----------------------------------------------------------

def test_second_init_refused(h):
    hq, agents = harness.setup_hq_with_agents(h, ["SH001"])
    serves(h, hq, agents["SH001"], "2026-01")

    def snapshot():
        keys = os.path.join(hq.data, "keys")
        out = {}
        for name in sorted(os.listdir(keys)):
            with open(os.path.join(keys, name), "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
        out["records"] = hq.records_digest()
        out["sites"] = hq.query("SELECT id, name, kind FROM sites ORDER BY id")
        out["agents"] = hq.query("SELECT id, curve_key FROM agents ORDER BY id")
        return out

    before = snapshot()
    cp = hq.cli("init", check_rc=False)
    check(cp.returncode != 0, "a second init succeeded: %r" % cp.stdout)
    check(cp.stderr.strip() != "", "a second init gave no reason")
    check("hq-key" not in cp.stdout, "a second init printed a key: %r" % cp.stdout)
    check_eq(snapshot(), before, "HQ store and keys after a second init")
    check(hq.running(), "innsync-hq died")
    serves(h, hq, agents["SH001"], "2026-02")


if __name__ == "__main__":
    harness.main([
        test_invalid_report_files,
        test_cross_site_write_refused,
        test_unknown_key_and_plain_client,
        test_revoked_agent,
        test_tokens,
        test_hostile_messages_from_enrolled_key,
        test_sequence_fork_alarm,
        test_second_init_refused,
    ])
