/* feedback.h: private to HQ's issue-4 files (feedback.c, training.c,
 * satisfaction.c, complaints.c, evaluation.c): the record handlers the
 * dispatcher in feedback.c calls, and small helpers of their commands. */
#ifndef INNSYNC_HQ_FEEDBACK_H
#define INNSYNC_HQ_FEEDBACK_H

#include <jansson.h>
#include <stdbool.h>

#include "feedback_rules.h"
#include "hq.h"

/*---- record handlers (daemon side, inside the open transaction) ----------*/

void hq_training_check(struct hq_daemon *hq, const struct hq_site_head *site,
		       const Innsync__RecordBody *body, struct verdict *v);
int hq_training_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		      const Innsync__RecordBody *body);
void hq_satisfaction_check(struct hq_daemon *hq, const struct hq_site_head *site,
			   const Innsync__RecordBody *body, struct verdict *v);
int hq_satisfaction_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			  const Innsync__RecordBody *body);
void hq_complaint_check(struct hq_daemon *hq, const struct hq_site_head *site,
			const Innsync__RecordBody *body, struct verdict *v);
int hq_complaint_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		       const Innsync__RecordBody *body);
void hq_evaluation_check(struct hq_daemon *hq, const struct hq_site_head *site,
			 const Innsync__RecordBody *body, struct verdict *v);
int hq_evaluation_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			const Innsync__RecordBody *body);

/* Runs sql with (?1 id, ?2 site) on the daemon's cached statement; the row
 * is (body blob of type desc, targeted flag). Returns 1 found, 0 no such id,
 * -1 error. OUT: *msg (caller frees with wire_free; NULL unless found),
 * *targeted. */
int fb_load_targeted(struct hq_daemon *hq, const char *sql, const ProtobufCMessageDescriptor *desc,
		     const char *id, const char *site, ProtobufCMessage **msg, bool *targeted);

/* Refuses (INVALID) a record whose id is not prefix/<site>/<key>. Returns
 * true when it matches. */
bool fb_record_id_is(const Innsync__RecordBody *body, const char *prefix, const char *key,
		     struct verdict *v);

/*---- staff commands (separate processes) ---------------------------------*/

/* Opens DIR/hq.db or prints why not (usage when dir is NULL). NULL on failure. */
sqlite3 *fb_open_store(const char *data_dir);
/* Steps stmt once; on a row unpacks the blob in column as desc (the row
 * stays current for the caller's other columns). Returns 1 row unpacked,
 * 0 no row, -1 error or unreadable blob. OUT: *msg (NULL unless 1; caller
 * frees with wire_free). */
int fb_step_message(sqlite3_stmt *stmt, int column, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **msg);
/* Ends a listing command: finalizes stmt, closes db, then prints list as
 * JSON (when json) or frees it. Returns CLI_OK or the printer's code. */
int fb_list_done(sqlite3 *db, sqlite3_stmt *stmt, json_t *list, bool json);
/* A column's text, "" for NULL. */
const char *fb_column_text(sqlite3_stmt *stmt, int column);
/* Reads a file of at most FEEDBACK_MAX_FILE_BYTES; prints why not. */
int fb_read_file(const char *path, char **text, size_t *len);
/* 1 if the site exists, 0 if not, -1 on error. */
int fb_site_exists(sqlite3 *db, const char *site);
/* Loads the complaint settings (defaults for what was never set). */
int fb_complaint_settings(sqlite3 *db, struct complaint_settings *out);

#endif
