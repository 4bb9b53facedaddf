/* qa_cmd: owns HQ staff's QA commands:
 *   qa checklist set FILE.json | qa checklist show   (publish / read the checklist)
 *   qa settings [--plan-days N] [--critical-days N] [--major-days N] [--minor-days N]
 *   qa list [--site ID] [--open] | qa show ID | qa photo ID N --out FILE
 *   rectification verify --finding F --accept|--reject --note TEXT [--by NAME]
 *   rectification list [--site ID] [--overdue] [--all]
 * Each opens the store, does one thing in one transaction, prints text or
 * --json. What a checklist or a decision sends to sites goes through the
 * downstream logs (publish.c); the daemon delivers it. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "cli.h"
#include "qa.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/* Options shared by the qa and rectification sub-commands. */
struct qa_args {
	const char *data, *site, *out, *finding, *note, *by;
	const char *version_text, *days_text[4];
	const char *positional[2];
	size_t n_positional;
	bool json, open, overdue, all, accept, reject;
	int version;
	int decision; /* 1 accept, -1 reject */
	long days[4]; /* plan, critical, major, minor; -1 unset */
};

/* One table for all: a command names the options it takes (OPT_BIT mask)
 * and is refused the others. */
enum {
	OPT_DATA,
	OPT_JSON,
	OPT_SITE,
	OPT_OPEN,
	OPT_OUT,
	OPT_VERSION,
	OPT_FINDING,
	OPT_ACCEPT,
	OPT_REJECT,
	OPT_NOTE,
	OPT_BY,
	OPT_OVERDUE,
	OPT_ALL,
	OPT_PLAN_DAYS,
	OPT_CRITICAL_DAYS,
	OPT_MAJOR_DAYS,
	OPT_MINOR_DAYS,
	OPT_COUNT,
};

#define OPT_BIT(opt) (1u << (opt))
#define QA_STRING(name, field) CLI_STRING(name, struct qa_args, field)
#define QA_FLAG(name, field) CLI_FLAG(name, struct qa_args, field)

static const struct cli_option qa_options[OPT_COUNT] = {
	[OPT_DATA] = QA_STRING("data", data),
	[OPT_JSON] = QA_FLAG("json", json),
	[OPT_SITE] = QA_STRING("site", site),
	[OPT_OPEN] = QA_FLAG("open", open),
	[OPT_OUT] = QA_STRING("out", out),
	[OPT_VERSION] = QA_STRING("version", version_text),
	[OPT_FINDING] = QA_STRING("finding", finding),
	[OPT_ACCEPT] = QA_FLAG("accept", accept),
	[OPT_REJECT] = QA_FLAG("reject", reject),
	[OPT_NOTE] = QA_STRING("note", note),
	[OPT_BY] = QA_STRING("by", by),
	[OPT_OVERDUE] = QA_FLAG("overdue", overdue),
	[OPT_ALL] = QA_FLAG("all", all),
	[OPT_PLAN_DAYS] = QA_STRING("plan-days", days_text[0]),
	[OPT_CRITICAL_DAYS] = QA_STRING("critical-days", days_text[1]),
	[OPT_MAJOR_DAYS] = QA_STRING("major-days", days_text[2]),
	[OPT_MINOR_DAYS] = QA_STRING("minor-days", days_text[3]),
};

/* Parses argv (argv[0] is the command's name). allowed: OPT_BIT mask of
 * its options (--data, --json and --help always); max_positional the
 * positional arguments. Returns 0, 1 after --help, or a CLI exit code. */
static int parse_args(int argc, char **argv, unsigned allowed, size_t max_positional,
		      const char *usage, struct qa_args *args)
{
	memset(args, 0, sizeof *args);
	int rc = cli_parse(argc, argv, qa_options, OPT_COUNT, args, usage, args->positional,
			   max_positional, &args->n_positional);
	if (rc != 0)
		return rc;
	allowed |= OPT_BIT(OPT_DATA) | OPT_BIT(OPT_JSON);
	rc = cli_only_options(qa_options, OPT_COUNT, args, allowed);
	if (rc != 0)
		return rc;
	if (args->accept && args->reject)
		return cli_usage("give one of --accept or --reject");
	args->decision = args->accept ? 1 : args->reject ? -1 : 0;
	uint64_t value = 0;
	if (args->version_text != NULL) {
		if (parse_u64(args->version_text, 1, UINT32_MAX, &value) != 0)
			return cli_usage("--version must be a checklist version (1, 2, ...)");
		args->version = (int)value;
	}
	for (int i = 0; i < 4; i++) {
		args->days[i] = -1;
		if (args->days_text[i] == NULL)
			continue;
		if (parse_u64(args->days_text[i], 1, QA_MAX_DAYS, &value) != 0)
			return cli_usage("days must be a whole number from 1 to %d (got \"%s\")",
					 QA_MAX_DAYS, args->days_text[i]);
		args->days[i] = (long)value;
	}
	if (args->data == NULL)
		return cli_usage("--data DIR is required");
	return 0;
}

static sqlite3 *open_store(const char *data)
{
	char err[512];
	sqlite3 *db = NULL;
	if (hq_store_open(data, &db, err, sizeof err) != 0) {
		cli_fail("%s", err);
		return NULL;
	}
	return db;
}

static const char *default_actor(void)
{
	const char *user = getenv("USER");
	return (user != NULL && *user != '\0') ? user : "HQ";
}

/*---- qa checklist ----------------------------------------------------------*/

static json_t *checklist_json(const Innsync__Checklist *checklist)
{
	json_t *items = json_array();
	for (size_t i = 0; i < checklist->n_items; i++) {
		const Innsync__ChecklistItem *item = checklist->items[i];
		json_array_append_new(items,
				      json_pack("{s:s, s:s, s:s, s:I}", "code", item->code,
						"category", item->category, "text", item->text,
						"weight", (json_int_t)item->weight));
	}
	uint32_t weights[QA_CATEGORY_COUNT];
	qa_checklist_weights(checklist, weights);
	json_t *by_category = json_object();
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		json_object_set_new(by_category, qa_category_name(c), json_integer(weights[c]));
	return json_pack("{s:s, s:I, s:o, s:o, s:o}", "name", checklist->name, "version",
			 (json_int_t)checklist->version, "published_at",
			 cli_json_time(checklist->published_at_ms), "category_weights", by_category,
			 "items", items);
}

/* Stores the checklist as the next version and publishes it to every site. */
static int checklist_publish(sqlite3 *db, Innsync__Checklist *checklist, int *sites, char *err,
			     size_t errlen)
{
	long long latest = 0;
	if (store_query_int64(db, "SELECT COALESCE(max(version), 0) FROM qa_checklists", 0,
			      &latest) != 0) {
		snprintf(err, errlen, "cannot read the checklists");
		return -1;
	}
	checklist->version = (uint32_t)latest + 1;
	checklist->published_at_ms = now_ms();
	uint8_t *bytes = NULL;
	size_t len = 0;
	sqlite3_stmt *stmt = NULL;
	int rc = -1;
	if (wire_pack(&checklist->base, &bytes, &len) != 0 ||
	    store_prepare(db,
			  "INSERT INTO qa_checklists (version, name, items, body, published_at)"
			  " VALUES (?,?,?,?,?)",
			  &stmt) != 0) {
		snprintf(err, errlen, "cannot store the checklist");
		goto done;
	}
	sqlite3_bind_int64(stmt, 1, checklist->version);
	sqlite3_bind_text(stmt, 2, checklist->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)checklist->n_items);
	sqlite3_bind_blob(stmt, 4, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, checklist->published_at_ms);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		snprintf(err, errlen, "cannot store the checklist: %s", sqlite3_errmsg(db));
		goto done;
	}
	Innsync__DownBody down = INNSYNC__DOWN_BODY__INIT;
	down.kind = INNSYNC__DOWN_KIND__DOWN_KIND_CHECKLIST;
	down.published_at_ms = checklist->published_at_ms;
	down.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_CHECKLIST;
	down.checklist = checklist;
	rc = hq_publication_put(db, HQ_QA_CHECKLIST_PUBLICATION, "{\"all\": true}", &down, true,
				sites, err, errlen);
done:
	sqlite3_finalize(stmt);
	free(bytes);
	return rc;
}

static int checklist_set(int argc, char **argv)
{
	struct qa_args args;
	int rc =
	    parse_args(argc, argv, 0, 1,
		       "usage: innsync-hq qa checklist set --data DIR FILE.json [--json]\n"
		       "Publishes a QA checklist to every site (and every site added later)\n"
		       "as its next version. FILE: {\"name\": \"...\", \"items\": [{\"code\":\n"
		       "\"HY-01\", \"category\": \"hygiene\", \"text\": \"...\", \"weight\": 2}]}\n"
		       "(categories: service, hygiene, safety, hardware, conduct; weight 1-100).\n",
		       &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	if (args.n_positional != 1)
		return cli_usage("qa checklist set needs the checklist FILE.json");
	char *text = NULL, err[512];
	size_t len = 0;
	if (read_file_bounded(args.positional[0], QA_MAX_FILE_BYTES, &text, &len, err,
			      sizeof err) != 0)
		return cli_fail("%s", err);
	Innsync__Checklist *checklist = NULL;
	rc = qa_checklist_from_json(text, len, &checklist, err, sizeof err);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s", args.positional[0], err);
	sqlite3 *db = open_store(args.data);
	int sites = 0;
	rc = CLI_FAIL;
	if (db != NULL && store_begin(db) == 0) {
		if (checklist_publish(db, checklist, &sites, err, sizeof err) == 0 &&
		    store_commit(db) == 0)
			rc = CLI_OK;
		else
			store_rollback(db);
		if (rc != CLI_OK)
			cli_fail("%s", err);
	}
	sqlite3_close(db);
	if (rc == CLI_OK && args.json) {
		json_t *out = checklist_json(checklist);
		json_object_set_new(out, "sites", json_integer(sites));
		rc = cli_print_json(out);
	} else if (rc == CLI_OK) {
		printf("checklist \"%s\" version %u published (%zu items) to %d sites\n",
		       checklist->name, checklist->version, checklist->n_items, sites);
	}
	innsync__checklist__free_unpacked(checklist, NULL);
	return rc;
}

static int checklist_show(int argc, char **argv)
{
	struct qa_args args;
	unsigned allowed = OPT_BIT(OPT_VERSION);
	int rc =
	    parse_args(argc, argv, allowed, 0,
		       "usage: innsync-hq qa checklist show --data DIR [--version N] [--json]\n"
		       "Shows the latest (or given) checklist version with its weights.\n",
		       &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	Innsync__Checklist *checklist = hq_qa_checklist_load(db, (uint32_t)args.version);
	sqlite3_close(db);
	if (checklist == NULL && args.version > 0)
		return cli_fail("no checklist version %d", args.version);
	if (checklist == NULL)
		return cli_fail("no checklist yet (innsync-hq qa checklist set FILE.json)");
	json_t *out = checklist_json(checklist);
	wire_free((ProtobufCMessage *)checklist);
	if (args.json)
		return cli_print_json(out);
	printf("checklist \"%s\" version %lld, published %s\n",
	       json_string_value(json_object_get(out, "name")),
	       (long long)json_integer_value(json_object_get(out, "version")),
	       json_string_value(json_object_get(out, "published_at")));
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(out, "items"), i, item)
	{
		printf("  %-8s %-9s %3lld  %s\n", json_string_value(json_object_get(item, "code")),
		       json_string_value(json_object_get(item, "category")),
		       (long long)json_integer_value(json_object_get(item, "weight")),
		       json_string_value(json_object_get(item, "text")));
	}
	json_decref(out);
	return CLI_OK;
}

static int qa_checklist(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return checklist_set(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return checklist_show(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq qa checklist set --data DIR FILE.json [--json]\n"
		       "       innsync-hq qa checklist show --data DIR [--version N] [--json]\n");
		return CLI_OK;
	}
	return cli_usage("qa checklist takes set or show");
}

/*---- qa settings -----------------------------------------------------------*/

static int qa_settings(int argc, char **argv)
{
	struct qa_args args;
	unsigned allowed = OPT_BIT(OPT_PLAN_DAYS) | OPT_BIT(OPT_CRITICAL_DAYS) |
			   OPT_BIT(OPT_MAJOR_DAYS) | OPT_BIT(OPT_MINOR_DAYS);
	int rc = parse_args(
	    argc, argv, allowed, 0,
	    "usage: innsync-hq qa settings --data DIR [--plan-days N] [--critical-days N]\n"
	    "                              [--major-days N] [--minor-days N] [--json]\n"
	    "Shows or changes the deadlines HQ gives sites for inspections received from\n"
	    "now on: the rectification plan (default 7 days after HQ receives the\n"
	    "inspection) and each finding by severity (critical 3, major 14, minor 30).\n",
	    &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	struct qa_deadlines d;
	bool change = false;
	rc = CLI_OK;
	if (store_begin(db) != 0 || hq_qa_deadlines_load(db, &d) != 0)
		rc = cli_fail("cannot read the QA settings");
	uint32_t *fields[4] = {&d.plan_days, &d.severity_days[QA_CRITICAL],
			       &d.severity_days[QA_MAJOR], &d.severity_days[QA_MINOR]};
	for (int i = 0; i < 4 && rc == CLI_OK; i++) {
		if (args.days[i] > 0) {
			*fields[i] = (uint32_t)args.days[i];
			change = true;
		}
	}
	if (rc == CLI_OK && change && hq_qa_deadlines_save(db, &d) != 0)
		rc = cli_fail("cannot store the QA settings");
	if (rc == CLI_OK && store_commit(db) != 0)
		rc = cli_fail("cannot store the QA settings");
	if (rc != CLI_OK)
		store_rollback(db);
	sqlite3_close(db);
	if (rc != CLI_OK)
		return rc;
	if (args.json)
		return cli_print_json(json_pack("{s:I, s:I, s:I, s:I}", "plan_days",
					    (json_int_t)d.plan_days, "critical_days",
					    (json_int_t)d.severity_days[QA_CRITICAL], "major_days",
					    (json_int_t)d.severity_days[QA_MAJOR], "minor_days",
					    (json_int_t)d.severity_days[QA_MINOR]));
	printf("rectification plan due %u days after HQ receives an inspection\n"
	       "findings due after: critical %u days, major %u, minor %u\n",
	       d.plan_days, d.severity_days[QA_CRITICAL], d.severity_days[QA_MAJOR],
	       d.severity_days[QA_MINOR]);
	return CLI_OK;
}

/*---- qa list, qa show ------------------------------------------------------*/

static int qa_list(int argc, char **argv)
{
	struct qa_args args;
	unsigned allowed = OPT_BIT(OPT_SITE) | OPT_BIT(OPT_OPEN);
	int rc = parse_args(argc, argv, allowed, 0,
			    "usage: innsync-hq qa list --data DIR [--site ID] [--open] [--json]\n"
			    "Lists QA inspections received: overall score, findings open and\n"
			    "overdue, photos arrived. --open: only those with a finding not yet\n"
			    "verified.\n",
			    &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	json_t *list = hq_qa_list_json(db, args.site, args.open, now_ms());
	sqlite3_close(db);
	if (args.json)
		return cli_print_json(list);
	printf("%-28s %-8s %-16s %-9s %-20s %7s %5s %7s %s\n", "INSPECTION", "SITE", "INSPECTOR",
	       "TYPE", "RECEIVED", "OVERALL", "OPEN", "OVERDUE", "PHOTOS");
	size_t i;
	json_t *row;
	json_array_foreach(list, i, row)
	{
		char overall[16] = "-";
		json_t *score = json_object_get(row, "overall_score");
		if (json_is_number(score))
			snprintf(overall, sizeof overall, "%.1f", json_number_value(score));
		printf("%-28s %-8s %-16.16s %-9s %-20s %7s %5lld %7lld %lld/%lld\n",
		       json_string_value(json_object_get(row, "id")),
		       json_string_value(json_object_get(row, "site")),
		       json_string_value(json_object_get(row, "inspector")),
		       json_string_value(json_object_get(row, "type")),
		       json_string_value(json_object_get(row, "received_at")), overall,
		       (long long)json_integer_value(json_object_get(row, "open_findings")),
		       (long long)json_integer_value(json_object_get(row, "overdue_findings")),
		       (long long)json_integer_value(json_object_get(row, "photos_arrived")),
		       (long long)json_integer_value(json_object_get(row, "photos")));
	}
	json_decref(list);
	return CLI_OK;
}

static int qa_show(int argc, char **argv)
{
	struct qa_args args;
	int rc =
	    parse_args(argc, argv, 0, 1,
		       "usage: innsync-hq qa show --data DIR INSPECTION [--json]\n"
		       "Shows an inspection: category scores and the weighted overall score,\n"
		       "each finding with its deadline, state (open, planned, done, verified,\n"
		       "reopened), overdue flag, photos (SHA-256, size, arrived or not), the\n"
		       "site's plan and completion, and HQ's decision.\n",
		       &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	if (args.n_positional != 1)
		return cli_usage("qa show needs an INSPECTION id");
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	char err[512];
	json_t *view = hq_qa_inspection_json(db, args.positional[0], now_ms(), err, sizeof err);
	sqlite3_close(db);
	if (view == NULL)
		return cli_fail("%s", err);
	if (args.json)
		return cli_print_json(view);
	hq_qa_print_inspection(view);
	json_decref(view);
	return CLI_OK;
}

/*---- qa photo --------------------------------------------------------------*/


struct photo_row {
	uint8_t sha256[SHA256_LEN];
	int64_t size, received;
	char mime[32];
	char finding[QA_MAX_FINDING_ID + 1];
	bool complete;
};

/* 1 found, 0 not. */
static int photo_lookup(sqlite3 *db, const char *inspection, int64_t n, struct photo_row *out)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(
		db,
		"SELECT p.sha256, p.size, p.mime, p.finding, COALESCE(a.state = 'complete', 0),"
		" COALESCE(a.bytes_received, 0) FROM qa_photos p LEFT JOIN attachments a"
		" ON a.sha256 = p.sha256 WHERE p.inspection = ? AND p.n = ?",
		&stmt) != 0)
		return 0;
	sqlite3_bind_text(stmt, 1, inspection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, n);
	int found = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) == SHA256_LEN) {
		memcpy(out->sha256, sqlite3_column_blob(stmt, 0), SHA256_LEN);
		out->size = sqlite3_column_int64(stmt, 1);
		copy_string(out->mime, sizeof out->mime,
			    (const char *)sqlite3_column_text(stmt, 2));
		copy_string(out->finding, sizeof out->finding,
			    (const char *)sqlite3_column_text(stmt, 3));
		out->complete = sqlite3_column_int(stmt, 4) != 0;
		out->received = sqlite3_column_int64(stmt, 5);
		found = 1;
	}
	sqlite3_finalize(stmt);
	return found;
}

static int qa_photo(int argc, char **argv)
{
	struct qa_args args;
	unsigned allowed = OPT_BIT(OPT_OUT);
	int rc =
	    parse_args(argc, argv, allowed, 2,
		       "usage: innsync-hq qa photo --data DIR INSPECTION N --out FILE [--json]\n"
		       "Writes photo N of an inspection (numbers as in qa show: the\n"
		       "findings' photos 1, 2, ..., then the sites' evidence) to FILE,\n"
		       "after checking it against its SHA-256.\n",
		       &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	uint64_t n = 0;
	if (args.n_positional != 2 || args.out == NULL)
		return cli_usage("qa photo needs INSPECTION N and --out FILE");
	if (parse_u64(args.positional[1], 1, 100000, &n) != 0)
		return cli_usage("N must be a photo number (1, 2, ...), got \"%s\"",
				 args.positional[1]);
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	struct photo_row photo;
	int found = photo_lookup(db, args.positional[0], (int64_t)n, &photo);
	sqlite3_close(db);
	if (!found)
		return cli_fail("inspection %s has no photo %llu (see innsync-hq qa show %s)",
				args.positional[0], (unsigned long long)n, args.positional[0]);
	if (!photo.complete)
		return cli_fail("photo %llu of %s has not arrived at HQ yet (%lld of %lld bytes "
				"received); the inspector's agent uploads it when online",
				(unsigned long long)n, args.positional[0],
				(long long)photo.received, (long long)photo.size);
	char path[4096], err[512], hex[2 * SHA256_LEN + 1];
	if (hq_blob_path(args.data, photo.sha256, path, sizeof path) != 0 ||
	    blob_copy_verified(path, photo.sha256, args.out, err, sizeof err) != 0)
		return cli_fail("photo %llu of %s: %s", (unsigned long long)n, args.positional[0],
				err);
	hex_encode(photo.sha256, SHA256_LEN, hex);
	if (args.json)
		return cli_print_json(json_pack(
		    "{s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "inspection", args.positional[0], "n",
		    (json_int_t)n, "finding", photo.finding, "sha256", hex, "size",
		    (json_int_t)photo.size, "mime", photo.mime, "out", args.out));
	printf("wrote %s (%lld bytes, %s, sha256 %s)\n", args.out, (long long)photo.size,
	       photo.mime, hex);
	return CLI_OK;
}

int hq_cmd_qa(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
	    {"checklist", qa_checklist}, {"settings", qa_settings}, {"list", qa_list},
	    {"show", qa_show},		 {"photo", qa_photo},
	};
	for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq qa checklist set|show ...   the QA checklist\n"
		       "       innsync-hq qa settings ...             deadlines given to sites\n"
		       "       innsync-hq qa list [--site ID] [--open]\n"
		       "       innsync-hq qa show INSPECTION\n"
		       "       innsync-hq qa photo INSPECTION N --out FILE\n"
		       "Each takes --data DIR and --json; add --help for details.\n");
		return CLI_OK;
	}
	return cli_usage("qa takes checklist, settings, list, show or photo");
}

/*---- rectification ---------------------------------------------------------*/

struct finding_state {
	char site[64];
	char inspection[QA_MAX_ID + 1];
	enum qa_state state;
	int severity;
	int64_t due;
	uint32_t plan_revision, done_revision;
};

static int finding_load(sqlite3 *db, const char *id, struct finding_state *out)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(
		db,
		"SELECT site, inspection, state, severity, due, plan_revision, done_revision"
		" FROM qa_findings WHERE id = ?",
		&stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	int found = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		copy_string(out->site, sizeof out->site,
			    (const char *)sqlite3_column_text(stmt, 0));
		copy_string(out->inspection, sizeof out->inspection,
			    (const char *)sqlite3_column_text(stmt, 1));
		int state = qa_state_parse((const char *)sqlite3_column_text(stmt, 2));
		out->state = state >= 0 ? (enum qa_state)state : QA_OPEN;
		out->severity = qa_severity_parse((const char *)sqlite3_column_text(stmt, 3));
		out->due = sqlite3_column_int64(stmt, 4);
		out->plan_revision = (uint32_t)sqlite3_column_int64(stmt, 5);
		out->done_revision = (uint32_t)sqlite3_column_int64(stmt, 6);
		found = 1;
	}
	sqlite3_finalize(stmt);
	return found;
}

/* Stores the decision (state, history) and sends it down to the site. */
static int decide(sqlite3 *db, const struct qa_args *args, const struct finding_state *f,
		  enum qa_state next, Innsync__RectificationDecision *decision)
{
	sqlite3_stmt *update = NULL, *event = NULL;
	int rc = -1;
	if (store_prepare(db,
			  "UPDATE qa_findings SET state = ?, due = ?, updated_at = ? WHERE id = ?",
			  &update) != 0 ||
	    store_prepare(db,
			  "INSERT INTO qa_events (finding, at, event, revision, actor, note, due)"
			  " VALUES (?,?,?,?,?,?,?)",
			  &event) != 0)
		goto done;
	sqlite3_bind_text(update, 1, qa_state_name(next), -1, SQLITE_STATIC);
	sqlite3_bind_int64(update, 2, decision->due_ms);
	sqlite3_bind_int64(update, 3, decision->decided_at_ms);
	sqlite3_bind_text(update, 4, args->finding, -1, SQLITE_STATIC);
	sqlite3_bind_text(event, 1, args->finding, -1, SQLITE_STATIC);
	sqlite3_bind_int64(event, 2, decision->decided_at_ms);
	sqlite3_bind_text(event, 3, decision->accepted ? "accept" : "reject", -1, SQLITE_STATIC);
	sqlite3_bind_int64(event, 4, f->done_revision);
	sqlite3_bind_text(event, 5, decision->decided_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(event, 6, decision->note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(event, 7, decision->due_ms);
	if (sqlite3_step(update) != SQLITE_DONE || sqlite3_step(event) != SQLITE_DONE)
		goto done;
	Innsync__DownBody down = INNSYNC__DOWN_BODY__INIT;
	down.kind = INNSYNC__DOWN_KIND__DOWN_KIND_RECTIFICATION_DECISION;
	down.published_at_ms = decision->decided_at_ms;
	down.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_RECTIFICATION_DECISION;
	down.rectification_decision = decision;
	rc = hq_publish_to_site(db, f->site, &down, NULL);
done:
	sqlite3_finalize(update);
	sqlite3_finalize(event);
	return rc;
}

static int rectification_verify(int argc, char **argv)
{
	struct qa_args args;
	unsigned allowed = OPT_BIT(OPT_FINDING) | OPT_BIT(OPT_ACCEPT) | OPT_BIT(OPT_REJECT) |
			   OPT_BIT(OPT_NOTE) | OPT_BIT(OPT_BY);
	int rc = parse_args(
	    argc, argv, allowed, 0,
	    "usage: innsync-hq rectification verify --data DIR --finding F --accept|--reject\n"
	    "                                       --note TEXT [--by NAME] [--json]\n"
	    "HQ's decision on a site's rectification: --accept closes a done finding\n"
	    "(verified); --reject reopens a done or verified finding with a new deadline\n"
	    "by its severity. The decision goes down to the site.\n",
	    &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	if (args.finding == NULL || args.decision == 0 || args.note == NULL)
		return cli_usage("rectification verify needs --finding F, --accept or --reject, "
				 "and --note TEXT");
	if (args.note[0] == '\0' || strlen(args.note) > QA_MAX_TEXT)
		return cli_usage("--note: 1 to %d bytes", QA_MAX_TEXT);
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	struct finding_state f;
	struct qa_deadlines deadlines;
	enum qa_state next = QA_OPEN;
	char err[256];
	rc = CLI_FAIL;
	Innsync__RectificationDecision decision = INNSYNC__RECTIFICATION_DECISION__INIT;
	if (store_begin(db) != 0) {
		cli_fail("HQ's store is busy; try again");
		goto done;
	}
	int found = finding_load(db, args.finding, &f);
	if (found != 1) {
		store_rollback(db);
		cli_fail(found == 0 ? "no finding %s at HQ (see innsync-hq qa show INSPECTION)"
				    : "cannot read finding %s",
			 args.finding);
		goto done;
	}
	if (qa_state_next(f.state, args.decision > 0 ? QA_EVENT_ACCEPT : QA_EVENT_REJECT, &next,
			  err, sizeof err) != 0) {
		store_rollback(db);
		cli_fail("finding %s: %s", args.finding, err);
		goto done;
	}
	hq_qa_deadlines_load(db, &deadlines);
	decision.finding = (char *)args.finding;
	decision.inspection = f.inspection;
	decision.accepted = args.decision > 0;
	decision.note = (char *)args.note;
	decision.decided_by = (char *)(args.by ? args.by : default_actor());
	decision.decided_at_ms = now_ms();
	decision.plan_revision = f.plan_revision;
	decision.done_revision = f.done_revision;
	/* the deadline in force after the decision: a reopened finding gets a new one */
	decision.due_ms = decision.accepted
			      ? f.due
			      : qa_finding_due(&deadlines, f.severity, decision.decided_at_ms);
	if (decide(db, &args, &f, next, &decision) != 0 || store_commit(db) != 0) {
		store_rollback(db);
		cli_fail("cannot store the decision: %s", sqlite3_errmsg(db));
		goto done;
	}
	rc = CLI_OK;
	if (args.json)
		rc = cli_print_json(json_pack(
		    "{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o}", "finding", args.finding,
		    "inspection", f.inspection, "site", f.site, "state", qa_state_name(next),
		    "accepted", (int)decision.accepted, "note", args.note, "by",
		    decision.decided_by, "at", cli_json_time(decision.decided_at_ms), "due",
		    cli_json_time(decision.due_ms)));
	else
		printf("finding %s %s; the decision goes down to site %s\n", args.finding,
		       decision.accepted ? "verified (closed)" : "reopened", f.site);
done:
	sqlite3_close(db);
	return rc;
}

static int rectification_list(int argc, char **argv)
{
	struct qa_args args;
	unsigned allowed = OPT_BIT(OPT_SITE) | OPT_BIT(OPT_OVERDUE) | OPT_BIT(OPT_ALL);
	int rc =
	    parse_args(argc, argv, allowed, 0,
		       "usage: innsync-hq rectification list --data DIR [--site ID] [--overdue]\n"
		       "                                     [--all] [--json]\n"
		       "Findings awaiting the sites or HQ, overdue first (--all: closed too).\n",
		       &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	sqlite3 *db = open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	json_t *list = hq_qa_findings_json(db, args.site, args.all, args.overdue, now_ms());
	sqlite3_close(db);
	if (args.json)
		return cli_print_json(list);
	printf("%-32s %-8s %-9s %-8s %-9s %-20s %s\n", "FINDING", "SITE", "CATEGORY", "SEVERITY",
	       "STATE", "DUE", "");
	size_t i;
	json_t *row;
	json_array_foreach(list, i, row)
	{
		printf("%-32s %-8s %-9s %-8s %-9s %-20s %s\n",
		       json_string_value(json_object_get(row, "id")),
		       json_string_value(json_object_get(row, "site")),
		       json_string_value(json_object_get(row, "category")),
		       json_string_value(json_object_get(row, "severity")),
		       json_string_value(json_object_get(row, "state")),
		       json_string_value(json_object_get(row, "due")),
		       json_is_true(json_object_get(row, "overdue")) ? "OVERDUE" : "");
	}
	json_decref(list);
	return CLI_OK;
}

int hq_cmd_rectification(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return rectification_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return rectification_list(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq rectification verify --data DIR --finding F "
		       "--accept|--reject --note TEXT\n"
		       "       innsync-hq rectification list --data DIR [--site ID] [--overdue] "
		       "[--all]\n");
		return CLI_OK;
	}
	return cli_usage("rectification takes verify or list");
}
