/* qa_view: owns how the site sees its findings. Nothing is stored for it:
 * every time, the view is derived from
 *   - the inbox: the QA reports HQ forwarded (inspection, plan due date,
 *     deadlines) and HQ's decisions (accepted / reopened), in log order;
 *   - the outbox: the site's own rectification plans and completions,
 *     except those HQ refused.
 * A finding's state, as at HQ (qa_rules.h): open; planned once the site
 * wrote a plan; done once it wrote a completion; then HQ's latest decision
 * on it: verified if accepted, reopened if rejected, and planned / done
 * again when the site writes a plan / completion of a newer revision than
 * the ones HQ decided on. The deadline is the report's, or the reopening
 * decision's. So HQ and the site agree as soon as the records and
 * decisions have crossed, with no agent code involved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "qa.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define QA_VIEW_MAX_ITEMS 100000 /* inbox or outbox rows read into one view */

struct qa_record {
	Innsync__RecordBody *body; /* owned */
	char status[16];	   /* pending | acknowledged | refused */
	char *reason;		   /* owned */
};

struct qa_view {
	Innsync__DownBody **downs; /* owned: QA reports and decisions, log order */
	size_t n_downs;
	struct qa_record *records; /* owned: the site's plans and completions */
	size_t n_records;
	const Innsync__QaReport **reports; /* owned array, borrowed items */
	size_t n_reports;
	struct qa_view_finding *findings; /* owned */
	size_t n_findings;
};

/*---- Loading ---------------------------------------------------------------*/

static int load_downs(sqlite3 *db, const char *site, struct qa_view *view)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(
		db,
		"SELECT body FROM inbox WHERE kind IN (?2, ?3) AND (?1 IS NULL OR site = ?1)"
		" ORDER BY site, seq LIMIT ?4",
		&stmt) != 0)
		return -1;
	if (site != NULL)
		sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, INNSYNC__DOWN_KIND__DOWN_KIND_QA_REPORT);
	sqlite3_bind_int(stmt, 3, INNSYNC__DOWN_KIND__DOWN_KIND_RECTIFICATION_DECISION);
	sqlite3_bind_int(stmt, 4, QA_VIEW_MAX_ITEMS);
	int rc = 0;
	while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__DownBody *body = (Innsync__DownBody *)wire_unpack(
		    &innsync__down_body__descriptor, sqlite3_column_blob(stmt, 0),
		    (size_t)sqlite3_column_bytes(stmt, 0));
		if (body == NULL)
			continue; /* not ours to judge: status shows the inbox as it is */
		Innsync__DownBody **grown =
		    realloc(view->downs, (view->n_downs + 1) * sizeof *grown);
		if (grown == NULL) {
			wire_free((ProtobufCMessage *)body);
			rc = -1;
			break;
		}
		view->downs = grown;
		view->downs[view->n_downs++] = body;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int load_records(sqlite3 *db, const char *site, struct qa_view *view)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT body, state, reason FROM outbox WHERE kind IN (?2, ?3)"
			  " AND (?1 IS NULL OR site = ?1) ORDER BY seq LIMIT ?4",
			  &stmt) != 0)
		return -1;
	if (site != NULL)
		sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_PLAN);
	sqlite3_bind_int(stmt, 3, INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_DONE);
	sqlite3_bind_int(stmt, 4, QA_VIEW_MAX_ITEMS);
	int rc = 0;
	while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__RecordBody *body = (Innsync__RecordBody *)wire_unpack(
		    &innsync__record_body__descriptor, sqlite3_column_blob(stmt, 0),
		    (size_t)sqlite3_column_bytes(stmt, 0));
		if (body == NULL)
			continue;
		struct qa_record *grown =
		    realloc(view->records, (view->n_records + 1) * sizeof *grown);
		char *reason = strdup((const char *)sqlite3_column_text(stmt, 2));
		if (grown == NULL || reason == NULL) {
			wire_free((ProtobufCMessage *)body);
			free(reason);
			if (grown != NULL)
				view->records = grown;
			rc = -1;
			break;
		}
		view->records = grown;
		struct qa_record *record = &view->records[view->n_records++];
		record->body = body;
		record->reason = reason;
		copy_string(record->status, sizeof record->status,
			    (const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*---- Deriving --------------------------------------------------------------*/

static const char *record_finding(const Innsync__RecordBody *body)
{
	if (body->payload_case == INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN)
		return body->rectification_plan->finding;
	if (body->payload_case == INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_DONE)
		return body->rectification_done->finding;
	return "";
}

/* The site's latest plan and completion (not refused), and the reason of a
 * refusal of the very latest record about the finding. */
static void site_records(const struct qa_view *view, struct qa_view_finding *f)
{
	const struct qa_record *last = NULL;
	for (size_t i = 0; i < view->n_records; i++) {
		const struct qa_record *record = &view->records[i];
		const Innsync__RecordBody *body = record->body;
		if (strcmp(record_finding(body), f->finding->id) != 0)
			continue;
		last = record;
		if (strcmp(record->status, "refused") == 0)
			continue;
		bool plan = body->payload_case == INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN;
		const Innsync__RecordBody **slot = plan ? &f->plan : &f->done;
		if (*slot == NULL || body->revision > (*slot)->revision) {
			*slot = body;
			if (plan)
				f->plan_status = record->status;
			else
				f->done_status = record->status;
		}
	}
	if (last != NULL && strcmp(last->status, "refused") == 0)
		f->refusal = last->reason;
}

static const Innsync__RectificationDecision *latest_decision(const struct qa_view *view,
							     const char *finding)
{
	const Innsync__RectificationDecision *latest = NULL;
	for (size_t i = 0; i < view->n_downs; i++) {
		const Innsync__DownBody *down = view->downs[i];
		if (down->payload_case == INNSYNC__DOWN_BODY__PAYLOAD_RECTIFICATION_DECISION &&
		    strcmp(down->rectification_decision->finding, finding) == 0)
			latest = down->rectification_decision;
	}
	return latest;
}

static int64_t report_deadline(const Innsync__QaReport *report, const char *finding)
{
	for (size_t i = 0; i < report->n_deadlines; i++)
		if (strcmp(report->deadlines[i]->finding, finding) == 0)
			return report->deadlines[i]->due_ms;
	return 0;
}

static void derive(const struct qa_view *view, struct qa_view_finding *f, int64_t now)
{
	site_records(view, f);
	f->decision = latest_decision(view, f->finding->id);
	unsigned plan_rev = f->plan ? f->plan->revision : 0;
	unsigned done_rev = f->done ? f->done->revision : 0;
	f->state = QA_OPEN;
	if (plan_rev > 0)
		f->state = QA_PLANNED;
	if (done_rev > 0)
		f->state = QA_DONE;
	const Innsync__RectificationDecision *d = f->decision;
	if (d != NULL && d->accepted && done_rev <= d->done_revision) {
		f->state = QA_VERIFIED;
	} else if (d != NULL && !d->accepted) {
		f->state = QA_REOPENED;
		if (plan_rev > d->plan_revision)
			f->state = QA_PLANNED;
		if (done_rev > d->done_revision)
			f->state = QA_DONE;
	}
	f->due = report_deadline(f->report, f->finding->id);
	if (d != NULL && d->due_ms > 0)
		f->due = d->due_ms; /* the deadline in force after HQ's decision */
	f->overdue = qa_overdue(f->state, f->due, f->report->plan_due_ms, now);
}

static int add_report(struct qa_view *view, const Innsync__QaReport *report)
{
	if (report->inspection == NULL || qa_view_report(view, report->inspection->id) != NULL)
		return 0; /* the same inspection twice: the first counts */
	const Innsync__QaReport **grown =
	    realloc(view->reports, (view->n_reports + 1) * sizeof *grown);
	if (grown == NULL)
		return -1;
	view->reports = grown;
	view->reports[view->n_reports++] = report;
	size_t n = report->inspection->n_findings;
	struct qa_view_finding *findings =
	    realloc(view->findings, (view->n_findings + n + 1) * sizeof *findings);
	if (findings == NULL)
		return -1;
	view->findings = findings;
	for (size_t i = 0; i < n; i++) {
		struct qa_view_finding *f = &view->findings[view->n_findings++];
		memset(f, 0, sizeof *f);
		f->report = report;
		f->finding = report->inspection->findings[i];
	}
	return 0;
}

int qa_view_load(sqlite3 *db, const char *site, int64_t now_ms, struct qa_view **out)
{
	struct qa_view *view = calloc(1, sizeof *view);
	*out = NULL;
	if (view == NULL)
		return -1;
	int rc = load_downs(db, site, view);
	if (rc == 0)
		rc = load_records(db, site, view);
	for (size_t i = 0; rc == 0 && i < view->n_downs; i++)
		if (view->downs[i]->payload_case == INNSYNC__DOWN_BODY__PAYLOAD_QA_REPORT)
			rc = add_report(view, view->downs[i]->qa_report);
	for (size_t i = 0; rc == 0 && i < view->n_findings; i++)
		derive(view, &view->findings[i], now_ms);
	if (rc != 0) {
		qa_view_destroy(&view);
		return -1;
	}
	*out = view;
	return 0;
}

void qa_view_destroy(struct qa_view **view_p)
{
	struct qa_view *view = view_p ? *view_p : NULL;
	if (view == NULL)
		return;
	for (size_t i = 0; i < view->n_downs; i++)
		wire_free((ProtobufCMessage *)view->downs[i]);
	for (size_t i = 0; i < view->n_records; i++) {
		wire_free((ProtobufCMessage *)view->records[i].body);
		free(view->records[i].reason);
	}
	free(view->downs);
	free(view->records);
	free(view->reports);
	free(view->findings);
	free(view);
	*view_p = NULL;
}

size_t qa_view_count(const struct qa_view *view)
{
	return view->n_findings;
}

const struct qa_view_finding *qa_view_at(const struct qa_view *view, size_t i)
{
	return i < view->n_findings ? &view->findings[i] : NULL;
}

const struct qa_view_finding *qa_view_find(const struct qa_view *view, const char *finding)
{
	for (size_t i = 0; i < view->n_findings; i++)
		if (strcmp(view->findings[i].finding->id, finding) == 0)
			return &view->findings[i];
	return NULL;
}

const Innsync__QaReport *qa_view_report(const struct qa_view *view, const char *inspection)
{
	for (size_t i = 0; i < view->n_reports; i++)
		if (strcmp(view->reports[i]->inspection->id, inspection) == 0)
			return view->reports[i];
	return NULL;
}

size_t qa_view_reports(const struct qa_view *view)
{
	return view->n_reports;
}

const Innsync__QaReport *qa_view_report_at(const struct qa_view *view, size_t i)
{
	return i < view->n_reports ? view->reports[i] : NULL;
}

/*---- JSON ------------------------------------------------------------------*/

static json_t *text_or_null(const char *text)
{
	return (text != NULL && text[0] != '\0') ? json_string(text) : json_null();
}

/* first_n: the number of the first photo (HQ's numbering), 0: unnumbered. */
static json_t *photos_json(Innsync__PhotoRef *const *photos, size_t n, int64_t first_n,
			   const char *data_dir)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		const Innsync__PhotoRef *photo = photos[i];
		char hex[2 * SHA256_LEN + 1] = "";
		bool valid = photo->sha256.len == SHA256_LEN;
		if (valid)
			hex_encode(photo->sha256.data, SHA256_LEN, hex);
		json_t *item = json_pack(
		    "{s:s, s:I, s:s, s:o, s:b}", "sha256", hex, "size", (json_int_t)photo->size,
		    "mime", photo->mime, "captured_at", cli_json_time(photo->captured_at_ms),
		    "here", valid && qa_blob_present(data_dir, photo->sha256.data));
		if (first_n > 0)
			json_object_set_new(item, "n", json_integer(first_n + (json_int_t)i));
		json_array_append_new(list, item);
	}
	return list;
}

static int64_t first_photo_number(const Innsync__QaInspection *inspection, const char *finding)
{
	int64_t n = 1;
	for (size_t i = 0; i < inspection->n_findings; i++) {
		if (strcmp(inspection->findings[i]->id, finding) == 0)
			return n;
		n += (int64_t)inspection->findings[i]->n_photos;
	}
	return 0;
}

static json_t *plan_json(const Innsync__RecordBody *body, const char *status)
{
	if (body == NULL)
		return json_null();
	const Innsync__RectificationPlan *plan = body->rectification_plan;
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:o}", "action", plan->action, "owner",
			 plan->owner, "due_date", plan->due_date, "revision",
			 (json_int_t)body->revision, "status", status, "author", body->author,
			 "written_at", cli_json_time(body->created_at_ms));
}

static json_t *done_json(const Innsync__RecordBody *body, const char *status, const char *data_dir)
{
	if (body == NULL)
		return json_null();
	const Innsync__RectificationDone *done = body->rectification_done;
	return json_pack("{s:s, s:I, s:s, s:s, s:o, s:o}", "note", done->note, "revision",
			 (json_int_t)body->revision, "status", status, "author", body->author,
			 "written_at", cli_json_time(body->created_at_ms), "photos",
			 photos_json(done->photos, done->n_photos, 0, data_dir));
}

static json_t *decision_json(const Innsync__RectificationDecision *d)
{
	if (d == NULL)
		return json_null();
	return json_pack("{s:b, s:s, s:s, s:o, s:o}", "accepted", (int)d->accepted, "note", d->note,
			 "by", d->decided_by, "at", cli_json_time(d->decided_at_ms), "due",
			 d->due_ms > 0 ? cli_json_time(d->due_ms) : json_null());
}

json_t *qa_view_finding_json(const struct qa_view_finding *f, const char *data_dir)
{
	const Innsync__QaFinding *finding = f->finding;
	const Innsync__QaInspection *inspection = f->report->inspection;
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "id",
	    finding->id, "inspection", inspection->id, "site", inspection->site, "category",
	    finding->category, "severity", finding->severity, "item", text_or_null(finding->item),
	    "text", finding->text, "due", cli_json_time(f->due), "state", qa_state_name(f->state),
	    "overdue", (int)f->overdue, "photos",
	    photos_json(finding->photos, finding->n_photos,
			first_photo_number(inspection, finding->id), data_dir),
	    "plan", plan_json(f->plan, f->plan_status), "done",
	    done_json(f->done, f->done_status, data_dir), "decision", decision_json(f->decision),
	    "refused", text_or_null(f->refusal));
}

json_t *qa_overall_json(const Innsync__QaInspection *inspection)
{
	struct qa_scores scores;
	double overall = 0;
	qa_scores_of(inspection, &scores);
	return qa_overall_score(&scores, &overall) == 0 ? json_real(overall) : json_null();
}

json_t *qa_category_scores_json(const Innsync__QaInspection *inspection)
{
	json_t *out = json_object();
	for (size_t i = 0; i < inspection->n_scores; i++)
		json_object_set_new(out, inspection->scores[i]->category,
				    json_integer(inspection->scores[i]->score));
	return out;
}

json_t *qa_view_inspection_json(const struct qa_view *view, const Innsync__QaReport *report,
				const char *data_dir)
{
	const Innsync__QaInspection *inspection = report->inspection;
	json_t *findings = json_array();
	bool complete = true;
	int open = 0, overdue = 0;
	for (size_t i = 0; i < view->n_findings; i++) {
		const struct qa_view_finding *f = &view->findings[i];
		if (f->report != report)
			continue;
		json_t *item = qa_view_finding_json(f, data_dir);
		size_t j;
		json_t *photo;
		json_array_foreach(json_object_get(item, "photos"), j, photo) complete =
		    complete && json_is_true(json_object_get(photo, "here"));
		open += qa_state_is_open(f->state);
		overdue += f->overdue;
		json_array_append_new(findings, item);
	}
	json_t *checklist = inspection->checklist_version == 0
				? json_null()
				: json_pack("{s:s, s:I}", "name", inspection->checklist_name,
					    "version", (json_int_t)inspection->checklist_version);
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:i, s:i, s:o}", "id",
	    inspection->id, "site", inspection->site, "inspector", inspection->inspector, "type",
	    inspection->type, "accompanied_by", text_or_null(inspection->accompanied_by),
	    "received_at", cli_json_time(report->received_at_ms), "plan_due",
	    cli_json_time(report->plan_due_ms), "checklist", checklist, "overall_score",
	    qa_overall_json(inspection), "category_scores", qa_category_scores_json(inspection),
	    "submitted_at", cli_json_time(inspection->submitted_at_ms), "complete", (int)complete,
	    "open_findings", open, "overdue_findings", overdue, "findings", findings);
}
