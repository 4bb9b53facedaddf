/* training: HQ's side of the training department's plans (issue 4):
 *   - `training publish|revise|close|list|status|certification`, the staff
 *     commands: a plan goes to the sites its audience selects as the
 *     publication "training/<plan id>" (publish.c), which also reaches sites
 *     added later while the plan is open; a revision re-delivers it;
 *   - the sites' records: TRAINING_ACK (record id training-ack/<site>/<plan>)
 *     and TRAINING_RESULTS (training-results/<site>/<plan>; a new revision
 *     replaces the site's results), checked against the plan's latest
 *     revision with common/feedback_rules.c.
 * The site's trainer certification is a course with role "trainer": a site
 * is certified from the end date of such a course one of its employees
 * passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/*---- Records (daemon) --------------------------------------------------*/

/* The plan's latest revision, and whether site is one of its audience.
 * Returns 1 found, 0 unknown plan, -1 error. *plan: caller frees. */
static int load_plan_for_site(struct hq_daemon *hq, const char *plan_id, const char *site,
			      Innsync__TrainingPlan **plan, bool *targeted)
{
	static const char sql[] =
		"SELECT p.body, EXISTS (SELECT 1 FROM publication_sites s"
		"  WHERE s.publication = 'training/' || p.id AND s.site = ?2)"
		" FROM training_plans p WHERE p.id = ?1";
	ProtobufCMessage *msg = NULL;
	int rc = fb_load_targeted(hq, sql, &innsync__training_plan__descriptor, plan_id, site, &msg,
				  targeted);
	*plan = (Innsync__TrainingPlan *)msg;
	return rc;
}

/* Common to both kinds: the plan is known and sent to this site. */
static Innsync__TrainingPlan *plan_for_record(struct hq_daemon *hq, const char *plan_id,
					      const char *site, struct verdict *v)
{
	Innsync__TrainingPlan *plan = NULL;
	bool targeted = false;
	int found = feedback_valid_id(plan_id) ? load_plan_for_site(hq, plan_id, site, &plan,
								    &targeted)
					       : 0;
	if (found < 0) {
		verdict_store_error(v, "training plans");
	} else if (found == 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "plan: %.64s is not a training plan HQ published", plan_id);
	} else if (!targeted) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "plan: %.64s was not sent to site %s", plan_id, site);
	} else {
		return plan;
	}
	wire_free((ProtobufCMessage *)plan);
	return NULL;
}

static void check_ack(struct hq_daemon *hq, const Innsync__RecordBody *body, struct verdict *v)
{
	const Innsync__TrainingAck *ack = body->training_ack;
	if (!fb_record_id_is(body, "training-ack", ack->plan, v))
		return;
	Innsync__TrainingPlan *plan = plan_for_record(hq, ack->plan, body->site, v);
	if (plan == NULL)
		return;
	if (ack->plan_revision < 1 || ack->plan_revision > plan->revision)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "plan_revision: %u is not a revision of plan %s (1 to %u)",
			    ack->plan_revision, plan->id, plan->revision);
	wire_free((ProtobufCMessage *)plan);
}

static void check_results(struct hq_daemon *hq, const Innsync__RecordBody *body,
			  struct verdict *v)
{
	const Innsync__TrainingResults *results = body->training_results;
	if (!fb_record_id_is(body, "training-results", results->plan, v))
		return;
	Innsync__TrainingPlan *plan = plan_for_record(hq, results->plan, body->site, v);
	if (plan == NULL)
		return;
	char err[400];
	if (training_results_check(results, plan, err, sizeof err) != 0)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
	wire_free((ProtobufCMessage *)plan);
}

void hq_training_check(struct hq_daemon *hq, const struct hq_site_head *site,
		       const Innsync__RecordBody *body, struct verdict *v)
{
	(void)site;
	if (body->kind == INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_ACK) {
		if (body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_TRAINING_ACK)
			verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
				    "a training acknowledgement record carries no acknowledgement");
		else
			check_ack(hq, body, v);
		return;
	}
	if (body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_TRAINING_RESULTS)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "a training results record carries no results");
	else
		check_results(hq, body, v);
}

static int apply_ack(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		     const Innsync__RecordBody *body)
{
	static const char sql[] =
		"INSERT INTO training_acks (plan, site, plan_revision, acked_at, agent, seq)"
		" VALUES (?,?,?,?,?,?) ON CONFLICT (plan, site) DO UPDATE SET"
		" plan_revision = excluded.plan_revision, acked_at = excluded.acked_at,"
		" agent = excluded.agent, seq = excluded.seq";
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, body->training_ack->plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, body->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, body->training_ack->plan_revision);
	sqlite3_bind_int64(stmt, 4, body->created_at_ms);
	sqlite3_bind_text(stmt, 5, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)seq);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	return rc;
}

/* Runs a statement with (plan, site) bound; 0 or -1. */
static int run_plan_site(struct hq_daemon *hq, const char *sql, const char *plan,
			 const char *site)
{
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, site, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	return rc;
}

static int insert_result(struct hq_daemon *hq, const char *plan, const char *site,
			 const Innsync__TrainingResult *r)
{
	static const char sql[] =
		"INSERT INTO training_results (plan, site, employee_id, course, name, role,"
		" attended, score) VALUES (?,?,?,?,?,?,?,?)";
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, r->employee_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, r->course, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, r->role, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 7, r->attended ? 1 : 0);
	if (r->scored)
		sqlite3_bind_int64(stmt, 8, r->score);
	else
		sqlite3_bind_null(stmt, 8);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	return rc;
}

static int apply_results(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			 const Innsync__RecordBody *body)
{
	static const char submission_sql[] =
		"INSERT INTO training_submissions (plan, site, revision, plan_revision,"
		" submitted_at, agent, seq) VALUES (?1,?2,?3,?4,?5,?6,?7)"
		" ON CONFLICT (plan, site) DO UPDATE SET revision = excluded.revision,"
		" plan_revision = excluded.plan_revision, submitted_at = excluded.submitted_at,"
		" agent = excluded.agent, seq = excluded.seq";
	static const char clear_sql[] = "DELETE FROM training_results WHERE plan = ?1 AND site = ?2";
	const Innsync__TrainingResults *results = body->training_results;
	sqlite3_stmt *stmt = hq_statement(hq, submission_sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, results->plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, body->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, body->revision);
	sqlite3_bind_int64(stmt, 4, results->plan_revision);
	sqlite3_bind_int64(stmt, 5, body->created_at_ms);
	sqlite3_bind_text(stmt, 6, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)seq);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	if (rc == 0)
		rc = run_plan_site(hq, clear_sql, results->plan, body->site);
	for (size_t i = 0; rc == 0 && i < results->n_results; i++)
		rc = insert_result(hq, results->plan, body->site, results->results[i]);
	return rc;
}

int hq_training_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		      const Innsync__RecordBody *body)
{
	if (body->kind == INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_ACK)
		return apply_ack(hq, agent, seq, body);
	return apply_results(hq, agent, seq, body);
}

/*---- Commands: publish and revise --------------------------------------*/

struct training_args {
	const char *data;
	const char *plan;
	const char *site;
	const char *note;
	const char *file;
	bool json;
};

/* Parses the options all training sub-commands share; one positional
 * argument at most (FILE or PLAN). 0, 1 (help printed) or CLI_USAGE. */
static int parse_args(int argc, char **argv, const char *usage, struct training_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct training_args, data),
		CLI_STRING("plan", struct training_args, plan),
		CLI_STRING("site", struct training_args, site),
		CLI_STRING("note", struct training_args, note),
		CLI_FLAG("json", struct training_args, json),
	};
	size_t n_positional;
	int rc = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			   &args->file, 1, &n_positional);
	if (rc == 0 && args->data == NULL)
		return cli_usage("--data DIR is required");
	return rc;
}

/* The stored latest revision of a plan (NULL if none). -1 on error. */
static int stored_plan(sqlite3 *db, const char *id, Innsync__TrainingPlan **plan)
{
	sqlite3_stmt *stmt = NULL;
	*plan = NULL;
	if (store_prepare(db, "SELECT body FROM training_plans WHERE id = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	ProtobufCMessage *msg = NULL;
	int rc = fb_step_message(stmt, 0, &innsync__training_plan__descriptor, &msg);
	*plan = (Innsync__TrainingPlan *)msg;
	sqlite3_finalize(stmt);
	return rc < 0 ? -1 : 0;
}

/* Whether the plan's publication still reaches sites added later. */
static bool publication_open(sqlite3 *db, const char *plan_id)
{
	sqlite3_stmt *stmt = NULL;
	bool open = true;
	if (store_prepare(db, "SELECT open FROM publications WHERE id = 'training/' || ?",
			  &stmt) != 0)
		return true;
	sqlite3_bind_text(stmt, 1, plan_id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		open = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return open;
}

static int store_courses(sqlite3 *db, const Innsync__TrainingPlan *plan)
{
	sqlite3_stmt *clear = NULL, *insert = NULL;
	int rc = -1;
	if (store_prepare(db, "DELETE FROM training_courses WHERE plan = ?", &clear) != 0 ||
	    store_prepare(db,
			  "INSERT INTO training_courses (plan, code, title, role, start_date,"
			  " end_date, pass_mark, cancelled) VALUES (?,?,?,?,?,?,?,?)",
			  &insert) != 0)
		goto done;
	sqlite3_bind_text(clear, 1, plan->id, -1, SQLITE_STATIC);
	if (sqlite3_step(clear) != SQLITE_DONE)
		goto done;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < plan->n_courses; i++) {
		const Innsync__TrainingCourse *c = plan->courses[i];
		const char *texts[] = { plan->id, c->code, c->title, c->role, c->start, c->end };
		for (int t = 0; t < 6; t++)
			sqlite3_bind_text(insert, t + 1, texts[t], -1, SQLITE_STATIC);
		sqlite3_bind_int64(insert, 7, c->pass_mark);
		sqlite3_bind_int(insert, 8, c->cancelled ? 1 : 0);
		rc = sqlite3_step(insert) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(insert);
	}
done:
	sqlite3_finalize(clear);
	sqlite3_finalize(insert);
	return rc;
}

static int store_plan(sqlite3 *db, const Innsync__TrainingPlan *plan, const char *audience)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	sqlite3_stmt *stmt = NULL;
	int rc = -1;
	if (wire_pack(&plan->base, &bytes, &len) != 0 ||
	    store_prepare(db,
			  "INSERT INTO training_plans (id, title, revision, audience, body,"
			  " published_at, revised_at) VALUES (?1,?2,?3,?4,?5,?6,?6)"
			  " ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
			  " revision = excluded.revision, audience = excluded.audience,"
			  " body = excluded.body, revised_at = excluded.revised_at",
			  &stmt) != 0)
		goto done;
	sqlite3_bind_text(stmt, 1, plan->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, plan->title, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, plan->revision);
	sqlite3_bind_text(stmt, 4, audience, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 5, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, now_ms());
	if (sqlite3_step(stmt) == SQLITE_DONE)
		rc = store_courses(db, plan);
done:
	sqlite3_finalize(stmt);
	free(bytes);
	return rc;
}

/* Stores the plan and delivers it inside one transaction. OUT: *reached. */
static int deliver_plan(sqlite3 *db, Innsync__TrainingPlan *plan, const char *audience,
			bool open, int *reached)
{
	char publication[128], err[512];
	snprintf(publication, sizeof publication, "training/%s", plan->id);
	Innsync__DownBody down = INNSYNC__DOWN_BODY__INIT;
	down.kind = INNSYNC__DOWN_KIND__DOWN_KIND_TRAINING_PLAN;
	down.published_at_ms = now_ms();
	down.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_TRAINING_PLAN;
	down.training_plan = plan;
	if (store_plan(db, plan, audience) != 0)
		return cli_fail("cannot store plan %s: %s", plan->id, sqlite3_errmsg(db));
	if (hq_publication_put(db, publication, audience, &down, open, reached, err, sizeof err) != 0)
		return cli_fail("%s", err);
	return CLI_OK;
}

/* publish (revise false) or revise (true): validate, then store and send. */
static int publish_or_revise(const struct training_args *args, bool revise)
{
	char *text = NULL, *audience = NULL, err[512];
	size_t len = 0;
	Innsync__TrainingPlan *plan = NULL, *previous = NULL;
	sqlite3 *db = NULL;
	int reached = 0;
	int rc = fb_read_file(args->file, &text, &len);
	if (rc != CLI_OK)
		return rc;
	if (training_plan_from_json(text, len, &plan, &audience, err, sizeof err) != 0 ||
	    hq_audience_check(audience, err, sizeof err) != 0) {
		rc = cli_fail("%s: %s", args->file, err);
		goto done;
	}
	if (args->note != NULL) {
		if (feedback_text_check("--note", args->note, FEEDBACK_MAX_TEXT, false, err,
					sizeof err) != 0) {
			rc = cli_usage("%s", err);
			goto done;
		}
		if (plan->note != protobuf_c_empty_string)
			free(plan->note);
		plan->note = strdup(args->note);
	}
	db = fb_open_store(args->data);
	if (db == NULL || plan->note == NULL) {
		rc = CLI_FAIL;
		goto done;
	}
	if (store_begin(db) != 0) {
		rc = cli_fail("the store is busy; try again");
		goto done;
	}
	if (stored_plan(db, plan->id, &previous) != 0) {
		rc = cli_fail("cannot read plan %s from the store", plan->id);
	} else if (!revise && previous != NULL) {
		rc = cli_fail("plan %s is already published (revision %u); change it with "
			      "innsync-hq training revise",
			      plan->id, previous->revision);
	} else if (revise && previous == NULL) {
		rc = cli_fail("plan %s was never published (use innsync-hq training publish)",
			      plan->id);
	} else if (revise && training_plan_keep_dropped(plan, previous) != 0) {
		rc = cli_fail("out of memory");
	} else {
		plan->revision = previous ? previous->revision + 1 : 1;
		rc = deliver_plan(db, plan, audience, previous ? publication_open(db, plan->id) : true,
				  &reached);
	}
	if (rc != CLI_OK || store_commit(db) != 0) {
		store_rollback(db);
		rc = rc != CLI_OK ? rc : cli_fail("cannot commit: %s", sqlite3_errmsg(db));
		goto done;
	}
	if (args->json) {
		json_t *out = json_pack("{s:s, s:i, s:i, s:o}", "plan", plan->id, "revision",
					(int)plan->revision, "sites_reached", reached, "changes",
					previous ? training_plan_changes(previous, plan) : json_array());
		rc = cli_print_json(out);
	} else {
		printf("%s plan %s revision %u: sent to %d site%s\n", revise ? "revised" : "published",
		       plan->id, plan->revision, reached, reached == 1 ? "" : "s");
	}
done:
	free(text);
	free(audience);
	if (plan)
		innsync__training_plan__free_unpacked(plan, NULL);
	wire_free((ProtobufCMessage *)previous);
	sqlite3_close(db);
	return rc;
}

static int cmd_publish(int argc, char **argv, bool revise)
{
	struct training_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		revise ? "usage: innsync-hq training revise --data DIR FILE.json [--note TEXT] [--json]\n"
			 "Publishes a new revision of a plan (same id): moved dates, cancelled\n"
			 "courses (\"cancelled\": true, or a course left out of the file). Every\n"
			 "site the audience selects receives it and sees what changed.\n"
		       : "usage: innsync-hq training publish --data DIR FILE.json [--json]\n"
			 "Publishes a training plan (docs/FEEDBACK.md) to the sites its audience\n"
			 "selects now and to every site added later while the plan is open.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.file == NULL)
		return cli_usage("training %s needs the plan FILE.json", revise ? "revise" : "publish");
	return publish_or_revise(&args, revise);
}

static int cmd_close(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-hq training close --data DIR PLAN\n"
				"Stops sending the plan to sites added from now on.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.file == NULL)
		return cli_usage("training close needs the PLAN id");
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	sqlite3_stmt *stmt = NULL;
	int rc = CLI_FAIL;
	if (store_prepare(db, "UPDATE publications SET open = 0 WHERE id = 'training/' || ?",
			  &stmt) == 0) {
		sqlite3_bind_text(stmt, 1, args.file, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_DONE && sqlite3_changes(db) == 1)
			rc = CLI_OK;
		else
			cli_fail("no training plan %s (see innsync-hq training list)", args.file);
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	if (rc == CLI_OK && args.json)
		return cli_print_json(json_pack("{s:s, s:b}", "plan", args.file, "open", 0));
	if (rc == CLI_OK)
		printf("plan %s closed: sites added from now on do not receive it\n", args.file);
	return rc;
}

/*---- Commands: list, status, certification -----------------------------*/

static int cmd_list(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-hq training list --data DIR [--json]\n"
				"Lists published plans with their revision, courses and sites.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT p.id, p.title, p.revision, p.audience, p.body,"
			  " COALESCE((SELECT open FROM publications WHERE id = 'training/' || p.id), 1),"
			  " (SELECT count(*) FROM publication_sites s"
			  "   WHERE s.publication = 'training/' || p.id),"
			  " (SELECT count(*) FROM training_acks a WHERE a.plan = p.id),"
			  " (SELECT count(*) FROM training_submissions r WHERE r.plan = p.id),"
			  " p.published_at, p.revised_at FROM training_plans p ORDER BY p.id",
			  &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot list plans");
	}
	json_t *list = json_array();
	if (!args.json)
		printf("%-16s %3s %-5s %5s %5s %7s  %s\n", "PLAN", "REV", "OPEN", "SITES", "ACKED",
		       "RESULTS", "TITLE");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__TrainingPlan *plan = (Innsync__TrainingPlan *)wire_unpack(
			&innsync__training_plan__descriptor, sqlite3_column_blob(stmt, 4),
			(size_t)sqlite3_column_bytes(stmt, 4));
		json_t *audience = json_loads(fb_column_text(stmt, 3), 0, NULL);
		if (args.json) {
			json_t *item = plan ? training_plan_to_json(plan) : json_object();
			json_object_set_new(item, "audience", audience ? audience : json_null());
			json_object_set_new(item, "open", json_boolean(sqlite3_column_int(stmt, 5)));
			json_object_set_new(item, "sites", json_integer(sqlite3_column_int(stmt, 6)));
			json_object_set_new(item, "acknowledged",
					    json_integer(sqlite3_column_int(stmt, 7)));
			json_object_set_new(item, "results", json_integer(sqlite3_column_int(stmt, 8)));
			json_object_set_new(item, "published_at",
					    cli_json_time(sqlite3_column_int64(stmt, 9)));
			json_object_set_new(item, "revised_at",
					    cli_json_time(sqlite3_column_int64(stmt, 10)));
			json_array_append_new(list, item);
		} else {
			json_decref(audience);
			printf("%-16s %3d %-5s %5d %5d %7d  %s\n", fb_column_text(stmt, 0),
			       sqlite3_column_int(stmt, 2), sqlite3_column_int(stmt, 5) ? "yes" : "no",
			       sqlite3_column_int(stmt, 6), sqlite3_column_int(stmt, 7),
			       sqlite3_column_int(stmt, 8), fb_column_text(stmt, 1));
		}
		wire_free((ProtobufCMessage *)plan);
	}
	return fb_list_done(db, stmt, list, args.json);
}

/* Splits a comma-separated list into a JSON array of strings. */
static json_t *split_list(const char *text)
{
	json_t *list = json_array();
	const char *p = text;
	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		json_array_append_new(list, json_stringn(p, n));
		p += n + (comma ? 1 : 0);
	}
	return list;
}

static json_t *status_json(sqlite3_stmt *row)
{
	int64_t acked_at = sqlite3_column_int64(row, 4);
	int64_t submitted_at = sqlite3_column_int64(row, 6);
	return json_pack("{s:s, s:s, s:b, s:i, s:i, s:i, s:i, s:o, s:i, s:o, s:o, s:o, s:i, s:o}",
			 "plan", fb_column_text(row, 0), "site", fb_column_text(row, 1),
			 "acknowledged", acked_at != 0, "enrolled", sqlite3_column_int(row, 7),
			 "attended", sqlite3_column_int(row, 8), "passed", sqlite3_column_int(row, 9),
			 "failed", sqlite3_column_int(row, 10), "missing_results",
			 split_list(fb_column_text(row, 11)), "revision_received",
			 sqlite3_column_int(row, 2), "acknowledged_revision",
			 acked_at ? json_integer(sqlite3_column_int(row, 3)) : json_null(),
			 "acknowledged_at", cli_json_time(acked_at), "results_submitted_at",
			 cli_json_time(submitted_at), "results_revision", sqlite3_column_int(row, 5),
			 "results_submitted", json_boolean(submitted_at != 0));
}

static void print_status(sqlite3_stmt *row)
{
	const char *missing = fb_column_text(row, 11);
	printf("%-16s %-10s %3d %-5s %8d %8d %6d %6d  %s\n", fb_column_text(row, 0),
	       fb_column_text(row, 1), sqlite3_column_int(row, 2),
	       sqlite3_column_int64(row, 4) ? "yes" : "no", sqlite3_column_int(row, 7),
	       sqlite3_column_int(row, 8), sqlite3_column_int(row, 9), sqlite3_column_int(row, 10),
	       *missing ? missing : (sqlite3_column_int64(row, 6) ? "-" : "no results yet"));
}

static int cmd_status(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-hq training status --data DIR [--plan P] [--site ID] [--json]\n"
		"Per plan and targeted site: acknowledged or not, employees enrolled (result\n"
		"rows), attended, passed, failed, and the ended courses without results.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	static const char sql[] =
		"SELECT p.id, ps.site, ps.revision, COALESCE(a.plan_revision, 0),"
		" COALESCE(a.acked_at, 0), COALESCE(sub.revision, 0), COALESCE(sub.submitted_at, 0),"
		" (SELECT count(*) FROM training_results r WHERE r.plan = p.id AND r.site = ps.site),"
		" (SELECT count(*) FROM training_results r WHERE r.plan = p.id AND r.site = ps.site"
		"   AND r.attended = 1),"
		" (SELECT count(*) FROM training_results r JOIN training_courses c"
		"   ON c.plan = r.plan AND c.code = r.course WHERE r.plan = p.id"
		"   AND r.site = ps.site AND r.attended = 1 AND r.score >= c.pass_mark),"
		" (SELECT count(*) FROM training_results r JOIN training_courses c"
		"   ON c.plan = r.plan AND c.code = r.course WHERE r.plan = p.id"
		"   AND r.site = ps.site AND r.attended = 1 AND r.score < c.pass_mark),"
		" (SELECT group_concat(c.code, ',') FROM training_courses c WHERE c.plan = p.id"
		"   AND c.cancelled = 0 AND c.end_date < ?3 AND NOT EXISTS (SELECT 1"
		"   FROM training_results r WHERE r.plan = c.plan AND r.site = ps.site"
		"   AND r.course = c.code))"
		" FROM training_plans p JOIN publication_sites ps ON ps.publication = 'training/' || p.id"
		" LEFT JOIN training_acks a ON a.plan = p.id AND a.site = ps.site"
		" LEFT JOIN training_submissions sub ON sub.plan = p.id AND sub.site = ps.site"
		" WHERE (?1 IS NULL OR p.id = ?1) AND (?2 IS NULL OR ps.site = ?2)"
		" ORDER BY p.id, ps.site";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot query training status");
	}
	char today[16];
	feedback_format_date(now_ms(), today, sizeof today);
	if (args.plan)
		sqlite3_bind_text(stmt, 1, args.plan, -1, SQLITE_STATIC);
	if (args.site)
		sqlite3_bind_text(stmt, 2, args.site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, today, -1, SQLITE_STATIC);
	json_t *list = json_array();
	size_t rows = 0;
	if (!args.json)
		printf("%-16s %-10s %3s %-5s %8s %8s %6s %6s  %s\n", "PLAN", "SITE", "REV", "ACK",
		       "ENROLLED", "ATTENDED", "PASSED", "FAILED", "MISSING RESULTS");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		rows++;
		if (args.json)
			json_array_append_new(list, status_json(stmt));
		else
			print_status(stmt);
	}
	if (!args.json && rows == 0)
		printf("(no plan sent to %s)\n", args.site ? args.site : "any site");
	return fb_list_done(db, stmt, list, args.json);
}

static json_t *certification_json(sqlite3_stmt *row)
{
	bool certified = sqlite3_column_type(row, 2) != SQLITE_NULL;
	json_t *trainer = certified ? json_pack("{s:s, s:s, s:i}", "employee_id",
						fb_column_text(row, 5), "name",
						fb_column_text(row, 6), "score",
						sqlite3_column_int(row, 7))
				    : json_null();
	return json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:i}", "site", fb_column_text(row, 0),
			 "name", fb_column_text(row, 1), "certified", certified, "certified_on",
			 certified ? json_string(fb_column_text(row, 2)) : json_null(), "plan",
			 certified ? json_string(fb_column_text(row, 3)) : json_null(), "course",
			 certified ? json_string(fb_column_text(row, 4)) : json_null(), "trainer",
			 trainer, "failed_attempts", sqlite3_column_int(row, 8));
}

static int cmd_certification(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-hq training certification --data DIR [--site ID] [--json]\n"
		"Per site: is its own trainer certified (passed a course with role \"trainer\"),\n"
		"since when (the course's end date), who, and failed attempts.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	static const char sql[] =
		"WITH trainer_results AS (SELECT r.site, r.plan, r.course, r.employee_id, r.name,"
		"   r.score, r.attended, c.end_date, c.pass_mark FROM training_results r"
		"   JOIN training_courses c ON c.plan = r.plan AND c.code = r.course"
		"   WHERE c.role = '" TRAINING_TRAINER_ROLE "' AND c.cancelled = 0),"
		" passes AS (SELECT *, row_number() OVER (PARTITION BY site"
		"   ORDER BY end_date DESC, plan, employee_id) AS n FROM trainer_results"
		"   WHERE attended = 1 AND score >= pass_mark)"
		" SELECT s.id, s.name, p.end_date, p.plan, p.course, p.employee_id, p.name, p.score,"
		" (SELECT count(*) FROM trainer_results t WHERE t.site = s.id AND t.attended = 1"
		"   AND t.score < t.pass_mark)"
		" FROM sites s LEFT JOIN passes p ON p.site = s.id AND p.n = 1"
		" WHERE (?1 IS NULL OR s.id = ?1) ORDER BY s.id";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot query certifications");
	}
	if (args.site)
		sqlite3_bind_text(stmt, 1, args.site, -1, SQLITE_STATIC);
	json_t *list = json_array();
	if (!args.json)
		printf("%-10s %-15s %-11s %-16s %-10s %s\n", "SITE", "CERTIFIED", "SINCE", "PLAN",
		       "COURSE", "TRAINER");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		bool certified = sqlite3_column_type(stmt, 2) != SQLITE_NULL;
		if (args.json)
			json_array_append_new(list, certification_json(stmt));
		else
			printf("%-10s %-15s %-11s %-16s %-10s %s\n", fb_column_text(stmt, 0),
			       certified ? "certified" : "not certified",
			       certified ? fb_column_text(stmt, 2) : "-",
			       certified ? fb_column_text(stmt, 3) : "-",
			       certified ? fb_column_text(stmt, 4) : "-",
			       certified ? fb_column_text(stmt, 6) : "-");
	}
	return fb_list_done(db, stmt, list, args.json);
}

int hq_cmd_training(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "list", cmd_list },     { "status", cmd_status },
		{ "close", cmd_close },   { "certification", cmd_certification },
	};
	if (argc >= 2 && strcmp(argv[1], "publish") == 0)
		return cmd_publish(argc - 1, argv + 1, false);
	if (argc >= 2 && strcmp(argv[1], "revise") == 0)
		return cmd_publish(argc - 1, argv + 1, true);
	for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq training COMMAND --data DIR ...\n"
		       "  publish FILE.json    send a training plan to its audience\n"
		       "  revise FILE.json     publish a new revision (moved dates, cancelled courses)\n"
		       "  close PLAN           stop sending the plan to sites added later\n"
		       "  list                 published plans\n"
		       "  status [--plan P] [--site ID]   acknowledged, enrolled, attended, passed...\n"
		       "  certification [--site ID]       site trainers certified or not, since when\n"
		       "Each takes --json; `innsync-hq training COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("training: want publish, revise, close, list, status or certification");
}
