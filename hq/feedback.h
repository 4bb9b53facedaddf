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

/* Refuses (INVALID) a record whose id is not prefix/<site>/<key>. Returns
 * true when it matches. */
bool fb_record_id_is(const Innsync__RecordBody *body, const char *prefix, const char *key,
		     struct verdict *v);

/*---- staff commands (separate processes) ---------------------------------*/

/* Opens DIR/hq.db or prints why not (usage when dir is NULL). NULL on failure. */
sqlite3 *fb_open_store(const char *data_dir);
/* A column's text, "" for NULL. */
const char *fb_column_text(sqlite3_stmt *stmt, int column);
/* Reads a file of at most FEEDBACK_MAX_FILE_BYTES; prints why not. */
int fb_read_file(const char *path, char **text, size_t *len);
/* 1 if the site exists, 0 if not, -1 on error. */
int fb_site_exists(sqlite3 *db, const char *site);
/* Loads the complaint settings (defaults for what was never set). */
int fb_complaint_settings(sqlite3 *db, struct complaint_settings *out);

#endif
