/* cmd_submit: `innsync-branch submit sales` (validate a report file, store
 * it as a signed record in the outbox) and the test aids `debug bulk` and
 * `debug forge`, which write through the very same outbox path. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "branch.h"
#include "cli.h"
#include "sales_report.h"
#include "store.h"
#include "util.h"

struct submit_args {
	const char *data;
	const char *file;
	const char *reason;
	const char *author;
	const char *site;      /* debug forge: the site the record claims */
	const char *count_text; /* debug bulk */
	uint64_t count;
	bool json;
};

static const char *default_author(void)
{
	const char *user = getenv("USER");
	return (user != NULL && *user != '\0') ? user : "branch manager";
}

/* Opens the agent's store, identity and key. */
static int open_agent(const char *data, sqlite3 **db, struct branch_identity *id,
		      signing_key **key)
{
	char err[512];
	if (data == NULL)
		return cli_usage("--data DIR is required");
	if (branch_store_open(data, db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	if (branch_identity_load(*db, id, err, sizeof err) != 0) {
		sqlite3_close(*db);
		return cli_fail("%s", err);
	}
	if (branch_signing_key_load(data, key) != 0) {
		sqlite3_close(*db);
		return cli_fail("cannot read the agent's signing key in %s/keys", data);
	}
	return CLI_OK;
}

/* Reads and validates a report file. On success *report is owned by the
 * caller. */
static int load_report(const char *path, const char *site_kind, Innsync__SalesReport **report,
		       char *warning, size_t warnlen)
{
	char *text = NULL, err[512];
	size_t len = 0;
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > SALES_REPORT_MAX_FILE_BYTES)
		return cli_fail("%s: file is larger than %d bytes", path, SALES_REPORT_MAX_FILE_BYTES);
	if (read_file_bounded(path, SALES_REPORT_MAX_FILE_BYTES, &text, &len, err, sizeof err) != 0)
		return cli_fail("%s", err);
	int rc = sales_report_from_json(text, len, site_kind, report, err, sizeof err, warning,
					warnlen);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s", path, err);
	return CLI_OK;
}

static int append_report(sqlite3 *db, const struct branch_identity *id, const signing_key *key,
			 const char *site, Innsync__SalesReport *report, const char *author,
			 const char *reason, uint64_t *seq, unsigned *revision)
{
	char record_id[128];
	snprintf(record_id, sizeof record_id, "sales/%s/%s", site, report->period);
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_SALES_REPORT;
	body.sales_report = report;
	struct outbox_entry entry = {
		.record_id = record_id,
		.kind = INNSYNC__RECORD_KIND__RECORD_KIND_SALES_REPORT,
		.site = site,
		.author = author,
		.reason = reason ? reason : "",
	};
	return outbox_append(db, id, key, &entry, &body, seq, revision);
}

static int parse_submit(int argc, char **argv, struct submit_args *args, const char *usage)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct submit_args, data),
		CLI_STRING("reason", struct submit_args, reason),
		CLI_STRING("author", struct submit_args, author),
		CLI_STRING("site", struct submit_args, site),
		CLI_STRING("count", struct submit_args, count_text),
		CLI_FLAG("json", struct submit_args, json),
	};
	size_t n_files = 0;
	int parsed = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			       &args->file, 1, &n_files);
	if (parsed != 0)
		return parsed;
	if (args->count_text != NULL && parse_u64(args->count_text, 1, 1000000, &args->count) != 0)
		return cli_usage("--count must be from 1 to 1000000");
	if (args->author == NULL)
		args->author = default_author();
	if (args->reason != NULL && strlen(args->reason) > 1000)
		return cli_usage("--reason is limited to 1000 bytes");
	return 0;
}

static int submit_sales(int argc, char **argv)
{
	struct submit_args args = { 0 };
	int parsed = parse_submit(
		argc, argv, &args,
		"usage: innsync-branch submit sales --data DIR FILE.json [--reason TEXT] [--author NAME]\n"
		"Validates a monthly sales report file and queues it, signed, for HQ.\n"
		"Returns at once: the agent (innsync-branch run) uploads it when HQ is\n"
		"reachable. A period submitted before becomes a new revision and needs\n"
		"--reason TEXT.\n");
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.file == NULL)
		return cli_usage("submit sales needs the report FILE.json");
	sqlite3 *db = NULL;
	struct branch_identity id;
	signing_key *key = NULL;
	int rc = open_agent(args.data, &db, &id, &key);
	if (rc != CLI_OK)
		return rc;
	Innsync__SalesReport *report = NULL;
	char warning[512] = "";
	if (strcmp(id.role, "branch") != 0) {
		rc = cli_fail("only a site's own agent submits sales reports (this is an inspector's)");
		goto done;
	}
	rc = load_report(args.file, id.site_kind, &report, warning, sizeof warning);
	if (rc != CLI_OK)
		goto done;
	char record_id[128];
	snprintf(record_id, sizeof record_id, "sales/%s/%s", id.first_site, report->period);
	if (store_begin(db) != 0) {
		rc = cli_fail("the agent's store is busy; try again");
		goto done;
	}
	unsigned previous = outbox_latest_revision(db, record_id);
	if (previous > 0 && (args.reason == NULL || args.reason[0] == '\0')) {
		store_rollback(db);
		rc = cli_fail("period %s was already submitted (revision %u); a correction needs "
			      "--reason TEXT",
			      report->period, previous);
		goto done;
	}
	uint64_t seq = 0;
	unsigned revision = 0;
	if (append_report(db, &id, key, id.first_site, report, args.author,
			  previous > 0 ? args.reason : "", &seq, &revision) != 0 ||
	    store_commit(db) != 0) {
		store_rollback(db);
		rc = cli_fail("cannot write the outbox in %s", args.data);
		goto done;
	}
	if (warning[0] != '\0')
		fprintf(stderr, "innsync-branch: warning: %s\n", warning);
	if (args.json) {
		rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "record", record_id,
					      "seq", (json_int_t)seq, "site", id.first_site, "period",
					      report->period, "revision", (json_int_t)revision,
					      "warning", warning));
	} else {
		printf("queued %s revision %u as record %llu\n", record_id, revision,
		       (unsigned long long)seq);
	}
done:
	if (report)
		innsync__sales_report__free_unpacked(report, NULL);
	signing_key_destroy(&key);
	sqlite3_close(db);
	return rc;
}

int branch_cmd_submit(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sales") == 0)
		return submit_sales(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-branch submit sales --data DIR FILE.json [--reason TEXT]\n");
		return CLI_OK;
	}
	return cli_usage("unknown submit kind (try: innsync-branch submit sales --help)");
}

/* debug bulk: COUNT revisions of one report, in transactions of 1,000. */
static int debug_bulk(int argc, char **argv)
{
	struct submit_args args = { 0 };
	int parsed = parse_submit(argc, argv, &args,
				  "usage: innsync-branch debug bulk --data DIR --count N FILE.json\n"
				  "Test aid: queues N revisions of the report through the outbox.\n");
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.file == NULL || args.count == 0)
		return cli_usage("debug bulk needs --count N and FILE.json");
	sqlite3 *db = NULL;
	struct branch_identity id;
	signing_key *key = NULL;
	int rc = open_agent(args.data, &db, &id, &key);
	if (rc != CLI_OK)
		return rc;
	Innsync__SalesReport *report = NULL;
	char warning[512];
	rc = load_report(args.file, id.site_kind, &report, warning, sizeof warning);
	uint64_t first = 0, seq = 0;
	for (uint64_t done = 0; rc == CLI_OK && done < args.count;) {
		if (store_begin(db) != 0) {
			rc = cli_fail("the agent's store is busy");
			break;
		}
		for (int i = 0; i < 1000 && done < args.count; i++, done++) {
			unsigned revision = 0;
			char reason[64];
			snprintf(reason, sizeof reason, "bulk revision %llu", (unsigned long long)done + 1);
			if (append_report(db, &id, key, id.first_site, report, args.author, reason, &seq,
					  &revision) != 0) {
				rc = cli_fail("cannot write the outbox");
				break;
			}
			if (first == 0)
				first = seq;
		}
		if (rc != CLI_OK || store_commit(db) != 0) {
			store_rollback(db);
			rc = CLI_FAIL;
		}
	}
	if (rc == CLI_OK) {
		if (args.json)
			rc = cli_print_json(json_pack("{s:I, s:I}", "first_seq", (json_int_t)first,
						      "last_seq", (json_int_t)seq));
		else
			printf("queued records %llu..%llu\n", (unsigned long long)first,
			       (unsigned long long)seq);
	}
	if (report)
		innsync__sales_report__free_unpacked(report, NULL);
	signing_key_destroy(&key);
	sqlite3_close(db);
	return rc;
}

/* debug forge: a correctly signed record that claims another site, for the
 * cross-site authorisation test. */
static int debug_forge(int argc, char **argv)
{
	struct submit_args args = { 0 };
	int parsed = parse_submit(argc, argv, &args,
				  "usage: innsync-branch debug forge --data DIR --site OTHER FILE.json\n"
				  "Test aid: queues a report that claims another site (HQ must refuse it).\n");
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.file == NULL || args.site == NULL)
		return cli_usage("debug forge needs --site OTHER and FILE.json");
	sqlite3 *db = NULL;
	struct branch_identity id;
	signing_key *key = NULL;
	int rc = open_agent(args.data, &db, &id, &key);
	if (rc != CLI_OK)
		return rc;
	Innsync__SalesReport *report = NULL;
	char warning[512];
	rc = load_report(args.file, NULL, &report, warning, sizeof warning);
	uint64_t seq = 0;
	unsigned revision = 0;
	if (rc == CLI_OK) {
		if (store_begin(db) != 0 ||
		    append_report(db, &id, key, args.site, report, args.author, "forged", &seq,
				  &revision) != 0 ||
		    store_commit(db) != 0) {
			store_rollback(db);
			rc = cli_fail("cannot write the outbox");
		} else {
			printf("queued forged record %llu for site %s\n", (unsigned long long)seq,
			       args.site);
		}
	}
	if (report)
		innsync__sales_report__free_unpacked(report, NULL);
	signing_key_destroy(&key);
	sqlite3_close(db);
	return rc;
}

int branch_cmd_debug(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "bulk") == 0)
		return debug_bulk(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "forge") == 0)
		return debug_forge(argc - 1, argv + 1);
	return cli_usage("debug takes bulk or forge (test aids)");
}
