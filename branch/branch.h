/* branch.h: the hub header of innsync-branch: the site-side store and the
 * functions each branch/ file offers the others. */
#ifndef INNSYNC_BRANCH_H
#define INNSYNC_BRANCH_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "innsync.pb-c.h"

#define BRANCH_DB_NAME "branch.db"
#define BRANCH_KEYS_DIR "keys"

/*---- store (branch_store.c) ------------------------------------------------*/

/* What enrolment recorded about this agent. */
struct branch_identity {
	char agent_id[64];
	char role[16];          /* "branch" or "inspector" */
	char site_kind[16];     /* branch agents: member|franchise|managed */
	char inspector[128];
	char hq_sync[256];
	char hq_key[64];        /* HQ's CURVE public key, Z85 */
	char first_site[64];    /* branch agents: their site */
};

/* Opens DIR/branch.db of an enrolled agent. 0 or -1 with a reason. */
int branch_store_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen);
/* Creates DIR/branch.db (must not exist). */
int branch_store_create(const char *data_dir, sqlite3 **out, char *err, size_t errlen);
int branch_identity_load(sqlite3 *db, struct branch_identity *out, char *err, size_t errlen);

int branch_config_get(sqlite3 *db, const char *key, char *out, size_t outlen);
int branch_config_set(sqlite3 *db, const char *key, const char *value);
int branch_config_get_int(sqlite3 *db, const char *key, long long *out);
int branch_config_set_int(sqlite3 *db, const char *key, long long value);
bool branch_has_site(sqlite3 *db, const char *site);

/* Loads this agent's Ed25519 signing key from DIR/keys/sign.pem. */
int branch_signing_key_load(const char *data_dir, signing_key **out);

/* A record to append to the outbox. The payload is set on body by the
 * caller; outbox_append fills origin, seq, created_at and revision. */
struct outbox_entry {
	const char *record_id;
	Innsync__RecordKind kind;
	const char *site;
	const char *author;
	const char *reason;     /* "" for a first revision */
	unsigned revision;      /* 0: next after the highest in the outbox */
};

/* Appends one signed record inside the caller's transaction (BEGIN
 * IMMEDIATE). body carries the payload. OUT: *seq_out, *revision_out. */
int outbox_append(sqlite3 *db, const struct branch_identity *id, const signing_key *key,
		  const struct outbox_entry *entry, Innsync__RecordBody *body,
		  uint64_t *seq_out, unsigned *revision_out);

/* Highest revision of record_id in the outbox, 0 if none. */
unsigned outbox_latest_revision(sqlite3 *db, const char *record_id);

/*---- attachments (attachments.c) --------------------------------------------*/

#define BRANCH_ATTACHMENT_MAX (20 * 1024 * 1024)

/* Copies a photo into DIR/blobs/ (content-addressed), after checking by its
 * content that it is a JPEG or PNG of at most BRANCH_ATTACHMENT_MAX bytes,
 * and records it as a draft (not yet uploaded). Fills ref: sha256 (data
 * malloc'd, caller frees with ref), size, mime (static string), captured_at_ms
 * (the file's modification time). 0, or -1 with a reason naming the file. */
int branch_attachment_add(sqlite3 *db, const char *data_dir, const char *path,
			  Innsync__PhotoRef *ref, char *err, size_t errlen);
/* The record at outbox seq references this blob: upload it once HQ has
 * acknowledged the record. Inside the caller's transaction. */
int branch_attachment_link(sqlite3 *db, const uint8_t *sha256, uint64_t seq);
/* Asks the agent to fetch a blob from HQ (a photo of the site's own
 * inspection). 1 if already here, 0 if requested, -1 on error. */
int branch_attachment_request(sqlite3 *db, const uint8_t *sha256, uint64_t size);
/* Path of a stored blob (complete and verified), whether or not present. */
int branch_blob_path(const char *data_dir, const uint8_t *sha256, char *out, size_t outlen);

/* Migrations of the modules' own tables (qa.c, feedback.c). */
int branch_qa_migrate(sqlite3 *db, char *err, size_t errlen);
int branch_feedback_migrate(sqlite3 *db, char *err, size_t errlen);

/*---- agent (agent.c) -------------------------------------------------------*/

int branch_run(const char *data_dir);

/*---- commands ----------------------------------------------------------------*/

int branch_cmd_enroll(int argc, char **argv);
int branch_cmd_submit(int argc, char **argv);
int branch_cmd_status(int argc, char **argv);
int branch_cmd_debug(int argc, char **argv);
int branch_cmd_qa(int argc, char **argv);           /* qa.c */
int branch_cmd_inbox(int argc, char **argv);        /* qa.c */
int branch_cmd_rectify(int argc, char **argv);      /* qa.c */
int branch_cmd_training(int argc, char **argv);     /* feedback.c */
int branch_cmd_satisfaction(int argc, char **argv); /* feedback.c */
int branch_cmd_complaint(int argc, char **argv);    /* feedback.c */
int branch_cmd_evaluation(int argc, char **argv);   /* feedback.c */

#endif
