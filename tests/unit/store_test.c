/* store_test: unit tests of common/store.c: store_open's durability settings
 * (WAL, synchronous=FULL, foreign keys, busy timeout) and its refusals;
 * store_migrate and store_migrate_component (each migration applied once,
 * idempotent on re-open, a newer or negative version refused with a clear
 * message, a failing migration changes nothing, two processes migrating at
 * once; components versioned independently); transactions;
 * store_query_int64 and its fallback; store_data_version across connections.
 * Each test works in a fresh temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------ */

struct fixture {
	char dir[256];  /* temporary directory */
	char path[300]; /* dir/test.db */
};

static int setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	const char *base = getenv("TMPDIR");
	snprintf(fx->dir, sizeof fx->dir, "%s/store_test.XXXXXX",
		 base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(fx->dir) == NULL || path_join(fx->path, sizeof fx->path, fx->dir, "test.db") != 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

/* Deletes the database so that the next open_ok creates a new one. */
static void remove_db(const struct fixture *fx)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char path[400];
		snprintf(path, sizeof path, "%s%s", fx->path, suffixes[i]);
		unlink(path);
	}
}

static int teardown_dir(void **state)
{
	struct fixture *fx = *state;
	remove_db(fx);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static sqlite3 *open_ok(const struct fixture *fx)
{
	sqlite3 *db = NULL;
	char err[512] = "";
	if (store_open(fx->path, 1, &db, err, sizeof err) != 0)
		fail_msg("store_open: %s", err);
	assert_non_null(db);
	return db;
}

static long long query(sqlite3 *db, const char *sql)
{
	long long value = -12345;
	if (store_query_int64(db, sql, -999, &value) != 0)
		fail_msg("query failed: %s", sql);
	return value;
}

/* The text of a one-row, one-column query ("" when no row). */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(store_prepare(db, sql, &stmt), 0);
	out[0] = '\0';
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL)
		copy_string(out, outlen, (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(store_prepare(db, "SELECT count(*) FROM sqlite_schema WHERE name = ?1",
				       &stmt),
			 0);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return n > 0;
}

/* Appends one line to a report of failures, so that a test can check every
 * case of a table before failing. */
__attribute__((format(printf, 3, 4))) static void note_failure(char *out, size_t outlen,
							       const char *fmt, ...)
{
	size_t used = strlen(out);
	if (used + 2 >= outlen)
		return;
	if (used > 0)
		out[used++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + used, outlen - used, fmt, ap);
	va_end(ap);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- store_open --------------------------------------------------------- */

static void test_open_settings(void **state)
{
	struct fixture *fx = *state;
	char text[64];
	for (int round = 0; round < 2; round++) {
		/* Round 0 creates the file; round 1 re-opens it without create. */
		sqlite3 *db = NULL;
		char err[512] = "";
		if (store_open(fx->path, round == 0, &db, err, sizeof err) != 0)
			fail_msg("round %d: store_open: %s", round, err);
		query_text(db, "PRAGMA journal_mode", text, sizeof text);
		assert_string_equal(text, "wal");
		assert_int_equal(query(db, "PRAGMA synchronous"), 2); /* FULL */
		assert_int_equal(query(db, "PRAGMA foreign_keys"), 1);
		assert_int_equal(query(db, "PRAGMA busy_timeout"), 10000);
		assert_int_equal(query(db, "PRAGMA temp_store"), 2); /* MEMORY */
		assert_int_equal(sqlite3_get_autocommit(db), 1);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}
	/* WAL is recorded in the file itself (header bytes 18-19 are 2). */
	FILE *file = fopen(fx->path, "rb");
	assert_non_null(file);
	uint8_t header[20];
	assert_int_equal(fread(header, 1, sizeof header, file), sizeof header);
	fclose(file);
	assert_int_equal(header[18], 2);
	assert_int_equal(header[19], 2);
}

/* Foreign keys are enforced, not just declared. */
static void test_open_enforces_foreign_keys(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db = open_ok(fx);
	assert_int_equal(store_exec(db, "CREATE TABLE site(id TEXT PRIMARY KEY);"
					"CREATE TABLE report(site TEXT NOT NULL REFERENCES site(id))"),
			 0);
	assert_int_equal(store_exec(db, "INSERT INTO report VALUES ('S404')"), -1);
	assert_int_equal(store_exec(db, "INSERT INTO site VALUES ('S001');"
					"INSERT INTO report VALUES ('S001')"),
			 0);
	sqlite3_close(db);
}

static void test_open_refusals(void **state)
{
	struct fixture *fx = *state;
	char not_db[400];
	char in_missing_dir[400];
	snprintf(not_db, sizeof not_db, "%s/not-a-database", fx->dir);
	snprintf(in_missing_dir, sizeof in_missing_dir, "%s/no/such/dir/x.db", fx->dir);
	FILE *file = fopen(not_db, "w");
	assert_non_null(file);
	for (int i = 0; i < 200; i++)
		fputs("this is a text file, not an SQLite database\n", file);
	fclose(file);

	const struct {
		const char *name;
		const char *path;
		int create;
	} cases[] = {
		{ "missing file without create", fx->path, 0 },
		{ "missing directory", in_missing_dir, 1 },
		{ "not a database", not_db, 1 },
		{ "a directory", fx->dir, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sqlite3 *db = (sqlite3 *)fx; /* must be reset to NULL */
		char err[512] = "";
		int rc = store_open(cases[i].path, cases[i].create, &db, err, sizeof err);
		if (rc != -1) {
			sqlite3_close(db);
			fail_msg("%s: opened", cases[i].name);
		}
		assert_null(db);
		/* The reason names the file. */
		if (strstr(err, cases[i].path) == NULL)
			fail_msg("%s: reason \"%s\" does not name %s", cases[i].name, err,
				 cases[i].path);
	}
	/* Not created as a side effect. */
	assert_int_equal(access(fx->path, F_OK), -1);
	unlink(not_db);
}

/* ---- store_migrate and store_migrate_component ------------------------- */

/* Both migration mechanisms keep the same promises; every migration test
 * runs against each, on a fresh database. */
struct migrator {
	const char *name;
	int (*migrate)(sqlite3 *db, const char *const *migrations, int count, char *err,
		       size_t errlen);
	const char *prefix; /* of its messages: "store schema version", "qa schema migration" */
	int component;      /* versioned in schema_components rather than user_version */
};

static int migrate_main(sqlite3 *db, const char *const *migrations, int count, char *err,
			size_t errlen)
{
	return store_migrate(db, migrations, count, err, errlen);
}

static int migrate_qa(sqlite3 *db, const char *const *migrations, int count, char *err,
		      size_t errlen)
{
	return store_migrate_component(db, "qa", migrations, count, err, errlen);
}

static const struct migrator migrators[] = {
	{ "store_migrate", migrate_main, "", 0 },
	{ "store_migrate_component(qa)", migrate_qa, "qa ", 1 },
};
#define N_MIGRATORS (sizeof migrators / sizeof migrators[0])

static long long version_of(const struct migrator *m, sqlite3 *db)
{
	if (!m->component)
		return query(db, "PRAGMA user_version");
	if (!table_exists(db, "schema_components"))
		return 0;
	long long version = -999;
	assert_int_equal(store_query_int64(db, "SELECT version FROM schema_components"
					       " WHERE component = 'qa'",
					   0, &version),
			 0);
	return version;
}

static void set_version(const struct migrator *m, sqlite3 *db, int version)
{
	char sql[256];
	if (!m->component)
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d", version);
	else
		snprintf(sql, sizeof sql,
			 "CREATE TABLE IF NOT EXISTS schema_components ("
			 " component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
			 "INSERT OR REPLACE INTO schema_components VALUES ('qa', %d)",
			 version);
	assert_int_equal(store_exec(db, sql), 0);
	assert_int_equal(version_of(m, db), version);
}

static const char *const migrations_v3[] = {
	"CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);",
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO meta VALUES ('created_by', 'migration 2');",
	"ALTER TABLE outbox ADD COLUMN sha256 BLOB;"
	"INSERT INTO meta VALUES ('upgraded_by', 'migration 3');",
};

static void test_migrate_once_and_idempotent(void **state)
{
	struct fixture *fx = *state;
	for (size_t k = 0; k < N_MIGRATORS; k++) {
		const struct migrator *m = &migrators[k];
		char err[512] = "";
		remove_db(fx);

		/* A new store gets the first two migrations. */
		sqlite3 *db = open_ok(fx);
		assert_int_equal(version_of(m, db), 0);
		if (m->migrate(db, migrations_v3, 2, err, sizeof err) != 0)
			fail_msg("%s: %s", m->name, err);
		assert_int_equal(version_of(m, db), 2);
		assert_int_equal(query(db, "SELECT count(*) FROM meta"), 1);
		/* Again on the same connection: nothing to do. */
		assert_int_equal(m->migrate(db, migrations_v3, 2, err, sizeof err), 0);
		assert_int_equal(query(db, "SELECT count(*) FROM meta"), 1);
		sqlite3_close(db);

		/* Re-opened by the same program: nothing re-applied. */
		db = open_ok(fx);
		assert_int_equal(m->migrate(db, migrations_v3, 2, err, sizeof err), 0);
		assert_int_equal(version_of(m, db), 2);
		assert_int_equal(query(db, "SELECT count(*) FROM meta"), 1);
		sqlite3_close(db);

		/* Re-opened by a newer program: only migration 3 runs. */
		db = open_ok(fx);
		if (m->migrate(db, migrations_v3, 3, err, sizeof err) != 0)
			fail_msg("%s to 3: %s", m->name, err);
		assert_int_equal(version_of(m, db), 3);
		assert_int_equal(query(db, "SELECT count(*) FROM meta"), 2);
		assert_int_equal(query(db, "SELECT count(*) FROM pragma_table_info('outbox') "
					   "WHERE name = 'sha256'"),
				 1);
		assert_int_equal(sqlite3_get_autocommit(db), 1);
		sqlite3_close(db);
	}

	/* No migrations at all is a valid, empty schema. */
	remove_db(fx);
	sqlite3 *db = open_ok(fx);
	char err[512] = "";
	assert_int_equal(store_migrate(db, migrations_v3, 0, err, sizeof err), 0);
	assert_int_equal(query(db, "PRAGMA user_version"), 0);
	sqlite3_close(db);
}

/* Components are versioned apart from each other and from user_version. */
static void test_migrate_components_independent(void **state)
{
	struct fixture *fx = *state;
	static const char *const main_migrations[] = { "CREATE TABLE outbox(seq INTEGER);" };
	static const char *const qa_migrations[] = { "CREATE TABLE qa_inspection(id TEXT);",
						     "CREATE TABLE qa_finding(id TEXT);" };
	static const char *const training_migrations[] = { "CREATE TABLE training(id TEXT);" };
	char err[512] = "";
	sqlite3 *db = open_ok(fx);
	assert_int_equal(store_migrate(db, main_migrations, 1, err, sizeof err), 0);
	assert_int_equal(store_migrate_component(db, "qa", qa_migrations, 2, err, sizeof err), 0);
	assert_int_equal(
		store_migrate_component(db, "training", training_migrations, 1, err, sizeof err), 0);
	assert_int_equal(query(db, "PRAGMA user_version"), 1);
	assert_int_equal(
		query(db, "SELECT version FROM schema_components WHERE component = 'qa'"), 2);
	assert_int_equal(
		query(db, "SELECT version FROM schema_components WHERE component = 'training'"),
		1);
	assert_true(table_exists(db, "qa_finding"));
	assert_true(table_exists(db, "training"));
	sqlite3_close(db);
}

static void test_migrate_refuses_newer(void **state)
{
	struct fixture *fx = *state;
	for (size_t k = 0; k < N_MIGRATORS; k++) {
		const struct migrator *m = &migrators[k];
		remove_db(fx);
		sqlite3 *db = open_ok(fx);
		set_version(m, db, 5);
		char err[512] = "";
		assert_int_equal(m->migrate(db, migrations_v3, 3, err, sizeof err), -1);
		char want[256];
		snprintf(want, sizeof want,
			 "%s schema version 5 is newer than this program (3): upgrade innsync",
			 m->component ? "qa" : "store");
		if (strcmp(err, want) != 0)
			fail_msg("%s: reason \"%s\", want \"%s\"", m->name, err, want);
		/* Nothing touched. */
		assert_int_equal(version_of(m, db), 5);
		assert_false(table_exists(db, "outbox"));
		assert_int_equal(sqlite3_get_autocommit(db), 1);
		sqlite3_close(db);
	}
}

/* A version is a signed integer (user_version is a signed 32-bit header
 * field): a damaged or hand-edited store may hold a negative one. It must be
 * refused, never used to index the migrations. The array below starts one
 * entry early so that reading migrations[-1] is observable (and defined)
 * instead of a wild read. */
static void test_migrate_refuses_negative_version(void **state)
{
	struct fixture *fx = *state;
	static const char *const with_guard[] = {
		"CREATE TABLE before_first_migration(x);", /* migrations[-1] */
		"CREATE TABLE outbox(seq INTEGER PRIMARY KEY);",
	};
	char failures[1024] = "";
	for (size_t k = 0; k < N_MIGRATORS; k++) {
		const struct migrator *m = &migrators[k];
		remove_db(fx);
		sqlite3 *db = open_ok(fx);
		set_version(m, db, -1);
		char err[512] = "";
		int rc = m->migrate(db, with_guard + 1, 1, err, sizeof err);
		int ran_guard = table_exists(db, "before_first_migration");
		long long version = version_of(m, db);
		sqlite3_close(db);
		if (ran_guard)
			note_failure(failures, sizeof failures,
				     "%s: version -1: ran migrations[-1] (rc %d, version now %lld)",
				     m->name, rc, version);
		else if (rc != -1)
			note_failure(failures, sizeof failures, "%s: version -1 accepted", m->name);
		else if (strstr(err, "version") == NULL || version != -1)
			note_failure(failures, sizeof failures, "%s: reason \"%s\", version %lld",
				     m->name, err, version);
	}
	if (failures[0] != '\0')
		fail_msg("%s", failures);
}

/* A migration that fails part-way leaves the version, the tables and the
 * data exactly as they were, and the connection out of any transaction. */
static void test_migrate_failure_changes_nothing(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *name;
		const char *sql;
		const char *reason; /* start of the expected message after the prefix */
	} cases[] = {
		{ "missing table", "CREATE TABLE half(x); INSERT INTO nowhere VALUES (1);",
		  "no such table: nowhere" },
		{ "syntax error", "CREATE TABLE half(x); CREATE TABLE (;", "near \"(\": syntax error" },
		{ "constraint", "CREATE TABLE half(x UNIQUE); INSERT INTO half VALUES (1), (1);",
		  "UNIQUE constraint failed: half.x" },
		{ "data then error",
		  "CREATE TABLE half(x); INSERT INTO meta VALUES ('half', 'done');"
		  "INSERT INTO meta VALUES ('created_by', 'duplicate');",
		  "UNIQUE constraint failed: meta.key" },
	};
	for (size_t k = 0; k < N_MIGRATORS; k++) {
		const struct migrator *m = &migrators[k];
		remove_db(fx);
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			sqlite3 *db = open_ok(fx);
			char err[512] = "";
			if (version_of(m, db) == 0)
				assert_int_equal(m->migrate(db, migrations_v3, 2, err, sizeof err), 0);
			const char *const broken[] = { migrations_v3[0], migrations_v3[1],
						       cases[i].sql };
			int rc = m->migrate(db, broken, 3, err, sizeof err);
			if (rc != -1)
				fail_msg("%s, %s: migration accepted", m->name, cases[i].name);
			char want[256];
			snprintf(want, sizeof want, "%sschema migration 3 failed: %s", m->prefix,
				 cases[i].reason);
			if (strncmp(err, want, strlen(want)) != 0)
				fail_msg("%s, %s: reason \"%s\", want \"%s\"", m->name,
					 cases[i].name, err, want);
			if (sqlite3_get_autocommit(db) != 1)
				fail_msg("%s, %s: left inside a transaction", m->name,
					 cases[i].name);
			sqlite3_close(db);

			/* Seen from a fresh connection. */
			db = open_ok(fx);
			assert_int_equal(version_of(m, db), 2);
			if (table_exists(db, "half"))
				fail_msg("%s, %s: partial table left behind", m->name,
					 cases[i].name);
			assert_int_equal(query(db, "SELECT count(*) FROM meta"), 1);
			sqlite3_close(db);
		}
		/* Once the program is fixed, the migration applies. */
		sqlite3 *db = open_ok(fx);
		char err[512] = "";
		if (m->migrate(db, migrations_v3, 3, err, sizeof err) != 0)
			fail_msg("%s: fixed migration: %s", m->name, err);
		assert_int_equal(version_of(m, db), 3);
		sqlite3_close(db);
	}
}

/* Two processes opening a new store at once (the daemon and a staff command,
 * say) both migrate it. The one that waits for the write lock must see what
 * the other committed and not apply the same migration twice. The first
 * migration is slow so that the second process reads the version while the
 * first holds the lock. */
static const char *const slow_migrations[] = {
	"CREATE TABLE outbox(seq INTEGER PRIMARY KEY);"
	"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000000)"
	" SELECT count(*) FROM c;",
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);",
};

static void test_migrate_concurrent_processes(void **state)
{
	struct fixture *fx = *state;
	char failures[1024] = "";
	for (size_t k = 0; k < N_MIGRATORS; k++) {
		const struct migrator *m = &migrators[k];
		remove_db(fx);
		/* Create the file (WAL, and the version table if any) before forking,
		 * so that the only write lock the first process takes is a migration's.
		 * No connection crosses the fork. */
		sqlite3 *db = open_ok(fx);
		set_version(m, db, 0);
		sqlite3_close(db);

		pid_t child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			sqlite3 *mine = NULL;
			char err[512] = "";
			int rc = store_open(fx->path, 0, &mine, err, sizeof err) == 0 &&
					 m->migrate(mine, slow_migrations, 2, err, sizeof err) == 0
				 ? 0
				 : 1;
			if (rc != 0)
				fprintf(stderr, "child: %s\n", err);
			sqlite3_close(mine);
			_exit(rc);
		}

		/* Wait until the child holds the write lock (BEGIN IMMEDIATE is busy). */
		sqlite3 *probe = NULL;
		assert_int_equal(sqlite3_open_v2(fx->path, &probe, SQLITE_OPEN_READWRITE, NULL),
				 SQLITE_OK);
		int locked = 0;
		for (int tries = 0; tries < 5000 && !locked; tries++) {
			if (sqlite3_exec(probe, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_BUSY) {
				locked = 1;
				break;
			}
			sqlite3_exec(probe, "ROLLBACK", NULL, NULL, NULL);
			sleep_ms(1);
		}
		sqlite3_close(probe);

		db = open_ok(fx);
		char err[512] = "";
		int rc = m->migrate(db, slow_migrations, 2, err, sizeof err);
		int status = 0;
		assert_int_equal(waitpid(child, &status, 0), child);
		long long version = version_of(m, db);
		sqlite3_close(db);

		if (!locked) {
			fprintf(stderr, "%s: the first process finished before the race\n",
				m->name);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			note_failure(failures, sizeof failures, "%s: first process failed",
				     m->name);
		else if (rc != 0)
			note_failure(failures, sizeof failures, "%s: second process: %s", m->name,
				     err);
		else if (version != 2)
			note_failure(failures, sizeof failures, "%s: version %lld, want 2",
				     m->name, version);
	}
	if (failures[0] != '\0')
		fail_msg("%s", failures);
}

/* ---- transactions and queries ------------------------------------------- */

static void test_transactions(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db = open_ok(fx);
	assert_int_equal(store_exec(db, "CREATE TABLE t(x)"), 0);

	assert_int_equal(store_begin(db), 0);
	assert_int_equal(sqlite3_get_autocommit(db), 0);
	assert_int_equal(store_exec(db, "INSERT INTO t VALUES (1)"), 0);
	store_rollback(db);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	assert_int_equal(query(db, "SELECT count(*) FROM t"), 0);

	assert_int_equal(store_begin(db), 0);
	assert_int_equal(store_exec(db, "INSERT INTO t VALUES (2)"), 0);
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(query(db, "SELECT count(*) FROM t"), 1);

	/* Rolling back with no transaction open is harmless; COMMIT is not. */
	store_rollback(db);
	assert_int_equal(store_commit(db), -1);
	/* A nested BEGIN is an error and leaves the outer transaction alone. */
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(store_begin(db), -1);
	assert_int_equal(sqlite3_get_autocommit(db), 0);
	store_rollback(db);

	/* Bad SQL is refused by both store_exec and store_prepare. */
	sqlite3_stmt *stmt = (sqlite3_stmt *)fx;
	assert_int_equal(store_exec(db, "SELEKT 1"), -1);
	assert_int_equal(store_prepare(db, "SELEKT 1", &stmt), -1);
	assert_null(stmt);
	sqlite3_close(db);
}

static void test_query_int64(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db = open_ok(fx);
	assert_int_equal(store_exec(db, "CREATE TABLE empty(x INTEGER);"
					"CREATE TABLE one(x INTEGER); INSERT INTO one VALUES (NULL)"),
			 0);
	static const struct {
		const char *sql;
		long long want; /* fallback is -7 */
	} cases[] = {
		{ "SELECT 42", 42 },
		{ "SELECT -1", -1 },
		{ "SELECT 9223372036854775807", 9223372036854775807LL },
		{ "SELECT -9223372036854775808", -9223372036854775807LL - 1 },
		{ "SELECT x FROM empty", -7 },           /* no row */
		{ "SELECT NULL", -7 },                   /* NULL */
		{ "SELECT x FROM one", -7 },             /* a row holding NULL */
		{ "SELECT max(x) FROM empty", -7 },      /* aggregate of nothing: NULL */
		{ "SELECT count(*) FROM empty", 0 },     /* a real zero is not the fallback */
		{ "SELECT 1 UNION ALL SELECT 2", 1 },    /* first row only */
		{ "SELECT 5, 6", 5 },                    /* first column only */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long long value = 123;
		if (store_query_int64(db, cases[i].sql, -7, &value) != 0)
			fail_msg("%s: failed", cases[i].sql);
		if (value != cases[i].want)
			fail_msg("%s: got %lld, want %lld", cases[i].sql, value, cases[i].want);
	}
	/* Errors: -1 and the output untouched. */
	static const char *const bad[] = { "SELEKT 1", "SELECT x FROM no_such_table", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		long long value = 123;
		if (store_query_int64(db, bad[i], -7, &value) != -1)
			fail_msg("\"%s\": accepted", bad[i]);
		assert_int_equal(value, 123);
	}
	sqlite3_close(db);
}

static void test_data_version(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *watcher = open_ok(fx);
	sqlite3 *writer = open_ok(fx);
	assert_int_equal(store_exec(writer, "CREATE TABLE t(x)"), 0);

	long long v0 = store_data_version(watcher);
	assert_true(v0 >= 0);
	assert_int_equal(store_data_version(watcher), v0); /* stable while idle */

	/* Another connection's commit changes it. */
	assert_int_equal(store_exec(writer, "INSERT INTO t VALUES (1)"), 0);
	long long v1 = store_data_version(watcher);
	assert_true(v1 != v0);

	/* An open, uncommitted transaction does not; its commit does. */
	assert_int_equal(store_begin(writer), 0);
	assert_int_equal(store_exec(writer, "INSERT INTO t VALUES (2)"), 0);
	assert_int_equal(store_data_version(watcher), v1);
	assert_int_equal(store_commit(writer), 0);
	long long v2 = store_data_version(watcher);
	assert_true(v2 != v1);

	/* A rolled-back transaction does not. */
	assert_int_equal(store_begin(writer), 0);
	assert_int_equal(store_exec(writer, "INSERT INTO t VALUES (3)"), 0);
	store_rollback(writer);
	assert_int_equal(store_data_version(watcher), v2);

	/* The watcher's own commits do not change what it sees (SQLite's rule). */
	assert_int_equal(store_exec(watcher, "INSERT INTO t VALUES (4)"), 0);
	assert_int_equal(store_data_version(watcher), v2);
	/* ...but they change the writer's. */
	long long w = store_data_version(writer);
	assert_int_equal(store_exec(watcher, "INSERT INTO t VALUES (5)"), 0);
	assert_true(store_data_version(writer) != w);

	sqlite3_close(writer);
	sqlite3_close(watcher);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_settings, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_open_enforces_foreign_keys, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_open_refusals, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_migrate_once_and_idempotent, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_migrate_components_independent, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_migrate_refuses_newer, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_migrate_refuses_negative_version, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_migrate_failure_changes_nothing, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_migrate_concurrent_processes, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_transactions, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_query_int64, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_data_version, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
