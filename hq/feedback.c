/* feedback: owns HQ's tables of issue 4 (component "feedback") and routes
 * the site records of training, satisfaction, complaints and evaluations to
 * the file that holds their rules (training.c, satisfaction.c,
 * complaints.c, evaluation.c). Also the helpers their staff commands share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"
#include "wire.h"

static const char *const feedback_migrations[] = {
	/* 1: training, satisfaction, complaints, evaluations */
	"CREATE TABLE training_plans ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  audience TEXT NOT NULL,"            /* JSON, as in the plan file */
	"  body BLOB NOT NULL,"                /* serialised TrainingPlan, latest revision */
	"  published_at INTEGER NOT NULL,"
	"  revised_at INTEGER NOT NULL);"
	"CREATE TABLE training_courses ("      /* the latest revision's courses */
	"  plan TEXT NOT NULL, code TEXT NOT NULL, title TEXT NOT NULL, role TEXT NOT NULL,"
	"  start_date TEXT NOT NULL, end_date TEXT NOT NULL, pass_mark INTEGER NOT NULL,"
	"  cancelled INTEGER NOT NULL,"
	"  PRIMARY KEY (plan, code)) WITHOUT ROWID;"
	"CREATE TABLE training_acks ("
	"  plan TEXT NOT NULL, site TEXT NOT NULL, plan_revision INTEGER NOT NULL,"
	"  acked_at INTEGER NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  PRIMARY KEY (plan, site)) WITHOUT ROWID;"
	"CREATE TABLE training_submissions ("  /* the latest results record per site */
	"  plan TEXT NOT NULL, site TEXT NOT NULL, revision INTEGER NOT NULL,"
	"  plan_revision INTEGER NOT NULL, submitted_at INTEGER NOT NULL,"
	"  agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  PRIMARY KEY (plan, site)) WITHOUT ROWID;"
	"CREATE TABLE training_results ("      /* rows of that latest record */
	"  plan TEXT NOT NULL, site TEXT NOT NULL, employee_id TEXT NOT NULL,"
	"  course TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,"
	"  attended INTEGER NOT NULL, score INTEGER,"
	"  PRIMARY KEY (plan, site, employee_id, course)) WITHOUT ROWID;"
	"CREATE TABLE satisfaction ("          /* every revision; the latest counts */
	"  site TEXT NOT NULL, period TEXT NOT NULL, revision INTEGER NOT NULL,"
	"  form TEXT NOT NULL CHECK (form IN ('responses','aggregate')),"
	"  responses INTEGER NOT NULL,"
	"  sum_cleanliness INTEGER NOT NULL, sum_service INTEGER NOT NULL,"
	"  sum_value INTEGER NOT NULL, sum_location INTEGER NOT NULL,"
	"  sum_facilities INTEGER NOT NULL, sum_overall INTEGER NOT NULL,"
	"  promoters INTEGER NOT NULL, passives INTEGER NOT NULL, detractors INTEGER NOT NULL,"
	"  channels TEXT NOT NULL,"            /* JSON {"phone": n, ...} */
	"  submitted_at INTEGER NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  PRIMARY KEY (site, period, revision)) WITHOUT ROWID;"
	"CREATE TABLE feedback_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE complaints ("
	"  n INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"           /* C-0001 */
	"  site TEXT NOT NULL, received_at INTEGER NOT NULL, text TEXT NOT NULL,"
	"  guest TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '',"
	"  deadline_hours INTEGER NOT NULL, due_at INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL, down_seq INTEGER NOT NULL,"
	"  first_response_at INTEGER,"         /* when the site wrote its first response */
	"  resolved_at INTEGER);"
	"CREATE INDEX complaints_site ON complaints (site);"
	"CREATE TABLE complaint_responses ("
	"  complaint TEXT NOT NULL, revision INTEGER NOT NULL, text TEXT NOT NULL,"
	"  resolved INTEGER NOT NULL, responded_at INTEGER NOT NULL,"
	"  received_at INTEGER NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  PRIMARY KEY (complaint, revision)) WITHOUT ROWID;"
	"CREATE TABLE evaluation_forms ("
	"  version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	"  body BLOB NOT NULL,"                /* serialised EvaluationRound without id/due */
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE evaluation_rounds ("
	"  id TEXT PRIMARY KEY, form_version INTEGER NOT NULL, due TEXT NOT NULL,"
	"  due_at INTEGER NOT NULL, body BLOB NOT NULL, opened_at INTEGER NOT NULL);"
	"CREATE TABLE evaluation_targets ("
	"  round TEXT NOT NULL, site TEXT NOT NULL, down_seq INTEGER NOT NULL,"
	"  PRIMARY KEY (round, site)) WITHOUT ROWID;"
	"CREATE TABLE evaluation_answers ("    /* the latest answer per site */
	"  round TEXT NOT NULL, site TEXT NOT NULL, revision INTEGER NOT NULL,"
	"  written_at INTEGER NOT NULL, received_at INTEGER NOT NULL,"
	"  agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  PRIMARY KEY (round, site)) WITHOUT ROWID;"
	"CREATE TABLE evaluation_ratings ("    /* the ratings of that latest answer */
	"  round TEXT NOT NULL, site TEXT NOT NULL, code TEXT NOT NULL,"
	"  department TEXT NOT NULL, rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (round, site, code)) WITHOUT ROWID;",
};

int hq_feedback_migrate(sqlite3 *db, char *err, size_t errlen)
{
	int count = (int)(sizeof feedback_migrations / sizeof feedback_migrations[0]);
	return store_migrate_component(db, "feedback", feedback_migrations, count, err, errlen);
}

void hq_feedback_check(struct hq_daemon *hq, struct hq_agent *agent,
		       const struct hq_site_head *site, const Innsync__RecordBody *body,
		       struct verdict *v)
{
	(void)agent;
	switch (body->kind) {
	case INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_ACK:
	case INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_RESULTS:
		hq_training_check(hq, site, body, v);
		break;
	case INNSYNC__RECORD_KIND__RECORD_KIND_SATISFACTION:
		hq_satisfaction_check(hq, site, body, v);
		break;
	case INNSYNC__RECORD_KIND__RECORD_KIND_COMPLAINT_RESPONSE:
		hq_complaint_check(hq, site, body, v);
		break;
	case INNSYNC__RECORD_KIND__RECORD_KIND_EVALUATION_ANSWER:
		hq_evaluation_check(hq, site, body, v);
		break;
	default:
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "record kind %d is not a feedback record", (int)body->kind);
		break;
	}
}

int hq_feedback_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		      const Innsync__RecordBody *body)
{
	switch (body->kind) {
	case INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_ACK:
	case INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_RESULTS:
		return hq_training_apply(hq, agent, seq, body);
	case INNSYNC__RECORD_KIND__RECORD_KIND_SATISFACTION:
		return hq_satisfaction_apply(hq, agent, seq, body);
	case INNSYNC__RECORD_KIND__RECORD_KIND_COMPLAINT_RESPONSE:
		return hq_complaint_apply(hq, agent, seq, body);
	case INNSYNC__RECORD_KIND__RECORD_KIND_EVALUATION_ANSWER:
		return hq_evaluation_apply(hq, agent, seq, body);
	default:
		return -1;
	}
}

int fb_step_message(sqlite3_stmt *stmt, int column, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **msg)
{
	*msg = NULL;
	int step = sqlite3_step(stmt);
	if (step == SQLITE_DONE)
		return 0;
	if (step != SQLITE_ROW)
		return -1;
	*msg = wire_unpack(desc, sqlite3_column_blob(stmt, column),
			   (size_t)sqlite3_column_bytes(stmt, column));
	return *msg != NULL ? 1 : -1;
}

int fb_load_targeted(struct hq_daemon *hq, const char *sql, const ProtobufCMessageDescriptor *desc,
		     const char *id, const char *site, ProtobufCMessage **msg, bool *targeted)
{
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	*msg = NULL;
	*targeted = false;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, site, -1, SQLITE_STATIC);
	int rc = fb_step_message(stmt, 0, desc, msg);
	if (rc == 1)
		*targeted = sqlite3_column_int(stmt, 1) != 0;
	sqlite3_reset(stmt);
	return rc;
}

bool fb_record_id_is(const Innsync__RecordBody *body, const char *prefix, const char *key,
		     struct verdict *v)
{
	char expected[256];
	snprintf(expected, sizeof expected, "%s/%s/%s", prefix, body->site, key);
	if (strcmp(expected, body->record_id) == 0)
		return true;
	verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
		    "record_id: this record must have id %.200s, not %.64s", expected,
		    body->record_id);
	return false;
}

sqlite3 *fb_open_store(const char *data_dir)
{
	char err[512];
	sqlite3 *db = NULL;
	if (data_dir == NULL) {
		cli_usage("--data DIR is required");
		return NULL;
	}
	if (hq_store_open(data_dir, &db, err, sizeof err) != 0) {
		cli_fail("%s", err);
		return NULL;
	}
	return db;
}

int fb_list_done(sqlite3 *db, sqlite3_stmt *stmt, json_t *list, bool json)
{
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (json)
		return cli_print_json(list);
	json_decref(list);
	return CLI_OK;
}

const char *fb_column_text(sqlite3_stmt *stmt, int column)
{
	const char *text = (const char *)sqlite3_column_text(stmt, column);
	return text != NULL ? text : "";
}

int fb_read_file(const char *path, char **text, size_t *len)
{
	char err[512];
	if (read_file_bounded(path, FEEDBACK_MAX_FILE_BYTES, text, len, err, sizeof err) != 0)
		return cli_fail("%s", err);
	return CLI_OK;
}

int fb_site_exists(sqlite3 *db, const char *site)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT 1 FROM sites WHERE id = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int fb_complaint_settings(sqlite3 *db, struct complaint_settings *out)
{
	complaint_settings_default(out);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT key, value FROM feedback_settings", &stmt) != 0)
		return -1;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *key = fb_column_text(stmt, 0);
		const char *value = fb_column_text(stmt, 1);
		uint64_t hours = 0;
		if (strcmp(key, "complaint.home_region") == 0)
			copy_string(out->home_region, sizeof out->home_region, value);
		else if (strcmp(key, "complaint.home_hours") == 0 &&
			 parse_u64(value, 1, COMPLAINT_MAX_HOURS, &hours) == 0)
			out->home_hours = (unsigned)hours;
		else if (strcmp(key, "complaint.other_hours") == 0 &&
			 parse_u64(value, 1, COMPLAINT_MAX_HOURS, &hours) == 0)
			out->other_hours = (unsigned)hours;
	}
	sqlite3_finalize(stmt);
	return 0;
}
