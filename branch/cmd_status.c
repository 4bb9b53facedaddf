/* cmd_status: `innsync-branch status`: what the site has queued, what HQ
 * acknowledged or refused (with its reasons), last contact, and what HQ
 * sent down. Reads the agent's store only. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "branch.h"
#include "cli.h"
#include "store.h"
#include "util.h"

static long long count_state(sqlite3 *db, const char *state)
{
	sqlite3_stmt *stmt = NULL;
	long long count = 0;
	if (store_prepare(db, "SELECT count(*) FROM outbox WHERE state = ?", &stmt) != 0)
		return 0;
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		count = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return count;
}

static json_t *refused_list(sqlite3 *db)
{
	json_t *list = json_array();
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT seq, record_id, revision, reason, acked_at FROM outbox"
			  " WHERE state = 'refused' ORDER BY seq",
			  &stmt) != 0)
		return list;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		json_array_append_new(
			list, json_pack("{s:I, s:s, s:I, s:s, s:o}", "record",
					(json_int_t)sqlite3_column_int64(stmt, 0), "record_id",
					(const char *)sqlite3_column_text(stmt, 1), "revision",
					(json_int_t)sqlite3_column_int64(stmt, 2), "reason",
					(const char *)sqlite3_column_text(stmt, 3), "refused_at",
					cli_json_time(sqlite3_column_int64(stmt, 4))));
	}
	sqlite3_finalize(stmt);
	return list;
}

int branch_cmd_status(int argc, char **argv)
{
	struct status_args {
		const char *data;
		bool json;
	} args = { 0 };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct status_args, data),
		CLI_FLAG("json", struct status_args, json),
	};
	int parsed = cli_parse(argc, argv, options, 2, &args,
			       "usage: innsync-branch status --data DIR [--json]\n"
			       "Shows records pending, acknowledged and refused by HQ (with\n"
			       "reasons), last contact with HQ and items received from HQ.\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data;
	bool json = args.json;
	if (data == NULL)
		return cli_usage("--data DIR is required");
	char err[512];
	sqlite3 *db = NULL;
	struct branch_identity id;
	if (branch_store_open(data, &db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	if (branch_identity_load(db, &id, err, sizeof err) != 0) {
		sqlite3_close(db);
		return cli_fail("%s", err);
	}
	long long last_contact = 0, downstream = 0, acked = 0;
	branch_config_get_int(db, "last_contact", &last_contact);
	branch_config_get_int(db, "acked", &acked);
	store_query_int64(db, "SELECT count(*) FROM inbox", 0, &downstream);
	long long pending = count_state(db, "pending");
	long long acknowledged = count_state(db, "acknowledged");
	json_t *refused = refused_list(db);
	sqlite3_close(db);
	if (json) {
		return cli_print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:I, s:I}", "agent", id.agent_id,
			"role", id.role, "site", id.first_site, "hq", id.hq_sync, "pending",
			(json_int_t)pending, "acknowledged", (json_int_t)acknowledged, "refused",
			refused, "last_contact", cli_json_time(last_contact), "downstream",
			(json_int_t)downstream, "hq_acked_seq", (json_int_t)acked));
	}
	char when[32] = "never";
	if (last_contact > 0)
		format_iso8601(last_contact, when, sizeof when);
	printf("agent %s (%s) for %s, HQ %s\n", id.agent_id, id.role, id.first_site, id.hq_sync);
	printf("last contact with HQ: %s\n", when);
	printf("records: %lld pending, %lld acknowledged, %zu refused\n", pending, acknowledged,
	       json_array_size(refused));
	size_t index;
	json_t *item;
	json_array_foreach(refused, index, item) {
		printf("  refused record %lld (%s rev %lld): %s\n",
		       (long long)json_integer_value(json_object_get(item, "record")),
		       json_string_value(json_object_get(item, "record_id")),
		       (long long)json_integer_value(json_object_get(item, "revision")),
		       json_string_value(json_object_get(item, "reason")));
	}
	printf("received from HQ: %lld items\n", downstream);
	json_decref(refused);
	return CLI_OK;
}
