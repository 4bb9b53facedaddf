/* zap: owns HQ's ZAP handler (RFC 27), which decides who may complete a
 * CURVE handshake:
 *  - domain "sync": only the CURVE key of an enrolled, unrevoked agent; the
 *    User-Id is the agent id, read back on every message;
 *  - domain "enroll": any CURVE key (the one-time token authorises); the
 *    User-Id is the client's public key in Z85, so enrolment can check that
 *    the agent holds the key it registers.
 * Any other mechanism or domain is refused. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define ZAP_FRAMES 7

struct zap_request {
	zmq_msg_t frames[ZAP_FRAMES]; /* version, id, domain, address, identity, mechanism, key */
	int count;
};

static int frame_equals(zmq_msg_t *frame, const char *text)
{
	size_t len = strlen(text);
	return zmq_msg_size(frame) == len && memcmp(zmq_msg_data(frame), text, len) == 0;
}

static void copy_frame_text(zmq_msg_t *frame, char *out, size_t outlen)
{
	size_t len = zmq_msg_size(frame);
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, zmq_msg_data(frame), len);
	out[len] = '\0';
}

static void send_reply(void *socket, zmq_msg_t *request_id, const char *status,
		       const char *text, const char *user_id)
{
	zmq_send(socket, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(socket, zmq_msg_data(request_id), zmq_msg_size(request_id), ZMQ_SNDMORE);
	zmq_send(socket, status, strlen(status), ZMQ_SNDMORE);
	zmq_send(socket, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(socket, user_id, strlen(user_id), ZMQ_SNDMORE);
	zmq_send(socket, "", 0, 0);
}

/* Looks the key up in the store (authoritative: a revocation by a staff
 * command is seen at once). Fills agent_id; 0 if admitted. */
static int admit_sync_key(struct hq_daemon *hq, const char *key_z85, char *agent_id,
			  size_t idlen)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(hq->db,
			  "SELECT id FROM agents WHERE curve_key = ? AND revoked_at IS NULL",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key_z85, -1, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		copy_string(agent_id, idlen, (const char *)sqlite3_column_text(stmt, 0));
		rc = 0;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static void decide(struct hq_daemon *hq, struct zap_request *req)
{
	char domain[32], address[64], key_z85[CURVE_KEY_Z85_LEN + 1];
	zmq_msg_t *request_id = &req->frames[1];
	if (req->count != ZAP_FRAMES || !frame_equals(&req->frames[0], "1.0")) {
		if (req->count >= 2)
			send_reply(hq->zap_socket, request_id, "400", "malformed ZAP request", "");
		return;
	}
	copy_frame_text(&req->frames[2], domain, sizeof domain);
	copy_frame_text(&req->frames[3], address, sizeof address);
	if (!frame_equals(&req->frames[5], "CURVE") || zmq_msg_size(&req->frames[6]) != 32) {
		log_info("refused a non-CURVE connection from %s", address);
		send_reply(hq->zap_socket, request_id, "400", "CURVE required", "");
		return;
	}
	zmq_z85_encode(key_z85, zmq_msg_data(&req->frames[6]), 32);
	if (strcmp(domain, "enroll") == 0) {
		send_reply(hq->zap_socket, request_id, "200", "OK", key_z85);
		return;
	}
	char agent_id[64];
	if (strcmp(domain, "sync") == 0 &&
	    admit_sync_key(hq, key_z85, agent_id, sizeof agent_id) == 0) {
		log_debug("admitted agent %s from %s", agent_id, address);
		send_reply(hq->zap_socket, request_id, "200", "OK", agent_id);
		return;
	}
	log_info("refused connection from %s: CURVE key %.8s... is not an enrolled, unrevoked agent",
		 address, key_z85);
	send_reply(hq->zap_socket, request_id, "400", "unknown or revoked key", "");
}

void hq_zap_handle(struct hq_daemon *hq)
{
	for (int handled = 0; handled < 256; handled++) {
		struct zap_request req;
		req.count = 0;
		int more = 1;
		while (more) {
			zmq_msg_t frame;
			zmq_msg_init(&frame);
			int flags = req.count == 0 ? ZMQ_DONTWAIT : 0;
			if (zmq_msg_recv(&frame, hq->zap_socket, flags) < 0) {
				zmq_msg_close(&frame);
				if (req.count == 0)
					return;
				break;
			}
			more = zmq_msg_more(&frame);
			if (req.count < ZAP_FRAMES)
				req.frames[req.count++] = frame;
			else {
				zmq_msg_close(&frame);
				req.count = ZAP_FRAMES + 1;
			}
		}
		int kept = req.count > ZAP_FRAMES ? ZAP_FRAMES : req.count;
		decide(hq, &req);
		for (int i = 0; i < kept; i++)
			zmq_msg_close(&req.frames[i]);
	}
}
