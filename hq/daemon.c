/* daemon: owns innsync-hq's event loop: the three sockets (sync ROUTER,
 * enrolment ROUTER, ZAP REP), signals, the in-memory view of agents and
 * sites, and the periodic work (hq_cron).
 *
 * Invariants kept here and in ingest.c:
 *  - an agent is identified by the ZAP User-Id of each message, never by a
 *    routing id it chose;
 *  - a revoked agent's messages are dropped and answered REVOKED, also on a
 *    connection that was live before the revocation;
 *  - every loop turn's records are committed in one transaction before any
 *    of them is acknowledged (group commit). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define HQ_CRON_MS 200
#define HQ_TURN_MAX_MESSAGES 2048
#define HQ_TURN_MAX_MS 20
#define HQ_TURN_MAX_RECORDS 4096
#define HQ_CONTACT_FLUSH_MS 5000

static volatile sig_atomic_t hq_stop_requested;

static void on_stop_signal(int signo)
{
	(void)signo;
	hq_stop_requested = 1;
}

static int compare_agent_key(const void *key, const void *element)
{
	const struct hq_agent *const *agent = element;
	return strcmp(key, (*agent)->id);
}

static int compare_site_key(const void *key, const void *element)
{
	const struct hq_site_head *site = element;
	return strcmp(key, site->id);
}

struct hq_agent *hq_find_agent(struct hq_daemon *hq, const char *id)
{
	if (hq->n_agents == 0)
		return NULL;
	struct hq_agent **found = bsearch(id, hq->agents, hq->n_agents, sizeof *hq->agents,
					  compare_agent_key);
	return found != NULL ? *found : NULL;
}

static struct hq_agent **hq_find_agent_slot(struct hq_daemon *hq, const struct hq_agent *agent)
{
	return bsearch(agent->id, hq->agents, hq->n_agents, sizeof *hq->agents, compare_agent_key);
}

struct hq_site_head *hq_find_site(struct hq_daemon *hq, const char *id)
{
	if (hq->n_sites == 0)
		return NULL;
	return bsearch(id, hq->sites, hq->n_sites, sizeof *hq->sites, compare_site_key);
}

bool hq_agent_has_site(const struct hq_agent *agent, const char *site)
{
	for (size_t i = 0; i < agent->n_sites; i++)
		if (strcmp(agent->sites[i], site) == 0)
			return true;
	return false;
}

static void agent_clear_sites(struct hq_agent *agent)
{
	for (size_t i = 0; i < agent->n_sites; i++)
		free(agent->sites[i]);
	free(agent->sites);
	agent->sites = NULL;
	agent->n_sites = 0;
	free(agent->cursors);
	agent->cursors = NULL;
	agent->n_cursors = 0;
}

static void agent_destroy(struct hq_agent **agent_p)
{
	struct hq_agent *agent = *agent_p;
	if (agent == NULL)
		return;
	agent_clear_sites(agent);
	verify_key_destroy(&agent->sign_key);
	free(agent);
	*agent_p = NULL;
}

static int load_sites(struct hq_daemon *hq)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(hq->db,
			  "SELECT s.id, s.kind, (SELECT COALESCE(max(seq), 0) FROM downstream d"
			  " WHERE d.site = s.id) FROM sites s ORDER BY s.id",
			  &stmt) != 0)
		return -1;
	size_t capacity = 16, count = 0;
	struct hq_site_head *sites = calloc(capacity, sizeof *sites);
	int rc;
	while (sites != NULL && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == capacity) {
			capacity *= 2;
			struct hq_site_head *grown = realloc(sites, capacity * sizeof *sites);
			if (grown == NULL) {
				free(sites);
				sites = NULL;
				break;
			}
			sites = grown;
		}
		struct hq_site_head *site = &sites[count++];
		memset(site, 0, sizeof *site);
		copy_string(site->id, sizeof site->id, (const char *)sqlite3_column_text(stmt, 0));
		copy_string(site->kind, sizeof site->kind,
			    (const char *)sqlite3_column_text(stmt, 1));
		site->down_head = (uint64_t)sqlite3_column_int64(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (sites == NULL)
		return -1;
	free(hq->sites);
	hq->sites = sites;
	hq->n_sites = count;
	return 0;
}

static struct hq_agent *agent_new_from_row(sqlite3_stmt *row)
{
	struct hq_agent *agent = calloc(1, sizeof *agent);
	if (agent == NULL)
		return NULL;
	copy_string(agent->id, sizeof agent->id, (const char *)sqlite3_column_text(row, 0));
	const void *raw = sqlite3_column_blob(row, 3);
	int raw_len = sqlite3_column_bytes(row, 3);
	if (verify_key_from_raw(raw, (size_t)raw_len, &agent->sign_key) != 0) {
		log_warnx("agent %s has an invalid signing key in the store; ignored", agent->id);
		free(agent);
		return NULL;
	}
	agent->last_contact_ms = sqlite3_column_int64(row, 4);
	agent->outbox_head = (uint64_t)sqlite3_column_int64(row, 5);
	agent->committed_seq = (uint64_t)sqlite3_column_int64(row, 6);
	agent->pending_seq = agent->committed_seq;
	return agent;
}

/* What fan-out knows of each agent's downstream cursors, kept across a
 * reload (the store may lag by one turn; in-flight items stay in flight). */
struct saved_cursors {
	struct hq_site_cursor *cursors; /* owned */
	size_t n;
};

static void restore_cursor(struct hq_site_cursor *cursor, const struct saved_cursors *saved)
{
	for (size_t i = 0; i < saved->n; i++) {
		const struct hq_site_cursor *old = &saved->cursors[i];
		if (strcmp(old->site, cursor->site) != 0)
			continue;
		if (old->acked > cursor->acked)
			cursor->acked = old->acked;
		cursor->sent = old->sent > cursor->acked ? old->sent : cursor->acked;
		cursor->last_progress_mono = old->last_progress_mono;
		return;
	}
}

static int load_agent_sites(struct hq_daemon *hq)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(hq->db,
			  "SELECT a.agent, a.site, COALESCE(c.seq, 0) FROM agent_sites a"
			  " LEFT JOIN down_cursors c ON c.agent = a.agent AND c.site = a.site"
			  " ORDER BY a.agent, a.site",
			  &stmt) != 0)
		return -1;
	struct saved_cursors *saved = calloc(hq->n_agents + 1, sizeof *saved);
	if (saved == NULL) {
		sqlite3_finalize(stmt);
		return -1;
	}
	for (size_t i = 0; i < hq->n_agents; i++) {
		saved[i].cursors = hq->agents[i]->cursors;
		saved[i].n = hq->agents[i]->n_cursors;
		hq->agents[i]->cursors = NULL;
		hq->agents[i]->n_cursors = 0;
		agent_clear_sites(hq->agents[i]);
	}
	int rc = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		struct hq_agent *agent = hq_find_agent(hq, (const char *)sqlite3_column_text(stmt, 0));
		if (agent == NULL)
			continue;
		char **sites = realloc(agent->sites, (agent->n_sites + 1) * sizeof *sites);
		struct hq_site_cursor *cursors =
			realloc(agent->cursors, (agent->n_cursors + 1) * sizeof *cursors);
		if (sites != NULL)
			agent->sites = sites;
		if (cursors != NULL)
			agent->cursors = cursors;
		char *site = strdup((const char *)sqlite3_column_text(stmt, 1));
		if (sites == NULL || cursors == NULL || site == NULL) {
			free(site);
			rc = -1;
			break;
		}
		agent->sites[agent->n_sites++] = site;
		struct hq_site_cursor *cursor = &agent->cursors[agent->n_cursors++];
		memset(cursor, 0, sizeof *cursor);
		copy_string(cursor->site, sizeof cursor->site, site);
		cursor->acked = (uint64_t)sqlite3_column_int64(stmt, 2);
		cursor->sent = cursor->acked;
		size_t index = (size_t)(hq_find_agent_slot(hq, agent) - hq->agents);
		restore_cursor(cursor, &saved[index]);
		struct hq_site_head *head = hq_find_site(hq, site);
		if (head != NULL && agent->role == ROLE_BRANCH)
			copy_string(agent->site_kind, sizeof agent->site_kind, head->kind);
	}
	sqlite3_finalize(stmt);
	for (size_t i = 0; i < hq->n_agents; i++)
		free(saved[i].cursors);
	free(saved);
	return rc;
}

/* Loads agents that are new to this process and refreshes the revoked flag
 * of the others, keeping their live state (sequences, routing ids). */
static int load_agents(struct hq_daemon *hq)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(hq->db,
			  "SELECT id, role, revoked_at IS NOT NULL, sign_key,"
			  " COALESCE(last_contact, 0), outbox_head,"
			  " (SELECT COALESCE(max(seq), 0) FROM records r WHERE r.agent = a.id)"
			  " FROM agents a ORDER BY id",
			  &stmt) != 0)
		return -1;
	int rc = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(stmt, 0);
		struct hq_agent *agent = hq_find_agent(hq, id);
		if (agent == NULL) {
			agent = agent_new_from_row(stmt);
			if (agent == NULL)
				continue;
			struct hq_agent **grown =
				realloc(hq->agents, (hq->n_agents + 1) * sizeof *grown);
			if (grown == NULL) {
				agent_destroy(&agent);
				rc = -1;
				break;
			}
			/* keep the array sorted at every step: the next row's lookup
			 * (bsearch) must see this agent */
			hq->agents = grown;
			size_t at = hq->n_agents;
			while (at > 0 && strcmp(hq->agents[at - 1]->id, agent->id) > 0) {
				hq->agents[at] = hq->agents[at - 1];
				at--;
			}
			hq->agents[at] = agent;
			hq->n_agents++;
		}
		agent->role = strcmp((const char *)sqlite3_column_text(stmt, 1), "inspector") == 0
				      ? ROLE_INSPECTOR
				      : ROLE_BRANCH;
		bool revoked = sqlite3_column_int(stmt, 2) != 0;
		if (revoked && !agent->revoked)
			log_info("agent %s is revoked: its messages are refused from now on",
				 agent->id);
		agent->revoked = revoked;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int hq_reload(struct hq_daemon *hq)
{
	if (load_sites(hq) != 0 || load_agents(hq) != 0 || load_agent_sites(hq) != 0)
		return -1;
	hq->data_version = store_data_version(hq->db);
	return 0;
}

int hq_send_to_agent(struct hq_daemon *hq, struct hq_agent *agent, const Innsync__HqMessage *msg)
{
	if (agent->routing_len == 0)
		return -1;
	if (zmq_send(hq->sync_socket, agent->routing_id, agent->routing_len,
		     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -1;
	if (wire_send(hq->sync_socket, &msg->base, ZMQ_DONTWAIT) != 0) {
		log_debug("send to agent %s failed: %s", agent->id, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

int hq_send_error(struct hq_daemon *hq, const uint8_t *routing_id, size_t routing_len,
		  Innsync__ErrorCode code, const char *message)
{
	Innsync__Error error = INNSYNC__ERROR__INIT;
	error.code = code;
	error.message = (char *)message;
	Innsync__HqMessage reply = INNSYNC__HQ_MESSAGE__INIT;
	reply.msg_case = INNSYNC__HQ_MESSAGE__MSG_ERROR;
	reply.error = &error;
	if (zmq_send(hq->sync_socket, routing_id, routing_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -1;
	return wire_send(hq->sync_socket, &reply.base, ZMQ_DONTWAIT);
}

int hq_ensure_transaction(struct hq_daemon *hq)
{
	if (hq->in_transaction)
		return 0;
	if (store_begin(hq->db) != 0)
		return -1;
	hq->in_transaction = true;
	/* Holding the write lock now: if a staff command committed since we
	 * last looked (new sites, revocations, downstream rows), re-read. */
	if (store_data_version(hq->db) != hq->data_version && hq_reload(hq) != 0)
		log_warnx("cannot reload agents and sites from the store");
	return 0;
}

/* Receives the remaining frames of a multi-frame message, discarding them. */
static void discard_rest(void *socket)
{
	int more = 1;
	size_t size = sizeof more;
	while (zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &size) == 0 && more) {
		zmq_msg_t frame;
		zmq_msg_init(&frame);
		zmq_msg_recv(&frame, socket, 0);
		zmq_msg_close(&frame);
		size = sizeof more;
	}
}

/* Handles one message from the sync socket. Returns -1 when none waits. */
static int handle_sync_message(struct hq_daemon *hq)
{
	zmq_msg_t routing, payload;
	zmq_msg_init(&routing);
	if (zmq_msg_recv(&routing, hq->sync_socket, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&routing);
		return -1;
	}
	zmq_msg_init(&payload);
	int got_payload = zmq_msg_more(&routing) &&
			  zmq_msg_recv(&payload, hq->sync_socket, 0) >= 0;
	bool extra_frames = got_payload && zmq_msg_more(&payload);
	if (extra_frames)
		discard_rest(hq->sync_socket);

	const uint8_t *routing_id = zmq_msg_data(&routing);
	size_t routing_len = zmq_msg_size(&routing);
	const char *user_id = got_payload ? zmq_msg_gets(&payload, "User-Id") : NULL;
	struct hq_agent *agent = user_id != NULL ? hq_find_agent(hq, user_id) : NULL;

	if (!got_payload || extra_frames) {
		hq_send_error(hq, routing_id, routing_len, INNSYNC__ERROR_CODE__ERROR_BAD_MESSAGE,
			      "one frame per message expected");
	} else if (agent == NULL) {
		/* ZAP admitted it, but it is gone from our view: refuse. */
		hq_send_error(hq, routing_id, routing_len, INNSYNC__ERROR_CODE__ERROR_UNKNOWN_AGENT,
			      "unknown agent: enrol again");
	} else if (agent->revoked) {
		hq_send_error(hq, routing_id, routing_len, INNSYNC__ERROR_CODE__ERROR_REVOKED,
			      "this agent was revoked by HQ: enrol again with a new token");
		agent->revoke_notified = true;
	} else {
		if (routing_len <= sizeof agent->routing_id &&
		    (routing_len != agent->routing_len ||
		     memcmp(agent->routing_id, routing_id, routing_len) != 0)) {
			/* a new connection: what was in flight on the old one is lost */
			memcpy(agent->routing_id, routing_id, routing_len);
			agent->routing_len = routing_len;
			hq_fanout_reconnected(hq, agent);
		}
		agent->last_seen_mono = mono_ms();
		agent->last_contact_ms = now_ms();
		agent->contact_dirty = true;
		Innsync__AgentMessage *msg = (Innsync__AgentMessage *)wire_unpack(
			&innsync__agent_message__descriptor, zmq_msg_data(&payload),
			zmq_msg_size(&payload));
		if (msg == NULL || msg->msg_case == INNSYNC__AGENT_MESSAGE__MSG__NOT_SET) {
			log_warnx("agent %s sent a message that is not a valid AgentMessage (%zu bytes)",
				  agent->id, zmq_msg_size(&payload));
			hq_send_error(hq, routing_id, routing_len,
				      INNSYNC__ERROR_CODE__ERROR_BAD_MESSAGE,
				      "not a valid AgentMessage");
		} else {
			hq_ingest_message(hq, agent, msg);
		}
		wire_free((ProtobufCMessage *)msg);
	}
	zmq_msg_close(&payload);
	zmq_msg_close(&routing);
	return 0;
}

/* Writes agents' last contact and reported outbox head to the store: at
 * once for an agent not written since HQ started, else at most every
 * HQ_CONTACT_FLUSH_MS (all = true: every dirty agent, at shutdown). */
static void flush_contacts(struct hq_daemon *hq, bool all)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < hq->n_agents; i++) {
		struct hq_agent *agent = hq->agents[i];
		if (!agent->contact_dirty)
			continue;
		if (!all && agent->contact_flushed_mono != 0 &&
		    now - agent->contact_flushed_mono < HQ_CONTACT_FLUSH_MS)
			continue;
		agent->contact_flushed_mono = now;
		if (hq_ensure_transaction(hq) != 0)
			return;
		sqlite3_stmt *stmt = hq_statement(
			hq, "UPDATE agents SET last_contact = ?, outbox_head = ? WHERE id = ?");
		if (stmt == NULL)
			return;
		sqlite3_bind_int64(stmt, 1, agent->last_contact_ms);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64)agent->outbox_head);
		sqlite3_bind_text(stmt, 3, agent->id, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			log_warnx("cannot record contact of %s: %s", agent->id,
				  sqlite3_errmsg(hq->db));
		sqlite3_reset(stmt);
		agent->contact_dirty = false;
	}
}

static void hq_cron(struct hq_daemon *hq)
{
	long long version = store_data_version(hq->db);
	if (version != hq->data_version) {
		/* another process (a staff command) committed: sites, revocations */
		if (hq_reload(hq) != 0)
			log_warnx("cannot reload agents and sites from the store");
	}
	flush_contacts(hq, false);
	for (size_t i = 0; i < hq->n_agents; i++) {
		struct hq_agent *agent = hq->agents[i];
		if (agent->revoked && !agent->revoke_notified && agent->routing_len > 0) {
			hq_send_error(hq, agent->routing_id, agent->routing_len,
				      INNSYNC__ERROR_CODE__ERROR_REVOKED,
				      "this agent was revoked by HQ: enrol again with a new token");
			agent->revoke_notified = true;
		}
	}
}

static int load_keys(struct hq_daemon *hq, const char *data_dir, struct curve_keypair *curve)
{
	char keys[4096], sign_path[4096];
	if (path_join(keys, sizeof keys, data_dir, HQ_KEYS_DIR) != 0 ||
	    path_join(sign_path, sizeof sign_path, keys, "sign.pem") != 0)
		return -1;
	if (curve_keypair_load(keys, curve) != 0) {
		log_warnx("cannot read HQ's CURVE keys in %s", keys);
		return -1;
	}
	signing_key *sign = NULL;
	if (signing_key_load(sign_path, &sign) != 0) {
		log_warnx("cannot read HQ's signing key %s", sign_path);
		return -1;
	}
	int rc = signing_key_public(sign, hq->hq_sign_public);
	signing_key_destroy(&sign);
	return rc;
}

static int open_sockets(struct hq_daemon *hq, const struct curve_keypair *curve)
{
	hq->zmq_ctx = zmq_ctx_new();
	if (hq->zmq_ctx == NULL)
		return -1;
	/* The ZAP handler must exist before any CURVE socket binds. */
	hq->zap_socket = zmq_socket(hq->zmq_ctx, ZMQ_REP);
	if (hq->zap_socket == NULL || zmq_bind(hq->zap_socket, "inproc://zeromq.zap.01") != 0) {
		log_warnx("cannot bind the ZAP handler: %s", zmq_strerror(errno));
		return -1;
	}
	int mandatory = 1;
	hq->sync_socket = zmq_socket(hq->zmq_ctx, ZMQ_ROUTER);
	hq->enroll_socket = zmq_socket(hq->zmq_ctx, ZMQ_ROUTER);
	if (hq->sync_socket == NULL || hq->enroll_socket == NULL ||
	    wire_setup_server(hq->sync_socket, curve->secret_z85, "sync", WIRE_MAX_SYNC_MESSAGE) != 0 ||
	    wire_setup_server(hq->enroll_socket, curve->secret_z85, "enroll",
			      WIRE_MAX_ENROLL_MESSAGE) != 0 ||
	    zmq_setsockopt(hq->sync_socket, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory) != 0 ||
	    zmq_setsockopt(hq->enroll_socket, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory) != 0) {
		log_warnx("cannot set up sockets: %s", zmq_strerror(errno));
		return -1;
	}
	if (zmq_bind(hq->sync_socket, hq->sync_endpoint) != 0) {
		log_warnx("cannot listen on %s: %s", hq->sync_endpoint, zmq_strerror(errno));
		return -1;
	}
	if (zmq_bind(hq->enroll_socket, hq->enroll_endpoint) != 0) {
		log_warnx("cannot listen for enrolment on %s: %s", hq->enroll_endpoint,
			  zmq_strerror(errno));
		return -1;
	}
	return 0;
}

static void hq_close(struct hq_daemon *hq)
{
	if (hq->in_transaction)
		store_rollback(hq->db);
	for (size_t i = 0; i < hq->n_agents; i++)
		agent_destroy(&hq->agents[i]);
	free(hq->agents);
	free(hq->sites);
	free(hq->touched);
	for (size_t i = 0; i < hq->n_cached; i++)
		sqlite3_finalize(hq->statement_cache[i].stmt);
	free(hq->statement_cache);
	hq_attachments_close(hq);
	if (hq->sync_socket != NULL)
		zmq_close(hq->sync_socket);
	if (hq->enroll_socket != NULL)
		zmq_close(hq->enroll_socket);
	if (hq->zap_socket != NULL)
		zmq_close(hq->zap_socket);
	if (hq->zmq_ctx != NULL)
		zmq_ctx_term(hq->zmq_ctx);
	sqlite3_close(hq->db);
}

static void run_loop(struct hq_daemon *hq)
{
	zmq_pollitem_t items[] = {
		{ hq->zap_socket, 0, ZMQ_POLLIN, 0 },
		{ hq->enroll_socket, 0, ZMQ_POLLIN, 0 },
		{ hq->sync_socket, 0, ZMQ_POLLIN, 0 },
	};
	int64_t last_cron = 0;
	while (!hq_stop_requested) {
		int64_t wait = HQ_CRON_MS - (mono_ms() - last_cron);
		if (zmq_poll(items, 3, wait > 0 ? wait : 0) < 0 && errno != EINTR) {
			log_warnx("poll failed: %s", zmq_strerror(errno));
			break;
		}
		if (items[0].revents & ZMQ_POLLIN)
			hq_zap_handle(hq);
		if (items[1].revents & ZMQ_POLLIN)
			hq_enroll_handle(hq);
		int64_t turn_start = mono_ms();
		/* A turn ends when the socket is empty, or at its record or time
		 * budget: every record waits for the turn's commit, so a long
		 * turn is latency for all of them. */
		hq->turn_records = 0;
		for (int n = 0; n < HQ_TURN_MAX_MESSAGES; n++) {
			if (handle_sync_message(hq) != 0)
				break;
			if (hq->turn_records >= HQ_TURN_MAX_RECORDS ||
			    mono_ms() - turn_start >= HQ_TURN_MAX_MS)
				break;
		}
		if (mono_ms() - last_cron >= HQ_CRON_MS) {
			hq_cron(hq);
			last_cron = mono_ms();
		}
		if (hq->in_transaction && hq_ingest_commit(hq) != 0)
			log_warnx("group commit failed; the agents will resend");
		hq_attachments_flush(hq);
		hq_fanout(hq);
	}
}

int hq_run(const char *data_dir, const char *listen, const char *enroll, const char *advertise,
	   uint64_t max_attachment_bytes)
{
	struct hq_daemon hq;
	memset(&hq, 0, sizeof hq);
	char err[512];
	struct curve_keypair curve;
	copy_string(hq.data_dir, sizeof hq.data_dir, data_dir);
	hq.max_attachment_bytes = max_attachment_bytes;
	copy_string(hq.sync_endpoint, sizeof hq.sync_endpoint, listen);
	copy_string(hq.enroll_endpoint, sizeof hq.enroll_endpoint, enroll);
	copy_string(hq.advertised_sync, sizeof hq.advertised_sync, advertise ? advertise : listen);

	if (hq_store_open(data_dir, &hq.db, err, sizeof err) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	int rc = 1;
	/* the daemon's working set: agents' recent records and indexes */
	store_exec(hq.db, "PRAGMA cache_size=-65536");
	if (load_keys(&hq, data_dir, &curve) != 0 ||
	    hq_reload(&hq) != 0 || random_fill((uint8_t *)&hq.session, sizeof hq.session) != 0)
		goto done;
	if (open_sockets(&hq, &curve) != 0)
		goto done;

	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("ready: sync %s, enrolment %s, %zu sites, %zu agents", hq.sync_endpoint,
		 hq.enroll_endpoint, hq.n_sites, hq.n_agents);
	run_loop(&hq);
	if (hq.in_transaction)
		hq_ingest_commit(&hq);
	flush_contacts(&hq, true);
	if (hq.in_transaction)
		hq_ingest_commit(&hq);
	log_info("stopped");
	rc = 0;
done:
	hq_close(&hq);
	return rc;
}
