/* qa.h: what the files of HQ's QA module share (private to hq/qa*.c):
 * qa.c owns the schema, the settings and the checklist versions;
 * qa_records.c what the daemon does with QA and rectification records;
 * qa_view.c the inspection and finding views (JSON) of the staff
 * commands; qa_cmd.c the `qa` and `rectification` commands. */
#ifndef INNSYNC_HQ_QA_H
#define INNSYNC_HQ_QA_H

#include <jansson.h>

#include "hq.h"
#include "qa_rules.h"

#define HQ_QA_CHECKLIST_PUBLICATION "qa/checklist"

/*---- qa.c ------------------------------------------------------------------*/

/* The deadlines in force (defaults where not configured), read with stmt,
 * a statement of HQ_QA_SQL_SETTINGS (the caller resets it). 0 or -1. */
#define HQ_QA_SQL_SETTINGS "SELECT key, value FROM qa_settings"
int hq_qa_deadlines_read(sqlite3_stmt *stmt, struct qa_deadlines *out);
/* The same from a staff command's connection. */
int hq_qa_deadlines_load(sqlite3 *db, struct qa_deadlines *out);
/* Stores the deadlines (inside the caller's transaction or not). */
int hq_qa_deadlines_save(sqlite3 *db, const struct qa_deadlines *deadlines);

/* A stored checklist, read with stmt (HQ_QA_SQL_CHECKLIST, version bound
 * to ?1; the caller resets it). NULL if there is none of that version.
 * The caller frees it with wire_free((ProtobufCMessage *)c). */
#define HQ_QA_SQL_CHECKLIST "SELECT body FROM qa_checklists WHERE version = ?1"
Innsync__Checklist *hq_qa_checklist_read(sqlite3_stmt *stmt, uint32_t version);
/* version 0: the latest. */
Innsync__Checklist *hq_qa_checklist_load(sqlite3 *db, uint32_t version);

/*---- qa_view.c -------------------------------------------------------------*/

/* One inspection as `qa show --json` prints it (docs/QA.md), states and
 * overdue flags as of now_ms. NULL with a reason in err (unknown id, or
 * the stored record cannot be read). */
json_t *hq_qa_inspection_json(sqlite3 *db, const char *id, int64_t now_ms, char *err,
			      size_t errlen);
/* The summary line of `qa list` for each inspection (site: NULL for all;
 * open_only: those with a finding not yet verified). */
json_t *hq_qa_list_json(sqlite3 *db, const char *site, bool open_only, int64_t now_ms);
/* Findings across inspections for `rectification list`. */
json_t *hq_qa_findings_json(sqlite3 *db, const char *site, bool include_closed, bool overdue_only,
			    int64_t now_ms);
/* Prints an inspection view (from hq_qa_inspection_json) as text. */
void hq_qa_print_inspection(const json_t *inspection);

#endif
