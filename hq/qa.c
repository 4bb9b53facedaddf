/* qa: owns HQ's QA tables (component "qa" of hq.db), the configurable
 * deadlines and the stored checklist versions. What the tables mean:
 *
 *   qa_settings     deadline days (plan_days, critical_days, major_days,
 *                   minor_days); absent keys take the defaults of qa_rules.h
 *   qa_checklists   every checklist version HQ published (serialised
 *                   Checklist); inspections name the version they used
 *   qa_inspections  one row per accepted inspection record (agent, seq
 *                   locate the signed record in `records`)
 *   qa_findings     one row per finding: its deadline and state, and the
 *                   latest accepted plan / completion records
 *   qa_photos       the photos of an inspection, numbered 1.. in finding
 *                   order, then the site's evidence photos as they arrive
 *   qa_events       each finding's history: plan, done, accept, reject
 *
 * The signed records stay the source of truth (innsync-hq verify checks
 * them); these tables index them and hold HQ's own decisions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa.h"
#include "store.h"
#include "wire.h"

static const char *const qa_migrations[] = {
	/* 1: issue 3 */
	"CREATE TABLE qa_settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE qa_checklists ("
	"  version INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  items INTEGER NOT NULL,"
	"  body BLOB NOT NULL,"
	"  published_at INTEGER NOT NULL);"
	"CREATE TABLE qa_inspections ("
	"  id TEXT PRIMARY KEY,"
	"  site TEXT NOT NULL,"
	"  inspector TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  agent TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  plan_due INTEGER NOT NULL,"
	"  overall REAL,"
	"  findings INTEGER NOT NULL,"
	"  photos INTEGER NOT NULL,"
	"  checklist_version INTEGER NOT NULL);"
	"CREATE INDEX qa_inspections_site ON qa_inspections (site, received_at);"
	"CREATE TABLE qa_findings ("
	"  id TEXT PRIMARY KEY,"
	"  inspection TEXT NOT NULL,"
	"  site TEXT NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  category TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  item TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('open','planned','done','verified','reopened')),"
	"  plan_revision INTEGER NOT NULL DEFAULT 0,"
	"  plan_agent TEXT, plan_seq INTEGER,"
	"  done_revision INTEGER NOT NULL DEFAULT 0,"
	"  done_agent TEXT, done_seq INTEGER,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX qa_findings_inspection ON qa_findings (inspection, n);"
	"CREATE INDEX qa_findings_site ON qa_findings (site, state);"
	"CREATE TABLE qa_photos ("
	"  inspection TEXT NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  finding TEXT NOT NULL,"
	"  source TEXT NOT NULL CHECK (source IN ('finding','evidence')),"
	"  sha256 BLOB NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  mime TEXT NOT NULL,"
	"  captured_at INTEGER NOT NULL,"
	"  record_id TEXT NOT NULL,"
	"  PRIMARY KEY (inspection, n)) WITHOUT ROWID;"
	"CREATE TABLE qa_events ("
	"  id INTEGER PRIMARY KEY,"
	"  finding TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  event TEXT NOT NULL CHECK (event IN ('plan','done','accept','reject')),"
	"  revision INTEGER NOT NULL DEFAULT 0,"
	"  agent TEXT NOT NULL DEFAULT '',"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  actor TEXT NOT NULL DEFAULT '',"
	"  note TEXT NOT NULL DEFAULT '',"
	"  due INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX qa_events_finding ON qa_events (finding, id);",
};

int hq_qa_migrate(sqlite3 *db, char *err, size_t errlen)
{
	return store_migrate_component(db, "qa", qa_migrations,
				       (int)(sizeof qa_migrations / sizeof qa_migrations[0]), err,
				       errlen);
}

/*---- Settings --------------------------------------------------------------*/

/* The settings keys and where each goes in struct qa_deadlines. */
static uint32_t *setting_field(struct qa_deadlines *d, const char *key)
{
	if (strcmp(key, "plan_days") == 0)
		return &d->plan_days;
	if (strcmp(key, "critical_days") == 0)
		return &d->severity_days[QA_CRITICAL];
	if (strcmp(key, "major_days") == 0)
		return &d->severity_days[QA_MAJOR];
	if (strcmp(key, "minor_days") == 0)
		return &d->severity_days[QA_MINOR];
	return NULL;
}

int hq_qa_deadlines_read(sqlite3_stmt *stmt, struct qa_deadlines *out)
{
	qa_deadlines_default(out);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(stmt, 0);
		long long value = sqlite3_column_int64(stmt, 1);
		uint32_t *field = key ? setting_field(out, key) : NULL;
		if (field != NULL && value >= 1 && value <= QA_MAX_DAYS)
			*field = (uint32_t)value;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

int hq_qa_deadlines_load(sqlite3 *db, struct qa_deadlines *out)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, HQ_QA_SQL_SETTINGS, &stmt) != 0) {
		qa_deadlines_default(out);
		return -1;
	}
	int rc = hq_qa_deadlines_read(stmt, out);
	sqlite3_finalize(stmt);
	return rc;
}

int hq_qa_deadlines_save(sqlite3 *db, const struct qa_deadlines *deadlines)
{
	static const char *const keys[] = {"plan_days", "critical_days", "major_days",
					   "minor_days"};
	struct qa_deadlines copy = *deadlines;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO qa_settings (key, value) VALUES (?, ?)"
			  " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			  &stmt) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc == 0; i++) {
		sqlite3_bind_text(stmt, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, *setting_field(&copy, keys[i]));
		rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*---- Checklists ------------------------------------------------------------*/

Innsync__Checklist *hq_qa_checklist_read(sqlite3_stmt *stmt, uint32_t version)
{
	sqlite3_bind_int64(stmt, 1, version);
	Innsync__Checklist *checklist = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		checklist = (Innsync__Checklist *)wire_unpack(
		    &innsync__checklist__descriptor, sqlite3_column_blob(stmt, 0),
		    (size_t)sqlite3_column_bytes(stmt, 0));
	return checklist;
}

Innsync__Checklist *hq_qa_checklist_load(sqlite3 *db, uint32_t version)
{
	sqlite3_stmt *stmt = NULL;
	if (version == 0) {
		long long latest = 0;
		if (store_query_int64(db, "SELECT COALESCE(max(version), 0) FROM qa_checklists", 0,
				      &latest) != 0 ||
		    latest == 0)
			return NULL;
		version = (uint32_t)latest;
	}
	if (store_prepare(db, HQ_QA_SQL_CHECKLIST, &stmt) != 0)
		return NULL;
	Innsync__Checklist *checklist = hq_qa_checklist_read(stmt, version);
	sqlite3_finalize(stmt);
	return checklist;
}
