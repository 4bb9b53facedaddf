/* branch_store: owns the site side's SQLite schema (branch.db): the
 * agent's identity, the outbox of signed records with its gap-free
 * sequence, the inbox of what HQ sent, and the sync cursors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "branch.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

static const char *const branch_migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE agent_sites (site TEXT PRIMARY KEY);"
	/* AUTOINCREMENT: a sequence number is never reused, even after a purge */
	"CREATE TABLE outbox ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  record_id TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  site TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  body BLOB NOT NULL,"
	"  signature BLOB NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending','acknowledged','refused')),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  acked_at INTEGER);"
	"CREATE INDEX outbox_record ON outbox (record_id, revision);"
	"CREATE INDEX outbox_state ON outbox (state);"
	"CREATE TABLE inbox ("
	"  site TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  body BLOB NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  PRIMARY KEY (site, seq)) WITHOUT ROWID;"
	"CREATE TABLE down_cursors (site TEXT PRIMARY KEY, seq INTEGER NOT NULL);",
	/* 2: attachments (photos) to upload and to fetch */
	"CREATE TABLE attachments ("
	"  sha256 BLOB PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  mime TEXT NOT NULL,"
	"  captured_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('draft','pending','uploaded','failed')),"
	"  record_seq INTEGER,"        /* the outbox record that references it */
	"  error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX attachments_pending ON attachments (state, record_seq);"
	"CREATE TABLE attachment_fetches ("
	"  sha256 BLOB PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('wanted','complete','failed')),"
	"  error TEXT NOT NULL DEFAULT '',"
	"  requested_at INTEGER NOT NULL);",
	/* 3: revisions HQ accepted (from ReportsAccepted), for numbering */
	"CREATE TABLE record_heads (record_id TEXT PRIMARY KEY, revision INTEGER NOT NULL);",
};

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int count = (int)(sizeof branch_migrations / sizeof branch_migrations[0]);
	if (store_migrate(db, branch_migrations, count, err, errlen) != 0 ||
	    branch_qa_migrate(db, err, errlen) != 0 || branch_feedback_migrate(db, err, errlen) != 0)
		return -1;
	return 0;
}

int branch_store_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
	char path[4096];
	*out = NULL;
	if (path_join(path, sizeof path, data_dir, BRANCH_DB_NAME) != 0) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen,
			 "%s holds no enrolled agent (run: innsync-branch enroll --data %s ...)",
			 data_dir, data_dir);
		return -1;
	}
	if (store_open(path, 0, out, err, errlen) != 0)
		return -1;
	if (migrate(*out, err, errlen) != 0) {
		sqlite3_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int branch_store_create(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
	char path[4096];
	*out = NULL;
	if (path_join(path, sizeof path, data_dir, BRANCH_DB_NAME) != 0) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	if (store_open(path, 1, out, err, errlen) != 0)
		return -1;
	if (migrate(*out, err, errlen) != 0) {
		sqlite3_close(*out);
		*out = NULL;
		unlink(path);
		return -1;
	}
	return 0;
}

int branch_config_get(sqlite3 *db, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT value FROM config WHERE key = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		copy_string(out, outlen, (const char *)sqlite3_column_text(stmt, 0));
		rc = 0;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int branch_config_set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO config (key, value) VALUES (?, ?)"
			  " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

int branch_config_get_int(sqlite3 *db, const char *key, long long *out)
{
	char text[32];
	*out = 0;
	if (branch_config_get(db, key, text, sizeof text) != 0)
		return -1;
	char *end = NULL;
	*out = strtoll(text, &end, 10);
	return (end != NULL && *end == '\0') ? 0 : -1;
}

int branch_config_set_int(sqlite3 *db, const char *key, long long value)
{
	char text[32];
	snprintf(text, sizeof text, "%lld", value);
	return branch_config_set(db, key, text);
}

bool branch_has_site(sqlite3 *db, const char *site)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT 1 FROM agent_sites WHERE site = ?", &stmt) != 0)
		return false;
	sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	bool found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

int branch_identity_load(sqlite3 *db, struct branch_identity *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (branch_config_get(db, "agent_id", out->agent_id, sizeof out->agent_id) != 0 ||
	    branch_config_get(db, "role", out->role, sizeof out->role) != 0 ||
	    branch_config_get(db, "hq_sync", out->hq_sync, sizeof out->hq_sync) != 0 ||
	    branch_config_get(db, "hq_key", out->hq_key, sizeof out->hq_key) != 0) {
		snprintf(err, errlen, "the agent's store is incomplete: enrol again");
		return -1;
	}
	branch_config_get(db, "site_kind", out->site_kind, sizeof out->site_kind);
	branch_config_get(db, "inspector", out->inspector, sizeof out->inspector);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT site FROM agent_sites ORDER BY site LIMIT 1", &stmt) == 0) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			copy_string(out->first_site, sizeof out->first_site,
				    (const char *)sqlite3_column_text(stmt, 0));
		sqlite3_finalize(stmt);
	}
	return 0;
}

int branch_signing_key_load(const char *data_dir, signing_key **out)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s/sign.pem", data_dir, BRANCH_KEYS_DIR) >=
	    (int)sizeof path)
		return -1;
	return signing_key_load(path, out);
}

unsigned outbox_latest_revision(sqlite3 *db, const char *record_id)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT max(COALESCE((SELECT max(revision) FROM outbox WHERE record_id = ?1), 0),"
			  " COALESCE((SELECT revision FROM record_heads WHERE record_id = ?1), 0))",
			  &stmt) != 0)
		return 0;
	sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
	unsigned revision = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		revision = (unsigned)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return revision;
}

static int next_seq(sqlite3 *db, uint64_t *out)
{
	long long last = 0;
	if (store_query_int64(db, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'", 0,
			      &last) != 0)
		return -1;
	*out = (uint64_t)last + 1;
	return 0;
}

int outbox_append(sqlite3 *db, const struct branch_identity *id, const signing_key *key,
		  const struct outbox_entry *entry, Innsync__RecordBody *body,
		  uint64_t *seq_out, unsigned *revision_out)
{
	uint64_t seq = 0;
	if (next_seq(db, &seq) != 0)
		return -1;
	unsigned revision = entry->revision ? entry->revision
					    : outbox_latest_revision(db, entry->record_id) + 1;
	body->origin_agent = (char *)id->agent_id;
	body->origin_seq = seq;
	body->record_id = (char *)entry->record_id;
	body->kind = entry->kind;
	body->site = (char *)entry->site;
	body->revision = revision;
	body->author = (char *)entry->author;
	body->created_at_ms = now_ms();
	body->reason = (char *)entry->reason;

	uint8_t *bytes = NULL;
	size_t len = 0;
	if (wire_pack(&body->base, &bytes, &len) != 0)
		return -1;
	int rc = -1;
	uint8_t hash[SHA256_LEN], sig[SIGNATURE_LEN];
	sqlite3_stmt *stmt = NULL;
	if (len > WIRE_MAX_RECORD_BODY) {
		log_warnx("record %s is %zu bytes, over the %d-byte limit", entry->record_id, len,
			  WIRE_MAX_RECORD_BODY);
		goto done;
	}
	sha256_digest(bytes, len, hash);
	if (signing_key_sign(key, bytes, len, sig) != 0 ||
	    store_prepare(db,
			  "INSERT INTO outbox (seq, record_id, kind, site, revision, body, signature,"
			  " sha256, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
			  &stmt) != 0)
		goto done;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(stmt, 2, entry->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, (int)entry->kind);
	sqlite3_bind_text(stmt, 4, entry->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, revision);
	sqlite3_bind_blob(stmt, 6, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 7, sig, SIGNATURE_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 8, hash, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 9, body->created_at_ms);
	if (sqlite3_step(stmt) == SQLITE_DONE) {
		*seq_out = seq;
		*revision_out = revision;
		rc = 0;
	} else {
		log_warnx("cannot write the outbox: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(stmt);
done:
	free(bytes);
	return rc;
}
