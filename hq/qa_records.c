/* qa_records: owns what the daemon does with the three QA record kinds
 * (kinds.c routes them here), inside the turn's open transaction.
 *
 * QA inspection (inspector agents; ingest.c has checked the site is one of
 * the agent's):
 *   1. record id "qa/<inspection id>", revision 1 only: a submitted
 *      inspection is immutable, an edit is refused;
 *   2. the inspection names the record's site and the inspector HQ
 *      enrolled this agent for;
 *   3. the checklist version it names is one HQ published, and the rules
 *      of qa_inspection_check hold against it;
 *   apply: index it (qa_inspections, qa_findings with deadlines by
 *   severity, qa_photos), expect its photos (hq_attachment_expect) and
 *   forward it to its site as a QaReport with the deadlines.
 * Rectification plan / done (the site's agent):
 *   1. record id "rectification-plan/<finding>" / "rectification-done/...";
 *   2. the finding exists and belongs to the record's site, else the
 *      record is UNAUTHORISED (a site writing for another site's finding);
 *   3. the finding's state allows it (qa_state_next);
 *   apply: the new state, the record's place, the history, evidence
 *   photos expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "qa.h"
#include "util.h"
#include "wire.h"

/* A photo larger than HQ's limit (--max-attachment-mib) does not make its
 * record invalid: the record is stored, its upload refused (attachments.c)
 * and the inspection shown incomplete, so the findings are never lost. Only
 * sizes no HQ could ever accept are refused here. */
#define HQ_QA_PHOTO_BYTES_CAP (UINT64_C(1024) * 1024 * 1024)

/* What HQ holds about one finding. */
struct finding_row {
	char site[64];
	char inspection[QA_MAX_ID + 1];
	enum qa_state state;
	int severity;
};

/*---- Lookups ---------------------------------------------------------------*/

/* 1 found, 0 not found, -1 error. */
static int finding_lookup(struct hq_daemon *hq, const char *id, struct finding_row *out)
{
	sqlite3_stmt *stmt = hq_statement(
	    hq, "SELECT site, inspection, state, severity FROM qa_findings WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	if (found == 1) {
		copy_string(out->site, sizeof out->site,
			    (const char *)sqlite3_column_text(stmt, 0));
		copy_string(out->inspection, sizeof out->inspection,
			    (const char *)sqlite3_column_text(stmt, 1));
		int state = qa_state_parse((const char *)sqlite3_column_text(stmt, 2));
		out->state = state >= 0 ? (enum qa_state)state : QA_OPEN;
		out->severity = qa_severity_parse((const char *)sqlite3_column_text(stmt, 3));
	}
	sqlite3_reset(stmt);
	return found;
}

/* The inspector name HQ enrolled the agent for ("" if none). */
static void agent_inspector(struct hq_daemon *hq, const char *agent, char *out, size_t outlen)
{
	out[0] = '\0';
	sqlite3_stmt *stmt =
	    hq_statement(hq, "SELECT COALESCE(inspector, '') FROM agents WHERE id = ?");
	if (stmt == NULL)
		return;
	sqlite3_bind_text(stmt, 1, agent, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		copy_string(out, outlen, (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_reset(stmt);
}

static void load_deadlines(struct hq_daemon *hq, struct qa_deadlines *out)
{
	sqlite3_stmt *stmt = hq_statement(hq, HQ_QA_SQL_SETTINGS);
	if (stmt == NULL || hq_qa_deadlines_read(stmt, out) != 0)
		qa_deadlines_default(out);
	if (stmt != NULL)
		sqlite3_reset(stmt);
}

/*---- Checks ----------------------------------------------------------------*/

static void check_inspection(struct hq_daemon *hq, struct hq_agent *agent,
			     const Innsync__RecordBody *body, struct verdict *v)
{
	const Innsync__QaInspection *inspection = body->qa_inspection;
	if (body->revision != 1) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "revision: %s is a submitted inspection and cannot be edited "
			    "(revision %u refused; a submitted inspection is immutable)",
			    body->record_id, body->revision);
		return;
	}
	char expected[QA_MAX_ID + 8];
	snprintf(expected, sizeof expected, "qa/%s", inspection->id);
	if (strcmp(body->record_id, expected) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "record_id: an inspection %.64s must have id %s, not %.80s",
			    inspection->id, expected, body->record_id);
		return;
	}
	if (strcmp(inspection->site, body->site) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "site: the inspection names site %.64s but the record is for %s",
			    inspection->site, body->site);
		return;
	}
	char enrolled[QA_MAX_NAME + 1];
	agent_inspector(hq, agent->id, enrolled, sizeof enrolled);
	if (strcmp(enrolled, inspection->inspector) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_UNAUTHORISED,
			    "inspector: agent %s is enrolled for inspector \"%s\", not \"%.128s\"",
			    agent->id, enrolled, inspection->inspector);
		return;
	}
	Innsync__Checklist *checklist = NULL;
	if (inspection->checklist_version > 0) {
		sqlite3_stmt *stmt = hq_statement(hq, HQ_QA_SQL_CHECKLIST);
		if (stmt == NULL) {
			verdict_store_error(v, "checklists");
			return;
		}
		checklist = hq_qa_checklist_read(stmt, inspection->checklist_version);
		sqlite3_reset(stmt);
	}
	char err[512];
	if (qa_inspection_check(inspection, checklist, HQ_QA_PHOTO_BYTES_CAP, err, sizeof err) != 0)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
	wire_free((ProtobufCMessage *)checklist);
}

/* Rules 2 and 3 of plans and completions. */
static void check_finding_step(struct hq_daemon *hq, const Innsync__RecordBody *body,
			       const char *finding, enum qa_event event, struct verdict *v)
{
	struct finding_row row;
	int found = finding_lookup(hq, finding, &row);
	if (found < 0) {
		verdict_store_error(v, "findings");
		return;
	}
	if (found == 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "finding: %.80s is not a finding known at HQ", finding);
		return;
	}
	if (strcmp(row.site, body->site) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_UNAUTHORISED,
			    "finding: %.80s belongs to site %s; site %s may not rectify it",
			    finding, row.site, body->site);
		return;
	}
	enum qa_state next;
	char err[256];
	if (qa_state_next(row.state, event, &next, err, sizeof err) != 0)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "finding %.80s: %s", finding,
			    err);
}

static bool record_id_is(struct verdict *v, const Innsync__RecordBody *body, const char *prefix,
			 const char *finding)
{
	char expected[QA_MAX_FINDING_ID + 32];
	snprintf(expected, sizeof expected, "%s/%s", prefix, finding);
	if (strcmp(body->record_id, expected) == 0)
		return true;
	verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
		    "record_id: a record about finding %.80s must have id %s, not %.80s", finding,
		    expected, body->record_id);
	return false;
}

static void check_plan(struct hq_daemon *hq, const Innsync__RecordBody *body, struct verdict *v)
{
	const Innsync__RectificationPlan *plan = body->rectification_plan;
	char err[512];
	if (qa_plan_check(plan, err, sizeof err) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
		return;
	}
	if (record_id_is(v, body, "rectification-plan", plan->finding))
		check_finding_step(hq, body, plan->finding, QA_EVENT_PLAN, v);
}

static void check_done(struct hq_daemon *hq, const Innsync__RecordBody *body, struct verdict *v)
{
	const Innsync__RectificationDone *done = body->rectification_done;
	char err[512];
	if (qa_done_check(done, HQ_QA_PHOTO_BYTES_CAP, err, sizeof err) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
		return;
	}
	if (record_id_is(v, body, "rectification-done", done->finding))
		check_finding_step(hq, body, done->finding, QA_EVENT_DONE, v);
}

void hq_qa_check(struct hq_daemon *hq, struct hq_agent *agent, const struct hq_site_head *site,
		 const Innsync__RecordBody *body, struct verdict *v)
{
	(void)site;
	Innsync__RecordBody__PayloadCase want = 0;
	switch (body->kind) {
	case INNSYNC__RECORD_KIND__RECORD_KIND_QA_INSPECTION:
		want = INNSYNC__RECORD_BODY__PAYLOAD_QA_INSPECTION;
		break;
	case INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_PLAN:
		want = INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN;
		break;
	case INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_DONE:
		want = INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_DONE;
		break;
	default:
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "not a QA record kind");
		return;
	}
	if (body->payload_case != want) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "payload: the record's kind and payload do not match");
		return;
	}
	if (want == INNSYNC__RECORD_BODY__PAYLOAD_QA_INSPECTION)
		check_inspection(hq, agent, body, v);
	else if (want == INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN)
		check_plan(hq, body, v);
	else
		check_done(hq, body, v);
}

/*---- Apply: inspections ----------------------------------------------------*/

static int step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int insert_inspection(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			     const Innsync__QaInspection *inspection, int64_t now, int64_t plan_due,
			     size_t photos)
{
	sqlite3_stmt *stmt = hq_statement(
	    hq, "INSERT INTO qa_inspections (id, site, inspector, type, agent, seq, received_at,"
		" plan_due, overall, findings, photos, checklist_version)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	struct qa_scores scores;
	double overall = 0;
	qa_scores_of(inspection, &scores);
	sqlite3_bind_text(stmt, 1, inspection->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, inspection->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, inspection->inspector, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, inspection->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)seq);
	sqlite3_bind_int64(stmt, 7, now);
	sqlite3_bind_int64(stmt, 8, plan_due);
	if (qa_overall_score(&scores, &overall) == 0)
		sqlite3_bind_double(stmt, 9, overall);
	else
		sqlite3_bind_null(stmt, 9);
	sqlite3_bind_int64(stmt, 10, (sqlite3_int64)inspection->n_findings);
	sqlite3_bind_int64(stmt, 11, (sqlite3_int64)photos);
	sqlite3_bind_int64(stmt, 12, inspection->checklist_version);
	return step_done(stmt);
}

static int insert_finding(struct hq_daemon *hq, const Innsync__QaInspection *inspection,
			  size_t index, int64_t due, int64_t now)
{
	const Innsync__QaFinding *finding = inspection->findings[index];
	sqlite3_stmt *stmt = hq_statement(
	    hq, "INSERT INTO qa_findings (id, inspection, site, n, category, severity, item, text,"
		" due, state, updated_at) VALUES (?,?,?,?,?,?,?,?,?,'open',?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, finding->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, inspection->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, inspection->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)index + 1);
	sqlite3_bind_text(stmt, 5, finding->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, finding->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, finding->item, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, finding->text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 9, due);
	sqlite3_bind_int64(stmt, 10, now);
	return step_done(stmt);
}

/* Numbers the photo (n), indexes it and tells attachments.c to expect it. */
static int add_photo(struct hq_daemon *hq, struct hq_agent *agent, const char *inspection,
		     int64_t n, const char *finding, const char *source,
		     const Innsync__PhotoRef *photo, const Innsync__RecordBody *body)
{
	sqlite3_stmt *stmt = hq_statement(
	    hq, "INSERT INTO qa_photos (inspection, n, finding, source, sha256, size, mime,"
		" captured_at, record_id) VALUES (?,?,?,?,?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, inspection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, n);
	sqlite3_bind_text(stmt, 3, finding, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 5, photo->sha256.data, (int)photo->sha256.len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)photo->size);
	sqlite3_bind_text(stmt, 7, photo->mime, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 8, photo->captured_at_ms);
	sqlite3_bind_text(stmt, 9, body->record_id, -1, SQLITE_STATIC);
	if (step_done(stmt) != 0)
		return -1;
	return hq_attachment_expect(hq, photo->sha256.data, photo->size, body->site, agent->id,
				    body->record_id);
}

/* Appends the QaReport (inspection + deadlines) to the site's log. */
static int forward_report(struct hq_daemon *hq, const Innsync__QaInspection *inspection,
			  const int64_t *dues, int64_t now, int64_t plan_due)
{
	size_t n = inspection->n_findings;
	Innsync__FindingDeadline *deadlines = calloc(n + 1, sizeof *deadlines);
	Innsync__FindingDeadline **pointers = calloc(n + 1, sizeof *pointers);
	int rc = -1;
	if (deadlines == NULL || pointers == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		innsync__finding_deadline__init(&deadlines[i]);
		deadlines[i].finding = inspection->findings[i]->id;
		deadlines[i].due_ms = dues[i];
		pointers[i] = &deadlines[i];
	}
	Innsync__QaReport report = INNSYNC__QA_REPORT__INIT;
	report.inspection = (Innsync__QaInspection *)inspection;
	report.received_at_ms = now;
	report.plan_due_ms = plan_due;
	report.deadlines = pointers;
	report.n_deadlines = n;
	Innsync__DownBody down = INNSYNC__DOWN_BODY__INIT;
	down.kind = INNSYNC__DOWN_KIND__DOWN_KIND_QA_REPORT;
	down.published_at_ms = now;
	down.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_QA_REPORT;
	down.qa_report = &report;
	rc = hq_downstream_append(hq, inspection->site, &down);
done:
	free(deadlines);
	free(pointers);
	return rc;
}

static int apply_inspection(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			    const Innsync__RecordBody *body)
{
	const Innsync__QaInspection *inspection = body->qa_inspection;
	struct qa_deadlines deadlines;
	load_deadlines(hq, &deadlines);
	int64_t now = now_ms();
	int64_t plan_due = qa_due_after(now, deadlines.plan_days);
	size_t photos = 0;
	for (size_t i = 0; i < inspection->n_findings; i++)
		photos += inspection->findings[i]->n_photos;
	int64_t *dues = calloc(inspection->n_findings + 1, sizeof *dues);
	if (dues == NULL ||
	    insert_inspection(hq, agent, seq, inspection, now, plan_due, photos) != 0)
		goto fail;
	int64_t n = 0;
	for (size_t i = 0; i < inspection->n_findings; i++) {
		const Innsync__QaFinding *finding = inspection->findings[i];
		dues[i] = qa_finding_due(&deadlines, qa_severity_parse(finding->severity), now);
		if (insert_finding(hq, inspection, i, dues[i], now) != 0)
			goto fail;
		for (size_t j = 0; j < finding->n_photos; j++)
			if (add_photo(hq, agent, inspection->id, ++n, finding->id, "finding",
				      finding->photos[j], body) != 0)
				goto fail;
	}
	if (forward_report(hq, inspection, dues, now, plan_due) != 0)
		goto fail;
	free(dues);
	log_info("QA inspection %s of %s by %s: %zu findings, %zu photos", inspection->id,
		 inspection->site, inspection->inspector, inspection->n_findings, photos);
	return 0;
fail:
	log_warnx("cannot store QA inspection %s: %s", inspection->id, sqlite3_errmsg(hq->db));
	free(dues);
	return -1;
}

/*---- Apply: plans and completions ------------------------------------------*/

static int insert_event(struct hq_daemon *hq, const char *finding, const char *event,
			const Innsync__RecordBody *body, const char *note)
{
	sqlite3_stmt *stmt = hq_statement(
	    hq, "INSERT INTO qa_events (finding, at, event, revision, agent, seq, actor, note)"
		" VALUES (?,?,?,?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, finding, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now_ms());
	sqlite3_bind_text(stmt, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, body->revision);
	sqlite3_bind_text(stmt, 5, body->origin_agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)body->origin_seq);
	sqlite3_bind_text(stmt, 7, body->author, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, note, -1, SQLITE_STATIC);
	return step_done(stmt);
}

static int update_finding(struct hq_daemon *hq, const char *finding, enum qa_event event,
			  enum qa_state state, const Innsync__RecordBody *body)
{
	sqlite3_stmt *stmt =
	    hq_statement(hq, "UPDATE qa_findings SET state = ?2, updated_at = ?3,"
			     " plan_revision = CASE WHEN ?4 THEN ?5 ELSE plan_revision END,"
			     " plan_agent = CASE WHEN ?4 THEN ?6 ELSE plan_agent END,"
			     " plan_seq = CASE WHEN ?4 THEN ?7 ELSE plan_seq END,"
			     " done_revision = CASE WHEN ?4 THEN done_revision ELSE ?5 END,"
			     " done_agent = CASE WHEN ?4 THEN done_agent ELSE ?6 END,"
			     " done_seq = CASE WHEN ?4 THEN done_seq ELSE ?7 END"
			     " WHERE id = ?1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, finding, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, qa_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now_ms());
	sqlite3_bind_int(stmt, 4, event == QA_EVENT_PLAN);
	sqlite3_bind_int64(stmt, 5, body->revision);
	sqlite3_bind_text(stmt, 6, body->origin_agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)body->origin_seq);
	return step_done(stmt);
}

static int64_t next_photo_number(struct hq_daemon *hq, const char *inspection)
{
	sqlite3_stmt *stmt =
	    hq_statement(hq, "SELECT COALESCE(max(n), 0) + 1 FROM qa_photos WHERE inspection = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, inspection, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
	sqlite3_reset(stmt);
	return n;
}

static int apply_step(struct hq_daemon *hq, struct hq_agent *agent, const Innsync__RecordBody *body,
		      const char *finding, enum qa_event event, const char *note)
{
	struct finding_row row;
	enum qa_state next;
	char err[256];
	if (finding_lookup(hq, finding, &row) != 1 ||
	    qa_state_next(row.state, event, &next, err, sizeof err) != 0) {
		log_warnx("finding %s changed between check and apply", finding);
		return -1;
	}
	if (update_finding(hq, finding, event, next, body) != 0 ||
	    insert_event(hq, finding, event == QA_EVENT_PLAN ? "plan" : "done", body, note) != 0)
		return -1;
	if (event == QA_EVENT_PLAN)
		return 0;
	const Innsync__RectificationDone *done = body->rectification_done;
	for (size_t i = 0; i < done->n_photos; i++) {
		int64_t n = next_photo_number(hq, row.inspection);
		if (n < 0 || add_photo(hq, agent, row.inspection, n, finding, "evidence",
				       done->photos[i], body) != 0)
			return -1;
	}
	return 0;
}

int hq_qa_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		const Innsync__RecordBody *body)
{
	switch (body->payload_case) {
	case INNSYNC__RECORD_BODY__PAYLOAD_QA_INSPECTION:
		return apply_inspection(hq, agent, seq, body);
	case INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN:
		return apply_step(hq, agent, body, body->rectification_plan->finding, QA_EVENT_PLAN,
				  body->rectification_plan->action);
	case INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_DONE:
		return apply_step(hq, agent, body, body->rectification_done->finding, QA_EVENT_DONE,
				  body->rectification_done->note);
	default:
		return -1;
	}
}
