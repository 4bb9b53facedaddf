/* hq.h: the hub header of innsync-hq: the daemon's state and the functions
 * each hq/ file offers the others. */
#ifndef INNSYNC_HQ_H
#define INNSYNC_HQ_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "innsync.pb-c.h"

#define HQ_DEFAULT_LISTEN "tcp://127.0.0.1:7400"
#define HQ_DEFAULT_ENROLL "tcp://127.0.0.1:7401"
#define HQ_DB_NAME "hq.db"
#define HQ_KEYS_DIR "keys"
#define HQ_HEARTBEAT_MS 5000
#define HQ_DOWN_WINDOW 64          /* downstream items in flight per agent and site */
#define HQ_DOWN_RESEND_MS 5000
#define HQ_DOWN_BATCH_BYTES (1024 * 1024) /* item bytes in one DownBatch (at least one item) */
#define HQ_TOKEN_TTL_DEFAULT 86400 /* seconds */

/*---- store (hq_store.c) ----------------------------------------------------*/

/* Opens DIR/hq.db and migrates it. 0 or -1 with a reason in err. */
int hq_store_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen);
/* Creates a new HQ under data_dir (store, keys); refuses an existing one. */
int hq_store_init(const char *data_dir, char *hq_key_out, size_t keylen, char *err,
		  size_t errlen);

/*---- daemon state (daemon.c) -----------------------------------------------*/

struct hq_site_cursor {
	char site[64];
	uint64_t acked;   /* highest seq the agent committed */
	uint64_t sent;    /* highest seq sent to it */
	int64_t last_progress_mono;
};

enum agent_role { ROLE_BRANCH = 1, ROLE_INSPECTOR = 2 };

struct hq_agent {
	char id[32];
	enum agent_role role;
	bool revoked;
	bool revoke_notified;
	char **sites;               /* owned; sorted */
	size_t n_sites;
	char site_kind[16];         /* branch agents: kind of its site */
	verify_key *sign_key;       /* owned */
	uint64_t committed_seq;     /* highest seq committed at HQ */
	uint64_t pending_seq;       /* highest seq stored in the open transaction */
	uint64_t outbox_head;       /* as reported in its last Hello */
	int64_t last_contact_ms;    /* wall clock, last message */
	int64_t last_seen_mono;
	bool contact_dirty;         /* last_contact/outbox_head not yet in the store */
	int64_t contact_flushed_mono; /* when they were last written, 0: never */
	uint8_t routing_id[256];    /* ROUTER id of its latest connection */
	size_t routing_len;
	struct hq_site_cursor *cursors; /* owned; one per site */
	size_t n_cursors;
	uint64_t hello_acked;       /* `acked` of its latest Hello: what it surely knows */
	bool ack_due;
	uint64_t fork_seq;           /* last seq a sequence fork was raised for */
};

struct hq_site_head {
	char id[64];
	char kind[16];
	uint64_t down_head;  /* highest downstream seq of this site */
};

struct hq_daemon {
	sqlite3 *db;                /* owned */
	void *zmq_ctx;              /* owned */
	void *sync_socket;          /* owned, ROUTER */
	void *enroll_socket;        /* owned, ROUTER */
	void *zap_socket;           /* owned, REP on inproc://zeromq.zap.01 */
	char data_dir[4096];
	uint64_t max_attachment_bytes;
	struct hq_upload *uploads;   /* owned; uploads written this turn, see attachments.c */
	size_t n_uploads;
	char sync_endpoint[256];
	char enroll_endpoint[256];
	char advertised_sync[256];
	uint8_t hq_sign_public[SIGN_PUBLIC_LEN];
	uint64_t session;
	struct hq_agent **agents;   /* owned; sorted by id */
	size_t n_agents;
	struct hq_site_head *sites; /* owned; sorted by id */
	size_t n_sites;
	long long data_version;
	struct hq_cached_statement {
		const char *sql;     /* string literal, the key */
		sqlite3_stmt *stmt;  /* owned */
	} *statement_cache;          /* owned, grows */
	size_t n_cached, cap_cached;
	bool in_transaction;
	bool turn_failed;           /* a write failed: roll the turn back */
	struct hq_agent **touched;  /* owned array; agents with an ack due */
	size_t n_touched, cap_touched;
	bool down_dirty;            /* downstream rows appended: run fan-out */
	uint64_t turn_records;      /* new records stored in this loop turn */
};

int hq_run(const char *data_dir, const char *listen, const char *enroll, const char *advertise,
	   uint64_t max_attachment_bytes);

struct hq_agent *hq_find_agent(struct hq_daemon *hq, const char *id);
struct hq_site_head *hq_find_site(struct hq_daemon *hq, const char *id);
bool hq_agent_has_site(const struct hq_agent *agent, const char *site);
/* (Re)loads agents and sites from the store, keeping live state. */
int hq_reload(struct hq_daemon *hq);
/* Sends msg to an agent's latest connection (DONTWAIT). 0 or -1. */
int hq_send_to_agent(struct hq_daemon *hq, struct hq_agent *agent, const Innsync__HqMessage *msg);
int hq_send_error(struct hq_daemon *hq, const uint8_t *routing_id, size_t routing_len,
		  Innsync__ErrorCode code, const char *message);
/* Opens the group-commit transaction if not open yet. */
int hq_ensure_transaction(struct hq_daemon *hq);

/*---- record kinds (kinds.c and one file per kind) --------------------------*/

/* HQ's verdict on one record: code 0 means accepted. */
struct verdict {
	Innsync__RefusalCode code;
	char reason[512];
	bool store_error; /* HQ could not read its store: not a verdict on the
			   * record; the turn is rolled back and the agent resends */
};

/* Marks v as "HQ could not judge": see struct verdict. */
void verdict_store_error(struct verdict *v, const char *what);

void verdict_set(struct verdict *v, Innsync__RefusalCode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What HQ knows about one kind of record: who may write it, its payload
 * rules, and what storing an accepted one does. */
struct hq_record_kind {
	Innsync__RecordKind kind;
	const char *name;
	unsigned roles;   /* mask of (1 << ROLE_BRANCH) | (1 << ROLE_INSPECTOR) */
	/* Payload rules; leaves v->code 0 when the record is valid. */
	void (*check)(struct hq_daemon *hq, struct hq_agent *agent, const struct hq_site_head *site,
		      const Innsync__RecordBody *body, struct verdict *v);
	/* Stores an accepted record's effects inside the open transaction. 0 or -1. */
	int (*apply)(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		     const Innsync__RecordBody *body);
	bool notify_acceptance; /* send the site a ReportsAccepted notice */
};

const struct hq_record_kind *hq_record_kind_find(Innsync__RecordKind kind);

/* sales.c */
void hq_sales_check(struct hq_daemon *hq, struct hq_agent *agent, const struct hq_site_head *site,
		    const Innsync__RecordBody *body, struct verdict *v);
int hq_sales_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		   const Innsync__RecordBody *body);

/* A prepared statement for sql, cached for the daemon's life (sql must be
 * a string literal: the cache is keyed by its address). NULL on error.
 * The caller resets it after use. */
sqlite3_stmt *hq_statement(struct hq_daemon *hq, const char *sql);

/* qa.c: QA inspections (inspector agents) and rectification (sites):
 * RECORD_KIND_QA_INSPECTION, _RECTIFICATION_PLAN, _RECTIFICATION_DONE. */
int hq_qa_migrate(sqlite3 *db, char *err, size_t errlen);
void hq_qa_check(struct hq_daemon *hq, struct hq_agent *agent, const struct hq_site_head *site,
		 const Innsync__RecordBody *body, struct verdict *v);
int hq_qa_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		const Innsync__RecordBody *body);

/* feedback.c: training acks and results, satisfaction, complaint responses,
 * evaluation answers (RECORD_KIND_TRAINING_ACK .. _EVALUATION_ANSWER). */
int hq_feedback_migrate(sqlite3 *db, char *err, size_t errlen);
void hq_feedback_check(struct hq_daemon *hq, struct hq_agent *agent,
		       const struct hq_site_head *site, const Innsync__RecordBody *body,
		       struct verdict *v);
int hq_feedback_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		      const Innsync__RecordBody *body);

/*---- publications to sites (publish.c; used by staff commands) -------------*/

/* Appends body to one site's downstream log from a staff command, inside
 * the caller's transaction (seq = the site's highest + 1; the daemon sees
 * the new rows when its next transaction starts). OUT: *seq_out (may be NULL). */
int hq_publish_to_site(sqlite3 *db, const char *site, const Innsync__DownBody *body,
		       uint64_t *seq_out);

/* Creates or revises publication id (e.g. "training/TP-2027-Q1") for the
 * sites its audience selects, and appends body to each of their logs now.
 * audience_json: {"all": true} | {"kinds": [...]} | {"regions": [...]} |
 * {"tiers": [...]} | {"sites": [...]}. While open, sites added later get it
 * too (hq_publications_backfill). Inside the caller's transaction.
 * OUT: *sites_reached. 0, or -1 with a reason in err. */
int hq_publication_put(sqlite3 *db, const char *id, const char *audience_json,
		       const Innsync__DownBody *body, bool open, int *sites_reached, char *err,
		       size_t errlen);
/* Appends every open publication whose audience selects site. */
int hq_publications_backfill(sqlite3 *db, const char *site);
/* 0 if audience_json is a valid audience; -1 with a reason. */
int hq_audience_check(const char *audience_json, char *err, size_t errlen);

/*---- attachments (attachments.c) -------------------------------------------*/

#define HQ_ATTACHMENT_MAX_DEFAULT (20 * 1024 * 1024)

/* Path of a stored attachment: DIR/blobs/<hex[0..1]>/<hex>. */
int hq_blob_path(const char *data_dir, const uint8_t sha256[SHA256_LEN], char *out, size_t outlen);
/* Called by a record's apply: the record references this blob; the agent
 * may upload it and the site may fetch it. Inside the open transaction. */
int hq_attachment_expect(struct hq_daemon *hq, const uint8_t *sha256, uint64_t size,
			 const char *site, const char *agent, const char *record_id);
/* 1 if the blob arrived whole and verified, 0 if not (yet), -1 on error. */
int hq_attachment_complete(sqlite3 *db, const uint8_t *sha256);
void hq_attachment_offer(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__AttachmentOffer *offer);
void hq_attachment_chunk(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__AttachmentChunk *chunk);
void hq_attachment_fetch(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__AttachmentFetch *fetch);
/* After the turn's commit: fsync what the turn wrote, then tell agents. */
void hq_attachments_flush(struct hq_daemon *hq);
/* Closes every upload in progress (their partial files stay for a resume). */
void hq_attachments_close(struct hq_daemon *hq);

/*---- ZAP (zap.c) -----------------------------------------------------------*/

/* Answers one pending ZAP request on hq->zap_socket. */
void hq_zap_handle(struct hq_daemon *hq);

/*---- enrolment (enroll.c) --------------------------------------------------*/

/* Handles one message waiting on hq->enroll_socket. */
void hq_enroll_handle(struct hq_daemon *hq);

/*---- ingest (ingest.c) -----------------------------------------------------*/

/* Handles an AgentMessage from agent (already authenticated). */
void hq_ingest_message(struct hq_daemon *hq, struct hq_agent *agent,
		       const Innsync__AgentMessage *msg);
/* Commits the open transaction, then sends every due ack. */
int hq_ingest_commit(struct hq_daemon *hq);

/*---- fan-out (fanout.c) ----------------------------------------------------*/

/* Appends one item to a site's downstream log (inside the open transaction). */
int hq_downstream_append(struct hq_daemon *hq, const char *site, const Innsync__DownBody *body);
/* Sends what each online agent is owed, within the window. */
void hq_fanout(struct hq_daemon *hq);
void hq_fanout_reset_agent(struct hq_daemon *hq, struct hq_agent *agent,
			   const Innsync__Hello *hello);
/* The agent's messages now come over a new connection: resend from its cursors. */
void hq_fanout_reconnected(struct hq_daemon *hq, struct hq_agent *agent);
void hq_fanout_down_ack(struct hq_daemon *hq, struct hq_agent *agent,
			const Innsync__DownAck *ack);

/* Records an alarm (sequence fork, ...) in the store and the log. */
int hq_alarm(struct hq_daemon *hq, const char *kind, const char *agent, uint64_t seq,
	     const char *detail);

/*---- staff commands (commands.c) -------------------------------------------*/

int hq_cmd_init(int argc, char **argv);
int hq_cmd_site(int argc, char **argv);
int hq_cmd_sites(int argc, char **argv);
int hq_cmd_token(int argc, char **argv);
int hq_cmd_agents(int argc, char **argv);
int hq_cmd_revoke(int argc, char **argv);
int hq_cmd_reports(int argc, char **argv);
int hq_cmd_alarms(int argc, char **argv);
int hq_cmd_qa(int argc, char **argv);            /* qa.c */
int hq_cmd_rectification(int argc, char **argv); /* qa.c */
int hq_cmd_verify(int argc, char **argv);        /* verify.c */
int hq_cmd_training(int argc, char **argv);      /* feedback.c */
int hq_cmd_satisfaction(int argc, char **argv);  /* feedback.c */
int hq_cmd_complaint(int argc, char **argv);     /* feedback.c */
int hq_cmd_evaluation(int argc, char **argv);    /* feedback.c */

#endif
