/* hq_store: owns HQ's SQLite schema (hq.db), its migrations, HQ's key
 * files, and the prepared statements of the ingest hot path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char *const hq_migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE sites ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('member','franchise','managed')),"
	"  city TEXT NOT NULL,"
	"  rooms INTEGER NOT NULL CHECK (rooms > 0),"
	"  region TEXT NOT NULL DEFAULT '',"
	"  tier TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL DEFAULT 'active',"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  hash BLOB PRIMARY KEY,"          /* SHA-256 of the token text */
	"  role TEXT NOT NULL CHECK (role IN ('branch','inspector')),"
	"  site TEXT REFERENCES sites(id),"
	"  inspector TEXT,"
	"  sites TEXT NOT NULL,"            /* comma-separated site ids */
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  used_by TEXT);"
	"CREATE TABLE agents ("
	"  id TEXT PRIMARY KEY,"
	"  role TEXT NOT NULL CHECK (role IN ('branch','inspector')),"
	"  inspector TEXT,"
	"  curve_key TEXT NOT NULL UNIQUE,"
	"  sign_key BLOB NOT NULL,"
	"  hostname TEXT NOT NULL DEFAULT '',"
	"  enrolled_at INTEGER NOT NULL,"
	"  revoked_at INTEGER,"
	"  last_contact INTEGER,"
	"  outbox_head INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE agent_sites ("
	"  agent TEXT NOT NULL REFERENCES agents(id),"
	"  site TEXT NOT NULL REFERENCES sites(id),"
	"  PRIMARY KEY (agent, site)) WITHOUT ROWID;"
	/* every record received, accepted or refused: (agent, seq) is gap-free */
	"CREATE TABLE records ("
	"  agent TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  record_id TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  site TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  body BLOB NOT NULL,"
	"  signature BLOB NOT NULL,"
	"  manifest INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('accepted','refused')),"
	"  refusal_code INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  received_at INTEGER NOT NULL,"
	"  PRIMARY KEY (agent, seq)) WITHOUT ROWID;"
	"CREATE TABLE manifests ("
	"  id INTEGER PRIMARY KEY,"
	"  agent TEXT NOT NULL,"
	"  first_seq INTEGER NOT NULL,"
	"  bytes BLOB NOT NULL,"
	"  signature BLOB NOT NULL,"
	"  received_at INTEGER NOT NULL);"
	/* latest accepted revision of each record id */
	"CREATE TABLE record_heads ("
	"  record_id TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sales_reports ("
	"  site TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  agent TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  rooms_available INTEGER NOT NULL,"
	"  rooms_sold INTEGER NOT NULL,"
	"  room_revenue_cents INTEGER NOT NULL,"
	"  submitted_at INTEGER NOT NULL,"
	"  PRIMARY KEY (site, period, revision)) WITHOUT ROWID;"
	"CREATE TABLE downstream ("
	"  site TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  body BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (site, seq)) WITHOUT ROWID;"
	"CREATE TABLE down_cursors ("
	"  agent TEXT NOT NULL, site TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  PRIMARY KEY (agent, site)) WITHOUT ROWID;"
	"CREATE TABLE alarms ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  agent TEXT NOT NULL DEFAULT '',"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT NOT NULL);",
	/* 2: publications to many sites, attachments */
	"CREATE TABLE publications ("
	"  id TEXT PRIMARY KEY,"              /* e.g. training/TP-2027-Q1, qa/checklist */
	"  kind INTEGER NOT NULL,"            /* DownKind */
	"  audience TEXT NOT NULL,"           /* JSON, see publish.c */
	"  body BLOB NOT NULL,"               /* serialised DownBody, latest revision */
	"  revision INTEGER NOT NULL DEFAULT 1,"
	"  open INTEGER NOT NULL DEFAULT 1,"  /* reaches sites added later while open */
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE publication_sites ("
	"  publication TEXT NOT NULL, site TEXT NOT NULL,"
	"  revision INTEGER NOT NULL, down_seq INTEGER NOT NULL,"
	"  PRIMARY KEY (publication, site)) WITHOUT ROWID;"
	"CREATE TABLE attachments ("
	"  sha256 BLOB PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('expected','complete')),"
	"  mime TEXT NOT NULL DEFAULT '',"
	"  bytes_received INTEGER NOT NULL DEFAULT 0,"  /* all chunk bytes, resends too */
	"  completed_at INTEGER);"
	"CREATE TABLE attachment_refs ("
	"  sha256 BLOB NOT NULL, site TEXT NOT NULL, agent TEXT NOT NULL,"
	"  record_id TEXT NOT NULL,"
	"  PRIMARY KEY (sha256, site, record_id)) WITHOUT ROWID;"
	"CREATE INDEX attachment_refs_agent ON attachment_refs (agent, sha256);",
	/* 3: acks list the refusals an agent may not know yet (ingest.c) */
	"CREATE INDEX records_refused ON records (agent, seq) WHERE status = 'refused';",
};

/* The modules' own tables (qa.c, feedback.c), migrated after the core. */
static int migrate_modules(sqlite3 *db, char *err, size_t errlen)
{
	if (hq_qa_migrate(db, err, errlen) != 0 || hq_feedback_migrate(db, err, errlen) != 0)
		return -1;
	return 0;
}

int hq_store_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
	char path[4096];
	*out = NULL;
	if (path_join(path, sizeof path, data_dir, HQ_DB_NAME) != 0) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "no HQ store in %s (run: innsync-hq init --data %s)",
			 data_dir, data_dir);
		return -1;
	}
	sqlite3 *db = NULL;
	if (store_open(path, 0, &db, err, errlen) != 0)
		return -1;
	int count = (int)(sizeof hq_migrations / sizeof hq_migrations[0]);
	if (store_migrate(db, hq_migrations, count, err, errlen) != 0 ||
	    migrate_modules(db, err, errlen) != 0) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int hq_store_init(const char *data_dir, char *hq_key_out, size_t keylen, char *err,
		  size_t errlen)
{
	char path[4096];
	char keys[4096];
	if (path_join(path, sizeof path, data_dir, HQ_DB_NAME) != 0 ||
	    path_join(keys, sizeof keys, data_dir, HQ_KEYS_DIR) != 0) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	if (access(path, F_OK) == 0) {
		snprintf(err, errlen, "%s already holds an HQ store; refusing to overwrite it",
			 data_dir);
		return -1;
	}
	if (mkdir_p(data_dir, 0700) != 0 || mkdir_p(keys, 0700) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", keys, strerror(errno));
		return -1;
	}
	struct curve_keypair curve;
	signing_key *sign = NULL;
	char sign_path[4096];
	if (curve_keypair_generate(&curve) != 0 || signing_key_generate(&sign) != 0) {
		snprintf(err, errlen, "cannot generate HQ keys");
		return -1;
	}
	int rc = -1;
	if (path_join(sign_path, sizeof sign_path, keys, "sign.pem") != 0 ||
	    curve_keypair_save(&curve, keys) != 0 || signing_key_save(sign, sign_path) != 0) {
		snprintf(err, errlen, "cannot write keys in %s: %s", keys, strerror(errno));
		goto done;
	}
	sqlite3 *db = NULL;
	if (store_open(path, 1, &db, err, errlen) != 0)
		goto done;
	int count = (int)(sizeof hq_migrations / sizeof hq_migrations[0]);
	if (store_migrate(db, hq_migrations, count, err, errlen) != 0 ||
	    migrate_modules(db, err, errlen) != 0) {
		sqlite3_close(db);
		unlink(path);
		goto done;
	}
	sqlite3_close(db);
	copy_string(hq_key_out, keylen, curve.public_z85);
	rc = 0;
done:
	signing_key_destroy(&sign);
	return rc;
}

int hq_alarm(struct hq_daemon *hq, const char *kind, const char *agent, uint64_t seq,
	     const char *detail)
{
	log_warnx("ALARM %s: agent %s seq %llu: %s", kind, agent, (unsigned long long)seq,
		  detail);
	if (hq_ensure_transaction(hq) != 0)
		return -1;
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO alarms (at, kind, agent, seq, detail) VALUES (?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, now_ms());
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)seq);
	sqlite3_bind_text(stmt, 5, detail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

sqlite3_stmt *hq_statement(struct hq_daemon *hq, const char *sql)
{
	for (size_t i = 0; i < hq->n_cached; i++)
		if (hq->statement_cache[i].sql == sql)
			return hq->statement_cache[i].stmt;
	if (hq->n_cached == hq->cap_cached) {
		size_t capacity = hq->cap_cached ? 2 * hq->cap_cached : 64;
		struct hq_cached_statement *grown =
			realloc(hq->statement_cache, capacity * sizeof *grown);
		if (grown == NULL)
			return NULL;
		hq->statement_cache = grown;
		hq->cap_cached = capacity;
	}
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(hq->db, sql, &stmt) != 0)
		return NULL;
	hq->statement_cache[hq->n_cached].sql = sql;
	hq->statement_cache[hq->n_cached].stmt = stmt;
	hq->n_cached++;
	return stmt;
}
