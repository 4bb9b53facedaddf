/* ingest: owns what HQ does with each message an agent sends on the sync
 * endpoint: Hello (answered with Welcome), RecordBatch (verified, stored,
 * acknowledged after commit) and DownAck (handed to fan-out).
 *
 * A batch is accepted in this order, and nothing of it is stored unless all
 * of steps 1-3 pass:
 *   1. the Manifest names this agent and lists one SHA-256 per record;
 *   2. the manifest signature verifies with the agent's Ed25519 key (one
 *      verification per batch, not per record);
 *   3. every record body hashes to its manifest entry;
 *   4. record by record, in sequence: a seq already stored is a duplicate
 *      (same hash: its earlier verdict is repeated; other bytes: "sequence
 *      fork" alarm); the next seq is checked (body, authorisation, payload
 *      rules, revision) and stored as accepted or refused; a gap ends the
 *      batch (the agent goes back to its last ack).
 * Acks leave only after hq_ingest_commit has committed the turn. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

static void mark_touched(struct hq_daemon *hq, struct hq_agent *agent)
{
	if (agent->ack_due)
		return;
	if (hq->n_touched == hq->cap_touched) {
		size_t capacity = hq->cap_touched ? hq->cap_touched * 2 : 64;
		struct hq_agent **grown = realloc(hq->touched, capacity * sizeof *grown);
		if (grown == NULL)
			return; /* no ack this turn; the agent resends and gets one */
		hq->touched = grown;
		hq->cap_touched = capacity;
	}
	hq->touched[hq->n_touched++] = agent;
	agent->ack_due = true;
}

static void send_welcome(struct hq_daemon *hq, struct hq_agent *agent, bool resend)
{
	Innsync__Welcome welcome = INNSYNC__WELCOME__INIT;
	welcome.protocol_version = WIRE_PROTOCOL_VERSION;
	welcome.upstream_acked = agent->committed_seq;
	welcome.server_time_ms = now_ms();
	welcome.heartbeat_ms = HQ_HEARTBEAT_MS;
	welcome.max_batch_records = WIRE_MAX_BATCH_RECORDS;
	welcome.max_batch_bytes = WIRE_MAX_BATCH_BYTES;
	welcome.session = hq->session;
	welcome.resend = resend;
	Innsync__HqMessage reply = INNSYNC__HQ_MESSAGE__INIT;
	reply.msg_case = INNSYNC__HQ_MESSAGE__MSG_WELCOME;
	reply.welcome = &welcome;
	hq_send_to_agent(hq, agent, &reply);
}

static void handle_hello(struct hq_daemon *hq, struct hq_agent *agent, const Innsync__Hello *hello)
{
	if (hello->protocol_version != WIRE_PROTOCOL_VERSION) {
		hq_send_error(hq, agent->routing_id, agent->routing_len,
			      INNSYNC__ERROR_CODE__ERROR_VERSION,
			      "unsupported protocol version: upgrade innsync-branch");
		return;
	}
	if (hello->acked > agent->committed_seq && hello->acked > agent->pending_seq)
		log_warnx("agent %s says HQ acknowledged up to %llu but HQ holds only %llu: "
			  "was HQ's store restored from a backup?",
			  agent->id, (unsigned long long)hello->acked,
			  (unsigned long long)agent->committed_seq);
	agent->outbox_head = hello->outbox_head;
	/* above what HQ holds only after HQ's store was restored: the agent
	 * will resend from what HQ holds, and those are judged anew */
	agent->hello_acked = hello->acked <= agent->committed_seq ? hello->acked
								  : agent->committed_seq;
	send_welcome(hq, agent, false);
	hq_fanout_reset_agent(hq, agent, hello);
}

void verdict_store_error(struct verdict *v, const char *what)
{
	verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "HQ cannot read its store (%s)", what);
	v->store_error = true;
}

void verdict_set(struct verdict *v, Innsync__RefusalCode code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	v->code = code;
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);
	/* reasons quote what the agent sent: keep them one printable UTF-8 line
	 * (a proto3 string must be UTF-8, or the whole Ack is unreadable) */
	text_one_line(v->reason, sizeof v->reason);
}

/* Rules that depend on what HQ holds: the latest revision of record_id. */
static void check_revision(struct hq_daemon *hq, const Innsync__RecordBody *body, struct verdict *v)
{
	if (body->revision < 1) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "revision: must be 1 or more");
		return;
	}
	if (body->revision > 1 && (body->reason == NULL || body->reason[0] == '\0')) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "reason: revision %u of %s needs a reason", body->revision, body->record_id);
		return;
	}
	sqlite3_stmt *stmt = hq_statement(
		hq, "SELECT revision FROM record_heads WHERE record_id = ?");
	if (stmt == NULL) {
		verdict_store_error(v, "record heads");
		return;
	}
	sqlite3_bind_text(stmt, 1, body->record_id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		unsigned held = (unsigned)sqlite3_column_int64(stmt, 0);
		if (held >= body->revision)
			verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_STALE_REVISION,
				    "revision %u of %s is not newer than revision %u already held at HQ",
				    body->revision, body->record_id, held);
	}
	sqlite3_reset(stmt);
}

/* Authorisation and payload rules for a new record (body may be NULL). */
static void judge(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		  const Innsync__RecordBody *body, struct verdict *v)
{
	v->code = 0;
	v->reason[0] = '\0';
	v->store_error = false;
	if (body == NULL) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "record body is not a valid RecordBody");
		return;
	}
	if (strcmp(body->origin_agent, agent->id) != 0 || body->origin_seq != seq) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "record names agent %.32s seq %llu but arrived as agent %s seq %llu",
			    body->origin_agent, (unsigned long long)body->origin_seq, agent->id,
			    (unsigned long long)seq);
		return;
	}
	/* free texts staff read; ids are checked by each kind's rules */
	if (!utf8_valid(body->author) || !utf8_valid(body->reason)) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s: not valid UTF-8",
			    utf8_valid(body->author) ? "reason" : "author");
		return;
	}
	struct hq_site_head *site = hq_find_site(hq, body->site);
	if (site == NULL) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_UNKNOWN_SITE,
			    "site \"%.64s\" is not known at HQ", body->site);
		return;
	}
	if (!hq_agent_has_site(agent, body->site)) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_UNAUTHORISED,
			    "agent %s may not write records for site %s", agent->id, body->site);
		return;
	}
	const struct hq_record_kind *kind = hq_record_kind_find(body->kind);
	if (kind == NULL) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "record kind %d is not known to this HQ", (int)body->kind);
		return;
	}
	if ((kind->roles & (1u << agent->role)) == 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_UNAUTHORISED,
			    "a%s agent may not write %s records",
			    agent->role == ROLE_INSPECTOR ? "n inspector's" : " site's", kind->name);
		return;
	}
	kind->check(hq, agent, site, body, v);
	if (v->code == 0)
		check_revision(hq, body, v);
}

static int store_record_head(struct hq_daemon *hq, const Innsync__RecordBody *body)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO record_heads (record_id, revision) VALUES (?, ?)"
		    " ON CONFLICT (record_id) DO UPDATE SET revision = excluded.revision");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, body->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, body->revision);
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* protobuf-c leaves an empty bytes field NULL; SQLite would store NULL. */
static void bind_bytes(sqlite3_stmt *stmt, int column, const ProtobufCBinaryData *bytes)
{
	static const uint8_t empty[1];
	sqlite3_bind_blob(stmt, column, bytes->len > 0 ? bytes->data : empty, (int)bytes->len,
			  SQLITE_STATIC);
}

static int insert_record(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			 const Innsync__SignedRecord *record, const uint8_t *hash,
			 const Innsync__RecordBody *body, int64_t manifest_id, const struct verdict *v)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO records (agent, seq, record_id, kind, site, revision,"
		    " sha256, body, signature, manifest, status, refusal_code, reason,"
		    " received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)seq);
	sqlite3_bind_text(stmt, 3, body ? body->record_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, body ? (int)body->kind : 0);
	sqlite3_bind_text(stmt, 5, body ? body->site : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, body ? body->revision : 0);
	sqlite3_bind_blob(stmt, 7, hash, SHA256_LEN, SQLITE_STATIC);
	bind_bytes(stmt, 8, &record->body);
	bind_bytes(stmt, 9, &record->signature);
	sqlite3_bind_int64(stmt, 10, manifest_id);
	sqlite3_bind_text(stmt, 11, v->code == 0 ? "accepted" : "refused", -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 12, (int)v->code);
	sqlite3_bind_text(stmt, 13, v->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 14, now_ms());
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		log_warnx("cannot store record %s/%llu: %s", agent->id, (unsigned long long)seq,
			  sqlite3_errmsg(hq->db));
		return -1;
	}
	return 0;
}

/* What a batch accepted, per site, for the ReportsAccepted notices. */
struct accepted_list {
	Innsync__AcceptedRecord items[WIRE_MAX_BATCH_RECORDS];
	const char *sites[WIRE_MAX_BATCH_RECORDS];
	char *record_ids[WIRE_MAX_BATCH_RECORDS]; /* owned */
	size_t count;
};

static void accepted_add(struct accepted_list *list, struct hq_agent *agent, uint64_t seq,
			 const Innsync__RecordBody *body, const char *site)
{
	if (list->count >= WIRE_MAX_BATCH_RECORDS)
		return;
	Innsync__AcceptedRecord *item = &list->items[list->count];
	innsync__accepted_record__init(item);
	list->record_ids[list->count] = strdup(body->record_id);
	item->record_id = list->record_ids[list->count] ? list->record_ids[list->count] : "";
	item->revision = body->revision;
	item->origin_agent = agent->id;
	item->origin_seq = seq;
	item->accepted_at_ms = now_ms();
	list->sites[list->count] = site;
	list->count++;
}

/* Appends one ReportsAccepted item per site of the batch. */
static int accepted_publish(struct hq_daemon *hq, struct accepted_list *list)
{
	Innsync__AcceptedRecord *group[WIRE_MAX_BATCH_RECORDS];
	bool done[WIRE_MAX_BATCH_RECORDS] = { false };
	int rc = 0;
	for (size_t i = 0; i < list->count && rc == 0; i++) {
		if (done[i])
			continue;
		size_t n = 0;
		for (size_t j = i; j < list->count; j++) {
			if (!done[j] && strcmp(list->sites[j], list->sites[i]) == 0) {
				group[n++] = &list->items[j];
				done[j] = true;
			}
		}
		Innsync__ReportsAccepted accepted = INNSYNC__REPORTS_ACCEPTED__INIT;
		accepted.records = group;
		accepted.n_records = n;
		Innsync__DownBody body = INNSYNC__DOWN_BODY__INIT;
		body.kind = INNSYNC__DOWN_KIND__DOWN_KIND_REPORTS_ACCEPTED;
		body.published_at_ms = now_ms();
		body.payload_case = INNSYNC__DOWN_BODY__PAYLOAD_REPORTS_ACCEPTED;
		body.reports_accepted = &accepted;
		rc = hq_downstream_append(hq, list->sites[i], &body);
	}
	for (size_t i = 0; i < list->count; i++)
		free(list->record_ids[i]);
	list->count = 0;
	return rc;
}

/* Steps 1-3 of the batch rules. Returns the unpacked manifest or NULL after
 * answering the agent with BAD_BATCH. */
static Innsync__Manifest *verify_batch(struct hq_daemon *hq, struct hq_agent *agent,
				       const Innsync__RecordBatch *batch, uint8_t (*hashes)[SHA256_LEN])
{
	const char *problem = NULL;
	Innsync__Manifest *manifest = (Innsync__Manifest *)wire_unpack(
		&innsync__manifest__descriptor, batch->manifest.data, batch->manifest.len);
	if (manifest == NULL)
		problem = "manifest is not a valid Manifest";
	else if (strcmp(manifest->agent, agent->id) != 0)
		problem = "manifest names another agent";
	else if (batch->n_records == 0 || batch->n_records > WIRE_MAX_BATCH_RECORDS ||
		 manifest->n_sha256 != batch->n_records || manifest->first_seq < 1)
		problem = "manifest does not list one hash per record (1..256 records)";
	else if (verify_key_check(agent->sign_key, batch->manifest.data, batch->manifest.len,
				  batch->manifest_signature.data, batch->manifest_signature.len) != 0)
		problem = "manifest signature does not verify with the agent's key";
	for (size_t i = 0; problem == NULL && i < batch->n_records; i++) {
		const Innsync__SignedRecord *record = batch->records[i];
		if (record->body.len > WIRE_MAX_RECORD_BODY || manifest->sha256[i].len != SHA256_LEN) {
			problem = "record body over the size limit";
			break;
		}
		sha256_digest(record->body.data, record->body.len, hashes[i]);
		if (memcmp(hashes[i], manifest->sha256[i].data, SHA256_LEN) != 0)
			problem = "a record body does not match its manifest hash";
	}
	if (problem == NULL)
		return manifest;
	log_warnx("agent %s: batch refused: %s", agent->id, problem);
	hq_send_error(hq, agent->routing_id, agent->routing_len,
		      INNSYNC__ERROR_CODE__ERROR_BAD_BATCH, problem);
	wire_free((ProtobufCMessage *)manifest);
	return NULL;
}

static int64_t insert_manifest(struct hq_daemon *hq, struct hq_agent *agent,
			       const Innsync__RecordBatch *batch, uint64_t first_seq)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO manifests (agent, first_seq, bytes, signature, received_at)"
		    " VALUES (?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)first_seq);
	sqlite3_bind_blob(stmt, 3, batch->manifest.data, (int)batch->manifest.len, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 4, batch->manifest_signature.data,
			  (int)batch->manifest_signature.len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, now_ms());
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(hq->db) : -1;
}

/* A seq HQ already holds: repeat its verdict, or raise a fork alarm.
 * Returns -1 if the batch must stop. */
static int handle_duplicate(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			    const uint8_t *hash)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "SELECT sha256, status, refusal_code, reason FROM records"
		    " WHERE agent = ? AND seq = ?");
	if (stmt == NULL) {
		hq->turn_failed = true;
		return -1;
	}
	sqlite3_bind_text(stmt, 1, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)seq);
	int rc = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const void *held = sqlite3_column_blob(stmt, 0);
		if (sqlite3_column_bytes(stmt, 0) != SHA256_LEN || memcmp(held, hash, SHA256_LEN) != 0) {
			if (agent->fork_seq != seq) {
				hq_alarm(hq, "sequence fork", agent->id, seq,
					 "the agent sent other bytes for a sequence number HQ already "
					 "holds; its outbox was lost or restored");
				agent->fork_seq = seq;
			}
			hq_send_error(hq, agent->routing_id, agent->routing_len,
				      INNSYNC__ERROR_CODE__ERROR_SEQUENCE_FORK,
				      "sequence fork: HQ holds other bytes for this sequence number; "
				      "uploads stopped, contact HQ");
			rc = -1;
		}
	}
	/* seq <= pending_seq but not in the store cannot happen (gap-free). */
	sqlite3_reset(stmt);
	return rc;
}

static int store_new_record(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			    const Innsync__SignedRecord *record, const uint8_t *hash,
			    int64_t manifest_id, struct accepted_list *accepted)
{
	Innsync__RecordBody *body = (Innsync__RecordBody *)wire_unpack(
		&innsync__record_body__descriptor, record->body.data, record->body.len);
	struct verdict v;
	judge(hq, agent, seq, body, &v);
	if (v.code == 0 && record->signature.len != SIGNATURE_LEN)
		verdict_set(&v, INNSYNC__REFUSAL_CODE__REFUSAL_BAD_SIGNATURE,
			    "the record's own signature must be %d bytes, not %zu", SIGNATURE_LEN,
			    record->signature.len);
	if (v.store_error) {
		log_warnx("record %s/%llu not judged: %s; the agent will resend it", agent->id,
			  (unsigned long long)seq, v.reason);
		wire_free((ProtobufCMessage *)body);
		return -1;
	}
	int rc = insert_record(hq, agent, seq, record, hash, body, manifest_id, &v);
	if (rc == 0 && v.code == 0) {
		const struct hq_record_kind *kind = hq_record_kind_find(body->kind);
		rc = kind->apply(hq, agent, seq, body);
		if (rc == 0)
			rc = store_record_head(hq, body);
		if (kind->notify_acceptance)
			accepted_add(accepted, agent, seq, body, hq_find_site(hq, body->site)->id);
	}
	if (rc == 0 && v.code != 0)
		log_info("refused record %s/%llu: %s", agent->id, (unsigned long long)seq, v.reason);
	wire_free((ProtobufCMessage *)body);
	return rc;
}

static void handle_batch(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__RecordBatch *batch)
{
	static uint8_t hashes[WIRE_MAX_BATCH_RECORDS][SHA256_LEN];
	static struct accepted_list accepted;
	Innsync__Manifest *manifest = verify_batch(hq, agent, batch, hashes);
	if (manifest == NULL)
		return;
	if (hq_ensure_transaction(hq) != 0) {
		wire_free((ProtobufCMessage *)manifest);
		return;
	}
	int64_t manifest_id = 0;
	uint64_t first = manifest->first_seq;
	for (size_t i = 0; i < batch->n_records; i++) {
		uint64_t seq = first + i;
		if (seq <= agent->pending_seq) {
			if (handle_duplicate(hq, agent, seq, hashes[i]) != 0)
				break;
			continue;
		}
		if (seq > agent->pending_seq + 1) {
			/* a gap: batches were lost (HQ restarted?). The Welcome tells
			 * the agent HQ's session, so it resends from its last ack. */
			send_welcome(hq, agent, true);
			break;
		}
		if (manifest_id == 0)
			manifest_id = insert_manifest(hq, agent, batch, first);
		if (manifest_id < 0 ||
		    store_new_record(hq, agent, seq, batch->records[i], hashes[i], manifest_id,
				     &accepted) != 0) {
			hq->turn_failed = true; /* the whole turn is rolled back */
			break;
		}
		agent->pending_seq = seq;
		hq->turn_records++;
	}
	if (accepted.count > 0 && accepted_publish(hq, &accepted) != 0) {
		log_warnx("cannot publish acceptance notices for agent %s", agent->id);
		hq->turn_failed = true;
	}
	mark_touched(hq, agent);
	wire_free((ProtobufCMessage *)manifest);
}

void hq_ingest_message(struct hq_daemon *hq, struct hq_agent *agent,
		       const Innsync__AgentMessage *msg)
{
	switch (msg->msg_case) {
	case INNSYNC__AGENT_MESSAGE__MSG_HELLO:
		handle_hello(hq, agent, msg->hello);
		break;
	case INNSYNC__AGENT_MESSAGE__MSG_BATCH:
		handle_batch(hq, agent, msg->batch);
		break;
	case INNSYNC__AGENT_MESSAGE__MSG_DOWN_ACK:
		hq_fanout_down_ack(hq, agent, msg->down_ack);
		break;
	case INNSYNC__AGENT_MESSAGE__MSG_ATTACHMENT_OFFER:
		hq_attachment_offer(hq, agent, msg->attachment_offer);
		break;
	case INNSYNC__AGENT_MESSAGE__MSG_ATTACHMENT_CHUNK:
		hq_attachment_chunk(hq, agent, msg->attachment_chunk);
		break;
	case INNSYNC__AGENT_MESSAGE__MSG_ATTACHMENT_FETCH:
		hq_attachment_fetch(hq, agent, msg->attachment_fetch);
		break;
	default:
		hq_send_error(hq, agent->routing_id, agent->routing_len,
			      INNSYNC__ERROR_CODE__ERROR_BAD_MESSAGE, "unknown message type");
		break;
	}
}

#define ACK_MAX_REFUSALS 256

/* An Ack lists every refused seq above what the agent surely knows (the
 * acked of its latest Hello), so a lost Ack cannot lose a refusal. At most
 * ACK_MAX_REFUSALS: past that, upto stops at the last one listed. */
static void send_ack(struct hq_daemon *hq, struct hq_agent *agent)
{
	static Innsync__Refusal refusals[ACK_MAX_REFUSALS];
	static Innsync__Refusal *pointers[ACK_MAX_REFUSALS];
	static char reasons[ACK_MAX_REFUSALS][512];
	Innsync__Ack ack = INNSYNC__ACK__INIT;
	ack.upto = agent->committed_seq;
	sqlite3_stmt *stmt = hq_statement(
		hq, "SELECT seq, refusal_code, reason FROM records INDEXED BY records_refused"
		    " WHERE agent = ? AND seq > ? AND seq <= ? AND status = 'refused'"
		    " ORDER BY seq LIMIT 256");
	size_t n = 0;
	if (stmt != NULL) {
		sqlite3_bind_text(stmt, 1, agent->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64)agent->hello_acked);
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)agent->committed_seq);
		while (n < ACK_MAX_REFUSALS && sqlite3_step(stmt) == SQLITE_ROW) {
			innsync__refusal__init(&refusals[n]);
			refusals[n].seq = (uint64_t)sqlite3_column_int64(stmt, 0);
			refusals[n].code = (Innsync__RefusalCode)sqlite3_column_int(stmt, 1);
			copy_string(reasons[n], sizeof reasons[n],
				    (const char *)sqlite3_column_text(stmt, 2));
			refusals[n].reason = reasons[n];
			pointers[n] = &refusals[n];
			n++;
		}
		sqlite3_reset(stmt);
	}
	if (n == ACK_MAX_REFUSALS)
		ack.upto = refusals[n - 1].seq;
	ack.refusals = pointers;
	ack.n_refusals = n;
	Innsync__HqMessage reply = INNSYNC__HQ_MESSAGE__INIT;
	reply.msg_case = INNSYNC__HQ_MESSAGE__MSG_ACK;
	reply.ack = &ack;
	hq_send_to_agent(hq, agent, &reply);
}

int hq_ingest_commit(struct hq_daemon *hq)
{
	if (!hq->in_transaction)
		return 0;
	hq->in_transaction = false;
	bool committed = !hq->turn_failed && store_commit(hq->db) == 0;
	hq->turn_failed = false;
	if (!committed) {
		store_rollback(hq->db);
		/* forget what the failed turn stored; the agents resend it */
		for (size_t i = 0; i < hq->n_agents; i++)
			hq->agents[i]->pending_seq = hq->agents[i]->committed_seq;
		hq_reload(hq);
	}
	for (size_t i = 0; i < hq->n_touched; i++) {
		struct hq_agent *agent = hq->touched[i];
		agent->ack_due = false;
		if (committed) {
			agent->committed_seq = agent->pending_seq;
			send_ack(hq, agent);
		}
	}
	hq->n_touched = 0;
	return committed ? 0 : -1;
}
