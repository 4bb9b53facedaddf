/* store: opening SQLite stores the way both sides need them (WAL,
 * synchronous=FULL, busy timeout), schema migrations by user_version, and
 * transaction helpers. Schemas themselves live with each program. */
#ifndef INNSYNC_STORE_H
#define INNSYNC_STORE_H

#include <sqlite3.h>
#include <stddef.h>

/* Opens (creating if allowed) the database at path with WAL,
 * synchronous=FULL, foreign keys and a 10 s busy timeout. 0 or -1 with a
 * reason in err. */
int store_open(const char *path, int create, sqlite3 **out, char *err, size_t errlen);

/* Applies migrations[user_version .. count-1], each in its own transaction,
 * then sets user_version = count. Refuses a database newer than count. */
int store_migrate(sqlite3 *db, const char *const *migrations, int count, char *err,
		  size_t errlen);

/* The same for one component's own migrations (e.g. "qa", "training"),
 * versioned in the table schema_components, so that each module owns its
 * tables without sharing one list. */
int store_migrate_component(sqlite3 *db, const char *component, const char *const *migrations,
			    int count, char *err, size_t errlen);

/* Runs SQL without results; logs the error. 0 or -1. */
int store_exec(sqlite3 *db, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0 or -1 (logged). */
int store_begin(sqlite3 *db);
int store_commit(sqlite3 *db);
void store_rollback(sqlite3 *db);

/* Prepares a statement; logs the SQL error. 0 or -1. */
int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);

/* Runs a one-row, one-integer query (e.g. "SELECT count(*) ..."); fallback
 * when there is no row or NULL. -1 on error. */
int store_query_int64(sqlite3 *db, const char *sql, long long fallback, long long *out);

/* PRAGMA data_version: changes when another connection commits. */
long long store_data_version(sqlite3 *db);

#endif
