/* agent: owns `innsync-branch run`, the site's sync agent: one DEALER
 * socket to HQ over CURVE, uploading the outbox and storing what HQ sends.
 *
 * Upstream invariants:
 *  - records leave in sequence order, at most AGENT_WINDOW_RECORDS beyond
 *    HQ's last ack (bounded window);
 *  - a record is marked acknowledged (or refused, with HQ's reason) only
 *    when an Ack says HQ committed it;
 *  - after silence, a reconnect or an HQ restart (new Welcome.session) the
 *    agent goes back to its last ack and resends; HQ drops duplicates.
 * Downstream: an item is stored and its cursor advanced in one commit
 * before the DownAck leaves; items out of sequence are ignored (HQ resends). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "blob.h"
#include "branch.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define AGENT_WINDOW_RECORDS 1024
#define AGENT_RESEND_MS 5000
#define AGENT_HELLO_UNWELCOMED_MS 1000
#define AGENT_MAX_SITES 256
#define AGENT_CHUNK_WINDOW (1024 * 1024)  /* photo bytes in flight beyond HQ's `have` */
#define AGENT_ATTACHMENT_POLL_MS 1000

/* The photo being uploaded, one at a time, after the records. */
struct upload_state {
	bool active;
	uint8_t sha256[SHA256_LEN];
	uint64_t size;
	uint64_t sent;     /* bytes handed to the socket */
	uint64_t have;     /* bytes HQ holds durably */
	bool offered, status_seen;
	int fd;            /* owned while active */
	int64_t last_progress_mono;
};

/* A photo being fetched from HQ, one at a time. */
struct fetch_state {
	bool active;
	uint8_t sha256[SHA256_LEN];
	uint64_t size;
	uint64_t have;
	int fd;            /* owned while active: the partial file */
	int64_t last_request_mono;
};

struct agent_cursor {
	char site[64];
	uint64_t seq;
};

struct agent {
	sqlite3 *db;                 /* owned */
	struct branch_identity id;
	signing_key *key;            /* owned */
	void *ctx;                   /* owned */
	void *socket;                /* owned, DEALER */
	uint64_t acked;       /* durable here: records HQ acknowledged (monotonic) */
	uint64_t hq_acked;    /* what HQ says it holds now; below acked only after
			       * HQ lost records (restored store): they are resent */
	uint64_t sent_upto, outbox_head;
	void *monitor;        /* owned, PAIR: handshake events of the sync socket */
	uint64_t hq_session;
	uint32_t heartbeat_ms, max_batch_records, max_batch_bytes;
	int64_t last_progress_mono, last_hello_mono, last_heard_mono;
	bool welcomed, online, uploads_halted;
	long long data_version;
	struct agent_cursor cursors[AGENT_MAX_SITES];
	size_t n_cursors;
	sqlite3_stmt *outbox_range;  /* owned */
	int exit_code;
	char data_dir[4096];
	struct upload_state upload;
	struct fetch_state fetch;
	int64_t last_upload_pick_mono, last_fetch_pick_mono;
};

static volatile sig_atomic_t agent_stop_requested;

static void on_stop_signal(int signo)
{
	(void)signo;
	agent_stop_requested = 1;
}

/* Reads the outbox head. data_version is read first: a commit by a staff
 * command in between changes it again, so the next cron looks again. Call it
 * after every own commit too: our commit may hide one made just before. */
static int refresh_outbox_head(struct agent *agent)
{
	agent->data_version = store_data_version(agent->db);
	long long head = 0;
	if (store_query_int64(agent->db, "SELECT COALESCE(max(seq), 0) FROM outbox", 0, &head) != 0)
		return -1;
	agent->outbox_head = (uint64_t)head;
	return 0;
}

static int load_cursors(struct agent *agent)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(agent->db,
			  "SELECT a.site, COALESCE(c.seq, 0) FROM agent_sites a"
			  " LEFT JOIN down_cursors c ON c.site = a.site ORDER BY a.site",
			  &stmt) != 0)
		return -1;
	agent->n_cursors = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW && agent->n_cursors < AGENT_MAX_SITES) {
		struct agent_cursor *cursor = &agent->cursors[agent->n_cursors++];
		copy_string(cursor->site, sizeof cursor->site, (const char *)sqlite3_column_text(stmt, 0));
		cursor->seq = (uint64_t)sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	return 0;
}

static struct agent_cursor *find_cursor(struct agent *agent, const char *site)
{
	for (size_t i = 0; i < agent->n_cursors; i++)
		if (strcmp(agent->cursors[i].site, site) == 0)
			return &agent->cursors[i];
	return NULL;
}

static int send_message(struct agent *agent, Innsync__AgentMessage *msg)
{
	return wire_send(agent->socket, &msg->base, ZMQ_DONTWAIT);
}

static void send_hello(struct agent *agent)
{
	Innsync__DownCursor cursors[AGENT_MAX_SITES];
	Innsync__DownCursor *pointers[AGENT_MAX_SITES];
	for (size_t i = 0; i < agent->n_cursors; i++) {
		innsync__down_cursor__init(&cursors[i]);
		cursors[i].site = agent->cursors[i].site;
		cursors[i].seq = agent->cursors[i].seq;
		pointers[i] = &cursors[i];
	}
	Innsync__Hello hello = INNSYNC__HELLO__INIT;
	hello.protocol_version = WIRE_PROTOCOL_VERSION;
	hello.outbox_head = agent->outbox_head;
	hello.acked = agent->acked;
	hello.cursors = pointers;
	hello.n_cursors = agent->n_cursors;
	hello.software = "innsync-branch " INNSYNC_VERSION;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_HELLO;
	msg.hello = &hello;
	send_message(agent, &msg);
	agent->last_hello_mono = mono_ms();
}

/* Sends one batch after sent_upto. Returns 1 if sent, 0 if nothing to send
 * or the socket is full, -1 on a store error. */
static int send_batch(struct agent *agent)
{
	sqlite3_stmt *stmt = agent->outbox_range;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)agent->sent_upto);
	sqlite3_bind_int64(stmt, 2, agent->max_batch_records);
	static Innsync__SignedRecord records[WIRE_MAX_BATCH_RECORDS];
	static Innsync__SignedRecord *pointers[WIRE_MAX_BATCH_RECORDS];
	static ProtobufCBinaryData hashes[WIRE_MAX_BATCH_RECORDS];
	static uint8_t *copies[WIRE_MAX_BATCH_RECORDS];
	size_t n = 0, bytes = 0;
	uint64_t first = agent->sent_upto + 1;
	int rc = 0;
	while (n < agent->max_batch_records && sqlite3_step(stmt) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, 0);
		size_t body_len = (size_t)sqlite3_column_bytes(stmt, 1);
		if (seq != first + n) {
			log_warnx("outbox has a gap after seq %llu; uploads stopped",
				  (unsigned long long)(first + n - 1));
			agent->uploads_halted = true;
			break;
		}
		if (n > 0 && bytes + body_len > agent->max_batch_bytes)
			break;
		size_t total = body_len + SIGNATURE_LEN + SHA256_LEN;
		copies[n] = malloc(total);
		if (copies[n] == NULL) {
			rc = -1;
			break;
		}
		memcpy(copies[n], sqlite3_column_blob(stmt, 1), body_len);
		memcpy(copies[n] + body_len, sqlite3_column_blob(stmt, 2), SIGNATURE_LEN);
		memcpy(copies[n] + body_len + SIGNATURE_LEN, sqlite3_column_blob(stmt, 3), SHA256_LEN);
		innsync__signed_record__init(&records[n]);
		records[n].body.data = copies[n];
		records[n].body.len = body_len;
		records[n].signature.data = copies[n] + body_len;
		records[n].signature.len = SIGNATURE_LEN;
		hashes[n].data = copies[n] + body_len + SIGNATURE_LEN;
		hashes[n].len = SHA256_LEN;
		pointers[n] = &records[n];
		bytes += body_len;
		n++;
	}
	sqlite3_reset(stmt);
	if (n > 0 && rc == 0 &&
	    batch_send_signed(agent->socket, agent->id.agent_id, agent->key, first, pointers, hashes,
			      n) == 0) {
		if (agent->sent_upto == agent->hq_acked)
			agent->last_progress_mono = mono_ms();
		agent->sent_upto = first + n - 1;
		rc = 1;
	}
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	return rc;
}

static void upload(struct agent *agent)
{
	if (agent->uploads_halted || !agent->welcomed)
		return;
	int64_t now = mono_ms();
	if (agent->sent_upto > agent->hq_acked &&
	    now - agent->last_progress_mono > AGENT_RESEND_MS) {
		log_info("no acknowledgement for %d s: resending from seq %llu", AGENT_RESEND_MS / 1000,
			 (unsigned long long)(agent->hq_acked + 1));
		agent->sent_upto = agent->hq_acked;
		agent->last_progress_mono = now;
	}
	while (agent->sent_upto < agent->outbox_head &&
	       agent->sent_upto - agent->hq_acked < AGENT_WINDOW_RECORDS) {
		if (send_batch(agent) != 1)
			break;
	}
}

static void record_contact(struct agent *agent)
{
	branch_config_set_int(agent->db, "last_contact", now_ms());
}

static void handle_welcome(struct agent *agent, const Innsync__Welcome *welcome)
{
	if (welcome->max_batch_records >= 1 && welcome->max_batch_records <= WIRE_MAX_BATCH_RECORDS)
		agent->max_batch_records = welcome->max_batch_records;
	if (welcome->max_batch_bytes >= 1024 && welcome->max_batch_bytes <= WIRE_MAX_BATCH_BYTES)
		agent->max_batch_bytes = welcome->max_batch_bytes;
	if (welcome->heartbeat_ms >= 500 && welcome->heartbeat_ms <= 60000)
		agent->heartbeat_ms = welcome->heartbeat_ms;
	bool new_session = !agent->welcomed || welcome->session != agent->hq_session;
	if (new_session)
		log_info("connected to HQ at %s (HQ holds up to seq %llu, outbox at %llu)",
			 agent->id.hq_sync, (unsigned long long)welcome->upstream_acked,
			 (unsigned long long)agent->outbox_head);
	if (welcome->upstream_acked < agent->acked && welcome->upstream_acked != agent->hq_acked)
		log_warnx("HQ holds only up to seq %llu of the %llu it acknowledged (its store was "
			  "restored?): sending them again",
			  (unsigned long long)welcome->upstream_acked, (unsigned long long)agent->acked);
	if (new_session || welcome->resend || welcome->upstream_acked < agent->hq_acked) {
		/* anything in flight died with the old session, or HQ lost it */
		/* Resend from what both sides surely hold: records HQ committed
		 * but whose Ack never arrived are sent again, so that their Ack
		 * (and any refusal) arrives. */
		uint64_t held = welcome->upstream_acked <= agent->outbox_head ? welcome->upstream_acked
									  : agent->hq_acked;
		agent->hq_acked = held < agent->acked ? held : agent->acked;
		agent->sent_upto = agent->hq_acked;
		agent->last_progress_mono = mono_ms();
		agent->upload.offered = false;
		agent->fetch.last_request_mono = 0;
	}
	agent->hq_session = welcome->session;
	agent->welcomed = true;
	record_contact(agent);
}

static void handle_ack(struct agent *agent, const Innsync__Ack *ack)
{
	uint64_t upto = ack->upto;
	if (upto > agent->outbox_head) {
		log_warnx("HQ acknowledged seq %llu beyond this outbox (%llu): ignored",
			  (unsigned long long)upto, (unsigned long long)agent->outbox_head);
		return;
	}
	if (upto < agent->acked && ack->n_refusals == 0) {
		if (upto > agent->hq_acked) { /* resending what a restored HQ lost */
			agent->hq_acked = upto;
			agent->last_progress_mono = mono_ms();
		}
		return;
	}
	if (store_begin(agent->db) != 0)
		return;
	sqlite3_stmt *stmt = NULL;
	int failed = 0;
	if (upto > agent->acked) {
		failed |= store_prepare(agent->db,
					"UPDATE outbox SET state = 'acknowledged', acked_at = ?"
					" WHERE seq > ? AND seq <= ? AND state = 'pending'",
					&stmt);
		if (!failed) {
			sqlite3_bind_int64(stmt, 1, now_ms());
			sqlite3_bind_int64(stmt, 2, (sqlite3_int64)agent->acked);
			sqlite3_bind_int64(stmt, 3, (sqlite3_int64)upto);
			failed |= sqlite3_step(stmt) != SQLITE_DONE;
			sqlite3_finalize(stmt);
		}
	}
	if (!failed && ack->n_refusals > 0) {
		failed |= store_prepare(agent->db,
					"UPDATE outbox SET state = 'refused', reason = ?, acked_at = ?"
					" WHERE seq = ? AND seq <= ? AND state != 'refused'",
					&stmt);
		for (size_t i = 0; !failed && i < ack->n_refusals; i++) {
			const Innsync__Refusal *refusal = ack->refusals[i];
			sqlite3_bind_text(stmt, 1, refusal->reason ? refusal->reason : "", -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(stmt, 2, now_ms());
			sqlite3_bind_int64(stmt, 3, (sqlite3_int64)refusal->seq);
			sqlite3_bind_int64(stmt, 4, (sqlite3_int64)upto);
			failed |= sqlite3_step(stmt) != SQLITE_DONE;
			sqlite3_reset(stmt);
			if (sqlite3_changes(agent->db) > 0)
				log_info("HQ refused record %llu: %s", (unsigned long long)refusal->seq,
					 refusal->reason);
		}
		if (stmt)
			sqlite3_finalize(stmt);
	}
	uint64_t new_acked = upto > agent->acked ? upto : agent->acked;
	failed |= branch_config_set_int(agent->db, "acked", (long long)new_acked);
	failed |= branch_config_set_int(agent->db, "last_contact", now_ms());
	if (failed || store_commit(agent->db) != 0) {
		store_rollback(agent->db);
		log_warnx("cannot record HQ's acknowledgement; it will be asked for again");
		return;
	}
	if (upto > agent->hq_acked) {
		agent->last_progress_mono = mono_ms();
		agent->hq_acked = upto;
		agent->last_upload_pick_mono = 0; /* its photos may go now */
	}
	agent->acked = new_acked;
	if (agent->sent_upto < agent->hq_acked)
		agent->sent_upto = agent->hq_acked;
	refresh_outbox_head(agent);
}

static void send_down_ack(struct agent *agent)
{
	Innsync__DownCursor cursors[AGENT_MAX_SITES];
	Innsync__DownCursor *pointers[AGENT_MAX_SITES];
	for (size_t i = 0; i < agent->n_cursors; i++) {
		innsync__down_cursor__init(&cursors[i]);
		cursors[i].site = agent->cursors[i].site;
		cursors[i].seq = agent->cursors[i].seq;
		pointers[i] = &cursors[i];
	}
	Innsync__DownAck ack = INNSYNC__DOWN_ACK__INIT;
	ack.cursors = pointers;
	ack.n_cursors = agent->n_cursors;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_DOWN_ACK;
	msg.down_ack = &ack;
	send_message(agent, &msg);
}

/* Remembers the revisions HQ accepted, so that a re-enrolled site's next
 * correction of a month HQ already holds gets a newer revision. */
static int note_accepted(struct agent *agent, const Innsync__ReportsAccepted *accepted)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(agent->db,
			  "INSERT INTO record_heads (record_id, revision) VALUES (?, ?)"
			  " ON CONFLICT (record_id) DO UPDATE SET"
			  " revision = max(revision, excluded.revision)",
			  &stmt) != 0)
		return 1;
	int failed = 0;
	for (size_t i = 0; i < accepted->n_records && !failed; i++) {
		sqlite3_bind_text(stmt, 1, accepted->records[i]->record_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, accepted->records[i]->revision);
		failed |= sqlite3_step(stmt) != SQLITE_DONE;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return failed;
}

static void handle_down(struct agent *agent, const Innsync__DownBatch *batch)
{
	if (store_begin(agent->db) != 0)
		return;
	sqlite3_stmt *insert = NULL, *cursor_stmt = NULL;
	int failed = store_prepare(agent->db,
				   "INSERT OR IGNORE INTO inbox (site, seq, kind, body, received_at)"
				   " VALUES (?,?,?,?,?)",
				   &insert);
	failed |= store_prepare(agent->db,
				"INSERT INTO down_cursors (site, seq) VALUES (?, ?)"
				" ON CONFLICT (site) DO UPDATE SET seq = excluded.seq",
				&cursor_stmt);
	uint64_t before[AGENT_MAX_SITES];
	for (size_t i = 0; i < agent->n_cursors; i++)
		before[i] = agent->cursors[i].seq;
	for (size_t i = 0; !failed && i < batch->n_items; i++) {
		const Innsync__DownItem *item = batch->items[i];
		struct agent_cursor *cursor = find_cursor(agent, item->site);
		if (cursor == NULL || item->seq != cursor->seq + 1 ||
		    item->body.len > WIRE_MAX_DOWN_BODY)
			continue;
		Innsync__DownBody *body = (Innsync__DownBody *)wire_unpack(
			&innsync__down_body__descriptor, item->body.data, item->body.len);
		if (body != NULL && body->payload_case == INNSYNC__DOWN_BODY__PAYLOAD_REPORTS_ACCEPTED)
			failed |= note_accepted(agent, body->reports_accepted);
		sqlite3_bind_text(insert, 1, item->site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(insert, 2, (sqlite3_int64)item->seq);
		sqlite3_bind_int(insert, 3, body ? (int)body->kind : 0);
		sqlite3_bind_blob(insert, 4, item->body.data, (int)item->body.len, SQLITE_STATIC);
		sqlite3_bind_int64(insert, 5, now_ms());
		failed |= sqlite3_step(insert) != SQLITE_DONE;
		sqlite3_reset(insert);
		wire_free((ProtobufCMessage *)body);
		sqlite3_bind_text(cursor_stmt, 1, item->site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(cursor_stmt, 2, (sqlite3_int64)item->seq);
		failed |= sqlite3_step(cursor_stmt) != SQLITE_DONE;
		sqlite3_reset(cursor_stmt);
		cursor->seq = item->seq;
	}
	sqlite3_finalize(insert);
	sqlite3_finalize(cursor_stmt);
	if (failed || store_commit(agent->db) != 0) {
		store_rollback(agent->db);
		for (size_t i = 0; i < agent->n_cursors; i++)
			agent->cursors[i].seq = before[i];
		log_warnx("cannot store what HQ sent; HQ will send it again");
		return;
	}
	refresh_outbox_head(agent);
	send_down_ack(agent);
}

static void handle_error(struct agent *agent, const Innsync__Error *error)
{
	const char *text = error->message ? error->message : "";
	switch (error->code) {
	case INNSYNC__ERROR_CODE__ERROR_REVOKED:
		log_warnx("HQ revoked this agent: %s", text);
		agent->exit_code = 3;
		agent_stop_requested = 1;
		break;
	case INNSYNC__ERROR_CODE__ERROR_SEQUENCE_FORK:
	case INNSYNC__ERROR_CODE__ERROR_BAD_BATCH:
		if (!agent->uploads_halted)
			log_warnx("HQ refused this agent's uploads: %s; uploads stopped until "
				  "restart (contact HQ)", text);
		agent->uploads_halted = true;
		break;
	case INNSYNC__ERROR_CODE__ERROR_UNKNOWN_AGENT:
		log_warnx("HQ does not know this agent: %s", text);
		agent->exit_code = 3;
		agent_stop_requested = 1;
		break;
	case INNSYNC__ERROR_CODE__ERROR_VERSION:
		log_warnx("HQ speaks another protocol version: %s", text);
		agent->exit_code = 4;
		agent_stop_requested = 1;
		break;
	default:
		log_warnx("HQ reported an error (%d): %s", (int)error->code, text);
		break;
	}
}

/* libzmq does not retry a connection whose CURVE handshake HQ's ZAP
 * handler refused (revoked, or enrolled with another HQ): say so and stop
 * rather than look like "HQ unreachable" forever. */
static void handle_monitor(struct agent *agent)
{
	for (int n = 0; n < 16; n++) {
		zmq_msg_t event, address;
		zmq_msg_init(&event);
		if (zmq_msg_recv(&event, agent->monitor, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&event);
			return;
		}
		uint16_t id = 0;
		uint32_t value = 0;
		if (zmq_msg_size(&event) >= 6) {
			memcpy(&id, zmq_msg_data(&event), sizeof id);
			memcpy(&value, (uint8_t *)zmq_msg_data(&event) + 2, sizeof value);
		}
		bool more = zmq_msg_more(&event);
		zmq_msg_close(&event);
		if (more) {
			zmq_msg_init(&address);
			zmq_msg_recv(&address, agent->monitor, 0);
			zmq_msg_close(&address);
		}
		if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			send_hello(agent); /* a (re)connection: learn HQ's state now */
		} else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
			log_warnx("HQ refused this agent's credentials (ZAP status %u): it was revoked "
				  "or belongs to another HQ; enrol again with a new token",
				  (unsigned)value);
			agent->exit_code = 3;
			agent_stop_requested = 1;
		} else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
			   id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
			log_warnx("CURVE handshake with HQ failed: is hq_key HQ's current key?");
		}
	}
}

/*---- photos: upload after the records, fetch on request --------------------*/

static void set_attachment_state(struct agent *agent, const char *table, const uint8_t *sha256,
				 const char *state, const char *error)
{
	char sql[160];
	snprintf(sql, sizeof sql, "UPDATE %s SET state = ?, error = ? WHERE sha256 = ?", table);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(agent->db, sql, &stmt) != 0)
		return;
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, error ? error : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 3, sha256, SHA256_LEN, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		log_warnx("cannot record a photo's state: %s", sqlite3_errmsg(agent->db));
	sqlite3_finalize(stmt);
	refresh_outbox_head(agent);
}

static void upload_end(struct agent *agent)
{
	if (agent->upload.active)
		close(agent->upload.fd);
	agent->upload.active = false;
	agent->last_upload_pick_mono = 0;
}

static void fetch_end(struct agent *agent)
{
	if (agent->fetch.active)
		close(agent->fetch.fd);
	agent->fetch.active = false;
	agent->last_fetch_pick_mono = 0;
}

static void handle_attachment_status(struct agent *agent, const Innsync__AttachmentStatus *status)
{
	if (status->sha256.len != SHA256_LEN)
		return;
	char hex[65];
	hex_encode(status->sha256.data, SHA256_LEN, hex);
	struct upload_state *up = &agent->upload;
	bool is_upload = up->active && memcmp(up->sha256, status->sha256.data, SHA256_LEN) == 0;
	if (!is_upload) {
		struct fetch_state *fetch = &agent->fetch;
		if (fetch->active && memcmp(fetch->sha256, status->sha256.data, SHA256_LEN) == 0 &&
		    status->error && status->error[0]) {
			log_warnx("HQ cannot send photo %.16s...: %s", hex, status->error);
			set_attachment_state(agent, "attachment_fetches", fetch->sha256, "failed",
					     status->error);
			fetch_end(agent);
		}
		return;
	}
	if (status->error != NULL && status->error[0] != '\0') {
		log_warnx("HQ refused photo %.16s...: %s", hex, status->error);
		set_attachment_state(agent, "attachments", up->sha256, "failed", status->error);
		upload_end(agent);
		return;
	}
	if (status->complete) {
		log_info("photo %.16s... uploaded (%llu bytes)", hex, (unsigned long long)up->size);
		set_attachment_state(agent, "attachments", up->sha256, "uploaded", NULL);
		upload_end(agent);
		return;
	}
	if (status->have > up->have || !up->status_seen)
		up->last_progress_mono = mono_ms();
	up->have = status->have <= up->size ? status->have : 0;
	if (status->resend || !up->status_seen || up->sent < up->have)
		up->sent = up->have;
	up->status_seen = true;
}

/* Picks the next photo whose record HQ has acknowledged. */
static void upload_pick(struct agent *agent)
{
	int64_t now = mono_ms();
	if (agent->last_upload_pick_mono != 0 &&
	    now - agent->last_upload_pick_mono < AGENT_ATTACHMENT_POLL_MS)
		return;
	agent->last_upload_pick_mono = now;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(agent->db,
			  "SELECT sha256, size FROM attachments WHERE state = 'pending'"
			  " AND record_seq <= ? ORDER BY record_seq, sha256 LIMIT 1",
			  &stmt) != 0)
		return;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)agent->acked);
	struct upload_state *up = &agent->upload;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) == SHA256_LEN) {
		memset(up, 0, sizeof *up);
		memcpy(up->sha256, sqlite3_column_blob(stmt, 0), SHA256_LEN);
		up->size = (uint64_t)sqlite3_column_int64(stmt, 1);
		char path[4096];
		up->fd = blob_path(agent->data_dir, up->sha256, path, sizeof path) == 0
				 ? open(path, O_RDONLY)
				 : -1;
		if (up->fd < 0) {
			log_warnx("photo %s is missing from this agent's store", path);
			set_attachment_state(agent, "attachments", up->sha256, "failed",
					     "the photo file is missing at the site");
		} else {
			up->active = true;
		}
	}
	sqlite3_finalize(stmt);
}

static void send_offer(struct agent *agent)
{
	struct upload_state *up = &agent->upload;
	Innsync__AttachmentOffer offer = INNSYNC__ATTACHMENT_OFFER__INIT;
	offer.sha256.data = up->sha256;
	offer.sha256.len = SHA256_LEN;
	offer.size = up->size;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_ATTACHMENT_OFFER;
	msg.attachment_offer = &offer;
	if (send_message(agent, &msg) == 0) {
		up->offered = true;
		up->status_seen = false;
		up->last_progress_mono = mono_ms();
	}
}

/* Sends chunks while the window allows. Returns when the socket is full. */
static void send_chunks(struct agent *agent)
{
	struct upload_state *up = &agent->upload;
	static uint8_t buffer[BLOB_CHUNK_MAX];
	while (up->sent < up->size && up->sent - up->have < AGENT_CHUNK_WINDOW) {
		uint64_t want = up->size - up->sent;
		ssize_t got = pread(up->fd, buffer, want < sizeof buffer ? want : sizeof buffer,
				    (off_t)up->sent);
		if (got <= 0) {
			log_warnx("cannot read a photo being uploaded");
			set_attachment_state(agent, "attachments", up->sha256, "failed",
					     "the photo file cannot be read at the site");
			upload_end(agent);
			return;
		}
		Innsync__AttachmentChunk chunk = INNSYNC__ATTACHMENT_CHUNK__INIT;
		chunk.sha256.data = up->sha256;
		chunk.sha256.len = SHA256_LEN;
		chunk.offset = up->sent;
		chunk.data.data = buffer;
		chunk.data.len = (size_t)got;
		chunk.size = up->size;
		Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
		msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_ATTACHMENT_CHUNK;
		msg.attachment_chunk = &chunk;
		if (send_message(agent, &msg) != 0)
			return;
		up->sent += (uint64_t)got;
	}
}

/* Photos move only when no record waits to be sent: records first. */
static void upload_attachments(struct agent *agent)
{
	if (agent->uploads_halted || !agent->welcomed || agent->sent_upto < agent->outbox_head)
		return;
	struct upload_state *up = &agent->upload;
	if (!up->active)
		upload_pick(agent);
	if (!up->active)
		return;
	int64_t now = mono_ms();
	if (!up->offered || (now - up->last_progress_mono > AGENT_RESEND_MS)) {
		send_offer(agent);
		return;
	}
	if (up->status_seen)
		send_chunks(agent);
}

static void send_fetch(struct agent *agent)
{
	struct fetch_state *fetch = &agent->fetch;
	Innsync__AttachmentFetch request = INNSYNC__ATTACHMENT_FETCH__INIT;
	request.sha256.data = fetch->sha256;
	request.sha256.len = SHA256_LEN;
	request.offset = fetch->have;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_ATTACHMENT_FETCH;
	msg.attachment_fetch = &request;
	if (send_message(agent, &msg) == 0)
		fetch->last_request_mono = mono_ms();
}

static void fetch_pick(struct agent *agent)
{
	int64_t now = mono_ms();
	if (agent->last_fetch_pick_mono != 0 &&
	    now - agent->last_fetch_pick_mono < AGENT_ATTACHMENT_POLL_MS)
		return;
	agent->last_fetch_pick_mono = now;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(agent->db,
			  "SELECT sha256, size FROM attachment_fetches WHERE state = 'wanted'"
			  " ORDER BY requested_at LIMIT 1",
			  &stmt) != 0)
		return;
	struct fetch_state *fetch = &agent->fetch;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) == SHA256_LEN) {
		memset(fetch, 0, sizeof *fetch);
		memcpy(fetch->sha256, sqlite3_column_blob(stmt, 0), SHA256_LEN);
		fetch->size = (uint64_t)sqlite3_column_int64(stmt, 1);
		char path[4096];
		struct stat st;
		fetch->fd = (blob_make_dirs(agent->data_dir, fetch->sha256) == 0 &&
			     blob_partial_path(agent->data_dir, fetch->sha256, path, sizeof path) == 0)
				    ? open(path, O_RDWR | O_CREAT, 0600)
				    : -1;
		if (fetch->fd >= 0 && fstat(fetch->fd, &st) == 0) {
			fetch->have = (uint64_t)st.st_size <= fetch->size ? (uint64_t)st.st_size : 0;
			fetch->active = true;
		} else {
			log_warn("cannot open a partial photo file");
			if (fetch->fd >= 0)
				close(fetch->fd);
		}
	}
	sqlite3_finalize(stmt);
}

/* All bytes here: verify the hash, then move into the store. */
static void fetch_finish(struct agent *agent)
{
	struct fetch_state *fetch = &agent->fetch;
	char partial[4096], final[4096], hex[65];
	uint8_t actual[SHA256_LEN];
	hex_encode(fetch->sha256, SHA256_LEN, hex);
	bool ok = fsync(fetch->fd) == 0 &&
		  blob_partial_path(agent->data_dir, fetch->sha256, partial, sizeof partial) == 0 &&
		  blob_path(agent->data_dir, fetch->sha256, final, sizeof final) == 0 &&
		  file_sha256(partial, actual, NULL) == 0 &&
		  memcmp(actual, fetch->sha256, SHA256_LEN) == 0 && rename(partial, final) == 0;
	if (ok) {
		log_info("photo %.16s... received from HQ (%llu bytes)", hex,
			 (unsigned long long)fetch->size);
		set_attachment_state(agent, "attachment_fetches", fetch->sha256, "complete", NULL);
	} else {
		log_warnx("photo %.16s... from HQ does not match its hash; fetching again", hex);
		unlink(partial);
	}
	fetch_end(agent);
}

static void handle_fetched_chunk(struct agent *agent, const Innsync__AttachmentChunk *chunk)
{
	struct fetch_state *fetch = &agent->fetch;
	if (!fetch->active || chunk->sha256.len != SHA256_LEN ||
	    memcmp(chunk->sha256.data, fetch->sha256, SHA256_LEN) != 0 ||
	    chunk->offset != fetch->have || chunk->size != fetch->size ||
	    chunk->data.len > BLOB_CHUNK_MAX || chunk->offset + chunk->data.len > fetch->size)
		return;
	if (pwrite(fetch->fd, chunk->data.data, chunk->data.len, (off_t)chunk->offset) !=
	    (ssize_t)chunk->data.len) {
		log_warn("cannot write a photo received from HQ");
		return;
	}
	fetch->have += chunk->data.len;
	if (fetch->have == fetch->size)
		fetch_finish(agent);
	else
		send_fetch(agent);
}

static void fetch_attachments(struct agent *agent)
{
	if (!agent->welcomed)
		return;
	if (!agent->fetch.active)
		fetch_pick(agent);
	if (!agent->fetch.active)
		return;
	if (agent->fetch.have == agent->fetch.size) {
		fetch_finish(agent);
		return;
	}
	if (agent->fetch.last_request_mono == 0 ||
	    mono_ms() - agent->fetch.last_request_mono > AGENT_RESEND_MS)
		send_fetch(agent);
}

static void handle_incoming(struct agent *agent)
{
	for (int n = 0; n < 256; n++) {
		zmq_msg_t frame;
		zmq_msg_init(&frame);
		if (zmq_msg_recv(&frame, agent->socket, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&frame);
			return;
		}
		Innsync__HqMessage *msg = (Innsync__HqMessage *)wire_unpack(
			&innsync__hq_message__descriptor, zmq_msg_data(&frame), zmq_msg_size(&frame));
		zmq_msg_close(&frame);
		if (msg == NULL) {
			log_warnx("HQ sent a message this agent cannot read; ignored");
			continue;
		}
		agent->last_heard_mono = mono_ms();
		if (!agent->online)
			agent->online = true;
		switch (msg->msg_case) {
		case INNSYNC__HQ_MESSAGE__MSG_WELCOME: handle_welcome(agent, msg->welcome); break;
		case INNSYNC__HQ_MESSAGE__MSG_ACK: handle_ack(agent, msg->ack); break;
		case INNSYNC__HQ_MESSAGE__MSG_DOWN: handle_down(agent, msg->down); break;
		case INNSYNC__HQ_MESSAGE__MSG_ERROR: handle_error(agent, msg->error); break;
		case INNSYNC__HQ_MESSAGE__MSG_ATTACHMENT_STATUS:
			handle_attachment_status(agent, msg->attachment_status);
			break;
		case INNSYNC__HQ_MESSAGE__MSG_ATTACHMENT_CHUNK:
			handle_fetched_chunk(agent, msg->attachment_chunk);
			break;
		default: break;
		}
		wire_free((ProtobufCMessage *)msg);
	}
}

static void agent_cron(struct agent *agent)
{
	int64_t now = mono_ms();
	if (store_data_version(agent->db) != agent->data_version)
		refresh_outbox_head(agent); /* a staff command wrote to the outbox */
	int64_t hello_every = agent->welcomed ? agent->heartbeat_ms : AGENT_HELLO_UNWELCOMED_MS;
	if (now - agent->last_hello_mono >= hello_every)
		send_hello(agent);
	if (agent->online && now - agent->last_heard_mono > 3 * (int64_t)agent->heartbeat_ms) {
		log_warnx("HQ at %s is unreachable; records stay in the outbox", agent->id.hq_sync);
		agent->online = false;
		agent->welcomed = false;
	}
}

static int open_socket(struct agent *agent, const char *data_dir)
{
	char keys[4096];
	struct curve_keypair curve;
	if (path_join(keys, sizeof keys, data_dir, BRANCH_KEYS_DIR) != 0 ||
	    curve_keypair_load(keys, &curve) != 0) {
		log_warnx("cannot read this agent's CURVE keys in %s", keys);
		return -1;
	}
	agent->ctx = zmq_ctx_new();
	agent->socket = agent->ctx ? zmq_socket(agent->ctx, ZMQ_DEALER) : NULL;
	if (agent->socket == NULL ||
	    wire_setup_client(agent->socket, agent->id.hq_key, curve.public_z85, curve.secret_z85,
			      WIRE_MAX_SYNC_MESSAGE) != 0) {
		log_warnx("cannot create the sync socket: %s", zmq_strerror(errno));
		return -1;
	}
	const char *max_text = getenv("INNSYNC_RECONNECT_MAX_MS");
	uint64_t reconnect_max = 0;
	if (max_text != NULL && parse_u64(max_text, 100, 600000, &reconnect_max) == 0) {
		int value = (int)reconnect_max;
		int first = value < 2000 ? value : 2000;
		zmq_setsockopt(agent->socket, ZMQ_RECONNECT_IVL, &first, sizeof first);
		zmq_setsockopt(agent->socket, ZMQ_RECONNECT_IVL_MAX, &value, sizeof value);
	}
	int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
		     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
	agent->monitor = zmq_socket(agent->ctx, ZMQ_PAIR);
	if (agent->monitor == NULL ||
	    zmq_socket_monitor(agent->socket, "inproc://innsync-agent-monitor", events) != 0 ||
	    zmq_connect(agent->monitor, "inproc://innsync-agent-monitor") != 0) {
		log_warnx("cannot monitor the sync socket: %s", zmq_strerror(errno));
		return -1;
	}
	if (zmq_connect(agent->socket, agent->id.hq_sync) != 0) {
		log_warnx("cannot connect to %s: %s", agent->id.hq_sync, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

static void agent_close(struct agent *agent)
{
	upload_end(agent);
	fetch_end(agent);
	sqlite3_finalize(agent->outbox_range);
	signing_key_destroy(&agent->key);
	if (agent->socket)
		zmq_close(agent->socket);
	if (agent->monitor)
		zmq_close(agent->monitor);
	if (agent->ctx)
		zmq_ctx_term(agent->ctx);
	sqlite3_close(agent->db);
}

static int agent_open(struct agent *agent, const char *data_dir)
{
	char err[512];
	long long acked = 0;
	if (branch_store_open(data_dir, &agent->db, err, sizeof err) != 0 ||
	    branch_identity_load(agent->db, &agent->id, err, sizeof err) != 0) {
		log_warnx("%s", err);
		return -1;
	}
	if (branch_signing_key_load(data_dir, &agent->key) != 0) {
		log_warnx("cannot read this agent's signing key in %s/%s", data_dir, BRANCH_KEYS_DIR);
		return -1;
	}
	branch_config_get_int(agent->db, "acked", &acked);
	agent->acked = (uint64_t)acked;
	agent->hq_acked = agent->acked;
	agent->sent_upto = agent->acked;
	agent->heartbeat_ms = 5000;
	copy_string(agent->data_dir, sizeof agent->data_dir, data_dir);
	agent->max_batch_records = WIRE_MAX_BATCH_RECORDS;
	agent->max_batch_bytes = WIRE_MAX_BATCH_BYTES;
	if (refresh_outbox_head(agent) != 0 || load_cursors(agent) != 0 ||
	    store_prepare(agent->db,
			  "SELECT seq, body, signature, sha256 FROM outbox WHERE seq > ?"
			  " ORDER BY seq LIMIT ?",
			  &agent->outbox_range) != 0)
		return -1;
	return open_socket(agent, data_dir);
}

int branch_run(const char *data_dir)
{
	struct agent agent;
	memset(&agent, 0, sizeof agent);
	if (agent_open(&agent, data_dir) != 0) {
		agent_close(&agent);
		return 1;
	}
	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
	log_info("agent %s running: HQ %s, outbox %llu records, HQ acknowledged %llu",
		 agent.id.agent_id, agent.id.hq_sync, (unsigned long long)agent.outbox_head,
		 (unsigned long long)agent.acked);
	zmq_pollitem_t items[] = {
		{ agent.socket, 0, ZMQ_POLLIN, 0 },
		{ agent.monitor, 0, ZMQ_POLLIN, 0 },
	};
	while (!agent_stop_requested) {
		if (zmq_poll(items, 2, 100) < 0 && errno != EINTR)
			break;
		if (items[0].revents & ZMQ_POLLIN)
			handle_incoming(&agent);
		if (items[1].revents & ZMQ_POLLIN)
			handle_monitor(&agent);
		agent_cron(&agent);
		upload(&agent);
		upload_attachments(&agent);
		fetch_attachments(&agent);
	}
	log_info("stopped (outbox %llu, acknowledged %llu)", (unsigned long long)agent.outbox_head,
		 (unsigned long long)agent.acked);
	int code = agent.exit_code;
	agent_close(&agent);
	return code;
}
