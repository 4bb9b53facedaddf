/* store: owns the SQLite connection settings both sides rely on for
 * durability (WAL + synchronous=FULL: a commit is on disk before anything
 * depends on it) and the migration mechanism. */
#include "store.h"

#include <stdio.h>

#include "log.h"

int store_open(const char *path, int create, sqlite3 **out, char *err, size_t errlen)
{
	*out = NULL;
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	static const char *const pragmas =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=FULL;"
		"PRAGMA foreign_keys=ON;"
		"PRAGMA temp_store=MEMORY;";
	char *msg = NULL;
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

/* Applies migrations one transaction each. The version is read again once
 * the write lock is held, so two processes opening a store at once (the
 * daemon and a staff command) do not both run a step. */
int store_migrate(sqlite3 *db, const char *const *migrations, int count, char *err,
		  size_t errlen)
{
	for (;;) {
		long long version = 0;
		if (store_begin(db) != 0 ||
		    store_query_int64(db, "PRAGMA user_version", 0, &version) != 0) {
			snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
			store_rollback(db);
			return -1;
		}
		if (version < 0 || version > count) {
			snprintf(err, errlen,
				 version < 0 ? "store schema version %lld is not valid (%d known)"
					     : "store schema version %lld is newer than this program "
					       "(%d): upgrade innsync",
				 version, count);
			store_rollback(db);
			return -1;
		}
		if (version == count)
			return store_commit(db) == 0 ? 0 : -1;
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version=%lld", version + 1);
		if (store_exec(db, migrations[version]) != 0 || store_exec(db, bump) != 0 ||
		    store_commit(db) != 0) {
			snprintf(err, errlen, "schema migration %lld failed: %s", version + 1,
				 sqlite3_errmsg(db));
			store_rollback(db);
			return -1;
		}
	}
}

static int component_version(sqlite3 *db, const char *component, long long *out)
{
	sqlite3_stmt *stmt = NULL;
	*out = 0;
	if (store_prepare(db, "SELECT version FROM schema_components WHERE component = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, component, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -1;
}

static int set_component_version(sqlite3 *db, const char *component, int version)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO schema_components (component, version) VALUES (?, ?)"
			  " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, component, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, version);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

int store_migrate_component(sqlite3 *db, const char *component, const char *const *migrations,
			    int count, char *err, size_t errlen)
{
	if (store_exec(db, "CREATE TABLE IF NOT EXISTS schema_components ("
			   " component TEXT PRIMARY KEY, version INTEGER NOT NULL)") != 0) {
		snprintf(err, errlen, "cannot create the schema version table: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (;;) {
		long long version = 0;
		if (store_begin(db) != 0 || component_version(db, component, &version) != 0) {
			snprintf(err, errlen, "cannot read the %s schema version: %s", component,
				 sqlite3_errmsg(db));
			store_rollback(db);
			return -1;
		}
		if (version < 0 || version > count) {
			snprintf(err, errlen,
				 version < 0 ? "%s schema version %lld is not valid (%d known)"
					     : "%s schema version %lld is newer than this program "
					       "(%d): upgrade innsync",
				 component, version, count);
			store_rollback(db);
			return -1;
		}
		if (version == count)
			return store_commit(db) == 0 ? 0 : -1;
		if (store_exec(db, migrations[version]) != 0 ||
		    set_component_version(db, component, (int)version + 1) != 0 ||
		    store_commit(db) != 0) {
			snprintf(err, errlen, "%s schema migration %lld failed: %s", component,
				 version + 1, sqlite3_errmsg(db));
			store_rollback(db);
			return -1;
		}
	}
}

int store_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("sqlite: %s (in: %.80s)", msg ? msg : sqlite3_errmsg(db), sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_begin(sqlite3 *db)
{
	return store_exec(db, "BEGIN IMMEDIATE");
}

int store_commit(sqlite3 *db)
{
	return store_exec(db, "COMMIT");
}

void store_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK) {
		log_warnx("sqlite prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
		*out = NULL;
		return -1;
	}
	return 0;
}

int store_query_int64(sqlite3 *db, const char *sql, long long fallback, long long *out)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(stmt, 0);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*out = fallback;
	sqlite3_finalize(stmt);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -1;
}

long long store_data_version(sqlite3 *db)
{
	long long version = -1;
	store_query_int64(db, "PRAGMA data_version", -1, &version);
	return version;
}
