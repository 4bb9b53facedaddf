/* complaints: HQ's side of guest complaints (issue 4, complaint-handling
 * seed): `complaint add` records a complaint and sends it down to its site
 * with the first-response deadline (12 h in HQ's home region, 24 h
 * elsewhere; `complaint settings` changes both and the home region);
 * the site's COMPLAINT_RESPONSE records (id complaint-response/<site>/<id>,
 * one revision per response, the last one may close it as resolved); and
 * `complaint list`, the open and late complaints.
 *
 * A response is on time when the site wrote it (the record's signed
 * created_at) before the deadline, even if the site was offline and it
 * reached HQ later; a complaint without any response is late once its
 * deadline has passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"

/*---- Records (daemon) --------------------------------------------------*/

void hq_complaint_check(struct hq_daemon *hq, const struct hq_site_head *site,
			const Innsync__RecordBody *body, struct verdict *v)
{
	static const char sql[] = "SELECT site, resolved_at FROM complaints WHERE id = ?";
	(void)site;
	if (body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_COMPLAINT_RESPONSE) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "a complaint response record carries no response");
		return;
	}
	const Innsync__ComplaintResponse *response = body->complaint_response;
	char err[400];
	if (complaint_response_check(response, err, sizeof err) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
		return;
	}
	if (!fb_record_id_is(body, "complaint-response", response->complaint, v))
		return;
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	if (stmt == NULL) {
		verdict_store_error(v, "complaints");
		return;
	}
	sqlite3_bind_text(stmt, 1, response->complaint, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW ||
	    strcmp(fb_column_text(stmt, 0), body->site) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "complaint: %s is not a complaint HQ sent to site %s", response->complaint,
			    body->site);
	} else if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
		char when[32];
		format_iso8601(sqlite3_column_int64(stmt, 1), when, sizeof when);
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "complaint: %s was already resolved at %s", response->complaint, when);
	}
	sqlite3_reset(stmt);
}

int hq_complaint_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		       const Innsync__RecordBody *body)
{
	static const char insert_sql[] =
		"INSERT INTO complaint_responses (complaint, revision, text, resolved, responded_at,"
		" received_at, agent, seq) VALUES (?,?,?,?,?,?,?,?)";
	static const char update_sql[] =
		"UPDATE complaints SET first_response_at = COALESCE(first_response_at, ?2),"
		" resolved_at = CASE WHEN ?3 THEN ?2 ELSE resolved_at END WHERE id = ?1";
	const Innsync__ComplaintResponse *response = body->complaint_response;
	sqlite3_stmt *insert = hq_statement(hq, insert_sql);
	sqlite3_stmt *update = hq_statement(hq, update_sql);
	if (insert == NULL || update == NULL)
		return -1;
	sqlite3_bind_text(insert, 1, response->complaint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(insert, 2, body->revision);
	sqlite3_bind_text(insert, 3, response->text, -1, SQLITE_STATIC);
	sqlite3_bind_int(insert, 4, response->resolved ? 1 : 0);
	sqlite3_bind_int64(insert, 5, body->created_at_ms);
	sqlite3_bind_int64(insert, 6, now_ms());
	sqlite3_bind_text(insert, 7, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(insert, 8, (sqlite3_int64)seq);
	int rc = sqlite3_step(insert) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(insert);
	if (rc != 0)
		return -1;
	sqlite3_bind_text(update, 1, response->complaint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(update, 2, body->created_at_ms);
	sqlite3_bind_int(update, 3, response->resolved ? 1 : 0);
	rc = sqlite3_step(update) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(update);
	return rc;
}

/*---- Commands ----------------------------------------------------------*/

struct complaint_args {
	const char *data;
	const char *site;
	const char *received;
	const char *text;
	const char *guest;
	const char *channel;
	const char *home_region;
	const char *home_hours;
	const char *other_hours;
	bool all;
	bool json;
};

static int parse_args(int argc, char **argv, const char *usage, struct complaint_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct complaint_args, data),
		CLI_STRING("site", struct complaint_args, site),
		CLI_STRING("received", struct complaint_args, received),
		CLI_STRING("text", struct complaint_args, text),
		CLI_STRING("guest", struct complaint_args, guest),
		CLI_STRING("channel", struct complaint_args, channel),
		CLI_STRING("home-region", struct complaint_args, home_region),
		CLI_STRING("home-hours", struct complaint_args, home_hours),
		CLI_STRING("other-hours", struct complaint_args, other_hours),
		CLI_FLAG("all", struct complaint_args, all),
		CLI_FLAG("json", struct complaint_args, json),
	};
	int rc = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			   NULL, 0, NULL);
	if (rc == 0 && args->data == NULL)
		return cli_usage("--data DIR is required");
	return rc;
}

/* The site's region into out. 1 found, 0 no such site, -1 error. */
static int site_region(sqlite3 *db, const char *site, char *out, size_t outlen)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT region FROM sites WHERE id = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	int step = sqlite3_step(stmt);
	if (step == SQLITE_ROW)
		copy_string(out, outlen, fb_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

static int check_add_args(const struct complaint_args *args, int64_t *received)
{
	char err[512];
	if (args->site == NULL || args->received == NULL || args->text == NULL)
		return cli_usage("complaint add needs --site ID, --received TIMESTAMP and --text TEXT");
	if (feedback_parse_time(args->received, received, err, sizeof err) != 0)
		return cli_usage("--received: %s", err);
	if (*received > now_ms() + 5 * 60 * 1000)
		return cli_usage("--received: %s is in the future", args->received);
	if (feedback_text_check("--text", args->text, FEEDBACK_MAX_TEXT, true, err, sizeof err) != 0 ||
	    feedback_text_check("--guest", args->guest, FEEDBACK_MAX_NAME, false, err,
				sizeof err) != 0 ||
	    feedback_text_check("--channel", args->channel, FEEDBACK_MAX_ID, false, err,
				sizeof err) != 0)
		return cli_usage("%s", err);
	return CLI_OK;
}

/* Stores the complaint (new id) and appends it to the site's log, inside
 * the caller's transaction. */
static int store_complaint(sqlite3 *db, Innsync__Complaint *complaint, char *id, size_t idlen)
{
	long long n = 0;
	if (store_query_int64(db, "SELECT COALESCE(max(n), 0) + 1 FROM complaints", 1, &n) != 0)
		return -1;
	snprintf(id, idlen, "C-%04lld", n);
	complaint->id = id;
	Innsync__DownBody down = INNSYNC__DOWN_BODY__INIT;
	down.kind = INNSYNC__DOWN_KIND__DOWN_KIND_COMPLAINT;
	down.published_at_ms = now_ms();
	down.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_COMPLAINT;
	down.complaint = complaint;
	uint64_t seq = 0;
	if (hq_publish_to_site(db, complaint->site, &down, &seq) != 0)
		return -1;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO complaints (n, id, site, received_at, text, guest, channel,"
			  " deadline_hours, due_at, created_at, down_seq)"
			  " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, n);
	sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, complaint->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, complaint->received_at_ms);
	sqlite3_bind_text(stmt, 5, complaint->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, complaint->guest, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, complaint->channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 8, complaint->deadline_hours);
	sqlite3_bind_int64(stmt, 9, complaint->due_at_ms);
	sqlite3_bind_int64(stmt, 10, now_ms());
	sqlite3_bind_int64(stmt, 11, (sqlite3_int64)seq);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

static int print_added(const struct complaint_args *args, const Innsync__Complaint *complaint,
		       const char *region, const struct complaint_settings *settings)
{
	if (args->json)
		return cli_print_json(json_pack(
			"{s:s, s:s, s:s, s:o, s:i, s:o, s:b}", "id", complaint->id, "site",
			complaint->site, "region", region, "received_at",
			cli_json_time(complaint->received_at_ms), "deadline_hours",
			(int)complaint->deadline_hours, "due_at", cli_json_time(complaint->due_at_ms),
			"in_home_region", strcasecmp(region, settings->home_region) == 0));
	char due[32];
	format_iso8601(complaint->due_at_ms, due, sizeof due);
	printf("complaint %s sent to %s: first response due %s (%u h, %s)\n", complaint->id,
	       complaint->site, due, complaint->deadline_hours,
	       strcasecmp(region, settings->home_region) == 0 ? "home region" : "outside the home region");
	return CLI_OK;
}

static int cmd_add(int argc, char **argv)
{
	struct complaint_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-hq complaint add --data DIR --site ID --received TIMESTAMP\n"
		"         --text TEXT [--guest NAME] [--channel C] [--json]\n"
		"Records a guest complaint and sends it to the site with its first-response\n"
		"deadline (see complaint settings). TIMESTAMP: 2027-01-10T08:30:00+08:00\n"
		"(or ...Z; without a zone it is UTC).\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	int64_t received = 0;
	int rc = check_add_args(&args, &received);
	if (rc != CLI_OK)
		return rc;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	struct complaint_settings settings;
	char region[64] = "", id[32];
	Innsync__Complaint complaint = INNSYNC__COMPLAINT__INIT;
	if (store_begin(db) != 0) {
		sqlite3_close(db);
		return cli_fail("the store is busy; try again");
	}
	int found = site_region(db, args.site, region, sizeof region);
	if (found <= 0 || fb_complaint_settings(db, &settings) != 0) {
		rc = found == 0 ? cli_fail("no site %s (see innsync-hq sites)", args.site)
				: cli_fail("cannot read the store");
		goto done;
	}
	complaint.site = (char *)args.site;
	complaint.received_at_ms = received;
	complaint.text = (char *)args.text;
	complaint.guest = (char *)(args.guest ? args.guest : "");
	complaint.channel = (char *)(args.channel ? args.channel : "");
	complaint.deadline_hours = complaint_deadline_hours(&settings, region);
	complaint.due_at_ms = complaint_due_ms(received, complaint.deadline_hours);
	if (store_complaint(db, &complaint, id, sizeof id) != 0 || store_commit(db) != 0) {
		rc = cli_fail("cannot store the complaint: %s", sqlite3_errmsg(db));
		goto done;
	}
	rc = print_added(&args, &complaint, region, &settings);
done:
	store_rollback(db);
	sqlite3_close(db);
	return rc;
}

/* Columns of the list query. */
enum { COL_ID, COL_SITE, COL_REGION, COL_RECEIVED, COL_HOURS, COL_DUE, COL_FIRST,
       COL_RESOLVED, COL_TEXT, COL_GUEST, COL_CHANNEL, COL_RESPONSES, COL_LAST };

static const char *complaint_state(sqlite3_stmt *row)
{
	if (sqlite3_column_type(row, COL_RESOLVED) != SQLITE_NULL)
		return "resolved";
	return sqlite3_column_type(row, COL_FIRST) != SQLITE_NULL ? "responded" : "open";
}

static json_t *complaint_json(sqlite3_stmt *row, bool late)
{
	int64_t first = sqlite3_column_int64(row, COL_FIRST);
	json_t *item = json_pack(
		"{s:s, s:s, s:s, s:o, s:i, s:o, s:s, s:b, s:b, s:o, s:o, s:i, s:s, s:s, s:s}", "id",
		fb_column_text(row, COL_ID), "site", fb_column_text(row, COL_SITE), "region",
		fb_column_text(row, COL_REGION), "received_at",
		cli_json_time(sqlite3_column_int64(row, COL_RECEIVED)), "deadline_hours",
		sqlite3_column_int(row, COL_HOURS), "due_at",
		cli_json_time(sqlite3_column_int64(row, COL_DUE)), "state", complaint_state(row),
		"late", late, "overdue", late && first == 0, "first_response_at", cli_json_time(first),
		"resolved_at", cli_json_time(sqlite3_column_int64(row, COL_RESOLVED)), "responses",
		sqlite3_column_int(row, COL_RESPONSES), "text", fb_column_text(row, COL_TEXT), "guest",
		fb_column_text(row, COL_GUEST), "channel", fb_column_text(row, COL_CHANNEL));
	if (item != NULL && sqlite3_column_type(row, COL_LAST) != SQLITE_NULL)
		json_object_set_new(item, "last_response", json_string(fb_column_text(row, COL_LAST)));
	return item;
}

static void print_complaint(sqlite3_stmt *row, bool late)
{
	char received[32], due[32];
	format_iso8601(sqlite3_column_int64(row, COL_RECEIVED), received, sizeof received);
	format_iso8601(sqlite3_column_int64(row, COL_DUE), due, sizeof due);
	printf("%-8s %-10s %-20s %-20s %-9s %-4s %.40s\n", fb_column_text(row, COL_ID),
	       fb_column_text(row, COL_SITE), received, due, complaint_state(row),
	       late ? "LATE" : "-", fb_column_text(row, COL_TEXT));
}

static int cmd_list(int argc, char **argv)
{
	struct complaint_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-hq complaint list --data DIR [--site ID] [--all] [--json]\n"
				"Lists complaints still open (not resolved) and those answered late\n"
				"(first response after the deadline); --all lists every complaint.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	static const char sql[] =
		"SELECT c.id, c.site, COALESCE(s.region, ''), c.received_at, c.deadline_hours,"
		" c.due_at, c.first_response_at, c.resolved_at, c.text, c.guest, c.channel,"
		" (SELECT count(*) FROM complaint_responses r WHERE r.complaint = c.id),"
		" (SELECT text FROM complaint_responses r WHERE r.complaint = c.id"
		"   ORDER BY r.revision DESC LIMIT 1)"
		" FROM complaints c LEFT JOIN sites s ON s.id = c.site"
		" WHERE (?1 IS NULL OR c.site = ?1) ORDER BY c.n";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot list complaints");
	}
	if (args.site)
		sqlite3_bind_text(stmt, 1, args.site, -1, SQLITE_STATIC);
	int64_t now = now_ms();
	json_t *list = json_array();
	if (!args.json)
		printf("%-8s %-10s %-20s %-20s %-9s %-4s %s\n", "ID", "SITE", "RECEIVED", "DUE",
		       "STATE", "LATE", "TEXT");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		bool late = complaint_is_late(sqlite3_column_int64(stmt, COL_DUE),
					      sqlite3_column_int64(stmt, COL_FIRST), now);
		bool open = sqlite3_column_type(stmt, COL_RESOLVED) == SQLITE_NULL;
		if (!args.all && !open && !late)
			continue;
		if (args.json)
			json_array_append_new(list, complaint_json(stmt, late));
		else
			print_complaint(stmt, late);
	}
	return fb_list_done(db, stmt, list, args.json);
}

static int set_setting(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO feedback_settings (key, value) VALUES (?, ?)"
			  " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

static int check_settings_args(const struct complaint_args *args)
{
	uint64_t hours = 0;
	char err[256];
	if (args->home_region != NULL &&
	    feedback_text_check("--home-region", args->home_region, 63, true, err, sizeof err) != 0)
		return cli_usage("%s", err);
	if (args->home_hours != NULL && parse_u64(args->home_hours, 1, COMPLAINT_MAX_HOURS, &hours) != 0)
		return cli_usage("--home-hours must be whole hours from 1 to %d", COMPLAINT_MAX_HOURS);
	if (args->other_hours != NULL &&
	    parse_u64(args->other_hours, 1, COMPLAINT_MAX_HOURS, &hours) != 0)
		return cli_usage("--other-hours must be whole hours from 1 to %d", COMPLAINT_MAX_HOURS);
	return CLI_OK;
}

static int cmd_settings(int argc, char **argv)
{
	struct complaint_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-hq complaint settings --data DIR [--home-region R]\n"
		"         [--home-hours N] [--other-hours N] [--json]\n"
		"Shows or changes the first-response deadlines: N hours for sites whose region\n"
		"is HQ's home region (default " COMPLAINT_DEFAULT_HOME_REGION ", 12 h), other hours elsewhere\n"
		"(default 24 h). Complaints already sent keep their deadline.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	int rc = check_settings_args(&args);
	if (rc != CLI_OK)
		return rc;
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	struct complaint_settings settings;
	if (store_begin(db) != 0 ||
	    (args.home_region && set_setting(db, "complaint.home_region", args.home_region) != 0) ||
	    (args.home_hours && set_setting(db, "complaint.home_hours", args.home_hours) != 0) ||
	    (args.other_hours && set_setting(db, "complaint.other_hours", args.other_hours) != 0) ||
	    fb_complaint_settings(db, &settings) != 0 || store_commit(db) != 0) {
		store_rollback(db);
		sqlite3_close(db);
		return cli_fail("cannot store the settings");
	}
	sqlite3_close(db);
	if (args.json)
		return cli_print_json(json_pack("{s:s, s:i, s:i}", "home_region",
						settings.home_region, "home_hours",
						(int)settings.home_hours, "other_hours",
						(int)settings.other_hours));
	printf("home region: %s\nfirst response due within %u h in the home region, %u h elsewhere\n",
	       settings.home_region, settings.home_hours, settings.other_hours);
	return CLI_OK;
}

int hq_cmd_complaint(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "settings") == 0)
		return cmd_settings(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq complaint COMMAND --data DIR ...\n"
		       "  add --site ID --received TIMESTAMP --text TEXT [--guest NAME] [--channel C]\n"
		       "  list [--site ID] [--all]   open and late complaints\n"
		       "  settings [--home-region R] [--home-hours N] [--other-hours N]\n"
		       "Each takes --json; `innsync-hq complaint COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("complaint: want add, list or settings");
}
