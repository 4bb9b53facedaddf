/* cmd_admin: HQ staff commands that manage who takes part: init, site add,
 * sites, token, agents, revoke, alarms. Each opens the store, does one
 * thing, prints text or --json. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hq.h"
#include "store.h"
#include "util.h"

struct admin_args {
	const char *data;
	bool json;
};

static sqlite3 *open_or_fail(const char *data)
{
	char err[512];
	sqlite3 *db = NULL;
	if (data == NULL) {
		cli_usage("--data DIR is required");
		return NULL;
	}
	if (hq_store_open(data, &db, err, sizeof err) != 0) {
		cli_fail("%s", err);
		return NULL;
	}
	return db;
}

static const char *column_text(sqlite3_stmt *stmt, int column)
{
	const char *text = (const char *)sqlite3_column_text(stmt, column);
	return text != NULL ? text : "";
}

/* "A,B" -> ["A", "B"]. New reference. */
static json_t *split_list(const char *text)
{
	json_t *list = json_array();
	char copy[4096];
	copy_string(copy, sizeof copy, text);
	char *saveptr = NULL;
	for (char *item = strtok_r(copy, ",", &saveptr); item; item = strtok_r(NULL, ",", &saveptr))
		json_array_append_new(list, json_string(item));
	return list;
}

int hq_cmd_init(int argc, char **argv)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct admin_args, data),
		CLI_FLAG("json", struct admin_args, json),
	};
	struct admin_args args = { 0 };
	int parsed = cli_parse(argc, argv, options, 2, &args,
			       "usage: innsync-hq init --data DIR [--json]\n"
			       "Creates HQ's store and key pairs in DIR and prints HQ's public\n"
			       "CURVE key (give it to every site with its enrolment token).\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.data == NULL)
		return cli_usage("--data DIR is required");
	char key[64], err[512];
	if (hq_store_init(args.data, key, sizeof key, err, sizeof err) != 0)
		return cli_fail("%s", err);
	if (args.json)
		return cli_print_json(json_pack("{s:s, s:s}", "data", args.data, "hq_key", key));
	printf("HQ created in %s\nhq-key: %s\n", args.data, key);
	return CLI_OK;
}

static bool valid_site_id(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static int site_add(int argc, char **argv)
{
	struct site_args {
		const char *data, *id, *name, *kind, *city, *rooms, *region, *tier;
		bool json;
	} args = { .region = "", .tier = "" };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct site_args, data),   CLI_STRING("id", struct site_args, id),
		CLI_STRING("name", struct site_args, name),   CLI_STRING("kind", struct site_args, kind),
		CLI_STRING("city", struct site_args, city),   CLI_STRING("rooms", struct site_args, rooms),
		CLI_STRING("region", struct site_args, region), CLI_STRING("tier", struct site_args, tier),
		CLI_FLAG("json", struct site_args, json),
	};
	int parsed = cli_parse(argc, argv, options, sizeof options / sizeof options[0], &args,
			       "usage: innsync-hq site add --data DIR --id ID --name NAME\n"
			       "         --kind member|franchise|managed --city CITY --rooms N\n"
			       "         [--region R] [--tier T] [--json]\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data, *id = args.id, *name = args.name, *kind = args.kind;
	const char *city = args.city, *rooms_text = args.rooms, *region = args.region;
	const char *tier = args.tier;
	bool json = args.json;
	if (id == NULL || name == NULL || kind == NULL || city == NULL || rooms_text == NULL)
		return cli_usage("site add needs --id, --name, --kind, --city and --rooms");
	if (!valid_site_id(id))
		return cli_usage("--id: use 1-32 letters, digits, '-' or '_' (got \"%s\")", id);
	if (strcmp(kind, "member") != 0 && strcmp(kind, "franchise") != 0 &&
	    strcmp(kind, "managed") != 0)
		return cli_usage("--kind must be member, franchise or managed (got \"%s\")", kind);
	uint64_t rooms = 0;
	if (parse_u64(rooms_text, 1, 100000, &rooms) != 0)
		return cli_usage("--rooms must be a whole number from 1 to 100000 (got \"%s\")",
				 rooms_text);
	sqlite3 *db = open_or_fail(data);
	if (db == NULL)
		return CLI_FAIL;
	sqlite3_stmt *stmt = NULL;
	int rc = CLI_FAIL;
	if (store_prepare(db,
			  "INSERT INTO sites (id, name, kind, city, rooms, region, tier, created_at)"
			  " VALUES (?,?,?,?,?,?,?,?)",
			  &stmt) == 0) {
		const char *texts[] = { id, name, kind, city };
		for (int i = 0; i < 4; i++)
			sqlite3_bind_text(stmt, i + 1, texts[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 5, (sqlite3_int64)rooms);
		sqlite3_bind_text(stmt, 6, region, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 7, tier, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 8, now_ms());
		int step = store_begin(db) == 0 ? sqlite3_step(stmt) : SQLITE_ERROR;
		/* open training plans, the QA checklist...: the new site gets them too */
		if (step == SQLITE_DONE && hq_publications_backfill(db, id) == 0 &&
		    store_commit(db) == 0)
			rc = CLI_OK;
		else if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			cli_fail("site %s already exists", id);
		else if (step == SQLITE_DONE)
			cli_fail("cannot add site %s: %s", id, sqlite3_errmsg(db));
		else
			cli_fail("cannot add site %s: %s", id, sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		if (rc != CLI_OK)
			store_rollback(db);
	}
	sqlite3_close(db);
	if (rc != CLI_OK)
		return rc;
	if (json)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "id", id,
						"name", name, "kind", kind, "city", city, "rooms",
						(json_int_t)rooms, "region", region, "tier", tier));
	printf("site %s added (%s, %s, %s, %llu rooms)\n", id, name, kind, city,
	       (unsigned long long)rooms);
	return CLI_OK;
}

int hq_cmd_site(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return site_add(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-hq site add --data DIR --id ID ... (see site add --help)\n");
		return CLI_OK;
	}
	return cli_usage("unknown site command (try: innsync-hq site add --help)");
}

/* Parses --data and --json, the only options of the listing commands. */
static int parse_listing(int argc, char **argv, const char *usage, struct admin_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct admin_args, data),
		CLI_FLAG("json", struct admin_args, json),
	};
	int parsed = cli_parse(argc, argv, options, 2, args, usage, NULL, 0, NULL);
	return parsed == 0 ? 0 : parsed == 1 ? 1 : -1;
}

int hq_cmd_sites(int argc, char **argv)
{
	struct admin_args args = { 0 };
	int parsed = parse_listing(argc, argv,
				   "usage: innsync-hq sites --data DIR [--json]\n"
				   "Lists sites with their agents, last contact, upload backlog and\n"
				   "latest sales-report period.\n",
				   &args);
	if (parsed != 0)
		return parsed > 0 ? CLI_OK : CLI_USAGE;
	sqlite3 *db = open_or_fail(args.data);
	if (db == NULL)
		return CLI_FAIL;
	static const char *const sql =
		"SELECT s.id, s.name, s.kind, s.city, s.rooms, s.region, s.tier,"
		" (SELECT max(a.last_contact) FROM agents a JOIN agent_sites x ON x.agent = a.id"
		"   WHERE x.site = s.id),"
		" (SELECT group_concat(a.id, ',') FROM agents a JOIN agent_sites x"
		"   ON x.agent = a.id WHERE x.site = s.id AND a.revoked_at IS NULL),"
		" (SELECT COALESCE(sum(max(a.outbox_head - (SELECT COALESCE(max(seq), 0)"
		"   FROM records r WHERE r.agent = a.id), 0)), 0) FROM agents a"
		"   JOIN agent_sites x ON x.agent = a.id WHERE x.site = s.id"
		"   AND a.role = 'branch' AND a.revoked_at IS NULL),"
		" (SELECT max(period) FROM sales_reports r WHERE r.site = s.id)"
		" FROM sites s ORDER BY s.id";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot list sites");
	}
	json_t *list = json_array();
	if (!args.json)
		printf("%-10s %-28s %-9s %-12s %5s  %-20s %-14s %7s  %s\n", "SITE", "NAME", "KIND",
		       "CITY", "ROOMS", "LAST CONTACT", "AGENT", "BACKLOG", "LATEST REPORT");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t contact = sqlite3_column_int64(stmt, 7);
		char agent_text[256];
		copy_string(agent_text, sizeof agent_text, column_text(stmt, 8));
		json_t *agents = split_list(agent_text);
		const char *latest = column_text(stmt, 10);
		if (args.json) {
			json_array_append_new(
				list, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:I, s:o}",
						"id", column_text(stmt, 0), "name", column_text(stmt, 1),
						"kind", column_text(stmt, 2), "city", column_text(stmt, 3),
						"rooms", (json_int_t)sqlite3_column_int64(stmt, 4),
						"region", column_text(stmt, 5), "tier", column_text(stmt, 6),
						"last_contact", cli_json_time(contact), "agents", agents,
						"backlog", (json_int_t)sqlite3_column_int64(stmt, 9),
						"latest_period", *latest ? json_string(latest) : json_null()));
			continue;
		}
		json_decref(agents);
		char when[32] = "never";
		if (contact > 0)
			format_iso8601(contact, when, sizeof when);
		printf("%-10s %-28.28s %-9s %-12.12s %5lld  %-20s %-14.14s %7lld  %s\n",
		       column_text(stmt, 0), column_text(stmt, 1), column_text(stmt, 2),
		       column_text(stmt, 3), sqlite3_column_int64(stmt, 4), when,
		       *agent_text ? agent_text : "-", sqlite3_column_int64(stmt, 9),
		       *latest ? latest : "-");
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (args.json)
		return cli_print_json(list);
	json_decref(list);
	return CLI_OK;
}

/* Checks that every comma-separated site exists. */
static int sites_exist(sqlite3 *db, const char *list)
{
	char copy[4096];
	if (copy_string(copy, sizeof copy, list) != 0)
		return cli_fail("--sites: list too long");
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT 1 FROM sites WHERE id = ?", &stmt) != 0)
		return CLI_FAIL;
	int rc = CLI_OK;
	int count = 0;
	char *saveptr = NULL;
	for (char *site = strtok_r(copy, ",", &saveptr); site && rc == CLI_OK;
	     site = strtok_r(NULL, ",", &saveptr)) {
		sqlite3_bind_text(stmt, 1, site, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(stmt) != SQLITE_ROW)
			rc = cli_fail("no site %s (add it first: innsync-hq site add)", site);
		sqlite3_reset(stmt);
		count++;
	}
	sqlite3_finalize(stmt);
	if (rc == CLI_OK && count == 0)
		rc = cli_usage("--sites needs at least one site id");
	if (rc == CLI_OK && count > 256)
		rc = cli_usage("--sites: at most 256 sites per inspector");
	return rc;
}

int hq_cmd_token(int argc, char **argv)
{
	struct token_args {
		const char *data, *site, *inspector, *sites, *ttl;
		bool json;
	} args = { 0 };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct token_args, data),
		CLI_STRING("site", struct token_args, site),
		CLI_STRING("inspector", struct token_args, inspector),
		CLI_STRING("sites", struct token_args, sites),
		CLI_STRING("ttl", struct token_args, ttl),
		CLI_FLAG("json", struct token_args, json),
	};
	int parsed = cli_parse(argc, argv, options, sizeof options / sizeof options[0], &args,
			       "usage: innsync-hq token --data DIR --site ID [--ttl SECONDS] [--json]\n"
			       "       innsync-hq token --data DIR --inspector NAME --sites ID,ID,...\n"
			       "Prints a one-time enrolment token (default lifetime 86400 s).\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data, *site = args.site, *inspector = args.inspector;
	const char *sites = args.sites, *ttl_text = args.ttl;
	bool json = args.json;
	if ((site == NULL) == (inspector == NULL))
		return cli_usage("give either --site ID or --inspector NAME --sites ID,...");
	if (inspector != NULL && (sites == NULL || *inspector == '\0'))
		return cli_usage("--inspector NAME needs --sites ID,ID,...");
	uint64_t ttl = HQ_TOKEN_TTL_DEFAULT;
	if (ttl_text != NULL && parse_u64(ttl_text, 1, 365ULL * 86400, &ttl) != 0)
		return cli_usage("--ttl must be seconds from 1 to 31536000 (got \"%s\")", ttl_text);
	sqlite3 *db = open_or_fail(data);
	if (db == NULL)
		return CLI_FAIL;
	const char *site_list = site != NULL ? site : sites;
	int rc = sites_exist(db, site_list);
	uint8_t random[24];
	char hex[49], token[64];
	if (rc == CLI_OK && random_fill(random, sizeof random) != 0)
		rc = cli_fail("no randomness available");
	if (rc != CLI_OK) {
		sqlite3_close(db);
		return rc;
	}
	hex_encode(random, sizeof random, hex);
	snprintf(token, sizeof token, "isy1.%s", hex);
	uint8_t hash[SHA256_LEN];
	sha256_digest(token, strlen(token), hash);
	int64_t expires = now_ms() + (int64_t)ttl * 1000;
	sqlite3_stmt *stmt = NULL;
	rc = CLI_FAIL;
	if (store_prepare(db,
			  "INSERT INTO tokens (hash, role, site, inspector, sites, created_at, expires_at)"
			  " VALUES (?,?,?,?,?,?,?)",
			  &stmt) == 0) {
		sqlite3_bind_blob(stmt, 1, hash, SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, site ? "branch" : "inspector", -1, SQLITE_STATIC);
		if (site)
			sqlite3_bind_text(stmt, 3, site, -1, SQLITE_STATIC);
		if (inspector)
			sqlite3_bind_text(stmt, 4, inspector, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, site_list, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 6, now_ms());
		sqlite3_bind_int64(stmt, 7, expires);
		if (sqlite3_step(stmt) == SQLITE_DONE)
			rc = CLI_OK;
		else
			cli_fail("cannot store the token: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	if (rc != CLI_OK)
		return rc;
	char when[32];
	format_iso8601(expires, when, sizeof when);
	if (json)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "token", token, "role",
						site ? "branch" : "inspector", "sites", site_list,
						"expires_at", when));
	printf("token: %s\nfor: %s %s\nexpires: %s (one use)\n", token,
	       site ? "site" : "inspector", site ? site : inspector, when);
	return CLI_OK;
}

int hq_cmd_agents(int argc, char **argv)
{
	struct admin_args args = { 0 };
	int parsed = parse_listing(argc, argv,
				   "usage: innsync-hq agents --data DIR [--json]\n"
				   "Lists enrolled agents: role, sites, last contact, records held.\n",
				   &args);
	if (parsed != 0)
		return parsed > 0 ? CLI_OK : CLI_USAGE;
	sqlite3 *db = open_or_fail(args.data);
	if (db == NULL)
		return CLI_FAIL;
	static const char *const sql =
		"SELECT a.id, a.role, COALESCE(a.inspector, ''),"
		" (SELECT group_concat(site, ',') FROM agent_sites x WHERE x.agent = a.id),"
		" a.hostname, a.enrolled_at, COALESCE(a.last_contact, 0), a.outbox_head,"
		" (SELECT COALESCE(max(seq), 0) FROM records r WHERE r.agent = a.id),"
		" (SELECT count(*) FROM records r WHERE r.agent = a.id AND r.status = 'refused'),"
		" COALESCE(a.revoked_at, 0) FROM agents a ORDER BY a.id";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot list agents");
	}
	json_t *list = json_array();
	if (!args.json)
		printf("%-14s %-9s %-16s %-20s %9s %8s  %s\n", "AGENT", "ROLE", "SITES",
		       "LAST CONTACT", "RECORDS", "REFUSED", "STATE");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t contact = sqlite3_column_int64(stmt, 6);
		int64_t revoked = sqlite3_column_int64(stmt, 10);
		if (args.json) {
			json_array_append_new(
				list,
				json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:b, s:o}",
					  "id", column_text(stmt, 0), "role", column_text(stmt, 1),
					  "inspector", column_text(stmt, 2), "sites",
					  split_list(column_text(stmt, 3)),
					  "hostname", column_text(stmt, 4), "enrolled_at",
					  cli_json_time(sqlite3_column_int64(stmt, 5)), "last_contact",
					  cli_json_time(contact), "outbox_head",
					  (json_int_t)sqlite3_column_int64(stmt, 7), "acked_seq",
					  (json_int_t)sqlite3_column_int64(stmt, 8), "refused",
					  (json_int_t)sqlite3_column_int64(stmt, 9), "revoked", revoked != 0,
					  "revoked_at", cli_json_time(revoked)));
			continue;
		}
		char when[32] = "never";
		if (contact > 0)
			format_iso8601(contact, when, sizeof when);
		printf("%-14s %-9s %-16.16s %-20s %9lld %8lld  %s\n", column_text(stmt, 0),
		       column_text(stmt, 1), column_text(stmt, 3), when, sqlite3_column_int64(stmt, 8),
		       sqlite3_column_int64(stmt, 9), revoked ? "revoked" : "active");
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (args.json)
		return cli_print_json(list);
	json_decref(list);
	return CLI_OK;
}

int hq_cmd_revoke(int argc, char **argv)
{
	struct revoke_args {
		const char *data, *agent;
		bool json;
	} args = { 0 };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct revoke_args, data),
		CLI_STRING("agent", struct revoke_args, agent),
		CLI_FLAG("json", struct revoke_args, json),
	};
	int parsed = cli_parse(argc, argv, options, 3, &args,
			       "usage: innsync-hq revoke --data DIR --agent AGENT [--json]\n"
			       "Revokes an agent: its next connection is refused and a running\n"
			       "HQ daemon drops its live connection's messages at once.\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data, *agent = args.agent;
	bool json = args.json;
	if (agent == NULL)
		return cli_usage("--agent AGENT is required");
	sqlite3 *db = open_or_fail(data);
	if (db == NULL)
		return CLI_FAIL;
	sqlite3_stmt *stmt = NULL;
	int rc = CLI_FAIL;
	if (store_prepare(db, "UPDATE agents SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
			  &stmt) == 0) {
		sqlite3_bind_int64(stmt, 1, now_ms());
		sqlite3_bind_text(stmt, 2, agent, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_DONE && sqlite3_changes(db) == 1)
			rc = CLI_OK;
		sqlite3_finalize(stmt);
	}
	if (rc != CLI_OK) {
		long long exists = 0;
		char sql[128];
		sqlite3_stmt *check = NULL;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM agents WHERE id = ?");
		if (store_prepare(db, sql, &check) == 0) {
			sqlite3_bind_text(check, 1, agent, -1, SQLITE_STATIC);
			if (sqlite3_step(check) == SQLITE_ROW)
				exists = sqlite3_column_int64(check, 0);
			sqlite3_finalize(check);
		}
		cli_fail(exists ? "agent %s is already revoked" : "no agent %s (see innsync-hq agents)",
			 agent);
	}
	sqlite3_close(db);
	if (rc != CLI_OK)
		return rc;
	if (json)
		return cli_print_json(json_pack("{s:s, s:b}", "agent", agent, "revoked", 1));
	printf("agent %s revoked\n", agent);
	return CLI_OK;
}

int hq_cmd_alarms(int argc, char **argv)
{
	struct admin_args args = { 0 };
	int parsed = parse_listing(argc, argv,
				   "usage: innsync-hq alarms --data DIR [--json]\n"
				   "Lists alarms raised by the daemon (e.g. sequence forks).\n",
				   &args);
	if (parsed != 0)
		return parsed > 0 ? CLI_OK : CLI_USAGE;
	sqlite3 *db = open_or_fail(args.data);
	if (db == NULL)
		return CLI_FAIL;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT at, kind, agent, seq, detail FROM alarms ORDER BY id",
			  &stmt) != 0) {
		sqlite3_close(db);
		return CLI_FAIL;
	}
	json_t *list = json_array();
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (args.json) {
			json_array_append_new(list, json_pack("{s:o, s:s, s:s, s:I, s:s}", "at",
							      cli_json_time(sqlite3_column_int64(stmt, 0)),
							      "kind", column_text(stmt, 1), "agent",
							      column_text(stmt, 2), "seq",
							      (json_int_t)sqlite3_column_int64(stmt, 3),
							      "detail", column_text(stmt, 4)));
			continue;
		}
		char when[32];
		format_iso8601(sqlite3_column_int64(stmt, 0), when, sizeof when);
		printf("%s %s: agent %s seq %lld: %s\n", when, column_text(stmt, 1),
		       column_text(stmt, 2), sqlite3_column_int64(stmt, 3), column_text(stmt, 4));
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (args.json)
		return cli_print_json(list);
	if (json_array_size(list) == 0)
		printf("no alarms\n");
	json_decref(list);
	return CLI_OK;
}
