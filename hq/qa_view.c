/* qa_view: owns how HQ's staff commands see QA: an inspection with its
 * findings, photos, plans, completions and decisions (`qa show`), the
 * inspection list (`qa list`) and findings across inspections
 * (`rectification list`), as JSON built from the signed records and the QA
 * tables, with states and overdue flags as of the caller's clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qa.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/* The statements one inspection view needs, prepared once per view. */
struct view_statements {
	sqlite3_stmt *findings;
	sqlite3_stmt *photos;
	sqlite3_stmt *record;
	sqlite3_stmt *decision;
};

static const char *column_text(sqlite3_stmt *stmt, int column)
{
	const char *text = (const char *)sqlite3_column_text(stmt, column);
	return text != NULL ? text : "";
}

static json_t *text_or_null(const char *text)
{
	return (text != NULL && text[0] != '\0') ? json_string(text) : json_null();
}

static json_t *sha_json(const void *sha256, int len)
{
	char hex[2 * SHA256_LEN + 1];
	if (sha256 == NULL || len != SHA256_LEN)
		return json_null();
	hex_encode(sha256, SHA256_LEN, hex);
	return json_string(hex);
}

static void view_statements_close(struct view_statements *s)
{
	sqlite3_finalize(s->findings);
	sqlite3_finalize(s->photos);
	sqlite3_finalize(s->record);
	sqlite3_finalize(s->decision);
	memset(s, 0, sizeof *s);
}

static int view_statements_open(sqlite3 *db, struct view_statements *s)
{
	memset(s, 0, sizeof *s);
	if (store_prepare(db,
			  "SELECT id, n, due, state, plan_revision, plan_agent, plan_seq,"
			  " done_revision, done_agent, done_seq FROM qa_findings"
			  " WHERE inspection = ? ORDER BY n",
			  &s->findings) != 0 ||
	    store_prepare(
		db,
		"SELECT p.n, p.sha256, p.size, p.mime, p.captured_at,"
		" COALESCE(a.state = 'complete', 0), COALESCE(a.bytes_received, 0)"
		" FROM qa_photos p LEFT JOIN attachments a ON a.sha256 = p.sha256"
		" WHERE p.inspection = ?1 AND p.finding = ?2 AND p.source = ?3 ORDER BY p.n",
		&s->photos) != 0 ||
	    store_prepare(db, "SELECT body, received_at FROM records WHERE agent = ? AND seq = ?",
			  &s->record) != 0 ||
	    store_prepare(db,
			  "SELECT event, at, actor, note, due FROM qa_events WHERE finding = ?"
			  " AND event IN ('accept', 'reject') ORDER BY id DESC LIMIT 1",
			  &s->decision) != 0) {
		view_statements_close(s);
		return -1;
	}
	return 0;
}

/* Photos of one finding from one source; *all_complete cleared when one
 * has not arrived. */
static json_t *photos_json(struct view_statements *s, const char *inspection, const char *finding,
			   const char *source, bool *all_complete)
{
	json_t *list = json_array();
	sqlite3_stmt *stmt = s->photos;
	sqlite3_bind_text(stmt, 1, inspection, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, finding, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, source, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		bool complete = sqlite3_column_int(stmt, 5) != 0;
		if (!complete)
			*all_complete = false;
		json_array_append_new(
		    list,
		    json_pack("{s:I, s:o, s:I, s:s, s:o, s:b, s:I}", "n",
			      (json_int_t)sqlite3_column_int64(stmt, 0), "sha256",
			      sha_json(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1)),
			      "size", (json_int_t)sqlite3_column_int64(stmt, 2), "mime",
			      column_text(stmt, 3), "captured_at",
			      cli_json_time(sqlite3_column_int64(stmt, 4)), "complete", complete,
			      "bytes_received", (json_int_t)sqlite3_column_int64(stmt, 6)));
	}
	sqlite3_reset(stmt);
	return list;
}

/* The stored record (agent, seq), unpacked; NULL if absent. */
static Innsync__RecordBody *load_record(struct view_statements *s, const char *agent, int64_t seq,
					int64_t *received_at)
{
	if (agent == NULL || agent[0] == '\0')
		return NULL;
	sqlite3_stmt *stmt = s->record;
	sqlite3_bind_text(stmt, 1, agent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, seq);
	Innsync__RecordBody *body = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		body = (Innsync__RecordBody *)wire_unpack(&innsync__record_body__descriptor,
							  sqlite3_column_blob(stmt, 0),
							  (size_t)sqlite3_column_bytes(stmt, 0));
		*received_at = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return body;
}

static json_t *plan_json(struct view_statements *s, sqlite3_stmt *row)
{
	int64_t received = 0;
	Innsync__RecordBody *body = load_record(s, (const char *)sqlite3_column_text(row, 5),
						sqlite3_column_int64(row, 6), &received);
	if (body == NULL ||
	    body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN) {
		wire_free((ProtobufCMessage *)body);
		return json_null();
	}
	const Innsync__RectificationPlan *plan = body->rectification_plan;
	json_t *out =
	    json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o}", "action", plan->action, "owner",
		      plan->owner, "due_date", plan->due_date, "revision",
		      (json_int_t)body->revision, "author", body->author, "written_at",
		      cli_json_time(body->created_at_ms), "received_at", cli_json_time(received));
	wire_free((ProtobufCMessage *)body);
	return out;
}

static json_t *done_json(struct view_statements *s, sqlite3_stmt *row, const char *inspection,
			 const char *finding)
{
	int64_t received = 0;
	Innsync__RecordBody *body = load_record(s, (const char *)sqlite3_column_text(row, 8),
						sqlite3_column_int64(row, 9), &received);
	if (body == NULL ||
	    body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_DONE) {
		wire_free((ProtobufCMessage *)body);
		return json_null();
	}
	bool complete = true;
	json_t *photos = photos_json(s, inspection, finding, "evidence", &complete);
	json_t *out =
	    json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:b}", "note", body->rectification_done->note,
		      "revision", (json_int_t)body->revision, "author", body->author, "written_at",
		      cli_json_time(body->created_at_ms), "received_at", cli_json_time(received),
		      "photos", photos, "complete", complete);
	wire_free((ProtobufCMessage *)body);
	return out;
}

static json_t *decision_json(struct view_statements *s, const char *finding)
{
	sqlite3_stmt *stmt = s->decision;
	sqlite3_bind_text(stmt, 1, finding, -1, SQLITE_STATIC);
	json_t *out = json_null();
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		json_decref(out);
		bool accepted = strcmp(column_text(stmt, 0), "accept") == 0;
		out = json_pack("{s:b, s:s, s:s, s:o}", "accepted", accepted, "note",
				column_text(stmt, 3), "by", column_text(stmt, 2), "at",
				cli_json_time(sqlite3_column_int64(stmt, 1)));
	}
	sqlite3_reset(stmt);
	return out;
}

/* One finding: the signed finding (from the inspection record) with HQ's
 * deadline and state. */
static json_t *finding_json(struct view_statements *s, sqlite3_stmt *row,
			    const Innsync__QaInspection *inspection, int64_t plan_due, int64_t now,
			    bool *complete)
{
	int64_t n = sqlite3_column_int64(row, 1);
	if (n < 1 || (size_t)n > inspection->n_findings)
		return NULL;
	const Innsync__QaFinding *finding = inspection->findings[n - 1];
	int state = qa_state_parse(column_text(row, 3));
	int64_t due = sqlite3_column_int64(row, 2);
	bool overdue = state >= 0 && qa_overdue((enum qa_state)state, due, plan_due, now);
	return json_pack("{s:s, s:I, s:s, s:s, s:o, s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:o}", "id",
			 finding->id, "n", (json_int_t)n, "category", finding->category, "severity",
			 finding->severity, "item", text_or_null(finding->item), "text",
			 finding->text, "due", cli_json_time(due), "state", column_text(row, 3),
			 "overdue", overdue, "photos",
			 photos_json(s, inspection->id, finding->id, "finding", complete), "plan",
			 plan_json(s, row), "done", done_json(s, row, inspection->id, finding->id),
			 "decision", decision_json(s, finding->id));
}

static json_t *scores_json(const Innsync__QaInspection *inspection, json_t **weights_out,
			   json_t **overall_out)
{
	struct qa_scores scores;
	qa_scores_of(inspection, &scores);
	json_t *out = json_object(), *weights = json_object();
	for (int c = 0; c < QA_CATEGORY_COUNT; c++) {
		if (scores.scored[c])
			json_object_set_new(out, qa_category_name(c),
					    json_integer(scores.score[c]));
		json_object_set_new(weights, qa_category_name(c), json_integer(scores.weight[c]));
	}
	double overall = 0;
	*overall_out = qa_overall_score(&scores, &overall) == 0 ? json_real(overall) : json_null();
	*weights_out = weights;
	return out;
}

struct inspection_row {
	char site[64];
	char agent[64];
	int64_t seq, received_at, plan_due;
};

/* Reads the inspection's index row and its signed record. NULL + err. */
static Innsync__RecordBody *load_inspection(sqlite3 *db, const char *id, struct inspection_row *row,
					    char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT i.site, i.agent, i.seq, i.received_at, i.plan_due, r.body"
			  " FROM qa_inspections i JOIN records r ON r.agent = i.agent"
			  " AND r.seq = i.seq WHERE i.id = ?",
			  &stmt) != 0) {
		snprintf(err, errlen, "cannot read the QA tables");
		return NULL;
	}
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	Innsync__RecordBody *body = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		copy_string(row->site, sizeof row->site, column_text(stmt, 0));
		copy_string(row->agent, sizeof row->agent, column_text(stmt, 1));
		row->seq = sqlite3_column_int64(stmt, 2);
		row->received_at = sqlite3_column_int64(stmt, 3);
		row->plan_due = sqlite3_column_int64(stmt, 4);
		body = (Innsync__RecordBody *)wire_unpack(&innsync__record_body__descriptor,
							  sqlite3_column_blob(stmt, 5),
							  (size_t)sqlite3_column_bytes(stmt, 5));
		if (body == NULL ||
		    body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_QA_INSPECTION) {
			snprintf(err, errlen,
				 "the stored record of %s cannot be read: run innsync-hq verify",
				 id);
			wire_free((ProtobufCMessage *)body);
			body = NULL;
		}
	} else {
		snprintf(err, errlen, "no inspection %s at HQ (see innsync-hq qa list)", id);
	}
	sqlite3_finalize(stmt);
	return body;
}

static json_t *findings_json(struct view_statements *s, const Innsync__QaInspection *inspection,
			     int64_t plan_due, int64_t now, bool *complete, int *open, int *overdue)
{
	json_t *list = json_array();
	sqlite3_bind_text(s->findings, 1, inspection->id, -1, SQLITE_STATIC);
	while (sqlite3_step(s->findings) == SQLITE_ROW) {
		json_t *finding = finding_json(s, s->findings, inspection, plan_due, now, complete);
		if (finding == NULL)
			continue;
		int state = qa_state_parse(json_string_value(json_object_get(finding, "state")));
		*open += state >= 0 && qa_state_is_open((enum qa_state)state);
		*overdue += json_is_true(json_object_get(finding, "overdue"));
		json_array_append_new(list, finding);
	}
	sqlite3_reset(s->findings);
	return list;
}

json_t *hq_qa_inspection_json(sqlite3 *db, const char *id, int64_t now_ms, char *err, size_t errlen)
{
	struct inspection_row row;
	Innsync__RecordBody *body = load_inspection(db, id, &row, err, errlen);
	if (body == NULL)
		return NULL;
	struct view_statements s;
	if (view_statements_open(db, &s) != 0) {
		wire_free((ProtobufCMessage *)body);
		snprintf(err, errlen, "cannot read the QA tables");
		return NULL;
	}
	const Innsync__QaInspection *inspection = body->qa_inspection;
	bool complete = true;
	int open = 0, overdue = 0;
	json_t *weights = NULL, *overall = NULL;
	json_t *scores = scores_json(inspection, &weights, &overall);
	json_t *findings =
	    findings_json(&s, inspection, row.plan_due, now_ms, &complete, &open, &overdue);
	json_t *checklist = inspection->checklist_version == 0
				? json_null()
				: json_pack("{s:s, s:I}", "name", inspection->checklist_name,
					    "version", (json_int_t)inspection->checklist_version);
	json_t *out = json_pack(
	    "{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:b, s:i, s:i, s:o}",
	    "id", inspection->id, "site", inspection->site, "inspector", inspection->inspector,
	    "type", inspection->type, "accompanied_by", text_or_null(inspection->accompanied_by),
	    "agent", row.agent, "seq", (json_int_t)row.seq, "record", body->record_id, "started_at",
	    cli_json_time(inspection->started_at_ms), "submitted_at",
	    cli_json_time(inspection->submitted_at_ms), "received_at",
	    cli_json_time(row.received_at), "plan_due", cli_json_time(row.plan_due), "checklist",
	    checklist, "overall_score", overall, "category_scores", scores, "category_weights",
	    weights, "complete", complete, "open_findings", open, "overdue_findings", overdue,
	    "findings", findings);
	view_statements_close(&s);
	wire_free((ProtobufCMessage *)body);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}

/*---- Lists -----------------------------------------------------------------*/

/* Open and overdue findings of an inspection. */
static void count_findings(sqlite3_stmt *stmt, const char *inspection, int64_t plan_due,
			   int64_t now, int *open, int *overdue)
{
	sqlite3_bind_text(stmt, 1, inspection, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int state = qa_state_parse(column_text(stmt, 0));
		if (state < 0)
			continue;
		*open += qa_state_is_open((enum qa_state)state);
		*overdue +=
		    qa_overdue((enum qa_state)state, sqlite3_column_int64(stmt, 1), plan_due, now);
	}
	sqlite3_reset(stmt);
}

json_t *hq_qa_list_json(sqlite3 *db, const char *site, bool open_only, int64_t now_ms)
{
	sqlite3_stmt *list = NULL, *findings = NULL;
	json_t *out = json_array();
	if (store_prepare(db,
			  "SELECT i.id, i.site, i.inspector, i.type, i.received_at, i.plan_due,"
			  " i.overall, i.findings, i.photos,"
			  " (SELECT count(*) FROM qa_photos p JOIN attachments a"
			  "   ON a.sha256 = p.sha256 WHERE p.inspection = i.id"
			  "   AND p.source = 'finding' AND a.state = 'complete')"
			  " FROM qa_inspections i WHERE (?1 IS NULL OR i.site = ?1)"
			  " ORDER BY i.received_at, i.id",
			  &list) != 0 ||
	    store_prepare(db, "SELECT state, due FROM qa_findings WHERE inspection = ?",
			  &findings) != 0)
		goto done;
	if (site != NULL)
		sqlite3_bind_text(list, 1, site, -1, SQLITE_STATIC);
	while (sqlite3_step(list) == SQLITE_ROW) {
		int open = 0, overdue = 0;
		count_findings(findings, column_text(list, 0), sqlite3_column_int64(list, 5),
			       now_ms, &open, &overdue);
		if (open_only && open == 0)
			continue;
		json_t *overall = sqlite3_column_type(list, 6) == SQLITE_NULL
				      ? json_null()
				      : json_real(sqlite3_column_double(list, 6));
		int64_t photos = sqlite3_column_int64(list, 8),
			arrived = sqlite3_column_int64(list, 9);
		json_array_append_new(
		    out, json_pack(
			     "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:i, s:i, s:I, s:I, s:b}",
			     "id", column_text(list, 0), "site", column_text(list, 1), "inspector",
			     column_text(list, 2), "type", column_text(list, 3), "received_at",
			     cli_json_time(sqlite3_column_int64(list, 4)), "plan_due",
			     cli_json_time(sqlite3_column_int64(list, 5)), "overall_score", overall,
			     "findings", (json_int_t)sqlite3_column_int64(list, 7), "open_findings",
			     open, "overdue_findings", overdue, "photos", (json_int_t)photos,
			     "photos_arrived", (json_int_t)arrived, "complete", arrived >= photos));
	}
done:
	sqlite3_finalize(list);
	sqlite3_finalize(findings);
	return out;
}

json_t *hq_qa_findings_json(sqlite3 *db, const char *site, bool include_closed, bool overdue_only,
			    int64_t now_ms)
{
	sqlite3_stmt *stmt = NULL;
	json_t *late = json_array(), *rest = json_array();
	if (store_prepare(
		db,
		"SELECT f.id, f.inspection, f.site, f.category, f.severity, f.item, f.text,"
		" f.due, f.state, i.plan_due FROM qa_findings f JOIN qa_inspections i"
		" ON i.id = f.inspection WHERE (?1 IS NULL OR f.site = ?1)"
		" AND (?2 OR f.state <> 'verified') ORDER BY f.due, f.id",
		&stmt) != 0)
		goto done;
	if (site != NULL)
		sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, include_closed);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int state = qa_state_parse(column_text(stmt, 8));
		bool overdue =
		    state >= 0 && qa_overdue((enum qa_state)state, sqlite3_column_int64(stmt, 7),
					     sqlite3_column_int64(stmt, 9), now_ms);
		if (overdue_only && !overdue)
			continue;
		json_array_append_new(
		    overdue ? late : rest,
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:b}", "id",
			      column_text(stmt, 0), "inspection", column_text(stmt, 1), "site",
			      column_text(stmt, 2), "category", column_text(stmt, 3), "severity",
			      column_text(stmt, 4), "item", text_or_null(column_text(stmt, 5)),
			      "text", column_text(stmt, 6), "due",
			      cli_json_time(sqlite3_column_int64(stmt, 7)), "state",
			      column_text(stmt, 8), "overdue", overdue));
	}
done:
	sqlite3_finalize(stmt);
	json_array_extend(late, rest); /* overdue first */
	json_decref(rest);
	return late;
}

/*---- Text ------------------------------------------------------------------*/

static const char *get_text(const json_t *object, const char *key)
{
	const char *text = json_string_value(json_object_get(object, key));
	return text != NULL ? text : "-";
}

static void print_photos(const json_t *photos, const char *indent)
{
	size_t i;
	json_t *photo;
	json_array_foreach(photos, i, photo)
	{
		printf("%sphoto %lld: %s %s, %lld bytes%s\n", indent,
		       (long long)json_integer_value(json_object_get(photo, "n")),
		       get_text(photo, "mime"), get_text(photo, "sha256"),
		       (long long)json_integer_value(json_object_get(photo, "size")),
		       json_is_true(json_object_get(photo, "complete")) ? ""
									: " (not arrived yet)");
	}
}

static void print_finding(const json_t *f)
{
	const char *item = get_text(f, "item");
	printf("  %s  %s/%s%s%s  %s, due %s%s\n", get_text(f, "id"), get_text(f, "category"),
	       get_text(f, "severity"), strcmp(item, "-") ? " " : "", strcmp(item, "-") ? item : "",
	       get_text(f, "state"), get_text(f, "due"),
	       json_is_true(json_object_get(f, "overdue")) ? "  OVERDUE" : "");
	printf("      %s\n", get_text(f, "text"));
	print_photos(json_object_get(f, "photos"), "      ");
	const json_t *plan = json_object_get(f, "plan");
	if (json_is_object(plan))
		printf("      plan (rev %lld): %s; owner %s, by %s\n",
		       (long long)json_integer_value(json_object_get(plan, "revision")),
		       get_text(plan, "action"), get_text(plan, "owner"),
		       get_text(plan, "due_date"));
	const json_t *done = json_object_get(f, "done");
	if (json_is_object(done)) {
		printf("      done (rev %lld): %s\n",
		       (long long)json_integer_value(json_object_get(done, "revision")),
		       get_text(done, "note"));
		print_photos(json_object_get(done, "photos"), "        evidence ");
	}
	const json_t *decision = json_object_get(f, "decision");
	if (json_is_object(decision))
		printf(
		    "      %s by %s at %s: %s\n",
		    json_is_true(json_object_get(decision, "accepted")) ? "verified" : "reopened",
		    get_text(decision, "by"), get_text(decision, "at"), get_text(decision, "note"));
}

void hq_qa_print_inspection(const json_t *in)
{
	printf("inspection %s of %s (%s) by %s", get_text(in, "id"), get_text(in, "site"),
	       get_text(in, "type"), get_text(in, "inspector"));
	if (json_is_string(json_object_get(in, "accompanied_by")))
		printf(", accompanied by %s", get_text(in, "accompanied_by"));
	printf("\nreceived %s; rectification plan due %s\n", get_text(in, "received_at"),
	       get_text(in, "plan_due"));
	const json_t *overall = json_object_get(in, "overall_score");
	if (json_is_number(overall))
		printf("overall score %.1f\n", json_number_value(overall));
	else
		printf("overall score: none (no category scored)\n");
	const json_t *scores = json_object_get(in, "category_scores");
	const json_t *weights = json_object_get(in, "category_weights");
	for (int c = 0; c < QA_CATEGORY_COUNT; c++) {
		const json_t *score = json_object_get(scores, qa_category_name(c));
		long long weight =
		    json_integer_value(json_object_get(weights, qa_category_name(c)));
		if (score != NULL)
			printf("  %-9s %3lld  (weight %lld)\n", qa_category_name(c),
			       (long long)json_integer_value(score), weight);
		else
			printf("  %-9s   -  (not inspected)\n", qa_category_name(c));
	}
	printf("photos: %s; findings: %lld open, %lld overdue\n",
	       json_is_true(json_object_get(in, "complete")) ? "all arrived"
							     : "NOT all arrived (incomplete)",
	       (long long)json_integer_value(json_object_get(in, "open_findings")),
	       (long long)json_integer_value(json_object_get(in, "overdue_findings")));
	size_t i;
	json_t *finding;
	json_array_foreach(json_object_get(in, "findings"), i, finding) print_finding(finding);
}
