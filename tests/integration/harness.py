"""Shared helpers for innsync's multi-process integration tests.

Each test script runs the real innsync-hq and innsync-branch programs on
127.0.0.1 (free ports, temporary directories) and is started by ctest as

    /usr/bin/python3 test_X.py --hq PATH/innsync-hq --branch PATH/innsync-branch

Standard library only (plus Debian's python3-zmq in the hostile tests).
Every wait polls with a deadline; when one times out the logs of the
processes involved are printed to help debugging.
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REPORTS = os.path.join(REPO, "tests", "data", "reports")
DEMO = os.path.join(REPO, "deploy", "demo")

# Timeouts are generous because the suite also runs under ASan+UBSan.
CLI_TIMEOUT = 60
START_TIMEOUT = 30


class TestFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def check_eq(actual, expected, what):
    if actual != expected:
        raise TestFailure("%s: expected %r, got %r" % (what, expected, actual))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_report(site, period):
    return os.path.join(DEMO, "reports", site, period + ".json")


def fixture(name):
    return os.path.join(REPORTS, name)


def demo_sites():
    with open(os.path.join(DEMO, "sites.json"), encoding="utf-8") as f:
        return {s["id"]: s for s in json.load(f)}


def tail(path, lines=60):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            content = f.read().splitlines()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "\n".join(content[-lines:])


class Harness:
    """One test case's world: a temporary directory, the binaries, and every
    process started in it (all stopped by close())."""

    def __init__(self, hq_bin, branch_bin, name="test"):
        self.hq_bin = hq_bin
        self.branch_bin = branch_bin
        self.root = tempfile.mkdtemp(prefix="isy-it-%s-" % name)
        self.processes = []  # Hq and Agent objects with a live process
        self.keep = os.environ.get("INNSYNC_KEEP_TMP") == "1"

    # -- processes -------------------------------------------------------
    def hq(self, name="hq"):
        return Hq(self, os.path.join(self.root, name))

    def agent(self, name):
        return Agent(self, os.path.join(self.root, name))

    def logs(self):
        """The logs of every daemon started here, for failure messages."""
        out = []
        for p in self.processes:
            out.append("----- %s (%s) -----\n%s" % (p.label, p.log_path, tail(p.log_path)))
        return "\n".join(out)

    def close(self):
        for p in reversed(self.processes):
            try:
                p.stop()
            except Exception:  # keep stopping the others
                traceback.print_exc()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            print("kept %s" % self.root)

    def wait_until(self, predicate, timeout, what, interval=0.05):
        return wait_until(predicate, timeout, what, interval, self.logs)

    # -- command line ----------------------------------------------------
    def run(self, argv, check_rc=True, timeout=CLI_TIMEOUT, env=None, stdin=None):
        """Runs a CLI command; returns the CompletedProcess (text)."""
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        try:
            cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL if stdin is None else stdin,
                                timeout=timeout, env=full_env)
        except subprocess.TimeoutExpired:
            raise TestFailure("command timed out after %ss: %s\n%s" %
                              (timeout, " ".join(argv), self.logs()))
        cp.stdout = cp.stdout.decode("utf-8", errors="replace")
        cp.stderr = cp.stderr.decode("utf-8", errors="replace")
        if check_rc and cp.returncode != 0:
            raise TestFailure("command failed (exit %d): %s\nstdout: %s\nstderr: %s" %
                              (cp.returncode, " ".join(argv), cp.stdout, cp.stderr))
        return cp

    def run_json(self, argv, **kw):
        cp = self.run(list(argv) + ["--json"], **kw)
        try:
            return json.loads(cp.stdout)
        except ValueError as e:
            raise TestFailure("%s: output is not JSON (%s): %r" % (" ".join(argv), e, cp.stdout))


def wait_until(predicate, timeout, what, interval=0.05, logs=None):
    """Polls predicate() until it returns a truthy value (returned) or the
    deadline passes (TestFailure naming `what`, with the logs)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except TestFailure as e:
            last_error = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.0f s waiting for %s" % (timeout, what)
            if last_error is not None:
                msg += "\nlast error: %s" % last_error
            error = TestFailure(msg + ("\n" + logs() if logs is not None else ""))
            error.logs_shown = logs is not None
            raise error
        time.sleep(interval)


class Daemon:
    """A foreground daemon whose stderr (and stdout) go to an append-only
    log file, so restarts accumulate in one log."""

    label = "daemon"

    def __init__(self, harness, data):
        self.h = harness
        self.data = data
        self.proc = None
        self.log_path = data + ".log"
        self.returncode = None

    def _spawn(self, argv, env=None):
        check(self.proc is None or self.proc.poll() is not None,
              "%s already running" % self.label)
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        log = open(self.log_path, "ab")
        self.log_offset = log.tell()
        try:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, env=full_env)
        finally:
            log.close()
        self.returncode = None
        if self not in self.h.processes:
            self.h.processes.append(self)

    def new_log(self):
        """The log written since the last start."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def mark(self):
        """A position in the log, for log_since()."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, mark):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def running_or_reap(self):
        """True while running; once it has exited, records its exit status
        (self.returncode) and returns False."""
        if self.proc is None:
            return False
        code = self.proc.poll()
        if code is None:
            return True
        self.returncode = code
        self.proc = None
        return False

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if it does not stop in time. Returns the exit
        status (None when it was not running)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def kill9(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)
        self.returncode = self.proc.returncode
        self.proc = None


class Hq(Daemon):
    label = "innsync-hq"

    def __init__(self, harness, data):
        super().__init__(harness, data)
        self.sync_port = free_port()
        self.enroll_port = free_port()
        while self.enroll_port == self.sync_port:
            self.enroll_port = free_port()
        self.key = None

    @property
    def sync_endpoint(self):
        return "tcp://127.0.0.1:%d" % self.sync_port

    @property
    def enroll_endpoint(self):
        return "tcp://127.0.0.1:%d" % self.enroll_port

    @property
    def db_path(self):
        return os.path.join(self.data, "hq.db")

    def cli(self, *args, **kw):
        return self.h.run([self.h.hq_bin] + list(args) + ["--data", self.data], **kw)

    def cli_json(self, *args, **kw):
        return self.h.run_json([self.h.hq_bin] + list(args) + ["--data", self.data], **kw)

    def init(self):
        cp = self.cli("init")
        for line in cp.stdout.splitlines():
            if line.startswith("hq-key: "):
                self.key = line[len("hq-key: "):].strip()
        check(self.key is not None and len(self.key) == 40,
              "init printed no hq-key line: %r" % cp.stdout)
        return self.key

    def start(self, wait=True):
        self._spawn([self.h.hq_bin, "run", "--data", self.data,
                     "--listen", self.sync_endpoint, "--enroll", self.enroll_endpoint])
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=START_TIMEOUT):
        def ready():
            if self.proc is None or self.proc.poll() is not None:
                raise_exited(self)
            return "ready:" in self.new_log()
        self.h.wait_until(ready, timeout, "innsync-hq to log ready:")

    def add_site(self, site_id, name=None, kind="managed", city="Shanghai", rooms=100,
                 region=None, tier=None):
        argv = ["site", "add", "--id", site_id, "--name", name or site_id, "--kind", kind,
                "--city", city, "--rooms", str(rooms)]
        if region:
            argv += ["--region", region]
        if tier:
            argv += ["--tier", tier]
        return self.cli(*argv)

    def add_demo_site(self, site_id):
        s = demo_sites()[site_id]
        return self.add_site(s["id"], s["name"], s["kind"], s["city"], s["rooms"],
                             s.get("region"), s.get("tier"))

    def token(self, site, ttl=None):
        argv = ["token", "--site", site]
        if ttl is not None:
            argv += ["--ttl", str(ttl)]
        return self.cli_json(*argv)["token"]

    def sites(self):
        return {s["id"]: s for s in self.cli_json("sites")}

    def agents(self):
        return {a["id"]: a for a in self.cli_json("agents")}

    def reports(self, *args):
        return self.cli_json("reports", *args)

    def alarms(self):
        return self.cli_json("alarms")

    # -- the store, read-only --------------------------------------------
    def query(self, sql, params=()):
        db = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def records_digest(self, agent=None):
        """SHA-256 over the records (of one agent, or all) and sales_reports:
        equal digests mean the stored records did not change."""
        h = hashlib.sha256()
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        for row in self.query("SELECT agent, seq, record_id, site, revision, sha256, status,"
                              " refusal_code, reason FROM records %s ORDER BY agent, seq"
                              % where, params):
            h.update(repr(row).encode())
        for row in self.query("SELECT site, period, revision, agent, seq FROM sales_reports"
                              " %s ORDER BY site, period, revision" % where, params):
            h.update(repr(row).encode())
        return h.hexdigest()


class Agent(Daemon):
    label = "innsync-branch"
    ENV = {"INNSYNC_RECONNECT_MAX_MS": "1000"}

    def __init__(self, harness, data):
        super().__init__(harness, data)
        self.id = None
        self.label = "innsync-branch " + os.path.basename(data)

    @property
    def db_path(self):
        return os.path.join(self.data, "branch.db")

    def cli(self, *args, **kw):
        return self.h.run([self.h.branch_bin] + list(args) + ["--data", self.data], **kw)

    def cli_json(self, *args, **kw):
        return self.h.run_json([self.h.branch_bin] + list(args) + ["--data", self.data], **kw)

    def enroll(self, hq, token, check_rc=True):
        """Enrols with hq; returns the CompletedProcess (agent id in self.id)."""
        cp = self.h.run([self.h.branch_bin, "enroll", "--data", self.data,
                         "--hq", hq.enroll_endpoint, "--hq-key", hq.key, "--token", token,
                         "--timeout", "20", "--json"], check_rc=check_rc)
        if cp.returncode == 0:
            self.id = json.loads(cp.stdout)["agent"]
        return cp

    def start(self):
        self._spawn([self.h.branch_bin, "run", "--data", self.data], env=self.ENV)

    def submit(self, path, reason=None, check_rc=True):
        argv = [self.h.branch_bin, "submit", "sales", "--data", self.data, path, "--json"]
        if reason is not None:
            argv += ["--reason", reason]
        cp = self.h.run(argv, check_rc=check_rc)
        if cp.returncode == 0:
            return json.loads(cp.stdout)
        return cp

    def bulk(self, count, path):
        return self.cli("debug", "bulk", "--count", str(count), path)

    def forge(self, site, path):
        return self.cli("debug", "forge", "--site", site, path)

    def status(self):
        return self.cli_json("status")

    def wait_acknowledged(self, count, timeout=60):
        def done():
            st = self.status()
            return st if st["acknowledged"] >= count else None
        return self.h.wait_until(done, timeout,
                                 "%s: %d records acknowledged" % (self.label, count),
                                 interval=0.1)

    def query(self, sql, params=()):
        db = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def outbox_digest(self):
        h = hashlib.sha256()
        for row in self.query("SELECT seq, record_id, site, revision, sha256, state, reason"
                              " FROM outbox ORDER BY seq"):
            h.update(repr(row).encode())
        return h.hexdigest()

    def curve_keys(self):
        """The agent's (public, secret) Z85 CURVE keys, as bytes."""
        keys = os.path.join(self.data, "keys")
        with open(os.path.join(keys, "curve.pub"), "rb") as f:
            public = f.read().strip()
        with open(os.path.join(keys, "curve.secret"), "rb") as f:
            secret = f.read().strip()
        return public, secret


def raise_exited(daemon):
    code = daemon.proc.returncode if daemon.proc is not None else daemon.returncode
    raise TestFailure("%s exited (status %s) before it was ready:\n%s" %
                      (daemon.label, code, tail(daemon.log_path)))


def setup_hq_with_agents(h, sites, start_agents=True):
    """Creates and starts an HQ with the demo sites `sites`, enrols one agent
    per site (named after the site, lower case) and starts them. Returns
    (hq, {site: agent})."""
    hq = h.hq()
    hq.init()
    for site in sites:
        hq.add_demo_site(site)
    hq.start()
    agents = {}
    for site in sites:
        agent = h.agent(site.lower())
        agent.enroll(hq, hq.token(site))
        if start_agents:
            agent.start()
        agents[site] = agent
    return hq, agents


# -- running a script's test cases --------------------------------------

def parse_args():
    build = os.path.join(REPO, "build")
    parser = argparse.ArgumentParser()
    parser.add_argument("--hq", default=os.path.join(build, "innsync-hq"))
    parser.add_argument("--branch", default=os.path.join(build, "innsync-branch"))
    parser.add_argument("-k", dest="only", default=None,
                        help="run only the test cases whose name contains this")
    return parser.parse_args()


def main(tests):
    """Runs each test(h) with a fresh Harness; prints one line per case and
    `N passed, M failed`; exits non-zero when any failed."""
    args = parse_args()
    for path in (args.hq, args.branch):
        if not os.access(path, os.X_OK):
            print("not an executable: %s" % path)
            print("0 passed, 1 failed")
            sys.exit(1)
    # ctest's timeout sends SIGTERM: unwind so that the daemons get stopped.
    def on_term(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    passed = failed = 0
    for test in tests:
        name = test.__name__
        if args.only and args.only not in name:
            continue
        h = Harness(os.path.abspath(args.hq), os.path.abspath(args.branch), name)
        started = time.monotonic()
        try:
            test(h)
        except Exception as e:
            failed += 1
            print("FAIL %s (%.1f s)" % (name, time.monotonic() - started))
            traceback.print_exc(file=sys.stdout)
            if not getattr(e, "logs_shown", False):
                print(h.logs())
        else:
            passed += 1
            print("ok   %s (%.1f s)" % (name, time.monotonic() - started))
        finally:
            h.close()
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


# -- a little protobuf, for hostile clients (field numbers: proto/innsync.proto)

def pb_varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def pb_field(number, value):
    """One field: an int is a varint, bytes/str are length-delimited."""
    if isinstance(value, int):
        return pb_varint(number << 3) + pb_varint(value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    return pb_varint((number << 3) | 2) + pb_varint(len(value)) + value


def pb_read_varint(data, pos):
    value = shift = 0
    while True:
        check(pos < len(data), "truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def pb_decode(data):
    """Top-level fields of a message: {number: [values]} (varints as int,
    length-delimited as bytes; fixed-width types are not used here)."""
    fields = {}
    pos = 0
    while pos < len(data):
        key, pos = pb_read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = pb_read_varint(data, pos)
        elif wire_type == 2:
            length, pos = pb_read_varint(data, pos)
            check(pos + length <= len(data), "truncated field %d" % number)
            value, pos = data[pos:pos + length], pos + length
        else:
            raise TestFailure("unexpected wire type %d" % wire_type)
        fields.setdefault(number, []).append(value)
    return fields


# AgentMessage / HqMessage field numbers
AGENT_HELLO, AGENT_BATCH = 1, 2
HQ_WELCOME, HQ_ACK, HQ_DOWN, HQ_ERROR = 1, 2, 3, 4
ERROR_BAD_MESSAGE, ERROR_REVOKED, ERROR_BAD_BATCH, ERROR_SEQUENCE_FORK = 1, 2, 4, 5


def hello_message(outbox_head=0, acked=0):
    return pb_field(AGENT_HELLO, pb_field(1, 1) + pb_field(2, outbox_head) + pb_field(3, acked)
                    + pb_field(5, "innsync integration test"))


def batch_message(manifest, manifest_signature, records):
    """AgentMessage{batch}: records is a list of (body, signature)."""
    payload = pb_field(1, manifest) + pb_field(2, manifest_signature)
    for body, signature in records:
        payload += pb_field(3, pb_field(1, body) + pb_field(2, signature))
    return pb_field(AGENT_BATCH, payload)


def manifest_bytes(agent_id, first_seq, hashes, signed_at_ms):
    out = pb_field(1, agent_id) + pb_field(2, first_seq)
    for h in hashes:
        out += pb_field(3, h)
    return out + pb_field(4, signed_at_ms)


def hq_reply_kind(frame):
    """(field number of the HqMessage's oneof, decoded fields of it)."""
    fields = pb_decode(frame)
    check(len(fields) == 1, "HqMessage with %d fields: %r" % (len(fields), frame[:80]))
    (number, values), = fields.items()
    return number, pb_decode(values[0])
