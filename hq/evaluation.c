/* evaluation: HQ's side of the GMs' evaluation of HQ (issue 4, seed part 7):
 *   - `evaluation form set|show`: the form, versioned (items may change
 *     between rounds; a round keeps the copy it was opened with);
 *   - `evaluation round open|list`: a round sends the form to the GMs of the
 *     listed (default: all) sites with a due date; it closes at the end of
 *     that day (UTC);
 *   - the sites' EVALUATION_ANSWER records (id evaluation/<site>/<round>):
 *     one answer per site; a new revision written before the round closed
 *     replaces the site's ratings, after it is refused;
 *   - `evaluation report ROUND`: response rate, mean and distribution per
 *     item and per department, comments by department, who did not answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/*---- Records (daemon) --------------------------------------------------*/

/* The round and whether site is one of its targets. 1 found, 0 no such
 * round, -1 error. *round: caller frees with wire_free. */
static int load_round(struct hq_daemon *hq, const char *round_id, const char *site,
		      Innsync__EvaluationRound **round, bool *targeted)
{
	static const char sql[] =
		"SELECT r.body, EXISTS (SELECT 1 FROM evaluation_targets t WHERE t.round = r.id"
		"  AND t.site = ?2) FROM evaluation_rounds r WHERE r.id = ?1";
	ProtobufCMessage *msg = NULL;
	int rc = fb_load_targeted(hq, sql, &innsync__evaluation_round__descriptor, round_id, site,
				  &msg, targeted);
	*round = (Innsync__EvaluationRound *)msg;
	return rc;
}

void hq_evaluation_check(struct hq_daemon *hq, const struct hq_site_head *site,
			 const Innsync__RecordBody *body, struct verdict *v)
{
	(void)site;
	if (body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_EVALUATION_ANSWER) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "an evaluation answer record carries no answer");
		return;
	}
	const Innsync__EvaluationAnswer *answer = body->evaluation_answer;
	if (!fb_record_id_is(body, "evaluation", answer->round, v))
		return;
	Innsync__EvaluationRound *round = NULL;
	bool targeted = false;
	int found = feedback_valid_id(answer->round)
			    ? load_round(hq, answer->round, body->site, &round, &targeted)
			    : 0;
	char err[400];
	if (found < 0)
		verdict_store_error(v, "evaluation rounds");
	else if (found == 0)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "round: %.64s is not an evaluation round HQ opened", answer->round);
	else if (!targeted)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "round: %.64s was not sent to site %s", answer->round, body->site);
	else if (evaluation_answer_check(answer, round, body->created_at_ms, err, sizeof err) != 0)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
	wire_free((ProtobufCMessage *)round);
}

static int store_answer(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			const Innsync__RecordBody *body)
{
	static const char answer_sql[] =
		"INSERT INTO evaluation_answers (round, site, revision, written_at, received_at,"
		" agent, seq) VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT (round, site) DO UPDATE"
		" SET revision = excluded.revision, written_at = excluded.written_at,"
		" received_at = excluded.received_at, agent = excluded.agent, seq = excluded.seq";
	static const char clear_sql[] =
		"DELETE FROM evaluation_ratings WHERE round = ?1 AND site = ?2";
	sqlite3_stmt *stmt = hq_statement(hq, answer_sql);
	sqlite3_stmt *clear = hq_statement(hq, clear_sql);
	if (stmt == NULL || clear == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, body->evaluation_answer->round, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, body->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, body->revision);
	sqlite3_bind_int64(stmt, 4, body->created_at_ms);
	sqlite3_bind_int64(stmt, 5, now_ms());
	sqlite3_bind_text(stmt, 6, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)seq);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	if (rc != 0)
		return -1;
	sqlite3_bind_text(clear, 1, body->evaluation_answer->round, -1, SQLITE_STATIC);
	sqlite3_bind_text(clear, 2, body->site, -1, SQLITE_STATIC);
	rc = sqlite3_step(clear) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(clear);
	return rc;
}

static int store_rating(struct hq_daemon *hq, const Innsync__RecordBody *body,
			const Innsync__EvaluationRating *rating, const char *department)
{
	static const char sql[] =
		"INSERT INTO evaluation_ratings (round, site, code, department, rating, comment)"
		" VALUES (?,?,?,?,?,?)";
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, body->evaluation_answer->round, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, body->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, rating->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, department, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, rating->rating);
	sqlite3_bind_text(stmt, 6, rating->comment, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	return rc;
}

int hq_evaluation_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			const Innsync__RecordBody *body)
{
	const Innsync__EvaluationAnswer *answer = body->evaluation_answer;
	Innsync__EvaluationRound *round = NULL;
	bool targeted = false;
	if (load_round(hq, answer->round, body->site, &round, &targeted) != 1)
		return -1;
	int rc = store_answer(hq, agent, seq, body);
	for (size_t i = 0; rc == 0 && i < answer->n_answers; i++) {
		const Innsync__EvaluationItem *item =
			evaluation_round_item(round, answer->answers[i]->code);
		rc = item ? store_rating(hq, body, answer->answers[i], item->department) : -1;
	}
	wire_free((ProtobufCMessage *)round);
	return rc;
}

/*---- Commands: the form ------------------------------------------------*/

struct evaluation_args {
	const char *data;
	const char *due;
	const char *sites;
	const char *arg;   /* FILE or ROUND */
	bool json;
};

static int parse_args(int argc, char **argv, const char *usage, struct evaluation_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct evaluation_args, data),
		CLI_STRING("due", struct evaluation_args, due),
		CLI_STRING("sites", struct evaluation_args, sites),
		CLI_FLAG("json", struct evaluation_args, json),
	};
	size_t n_positional;
	int rc = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			   &args->arg, 1, &n_positional);
	if (rc == 0 && args->data == NULL)
		return cli_usage("--data DIR is required");
	return rc;
}

/* The current form and its version (0 and NULL when none was set). */
static int current_form(sqlite3 *db, Innsync__EvaluationRound **form, long long *version)
{
	sqlite3_stmt *stmt = NULL;
	*form = NULL;
	*version = 0;
	if (store_prepare(db,
			  "SELECT version, body FROM evaluation_forms ORDER BY version DESC LIMIT 1",
			  &stmt) != 0)
		return -1;
	ProtobufCMessage *msg = NULL;
	int rc = fb_step_message(stmt, 1, &innsync__evaluation_round__descriptor, &msg);
	*form = (Innsync__EvaluationRound *)msg;
	if (rc == 1)
		*version = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc < 0 ? -1 : 0;
}

static json_t *items_json(const Innsync__EvaluationRound *form)
{
	json_t *items = json_array();
	for (size_t i = 0; i < form->n_items; i++)
		json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "code",
						       form->items[i]->code, "department",
						       form->items[i]->department, "text",
						       form->items[i]->text));
	return items;
}

static int insert_form(sqlite3 *db, const Innsync__EvaluationRound *form, long long *version)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	sqlite3_stmt *stmt = NULL;
	int rc = -1;
	if (wire_pack(&form->base, &bytes, &len) == 0 &&
	    store_prepare(db,
			  "INSERT INTO evaluation_forms (version, name, body, created_at)"
			  " SELECT COALESCE(max(version), 0) + 1, ?, ?, ? FROM evaluation_forms"
			  " RETURNING version",
			  &stmt) == 0) {
		sqlite3_bind_text(stmt, 1, form->name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 2, bytes, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, now_ms());
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			*version = sqlite3_column_int64(stmt, 0);
			rc = 0;
		}
	}
	sqlite3_finalize(stmt);
	free(bytes);
	return rc;
}

static int cmd_form_set(int argc, char **argv)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-hq evaluation form set --data DIR FILE.json [--json]\n"
				"Sets the evaluation form (docs/FEEDBACK.md) used by rounds opened from\n"
				"now on; rounds already open keep theirs.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.arg == NULL)
		return cli_usage("evaluation form set needs the form FILE.json");
	char *text = NULL, err[512];
	size_t len = 0;
	int rc = fb_read_file(args.arg, &text, &len);
	if (rc != CLI_OK)
		return rc;
	Innsync__EvaluationRound *form = NULL;
	rc = evaluation_form_from_json(text, len, &form, err, sizeof err);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s", args.arg, err);
	sqlite3 *db = fb_open_store(args.data);
	long long version = 0;
	rc = CLI_FAIL;
	if (db != NULL && insert_form(db, form, &version) == 0)
		rc = CLI_OK;
	else if (db != NULL)
		cli_fail("cannot store the form: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	if (rc == CLI_OK && args.json)
		rc = cli_print_json(json_pack("{s:I, s:s, s:o}", "version", (json_int_t)version, "name",
					      form->name, "items", items_json(form)));
	else if (rc == CLI_OK)
		printf("evaluation form version %lld set: %s, %zu items\n", version, form->name,
		       form->n_items);
	innsync__evaluation_round__free_unpacked(form, NULL);
	return rc;
}

static int cmd_form_show(int argc, char **argv)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-hq evaluation form show --data DIR [--json]\n", &args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	Innsync__EvaluationRound *form = NULL;
	long long version = 0;
	int rc = current_form(db, &form, &version);
	sqlite3_close(db);
	if (rc != 0)
		return cli_fail("cannot read the form");
	if (form == NULL)
		return cli_fail("no evaluation form yet (innsync-hq evaluation form set FILE.json)");
	if (args.json) {
		rc = cli_print_json(json_pack("{s:I, s:s, s:o}", "version", (json_int_t)version, "name",
					      form->name, "items", items_json(form)));
	} else {
		printf("form version %lld: %s\n", version, form->name);
		for (size_t i = 0; i < form->n_items; i++)
			printf("  %-8s %-16s %s\n", form->items[i]->code, form->items[i]->department,
			       form->items[i]->text);
	}
	wire_free((ProtobufCMessage *)form);
	return rc;
}

/*---- Commands: rounds --------------------------------------------------*/

/* Sites of the round: the --sites list (each must exist) or all sites. */
static json_t *round_sites(sqlite3 *db, const char *list)
{
	json_t *sites = json_array();
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT id FROM sites WHERE ?1 IS NULL OR id IN (SELECT value FROM"
			  " json_each(?1)) ORDER BY id",
			  &stmt) != 0) {
		json_decref(sites);
		return NULL;
	}
	json_t *wanted = NULL;
	if (list != NULL) {
		wanted = json_array();
		const char *p = list;
		while (*p != '\0') {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			if (n > 0)
				json_array_append_new(wanted, json_stringn(p, n));
			p += n + (comma ? 1 : 0);
		}
		char *text = json_dumps(wanted, JSON_COMPACT);
		sqlite3_bind_text(stmt, 1, text ? text : "[]", -1, SQLITE_TRANSIENT);
		free(text);
	}
	while (sqlite3_step(stmt) == SQLITE_ROW)
		json_array_append_new(sites, json_string(fb_column_text(stmt, 0)));
	sqlite3_finalize(stmt);
	size_t index;
	json_t *value;
	json_array_foreach(wanted, index, value) {
		bool found = false;
		for (size_t i = 0; i < json_array_size(sites) && !found; i++)
			found = json_equal(json_array_get(sites, i), value);
		if (!found) {
			cli_fail("--sites: no site %s (see innsync-hq sites)", json_string_value(value));
			json_decref(sites);
			sites = NULL;
			break;
		}
	}
	json_decref(wanted);
	return sites;
}

/* EV-<year>-<nn>, the next of the year the round opens in. */
static int next_round_id(sqlite3 *db, char *out, size_t outlen)
{
	char year[8], pattern[16];
	feedback_format_date(now_ms(), year, sizeof year);
	year[4] = '\0';
	snprintf(pattern, sizeof pattern, "EV-%s-%%", year);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT count(*) FROM evaluation_rounds WHERE id LIKE ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, pattern, -1, SQLITE_STATIC);
	long long n = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	snprintf(out, outlen, "EV-%s-%02lld", year, n + 1);
	return 0;
}

static int store_round(sqlite3 *db, const Innsync__EvaluationRound *round, json_t *sites)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	sqlite3_stmt *stmt = NULL, *target = NULL;
	int rc = -1;
	if (wire_pack(&round->base, &bytes, &len) != 0 ||
	    store_prepare(db,
			  "INSERT INTO evaluation_rounds (id, form_version, due, due_at, body, opened_at)"
			  " VALUES (?,?,?,?,?,?)",
			  &stmt) != 0 ||
	    store_prepare(db, "INSERT INTO evaluation_targets (round, site, down_seq) VALUES (?,?,?)",
			  &target) != 0)
		goto done;
	sqlite3_bind_text(stmt, 1, round->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, round->form_version);
	sqlite3_bind_text(stmt, 3, round->due, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, round->due_at_ms);
	sqlite3_bind_blob(stmt, 5, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, now_ms());
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto done;
	Innsync__DownBody down = INNSYNC__DOWN_BODY__INIT;
	down.kind = INNSYNC__DOWN_KIND__DOWN_KIND_EVALUATION_ROUND;
	down.published_at_ms = now_ms();
	down.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_EVALUATION_ROUND;
	down.evaluation_round = (Innsync__EvaluationRound *)round;
	rc = 0;
	size_t index;
	json_t *site;
	json_array_foreach(sites, index, site) {
		uint64_t seq = 0;
		if (rc != 0 || hq_publish_to_site(db, json_string_value(site), &down, &seq) != 0) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(target, 1, round->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(target, 2, json_string_value(site), -1, SQLITE_STATIC);
		sqlite3_bind_int64(target, 3, (sqlite3_int64)seq);
		rc = sqlite3_step(target) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(target);
	}
done:
	sqlite3_finalize(stmt);
	sqlite3_finalize(target);
	free(bytes);
	return rc;
}

/* Checks --due: a date whose end is still ahead. */
static int check_due(const char *due, int64_t *due_at)
{
	if (due == NULL)
		return cli_usage("evaluation round open needs --due YYYY-MM-DD");
	if (feedback_day_end_ms(due, due_at) != 0)
		return cli_usage("--due: \"%s\" is not a date (want YYYY-MM-DD)", due);
	if (*due_at <= now_ms())
		return cli_usage("--due: %s has already passed", due);
	return CLI_OK;
}

/* Opens the round inside one transaction. OUT: id, *targeted. */
static int open_round(sqlite3 *db, const struct evaluation_args *args, int64_t due_at, char *id,
		      size_t idlen, size_t *targeted)
{
	Innsync__EvaluationRound *form = NULL;
	long long version = 0;
	json_t *sites = NULL;
	int rc = CLI_FAIL;
	if (store_begin(db) != 0)
		return cli_fail("the store is busy; try again");
	if (current_form(db, &form, &version) != 0) {
		cli_fail("cannot read the form");
		goto done;
	}
	if (form == NULL) {
		cli_fail("no evaluation form yet (innsync-hq evaluation form set FILE.json)");
		goto done;
	}
	sites = round_sites(db, args->sites);
	if (sites == NULL)
		goto done;
	if (json_array_size(sites) == 0) {
		cli_fail("no sites to send the round to (add sites first)");
		goto done;
	}
	if (next_round_id(db, id, idlen) != 0)
		goto done;
	Innsync__EvaluationRound round = *form; /* shallow: items stay the form's */
	round.id = id;
	round.due = (char *)args->due;
	round.due_at_ms = due_at;
	round.form_version = (uint32_t)version;
	if (store_round(db, &round, sites) != 0 || store_commit(db) != 0) {
		cli_fail("cannot open the round: %s", sqlite3_errmsg(db));
		goto done;
	}
	*targeted = json_array_size(sites);
	rc = CLI_OK;
done:
	store_rollback(db);
	json_decref(sites);
	wire_free((ProtobufCMessage *)form);
	return rc;
}

static int cmd_round_open(int argc, char **argv)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-hq evaluation round open --data DIR --due YYYY-MM-DD\n"
		"         [--sites ID,ID,...] [--json]\n"
		"Sends the current form to the GMs of the listed sites (default: all). Answers\n"
		"are accepted until the end of the due day (UTC). Prints the round id on its\n"
		"last line.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	int64_t due_at = 0;
	int rc = check_due(args.due, &due_at);
	if (rc != CLI_OK)
		return rc;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	char id[32];
	size_t targeted = 0;
	rc = open_round(db, &args, due_at, id, sizeof id, &targeted);
	sqlite3_close(db);
	if (rc != CLI_OK)
		return rc;
	if (args.json)
		return cli_print_json(json_pack("{s:s, s:s, s:I}", "round", id, "due", args.due,
						"targeted", (json_int_t)targeted));
	printf("evaluation round sent to %zu site%s, due %s\n%s\n", targeted,
	       targeted == 1 ? "" : "s", args.due, id);
	return CLI_OK;
}

static int cmd_round_list(int argc, char **argv)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-hq evaluation round list --data DIR [--json]\n", &args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT r.id, r.due, r.due_at, r.form_version,"
			  " (SELECT count(*) FROM evaluation_targets t WHERE t.round = r.id),"
			  " (SELECT count(*) FROM evaluation_answers a WHERE a.round = r.id)"
			  " FROM evaluation_rounds r ORDER BY r.opened_at, r.id",
			  &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot list rounds");
	}
	int64_t now = now_ms();
	json_t *list = json_array();
	if (!args.json)
		printf("%-12s %-10s %-6s %4s %8s %8s\n", "ROUND", "DUE", "STATE", "FORM", "TARGETED",
		       "ANSWERED");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		bool open = now < sqlite3_column_int64(stmt, 2);
		if (args.json)
			json_array_append_new(
				list, json_pack("{s:s, s:s, s:b, s:i, s:i, s:i}", "round",
						fb_column_text(stmt, 0), "due", fb_column_text(stmt, 1),
						"open", open, "form_version", sqlite3_column_int(stmt, 3),
						"targeted", sqlite3_column_int(stmt, 4), "answered",
						sqlite3_column_int(stmt, 5)));
		else
			printf("%-12s %-10s %-6s %4d %8d %8d\n", fb_column_text(stmt, 0),
			       fb_column_text(stmt, 1), open ? "open" : "closed",
			       sqlite3_column_int(stmt, 3), sqlite3_column_int(stmt, 4),
			       sqlite3_column_int(stmt, 5));
	}
	return fb_list_done(db, stmt, list, args.json);
}

/*---- Commands: the report ----------------------------------------------*/

/* The report's figures, built from the stored latest answers. */
struct report {
	Innsync__EvaluationRound *round;      /* owned */
	struct rating_stats *items;           /* owned; one per round item */
	struct rating_stats departments[EVALUATION_DEPARTMENTS];
	json_t *missing;                      /* owned; site ids */
	json_t *comments;                     /* owned; department -> [{site, code, comment}] */
	size_t targeted, answered;
};

static void report_free(struct report *r)
{
	wire_free((ProtobufCMessage *)r->round);
	free(r->items);
	json_decref(r->missing);
	json_decref(r->comments);
}

static int department_index(const char *department)
{
	for (int i = 0; i < EVALUATION_DEPARTMENTS; i++)
		if (strcmp(department, evaluation_departments[i]) == 0)
			return i;
	return -1;
}

static int load_report_round(sqlite3 *db, const char *id, struct report *r)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT body FROM evaluation_rounds WHERE id = ?", &stmt) != 0)
		return cli_fail("cannot read the round");
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	ProtobufCMessage *msg = NULL;
	fb_step_message(stmt, 0, &innsync__evaluation_round__descriptor, &msg);
	r->round = (Innsync__EvaluationRound *)msg;
	sqlite3_finalize(stmt);
	if (r->round == NULL)
		return cli_fail("no evaluation round %s (see innsync-hq evaluation round list)", id);
	r->items = calloc(r->round->n_items ? r->round->n_items : 1, sizeof *r->items);
	r->missing = json_array();
	r->comments = json_object();
	for (size_t i = 0; i < EVALUATION_DEPARTMENTS; i++)
		json_object_set_new(r->comments, evaluation_departments[i], json_array());
	return r->items ? CLI_OK : cli_fail("out of memory");
}

static int load_targets(sqlite3 *db, struct report *r)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT t.site, EXISTS (SELECT 1 FROM evaluation_answers a"
			  " WHERE a.round = t.round AND a.site = t.site)"
			  " FROM evaluation_targets t WHERE t.round = ? ORDER BY t.site",
			  &stmt) != 0)
		return cli_fail("cannot read the round's sites");
	sqlite3_bind_text(stmt, 1, r->round->id, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		r->targeted++;
		if (sqlite3_column_int(stmt, 1))
			r->answered++;
		else
			json_array_append_new(r->missing, json_string(fb_column_text(stmt, 0)));
	}
	sqlite3_finalize(stmt);
	return CLI_OK;
}

static void add_rating(struct report *r, sqlite3_stmt *row)
{
	const char *code = fb_column_text(row, 1);
	uint32_t rating = (uint32_t)sqlite3_column_int(row, 3);
	for (size_t i = 0; i < r->round->n_items; i++)
		if (strcmp(r->round->items[i]->code, code) == 0)
			rating_stats_add(&r->items[i], rating);
	int department = department_index(fb_column_text(row, 2));
	if (department < 0)
		return;
	rating_stats_add(&r->departments[department], rating);
	const char *comment = fb_column_text(row, 4);
	if (*comment != '\0')
		json_array_append_new(json_object_get(r->comments, fb_column_text(row, 2)),
				      json_pack("{s:s, s:s, s:i, s:s}", "site",
						fb_column_text(row, 0), "code", code, "rating",
						(int)rating, "comment", comment));
}

static int load_ratings(sqlite3 *db, struct report *r)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT site, code, department, rating, comment FROM evaluation_ratings"
			  " WHERE round = ? ORDER BY site, code",
			  &stmt) != 0)
		return cli_fail("cannot read the answers");
	sqlite3_bind_text(stmt, 1, r->round->id, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		add_rating(r, stmt);
	sqlite3_finalize(stmt);
	return CLI_OK;
}

static json_t *report_json(struct report *r)
{
	json_t *items = json_array(), *departments = json_array();
	for (size_t i = 0; i < r->round->n_items; i++) {
		const Innsync__EvaluationItem *item = r->round->items[i];
		json_t *entry = json_pack("{s:s, s:s, s:s}", "code", item->code, "department",
					  item->department, "text", item->text);
		rating_stats_to_json(&r->items[i], entry);
		json_array_append_new(items, entry);
	}
	for (size_t d = 0; d < EVALUATION_DEPARTMENTS; d++) {
		json_t *entry = json_pack("{s:s}", "department", evaluation_departments[d]);
		rating_stats_to_json(&r->departments[d], entry);
		json_array_append_new(departments, entry);
	}
	double rate = r->targeted ? (double)r->answered / (double)r->targeted : 0.0;
	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:f, s:O, s:o, s:o, s:O}", "round",
			 r->round->id, "name", r->round->name, "due", r->round->due, "closed",
			 now_ms() >= r->round->due_at_ms, "targeted", (json_int_t)r->targeted,
			 "answered", (json_int_t)r->answered, "response_rate", rate, "missing",
			 r->missing, "items", items, "departments", departments, "comments",
			 r->comments);
}

static void print_stats_line(const char *label, const char *department,
			     const struct rating_stats *s)
{
	char mean[32];
	feedback_mean_text(s->sum, s->count, mean, sizeof mean);
	printf("  %-18s %-16s %5s %5lld   %lld/%lld/%lld/%lld/%lld\n", label, department,
	       s->count ? mean : "-", (long long)s->count, (long long)s->distribution[0],
	       (long long)s->distribution[1], (long long)s->distribution[2],
	       (long long)s->distribution[3], (long long)s->distribution[4]);
}

static void print_report(struct report *r)
{
	printf("round %s (%s), due %s: %zu of %zu sites answered (%.0f%%)\n", r->round->id,
	       r->round->name, r->round->due, r->answered, r->targeted,
	       r->targeted ? 100.0 * (double)r->answered / (double)r->targeted : 0.0);
	printf("  %-18s %-16s %5s %5s   %s\n", "ITEM", "DEPARTMENT", "MEAN", "COUNT",
	       "RATINGS 1/2/3/4/5");
	for (size_t i = 0; i < r->round->n_items; i++)
		print_stats_line(r->round->items[i]->code, r->round->items[i]->department,
				 &r->items[i]);
	for (size_t d = 0; d < EVALUATION_DEPARTMENTS; d++)
		print_stats_line("(all items)", evaluation_departments[d], &r->departments[d]);
	for (size_t d = 0; d < EVALUATION_DEPARTMENTS; d++) {
		json_t *list = json_object_get(r->comments, evaluation_departments[d]);
		size_t index;
		json_t *c;
		if (json_array_size(list) > 0)
			printf("comments for %s:\n", evaluation_departments[d]);
		json_array_foreach(list, index, c)
			printf("  %s %s: %s\n", json_string_value(json_object_get(c, "site")),
			       json_string_value(json_object_get(c, "code")),
			       json_string_value(json_object_get(c, "comment")));
	}
	printf("not answered:");
	size_t index;
	json_t *site;
	json_array_foreach(r->missing, index, site)
		printf(" %s", json_string_value(site));
	printf("%s\n", json_array_size(r->missing) ? "" : " (none)");
}

static int cmd_report(int argc, char **argv)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-hq evaluation report --data DIR ROUND [--json]\n"
		"Response rate, mean (half-up, two decimals) and distribution of ratings per\n"
		"item and per department, comments by department, sites without an answer.\n"
		"Only each site's latest answer counts.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.arg == NULL)
		return cli_usage("evaluation report needs the ROUND id");
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	struct report r = { 0 };
	int rc = load_report_round(db, args.arg, &r);
	if (rc == CLI_OK)
		rc = load_targets(db, &r);
	if (rc == CLI_OK)
		rc = load_ratings(db, &r);
	sqlite3_close(db);
	if (rc == CLI_OK && args.json)
		rc = cli_print_json(report_json(&r));
	else if (rc == CLI_OK)
		print_report(&r);
	report_free(&r);
	return rc;
}

int hq_cmd_evaluation(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "form") == 0 && strcmp(argv[2], "set") == 0)
		return cmd_form_set(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "form") == 0 && strcmp(argv[2], "show") == 0)
		return cmd_form_show(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "round") == 0 && strcmp(argv[2], "open") == 0)
		return cmd_round_open(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "round") == 0 && strcmp(argv[2], "list") == 0)
		return cmd_round_list(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq evaluation COMMAND --data DIR ...\n"
		       "  form set FILE.json        set the form for rounds opened from now on\n"
		       "  form show                 the current form\n"
		       "  round open --due YYYY-MM-DD [--sites ID,...]   send it to the GMs\n"
		       "  round list                rounds, due dates, answers\n"
		       "  report ROUND              response rate, means, distributions, comments\n"
		       "Each takes --json; `innsync-hq evaluation COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("evaluation: want form set, form show, round open, round list or report");
}
