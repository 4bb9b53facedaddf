/* enroll: owns HQ's side of enrolment: a new agent presents a one-time,
 * expiring token and its public keys on the enrolment endpoint; HQ checks
 * the token, that the agent holds the CURVE key it registers (ZAP User-Id),
 * records the agent and answers with its id, sites and HQ's sync endpoint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

struct enroll_token {
	char role[16];
	char inspector[128];
	char sites[4096];
	int64_t expires_at;
	int64_t used_at;
	char used_by[64];
};

/* 0 found, 1 not found, -1 store error. */
static int token_lookup(sqlite3 *db, const uint8_t hash[SHA256_LEN], struct enroll_token *out)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT role, COALESCE(inspector, ''), sites, expires_at,"
			  " COALESCE(used_at, 0), COALESCE(used_by, '') FROM tokens WHERE hash = ?",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_blob(stmt, 1, hash, SHA256_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		copy_string(out->role, sizeof out->role, (const char *)sqlite3_column_text(stmt, 0));
		copy_string(out->inspector, sizeof out->inspector,
			    (const char *)sqlite3_column_text(stmt, 1));
		copy_string(out->sites, sizeof out->sites, (const char *)sqlite3_column_text(stmt, 2));
		out->expires_at = sqlite3_column_int64(stmt, 3);
		out->used_at = sqlite3_column_int64(stmt, 4);
		copy_string(out->used_by, sizeof out->used_by,
			    (const char *)sqlite3_column_text(stmt, 5));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int curve_key_in_use(sqlite3 *db, const char *key)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT 1 FROM agents WHERE curve_key = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_ROW ? 1 : 0;
	sqlite3_finalize(stmt);
	return rc;
}

static int bind_exec(sqlite3 *db, const char *sql, const char *const *texts, int n)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(stmt, i + 1, texts[i], -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Stores the agent and marks the token used, in one transaction. */
static int record_agent(struct hq_daemon *hq, const char *agent_id, const struct enroll_token *token,
			const uint8_t hash[SHA256_LEN], const Innsync__EnrollRequest *req)
{
	if (hq->in_transaction && hq_ingest_commit(hq) != 0)
		return -1;
	if (store_begin(hq->db) != 0)
		return -1;
	sqlite3_stmt *stmt = NULL;
	int ok = store_prepare(hq->db,
			       "INSERT INTO agents (id, role, inspector, curve_key, sign_key, hostname,"
			       " enrolled_at) VALUES (?,?,NULLIF(?, ''),?,?,?,?)",
			       &stmt) == 0;
	if (ok) {
		sqlite3_bind_text(stmt, 1, agent_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, token->role, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, token->inspector, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 4, req->curve_public_key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 5, req->sign_public_key.data, (int)req->sign_public_key.len,
				  SQLITE_STATIC);
		sqlite3_bind_text(stmt, 6, req->hostname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 7, now_ms());
		ok = sqlite3_step(stmt) == SQLITE_DONE;
		sqlite3_finalize(stmt);
	}
	char sites[sizeof token->sites];
	copy_string(sites, sizeof sites, token->sites);
	char *saveptr = NULL;
	for (char *site = strtok_r(sites, ",", &saveptr); ok && site != NULL;
	     site = strtok_r(NULL, ",", &saveptr)) {
		const char *args[] = { agent_id, site };
		ok = bind_exec(hq->db, "INSERT INTO agent_sites (agent, site) VALUES (?, ?)", args,
			       2) == 0;
	}
	if (ok) {
		ok = store_prepare(hq->db, "UPDATE tokens SET used_at = ?, used_by = ? WHERE hash = ?",
				   &stmt) == 0;
		if (ok) {
			sqlite3_bind_int64(stmt, 1, now_ms());
			sqlite3_bind_text(stmt, 2, agent_id, -1, SQLITE_STATIC);
			sqlite3_bind_blob(stmt, 3, hash, SHA256_LEN, SQLITE_STATIC);
			ok = sqlite3_step(stmt) == SQLITE_DONE;
			sqlite3_finalize(stmt);
		}
	}
	if (!ok || store_commit(hq->db) != 0) {
		store_rollback(hq->db);
		return -1;
	}
	return 0;
}

static void send_reply(struct hq_daemon *hq, zmq_msg_t *routing, const Innsync__EnrollReply *reply)
{
	if (zmq_send(hq->enroll_socket, zmq_msg_data(routing), zmq_msg_size(routing),
		     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(hq->enroll_socket, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    wire_send(hq->enroll_socket, &reply->base, ZMQ_DONTWAIT) != 0)
		log_debug("cannot answer an enrolment request: %s", zmq_strerror(errno));
}

static void refuse(struct hq_daemon *hq, zmq_msg_t *routing, Innsync__EnrollRefusalCode code,
		   const char *reason)
{
	log_info("enrolment refused: %s", reason);
	Innsync__EnrollRefused refused = INNSYNC__ENROLL_REFUSED__INIT;
	refused.code = code;
	refused.reason = (char *)reason;
	Innsync__EnrollReply reply = INNSYNC__ENROLL_REPLY__INIT;
	reply.result_case = INNSYNC__ENROLL_REPLY__RESULT_REFUSED;
	reply.refused = &refused;
	send_reply(hq, routing, &reply);
}

static void accept_agent(struct hq_daemon *hq, zmq_msg_t *routing, const char *agent_id,
			 struct enroll_token *token)
{
	char *site_list[256];
	size_t n_sites = 0;
	char *saveptr = NULL;
	for (char *site = strtok_r(token->sites, ",", &saveptr); site != NULL && n_sites < 256;
	     site = strtok_r(NULL, ",", &saveptr))
		site_list[n_sites++] = site;
	Innsync__EnrollAccepted accepted = INNSYNC__ENROLL_ACCEPTED__INIT;
	accepted.agent_id = (char *)agent_id;
	bool inspector = strcmp(token->role, "inspector") == 0;
	accepted.role = inspector ? INNSYNC__AGENT_ROLE__AGENT_ROLE_INSPECTOR
				  : INNSYNC__AGENT_ROLE__AGENT_ROLE_BRANCH;
	accepted.sites = site_list;
	accepted.n_sites = n_sites;
	accepted.sync_endpoint = hq->advertised_sync;
	accepted.hq_sign_public_key.data = hq->hq_sign_public;
	accepted.hq_sign_public_key.len = SIGN_PUBLIC_LEN;
	accepted.inspector = token->inspector;
	struct hq_site_head *site = n_sites > 0 ? hq_find_site(hq, site_list[0]) : NULL;
	accepted.site_kind = (!inspector && site != NULL) ? site->kind : "";
	Innsync__EnrollReply reply = INNSYNC__ENROLL_REPLY__INIT;
	reply.result_case = INNSYNC__ENROLL_REPLY__RESULT_ACCEPTED;
	reply.accepted = &accepted;
	send_reply(hq, routing, &reply);
}

static void handle_request(struct hq_daemon *hq, zmq_msg_t *routing, zmq_msg_t *payload)
{
	const char *peer_key = zmq_msg_gets(payload, "User-Id");
	Innsync__EnrollRequest *req = (Innsync__EnrollRequest *)wire_unpack(
		&innsync__enroll_request__descriptor, zmq_msg_data(payload), zmq_msg_size(payload));
	if (req == NULL || req->token == NULL || strlen(req->token) > 200) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_BAD_REQUEST,
		       "malformed enrolment request");
		goto done;
	}
	if (req->protocol_version != WIRE_PROTOCOL_VERSION) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_BAD_REQUEST,
		       "unsupported protocol version: use an innsync-branch that matches HQ");
		goto done;
	}
	verify_key *sign_key = NULL;
	if (verify_key_from_raw(req->sign_public_key.data, req->sign_public_key.len, &sign_key) != 0 ||
	    curve_key_valid(req->curve_public_key) != 0) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_BAD_REQUEST,
		       "enrolment request carries malformed or unusable public keys");
		goto done;
	}
	verify_key_destroy(&sign_key);
	uint8_t hash[SHA256_LEN];
	sha256_digest(req->token, strlen(req->token), hash);
	struct enroll_token token;
	int found = token_lookup(hq->db, hash, &token);
	char reason[256];
	if (found != 0) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_UNKNOWN_TOKEN,
		       "token not recognised: check it was copied whole, or ask HQ for a new one");
		goto done;
	}
	if (token.used_at != 0) {
		char when[32];
		format_iso8601(token.used_at, when, sizeof when);
		snprintf(reason, sizeof reason,
			 "token was already used at %s by agent %s: ask HQ for a new one", when,
			 token.used_by);
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_USED, reason);
		goto done;
	}
	if (token.expires_at <= now_ms()) {
		char when[32];
		format_iso8601(token.expires_at, when, sizeof when);
		snprintf(reason, sizeof reason, "token expired at %s: ask HQ for a new one", when);
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_EXPIRED, reason);
		goto done;
	}
	if (peer_key == NULL || strcmp(peer_key, req->curve_public_key) != 0) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_KEY_MISMATCH,
		       "the CURVE key in the request is not the one this connection uses");
		goto done;
	}
	if (curve_key_in_use(hq->db, req->curve_public_key) != 0) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_KEY_IN_USE,
		       "this CURVE key already belongs to an agent: generate new keys");
		goto done;
	}
	uint8_t random_id[5];
	char agent_id[32], hex[11];
	if (random_fill(random_id, sizeof random_id) != 0)
		goto done;
	hex_encode(random_id, sizeof random_id, hex);
	snprintf(agent_id, sizeof agent_id, "ag-%s", hex);
	if (record_agent(hq, agent_id, &token, hash, req) != 0) {
		refuse(hq, routing, INNSYNC__ENROLL_REFUSAL_CODE__ENROLL_REFUSAL_BAD_REQUEST,
		       "HQ could not record the agent; try again");
		goto done;
	}
	if (hq_reload(hq) != 0)
		log_warnx("cannot reload agents after enrolling %s", agent_id);
	log_info("enrolled agent %s (%s, sites %s, host %s)", agent_id, token.role, token.sites,
		 req->hostname);
	accept_agent(hq, routing, agent_id, &token);
done:
	wire_free((ProtobufCMessage *)req);
}

void hq_enroll_handle(struct hq_daemon *hq)
{
	for (int handled = 0; handled < 64; handled++) {
		zmq_msg_t frames[3];
		int count = 0, more = 1;
		bool overflow = false;
		while (more) {
			zmq_msg_t frame;
			zmq_msg_init(&frame);
			if (zmq_msg_recv(&frame, hq->enroll_socket, count == 0 ? ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(&frame);
				if (count == 0)
					return;
				break;
			}
			more = zmq_msg_more(&frame);
			if (count < 3)
				frames[count++] = frame;
			else {
				zmq_msg_close(&frame);
				overflow = true;
			}
		}
		if (count == 3 && !overflow && zmq_msg_size(&frames[1]) == 0)
			handle_request(hq, &frames[0], &frames[2]);
		else
			log_info("dropped a malformed enrolment message (%d frames)", count);
		for (int i = 0; i < count; i++)
			zmq_msg_close(&frames[i]);
	}
}
