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

/*---- agent (agent.c) -------------------------------------------------------*/

int branch_run(const char *data_dir);

/*---- commands ----------------------------------------------------------------*/

int branch_cmd_enroll(int argc, char **argv);
int branch_cmd_submit(int argc, char **argv);
int branch_cmd_status(int argc, char **argv);
int branch_cmd_debug(int argc, char **argv);

#endif
