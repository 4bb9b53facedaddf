"""Helpers shared by the issue-4 integration tests (test_training.py,
test_satisfaction.py, test_complaints.py, test_evaluation.py), on top of
harness.py: an HQ with sites of chosen kinds and regions and one running
agent each, files written into the test's directory, and waits on the
records a site queued (its outbox) and on what HQ sent it (its inbox)."""

import json
import os

import harness
from harness import TestFailure, check

# A site: (id, kind, region, tier)
SiteSpec = tuple


def setup(h, sites, start=True, hq_env=None):
    """Creates and starts an HQ with `sites` [(id, kind, region, tier)],
    enrols one agent per site and starts it. Returns (hq, {site: agent})."""
    hq = h.hq()
    hq.init()
    for site_id, kind, region, tier in sites:
        hq.add_site(site_id, name="Hotel " + site_id, kind=kind, city="City", rooms=80,
                    region=region, tier=tier)
    hq.start()
    agents = {}
    for site_id, _, _, _ in sites:
        agents[site_id] = enrol(h, hq, site_id, start=start)
    return hq, agents


def enrol(h, hq, site_id, start=True):
    agent = h.agent(site_id.lower())
    agent.enroll(hq, hq.token(site_id))
    if start:
        agent.start()
    return agent


def write(h, name, text, encoding="utf-8", newline=""):
    """Writes text into the test's directory; returns the path."""
    path = os.path.join(h.root, name)
    with open(path, "w", encoding=encoding, newline=newline) as f:
        f.write(text)
    return path


def write_json(h, name, value):
    return write(h, name, json.dumps(value, ensure_ascii=False, indent=1))


def outbox(agent):
    """[(seq, record_id, revision, state, reason)] of the agent's outbox."""
    return agent.query("SELECT seq, record_id, revision, state, reason FROM outbox ORDER BY seq")


def wait_record(agent, record_id, revision=None, state="acknowledged", timeout=45):
    """Waits until the latest (or the given) revision of record_id has
    `state` in the agent's outbox (HQ acknowledged or refused it); returns
    (revision, state, reason). A different final state fails at once."""
    def done():
        rows = agent.query("SELECT revision, state, reason FROM outbox WHERE record_id = ?"
                           " ORDER BY revision DESC", (record_id,))
        if revision is not None:
            rows = [r for r in rows if r[0] == revision]
        if not rows or rows[0][1] == "pending":
            return None
        if rows[0][1] != state:
            raise AssertionError("%s revision %s is %s, not %s: %s"
                                 % (record_id, rows[0][0], rows[0][1], state, rows[0][2]))
        return rows[0]
    try:
        return agent.h.wait_until(done, timeout, "%s %s at %s" % (record_id, state, agent.label),
                                  interval=0.1)
    except AssertionError as e:
        raise TestFailure(str(e))


def wait_inbox(agent, predicate, what, timeout=45):
    """Polls until predicate() is truthy (it reads the agent's store)."""
    return agent.h.wait_until(predicate, timeout, what, interval=0.1)


def inbox_kinds(agent, kind):
    """How many items of DownKind `kind` the agent has received."""
    return agent.query("SELECT count(*) FROM inbox WHERE kind = ?", (kind,))[0][0]


DOWN_TRAINING_PLAN = 5
DOWN_COMPLAINT = 6
DOWN_EVALUATION_ROUND = 7


def refused(cp, *fragments):
    """Checks that a command failed with one line naming every fragment."""
    check(cp.returncode != 0, "command succeeded, expected a refusal: %s" % cp.stdout)
    line = cp.stderr.strip()
    check("\n" not in line, "refusal is not one line: %r" % cp.stderr)
    for fragment in fragments:
        check(fragment in line, "refusal %r does not mention %r" % (line, fragment))
    return line


def no_new_records(agent, before):
    """The outbox did not change since `before` (outbox(agent) taken earlier)."""
    after = outbox(agent)
    check(after == before, "the outbox changed: %r -> %r" % (before, after))


def hq_records(hq, kind):
    """(agent, seq, record_id, revision, status) of records of a RecordKind at HQ."""
    return hq.query("SELECT agent, seq, record_id, revision, status FROM records WHERE kind = ?"
                    " ORDER BY agent, seq", (kind,))
