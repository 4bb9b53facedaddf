"""Integration test 4 (tamper) of issue 3: evidence is tamper-evident.
`innsync-hq verify` re-checks every stored record (SHA-256, Ed25519
signature, signed manifest) and every stored photo; a byte flipped in a
stored photo file, in a stored record body (even with its stored hash
recomputed), or in a stored signature is reported, naming the photo or the
record, and the exit status is 1."""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import qa_support as qa  # noqa: E402
from harness import check, check_eq  # noqa: E402


def verify(hq):
    cp = hq.cli("verify", "--json", check_rc=False)
    out = json.loads(cp.stdout)
    check_eq(cp.returncode, 0 if out["ok"] else 1, "verify exit status")
    return out


def flip(data, index):
    data = bytearray(data)
    data[index] ^= 0x01
    return bytes(data)


def test_tamper(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",))
    site = agents["SH001"]
    inspection = qa.qa_start(inspector, "SH001")
    p1, p2 = qa.photo(h, "a.png", 21), qa.photo(h, "b.png", 22)
    qa.qa_finding(inspector, inspection, "hygiene", "major", "Hair in the sink", photos=[p1])
    qa.qa_finding(inspector, inspection, "safety", "minor", "Frayed cable", photos=[p2])
    qa.qa_score(inspector, inspection, "hygiene", 75)
    qa.qa_submit(inspector, inspection)
    site.submit(harness.demo_report("SH001", "2026-01"))
    site.submit(harness.demo_report("SH001", "2026-02"))
    qa.wait_hq_inspection(h, hq, inspection, complete=True)
    site.wait_acknowledged(2)

    clean = verify(hq)
    check_eq(clean["problems"], [], "problems before tampering")
    check_eq((clean["records"], clean["photos"]), (3, 2), "records and photos checked")
    check("all verified" in hq.cli("verify").stdout, "text output when clean")

    # 1. a byte flipped in a stored photo
    sha = qa.sha256_file(p1)
    path = qa.blob_path(hq.data, sha)
    with open(path, "rb") as f:
        original_photo = f.read()
    with open(path, "wb") as f:
        f.write(flip(original_photo, len(original_photo) // 2))
    out = verify(hq)
    check_eq([(p["kind"], p.get("sha256")) for p in out["problems"]], [("photo", sha)],
             "tampered photo reported")
    cp = hq.cli("verify", check_rc=False)
    check(cp.returncode == 1 and sha in cp.stdout, "text report: %r" % cp.stdout)
    with open(path, "wb") as f:
        f.write(original_photo)
    check_eq(verify(hq)["problems"], [], "photo restored")

    # 2. a byte flipped in a stored record body (the inspection)
    db = qa.hq_db(hq)
    agent, seq, body = db.execute(
        "SELECT agent, seq, body FROM records WHERE record_id = ?", ("qa/" + inspection,)).fetchone()
    tampered = flip(body, len(body) - 3)
    db.execute("UPDATE records SET body = ? WHERE agent = ? AND seq = ?", (tampered, agent, seq))
    db.commit()
    out = verify(hq)
    check(out["problems"] and all(p["kind"] == "record" and p["agent"] == agent and
                                  p["seq"] == seq for p in out["problems"]),
          "tampered record reported: %r" % out["problems"])
    what = " ".join(p["problem"] for p in out["problems"])
    check("SHA-256" in what and "signature" in what, "record problems: %r" % what)

    # ... even with its stored hash recomputed to match
    db.execute("UPDATE records SET sha256 = ? WHERE agent = ? AND seq = ?",
               (hashlib.sha256(tampered).digest(), agent, seq))
    db.commit()
    out = verify(hq)
    what = " ".join(p["problem"] for p in out["problems"])
    check("signature does not verify" in what and "manifest" in what,
          "recomputed hash still caught: %r" % what)
    db.execute("UPDATE records SET body = ?, sha256 = ? WHERE agent = ? AND seq = ?",
               (body, hashlib.sha256(body).digest(), agent, seq))
    db.commit()
    check_eq(verify(hq)["problems"], [], "record restored")

    # 3. a flipped signature of a sales report
    agent, seq, signature = db.execute(
        "SELECT agent, seq, signature FROM records WHERE record_id = 'sales/SH001/2026-02'"
    ).fetchone()
    db.execute("UPDATE records SET signature = ? WHERE agent = ? AND seq = ?",
               (flip(signature, 0), agent, seq))
    db.commit()
    out = verify(hq)
    check_eq([(p["agent"], p["seq"]) for p in out["problems"]], [(agent, seq)],
             "tampered signature reported")
    db.close()


if __name__ == "__main__":
    harness.main([test_tamper])
