"""Integration test 3 of issue 3, refusals, each with the reason a person
can act on, at the CLI where it can be known there and at HQ whatever a
client sends (the CLI's checks skipped with the test aid --no-local-check):
  - a photo that is not an image (by its content, whatever its name);
  - a photo over the size limit (20 MiB at the CLI; HQ's own, lower,
    limit: the record is kept, the upload refused, the inspection shown
    incomplete);
  - a photo whose bytes no longer match its SHA-256 (at submit, and at
    HQ's upload when the file changed after sealing);
  - an inspector writing for a site HQ did not assign it;
  - a site writing a rectification for another site's finding;
  - an edit to a submitted inspection."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import qa_support as qa  # noqa: E402
from harness import check, check_eq  # noqa: E402

MIB = 1024 * 1024


def refused(cp, *words):
    check(cp.returncode != 0, "accepted, expected a refusal: %s" % cp.stdout)
    for word in words:
        check(word in cp.stderr, "refusal %r does not mention %r" % (cp.stderr, word))
    check(len(cp.stderr.strip().splitlines()) == 1, "refusal not one line: %r" % cp.stderr)


def tamper(path):
    """Flips one byte in the middle of a file, keeping its size."""
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xff]))


def wait_hq_refused(h, agent, record_id, timeout=30):
    def done():
        return qa.refusals(agent).get(record_id)
    return h.wait_until(done, timeout, "HQ to refuse %s" % record_id, interval=0.1)


def test_photos(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",))
    inspection = qa.qa_start(inspector, "SH001")
    # not an image, whatever its name; an image, whatever its name
    text = qa.write(os.path.join(h.root, "receipt.jpg"), b"not a photo at all\n" * 10)
    refused(qa.qa_finding(inspector, inspection, "hygiene", "minor", "x", photos=[text],
                          check_rc=False), "receipt.jpg", "not a JPEG or PNG")
    disguised = qa.write(os.path.join(h.root, "photo.txt"), qa.png_bytes(5))
    qa.qa_finding(inspector, inspection, "hygiene", "minor", "PNG named .txt",
                  photos=[disguised])
    # over the 20 MiB limit (a sparse file: only its size matters)
    big = os.path.join(h.root, "big.jpg")
    with open(big, "wb") as f:
        f.write(qa.jpeg_bytes(64))
        f.truncate(21 * MIB)
    refused(qa.qa_finding(inspector, inspection, "hygiene", "minor", "x", photos=[big],
                          check_rc=False), "big.jpg", "over the 20 MiB")
    # nothing was recorded by the refused commands
    shown = inspector.cli_json("qa", "show", inspection)
    check_eq(len(shown["findings"]), 1, "findings after refusals")

    # a photo changed in the agent's store before sealing: submit refuses
    sha = shown["findings"][0]["photos"][0]["sha256"]
    stored = qa.blob_path(inspector.data, sha)
    original = open(stored, "rb").read()
    tamper(stored)
    refused(qa.qa_submit(inspector, inspection, check_rc=False), "SHA-256")
    with open(stored, "wb") as f:
        f.write(original)

    # changed after sealing (the inspector offline): HQ refuses the bytes
    inspector.stop()
    second = qa.qa_start(inspector, "SH001")
    photo = qa.photo(h, "stain.png", 9)
    qa.qa_finding(inspector, second, "hygiene", "major", "Stain", photos=[photo])
    qa.qa_submit(inspector, second)
    bad_sha = qa.sha256_file(photo)
    tamper(qa.blob_path(inspector.data, bad_sha))
    qa.qa_submit(inspector, inspection)  # the first one, intact again
    inspector.start()

    def settled():
        state = qa.branch_photo_state(inspector, bad_sha)
        return state if state and state[0] == "failed" else None
    state = h.wait_until(settled, 40, "the tampered photo refused", interval=0.1)
    check("SHA-256" in state[1], "upload refusal reason: %r" % (state[1],))
    shown = qa.wait_hq_inspection(h, hq, second)
    check_eq(shown["complete"], False, "inspection with a refused photo: complete")
    check(qa.hq_photo_row(hq, bad_sha)[0] != "complete", "tampered photo stored as complete")
    qa.wait_hq_inspection(h, hq, inspection, complete=True)


def test_hq_size_limit(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001",), hq_args=("--max-attachment-mib", "1"))
    inspection = qa.qa_start(inspector, "SH001")
    photo = qa.write(os.path.join(h.root, "wide.jpg"), qa.jpeg_bytes(2 * MIB, seed=4))
    qa.qa_finding(inspector, inspection, "hardware", "minor", "Cracked window", photos=[photo])
    qa.qa_submit(inspector, inspection)
    sha = qa.sha256_file(photo)

    def refused_upload():
        state = qa.branch_photo_state(inspector, sha)
        return state if state and state[0] == "failed" else None
    state = h.wait_until(refused_upload, 30, "HQ to refuse the 2 MiB photo", interval=0.1)
    check("limit" in state[1], "size refusal reason: %r" % (state[1],))
    shown = qa.wait_hq_inspection(h, hq, inspection)  # the record itself is kept
    check_eq(shown["complete"], False, "complete")
    check_eq(shown["findings"][0]["text"], "Cracked window", "finding kept")


def test_authorisation(h):
    hq, agents, inspector = qa.setup(h, sites=("SH001", "HZ002"), inspector_sites=("SH001",))
    # an inspector writing for a site it is not assigned
    cp = inspector.cli("qa", "start", "--site", "HZ002", check_rc=False)
    refused(cp, "HZ002", "not assigned")
    foreign = qa.qa_start(inspector, "HZ002", "--no-local-check")
    qa.qa_finding(inspector, foreign, "service", "minor", "Slow lift")
    qa.qa_submit(inspector, foreign)
    reason = wait_hq_refused(h, inspector, "qa/" + foreign)
    check("HZ002" in reason, "unassigned site refusal: %r" % reason)
    shown = inspector.cli_json("qa", "show", foreign)
    check_eq(shown["status"], "refused", "refused inspection status")
    check_eq(hq.cli("qa", "show", foreign, check_rc=False).returncode, 1, "HQ has it")

    # a site writing a rectification for another site's finding
    inspection = qa.qa_start(inspector, "SH001")
    finding = qa.qa_finding(inspector, inspection, "safety", "major", "Wet floor sign missing")
    qa.qa_submit(inspector, inspection)
    qa.wait_hq_inspection(h, hq, inspection)
    other = agents["HZ002"]
    plan = ["rectify", "--finding", finding, "--action", "Buy signs", "--owner", "Zhao",
            "--due", "2099-01-01"]
    refused(other.cli(*plan, check_rc=False), finding, "not in site HZ002")
    other.cli(*(plan + ["--no-local-check"]))
    reason = wait_hq_refused(h, other, "rectification-plan/" + finding)
    check("SH001" in reason and "HZ002" in reason, "cross-site refusal: %r" % reason)
    check_eq(qa.hq_show(hq, inspection)["findings"][0]["state"], "open", "finding state at HQ")

    # a completion before any plan, and a plan for a finding HQ does not know
    site = agents["SH001"]
    qa.wait_inbox_finding(h, site, finding, "open")
    refused(site.cli("rectify", "--finding", finding, "--done", "--note", "x", check_rc=False),
            "no rectification plan")
    refused(site.cli("rectify", "--finding", finding + "9", "--action", "a", "--owner", "b",
                     "--due", "2099-01-01", check_rc=False), "not in site SH001")

    # an edit to a submitted inspection: refused by the CLI, and by HQ
    refused(inspector.cli("qa", "score", inspection, "--category", "safety", "--score", "99",
                          check_rc=False), "sealed")
    refused(qa.qa_submit(inspector, inspection, check_rc=False), "sealed")
    edit = qa.qa_submit(inspector, inspection, "--no-local-check", "--reason", "fix a typo")
    check_eq(edit["revision"], 2, "edit revision")
    reason = wait_hq_refused(h, inspector, "qa/" + inspection)
    check("cannot be edited" in reason, "edit refusal: %r" % reason)
    shown = qa.hq_show(hq, inspection)
    check_eq(shown["seq"], 2, "HQ keeps the original")  # seq 1 was the refused foreign one

    # a checklist file with a mistake
    bad = qa.write(os.path.join(h.root, "bad.json"),
                   b'{"name": "x", "items": [{"code": "A", "category": "food", "text": "t",'
                   b' "weight": 1}]}')
    refused(hq.cli("qa", "checklist", "set", bad, check_rc=False), "items[0].category", "food")
    draft = qa.qa_start(inspector, "SH001")
    refused(inspector.cli("qa", "finding", draft, "--category", "hygiene", "--severity",
                          "minor", "--text", "x", "--item", "SF-01", check_rc=False),
            "SF-01 is in category safety")
    refused(inspector.cli("qa", "finding", draft, "--category", "hygiene", "--severity",
                          "severe", "--text", "x", check_rc=False), "--severity")


if __name__ == "__main__":
    harness.main([test_photos, test_hq_size_limit, test_authorisation])
