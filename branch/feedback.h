/* feedback.h: private to the site's issue-4 commands (feedback.c,
 * training.c, satisfaction.c, complaints.c, evaluation.c): opening the
 * agent, reading what HQ sent (the inbox) and what the site wrote (the
 * outbox), and appending a signed record. Everything shown is derived at
 * read time from those two tables; the agent knows nothing of it. */
#ifndef INNSYNC_BRANCH_FEEDBACK_H
#define INNSYNC_BRANCH_FEEDBACK_H

#include <jansson.h>
#include <stdbool.h>

#include "branch.h"
#include "feedback_rules.h"

/* An open site agent: store, identity, signing key. */
struct fb_agent {
	sqlite3 *db;               /* owned */
	struct branch_identity id;
	signing_key *key;          /* owned; NULL when opened read-only */
};

/* Opens the agent in data (with its signing key if want_key). Refuses an
 * inspector's agent. Returns CLI_OK or the exit code after printing why. */
int fb_agent_open(const char *data, bool want_key, struct fb_agent *agent);
void fb_agent_close(struct fb_agent *agent);

/* The items of one DownKind HQ sent to the agent's site, in arrival order. */
struct fb_inbox_item {
	Innsync__DownBody *body;   /* owned */
	uint64_t seq;
	int64_t received_at;
};
struct fb_inbox {
	struct fb_inbox_item *items; /* owned */
	size_t n;
};
int fb_inbox_load(sqlite3 *db, const char *site, Innsync__DownKind kind, struct fb_inbox *out);
void fb_inbox_free(struct fb_inbox *inbox);

/* The latest outbox record of record_id. */
struct fb_outbox_record {
	unsigned revision;         /* 0: none */
	uint64_t seq;
	char state[16];            /* pending | acknowledged | refused */
	char reason[512];          /* HQ's reason when refused */
	int64_t created_at;
	unsigned revisions;        /* how many revisions were written */
};
/* Fills *out; when body_out is not NULL also the unpacked body (caller
 * frees with wire_free; NULL when none). 0 or -1. */
int fb_outbox_latest(sqlite3 *db, const char *record_id, struct fb_outbox_record *out,
		     Innsync__RecordBody **body_out);
/* {"revision", "state", "reason"?, "written_at"} of a record, or null. */
json_t *fb_outbox_json(const struct fb_outbox_record *record);

/* Appends one record in its own transaction, revision = latest + 1.
 * Prints the failure; returns CLI_OK or CLI_FAIL. OUT: seq, revision. */
int fb_append(struct fb_agent *agent, const char *record_id, Innsync__RecordKind kind,
	      const char *author, const char *reason, Innsync__RecordBody *body, uint64_t *seq,
	      unsigned *revision);

/* Checks the optional --reason and --author texts (NULL: not given).
 * 0 or CLI_USAGE after printing why. */
int fb_check_reason_author(const char *reason, const char *author);
/* Loads what HQ sent the agent's site of kind; prints why not. CLI_OK or
 * CLI_FAIL. */
int fb_agent_inbox(struct fb_agent *agent, Innsync__DownKind kind, struct fb_inbox *inbox);
/* Prints each item of list with print, or the line empty when there are
 * none; frees list. Returns CLI_OK. */
int fb_print_list(json_t *list, void (*print)(json_t *item), const char *empty);

/* $USER, or "site staff". */
const char *fb_default_author(void);
/* Reads a file of at most FEEDBACK_MAX_FILE_BYTES; prints why not. */
int fb_read_file(const char *path, char **text, size_t *len);
/* 1 if path ends in ".csv" (any case), else 0 (JSON). */
int fb_is_csv(const char *path);

#endif
