"""Helpers for the QA integration tests (issue 3), on top of harness.py:
test photos generated in Python, the checklist, an HQ with site agents and
an inspector's agent, and thin wrappers around the qa / inbox / rectify
commands. Standard library only."""

import hashlib
import json
import os
import random
import sqlite3
import struct
import zlib

import harness
from harness import check, check_eq, TestFailure  # noqa: F401  (re-exported)

INSPECTOR = "Zhang Min"

CHECKLIST = {
    "name": "Standard audit 2026",
    "items": [
        {"code": "SV-01", "category": "service", "text": "Guest greeted within 30 s", "weight": 2},
        {"code": "HY-01", "category": "hygiene", "text": "Bathroom floor dry and clean", "weight": 2},
        {"code": "HY-02", "category": "hygiene", "text": "Bed linen changed", "weight": 3},
        {"code": "SF-01", "category": "safety", "text": "Fire exits unobstructed", "weight": 4},
        {"code": "HW-01", "category": "hardware", "text": "Air conditioning works", "weight": 1},
        {"code": "CD-01", "category": "conduct", "text": "Staff in uniform", "weight": 1},
    ],
}


# -- photos -------------------------------------------------------------------

def png_bytes(seed, width=16, height=16):
    """A valid PNG (RGB, zlib-compressed) whose pixels depend on seed."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(width * 3))
                    for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg_bytes(size, seed=0):
    """A "JPEG" of exactly size bytes: the JPEG/JFIF signature, then noise
    (HQ and the CLI recognise images by their first bytes only)."""
    rng = random.Random(seed)
    head = b"\xff\xd8\xff\xe0"
    return head + rng.randbytes(size - len(head))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def photo(h, name, seed):
    """A small PNG in the test directory; returns its path."""
    return write(os.path.join(h.root, name), png_bytes(seed))


# -- the world ----------------------------------------------------------------

def checklist_file(h, checklist=None):
    path = os.path.join(h.root, "checklist.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(checklist or CHECKLIST, f)
    return path


def enroll_inspector(h, hq, sites, name=INSPECTOR, label="inspector", start=True):
    token = hq.cli_json("token", "--inspector", name, "--sites", ",".join(sites))["token"]
    agent = h.agent(label)
    agent.enroll(hq, token)
    if start:
        agent.start()
    return agent


def start_hq(hq, *extra):
    """Starts hq's daemon with extra options (e.g. --max-attachment-mib 1)."""
    hq._spawn([hq.h.hq_bin, "run", "--data", hq.data, "--listen", hq.sync_endpoint,
               "--enroll", hq.enroll_endpoint] + list(extra))
    hq.wait_ready()


def setup_hq(h, sites, hq_args=()):
    """Like harness.setup_hq_with_agents, with options for the daemon."""
    if not hq_args:
        return harness.setup_hq_with_agents(h, list(sites))
    hq = h.hq()
    hq.init()
    for site in sites:
        hq.add_demo_site(site)
    start_hq(hq, *hq_args)
    agents = {}
    for site in sites:
        agents[site] = h.agent(site.lower())
        agents[site].enroll(hq, hq.token(site))
        agents[site].start()
    return hq, agents


def setup(h, sites=("SH001", "HZ002"), inspector_sites=("SH001",), checklist=True,
          start_inspector=True, hq_args=()):
    """HQ with the demo sites, one running agent per site, an inspector's
    agent assigned inspector_sites, and (by default) the checklist
    published and received by the inspector. Returns (hq, agents, inspector)."""
    hq, agents = setup_hq(h, sites, hq_args)
    if checklist:
        hq.cli("qa", "checklist", "set", checklist_file(h))
    inspector = enroll_inspector(h, hq, list(inspector_sites), start=start_inspector)
    if checklist and start_inspector:
        wait_checklist(h, inspector)
    return hq, agents, inspector


def wait_checklist(h, agent, version=1, timeout=30):
    def arrived():
        cp = agent.cli("qa", "checklist", "--json", check_rc=False)
        return cp.returncode == 0 and json.loads(cp.stdout)["version"] >= version
    h.wait_until(arrived, timeout, "%s: checklist v%d" % (agent.label, version), interval=0.1)


# -- inspector ----------------------------------------------------------------

def qa_start(agent, site, *extra):
    return agent.cli_json("qa", "start", "--site", site, *extra)["id"]


def qa_finding(agent, inspection, category, severity, text, item=None, photos=(), check_rc=True):
    argv = ["qa", "finding", inspection, "--category", category, "--severity", severity,
            "--text", text]
    if item:
        argv += ["--item", item]
    for p in photos:
        argv += ["--photo", p]
    if not check_rc:
        return agent.cli(*argv, check_rc=False)
    return agent.cli_json(*argv)["id"]


def qa_score(agent, inspection, category, score):
    return agent.cli("qa", "score", inspection, "--category", category, "--score", str(score))


def qa_submit(agent, inspection, *extra, check_rc=True):
    if not check_rc:
        return agent.cli("qa", "submit", inspection, *extra, check_rc=False)
    return agent.cli_json("qa", "submit", inspection, *extra)


# -- HQ and site ------------------------------------------------------------------

def hq_show(hq, inspection, env=None):
    return hq.cli_json("qa", "show", inspection, env=env)


def wait_hq_inspection(h, hq, inspection, timeout=30, complete=False):
    def present():
        cp = hq.cli("qa", "show", inspection, "--json", check_rc=False)
        if cp.returncode != 0:
            return None
        shown = json.loads(cp.stdout)
        return shown if (shown["complete"] or not complete) else None
    what = "HQ to hold inspection %s%s" % (inspection, " with all photos" if complete else "")
    return h.wait_until(present, timeout, what, interval=0.1)


def inbox(agent, *extra, env=None):
    return agent.cli_json("inbox", *extra, env=env)


def wait_inbox_finding(h, agent, finding, state=None, timeout=30):
    def seen():
        for f in inbox(agent, "--all")["findings"]:
            if f["id"] == finding and (state is None or f["state"] == state):
                return f
        return None
    return h.wait_until(seen, timeout, "%s inbox: finding %s%s" %
                        (agent.label, finding, " " + state if state else ""), interval=0.1)


def wait_hq_state(h, hq, inspection, finding, state, timeout=30):
    def reached():
        for f in hq_show(hq, inspection)["findings"]:
            if f["id"] == finding and f["state"] == state:
                return f
        return None
    return h.wait_until(reached, timeout, "HQ: finding %s %s" % (finding, state), interval=0.1)


def wait_outbox_settled(h, agent, timeout=30):
    """Every record of the agent acknowledged or refused by HQ; returns status."""
    def settled():
        st = agent.status()
        return st if st["pending"] == 0 else None
    return h.wait_until(settled, timeout, "%s: outbox settled" % agent.label, interval=0.1)


def branch_photo_state(agent, sha_hex):
    """(state, error) of a photo in the agent's upload table, or None."""
    rows = agent.query("SELECT state, error FROM attachments WHERE sha256 = ?",
                       (bytes.fromhex(sha_hex),))
    return rows[0] if rows else None


def hq_photo_row(hq, sha_hex):
    """(state, bytes_received) of a photo at HQ, or None."""
    rows = hq.query("SELECT state, bytes_received FROM attachments WHERE sha256 = ?",
                    (bytes.fromhex(sha_hex),))
    return rows[0] if rows else None


def refusals(agent):
    return {r["record_id"]: r["reason"] for r in agent.status()["refused"]}


def hq_db(hq):
    """A read-write connection to HQ's store (tamper tests only)."""
    return sqlite3.connect(hq.db_path, timeout=30)


def blob_path(data_dir, sha_hex):
    return os.path.join(data_dir, "blobs", sha_hex[:2], sha_hex)
