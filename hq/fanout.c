/* fanout: owns the per-site downstream logs' delivery: appending items
 * (gap-free seq per site), sending each online agent what it is owed within
 * a bounded window, going back to the agent's cursor after silence or a
 * reconnect, and recording the agents' downstream acks. */
#include <stdlib.h>
#include <string.h>

#include "hq.h"
#include "log.h"
#include "util.h"
#include "wire.h"

int hq_downstream_append(struct hq_daemon *hq, const char *site_id, const Innsync__DownBody *body)
{
	/* first: opening the transaction may reload the sites (and free them) */
	if (hq_ensure_transaction(hq) != 0)
		return -1;
	struct hq_site_head *site = hq_find_site(hq, site_id);
	if (site == NULL)
		return -1;
	uint8_t *bytes = NULL;
	size_t len = 0;
	if (wire_pack(&body->base, &bytes, &len) != 0)
		return -1;
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO downstream (site, seq, kind, body, created_at)"
		    " VALUES (?,?,?,?,?)");
	if (stmt == NULL) {
		free(bytes);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, site->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)(site->down_head + 1));
	sqlite3_bind_int(stmt, 3, (int)body->kind);
	sqlite3_bind_blob(stmt, 4, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, now_ms());
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	free(bytes);
	if (rc != SQLITE_DONE) {
		log_warnx("cannot append to the downstream log of %s: %s", site->id,
			  sqlite3_errmsg(hq->db));
		return -1;
	}
	site->down_head++;
	hq->down_dirty = true;
	return 0;
}

static bool agent_online(const struct hq_agent *agent, int64_t now)
{
	return !agent->revoked && agent->routing_len > 0 &&
	       now - agent->last_seen_mono < 3 * HQ_HEARTBEAT_MS;
}

/* Sends up to the window of items after cursor->sent. */
static void send_items(struct hq_daemon *hq, struct hq_agent *agent,
		       struct hq_site_cursor *cursor, uint64_t head)
{
	uint64_t room = HQ_DOWN_WINDOW - (cursor->sent - cursor->acked);
	if (room == 0 || cursor->sent >= head)
		return;
	sqlite3_stmt *stmt = hq_statement(
		hq, "SELECT seq, body FROM downstream WHERE site = ? AND seq > ?"
		    " ORDER BY seq LIMIT ?");
	if (stmt == NULL)
		return;
	sqlite3_bind_text(stmt, 1, cursor->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)cursor->sent);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)room);
	Innsync__DownItem items[HQ_DOWN_WINDOW];
	Innsync__DownItem *pointers[HQ_DOWN_WINDOW];
	uint8_t *bodies[HQ_DOWN_WINDOW];
	size_t n = 0, bytes = 0;
	uint64_t expected = cursor->sent + 1;
	while (n < room && sqlite3_step(stmt) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(stmt, 0);
		if (seq != expected)
			break; /* cannot happen: the log is gap-free */
		size_t len = (size_t)sqlite3_column_bytes(stmt, 1);
		/* one message stays far below the agents' 4 MiB limit */
		if (n > 0 && bytes + len > HQ_DOWN_BATCH_BYTES)
			break;
		bytes += len;
		bodies[n] = malloc(len > 0 ? len : 1);
		if (bodies[n] == NULL)
			break;
		memcpy(bodies[n], sqlite3_column_blob(stmt, 1), len);
		innsync__down_item__init(&items[n]);
		items[n].site = cursor->site;
		items[n].seq = seq;
		items[n].body.data = bodies[n];
		items[n].body.len = len;
		pointers[n] = &items[n];
		n++;
		expected++;
	}
	sqlite3_reset(stmt);
	if (n > 0) {
		Innsync__DownBatch batch = INNSYNC__DOWN_BATCH__INIT;
		batch.items = pointers;
		batch.n_items = n;
		Innsync__HqMessage msg = INNSYNC__HQ_MESSAGE__INIT;
		msg.msg_case = INNSYNC__HQ_MESSAGE__MSG_DOWN;
		msg.down = &batch;
		if (hq_send_to_agent(hq, agent, &msg) == 0) {
			if (cursor->sent == cursor->acked)
				cursor->last_progress_mono = mono_ms();
			cursor->sent = items[n - 1].seq;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(bodies[i]);
}

void hq_fanout(struct hq_daemon *hq)
{
	static int64_t last_full;
	int64_t now = mono_ms();
	if (!hq->down_dirty && now - last_full < 200)
		return;
	hq->down_dirty = false;
	last_full = now;
	for (size_t i = 0; i < hq->n_agents; i++) {
		struct hq_agent *agent = hq->agents[i];
		if (!agent_online(agent, now))
			continue;
		for (size_t c = 0; c < agent->n_cursors; c++) {
			struct hq_site_cursor *cursor = &agent->cursors[c];
			struct hq_site_head *site = hq_find_site(hq, cursor->site);
			if (site == NULL)
				continue;
			if (cursor->sent > cursor->acked &&
			    now - cursor->last_progress_mono > HQ_DOWN_RESEND_MS) {
				log_debug("agent %s: resending %s downstream from %llu", agent->id,
					  cursor->site, (unsigned long long)cursor->acked);
				cursor->sent = cursor->acked;
			}
			send_items(hq, agent, cursor, site->down_head);
		}
	}
}

static struct hq_site_cursor *find_cursor(struct hq_agent *agent, const char *site)
{
	for (size_t i = 0; i < agent->n_cursors; i++)
		if (strcmp(agent->cursors[i].site, site) == 0)
			return &agent->cursors[i];
	return NULL;
}

void hq_fanout_reset_agent(struct hq_daemon *hq, struct hq_agent *agent, const Innsync__Hello *hello)
{
	for (size_t i = 0; i < hello->n_cursors; i++) {
		struct hq_site_cursor *cursor = find_cursor(agent, hello->cursors[i]->site);
		struct hq_site_head *site = cursor ? hq_find_site(hq, cursor->site) : NULL;
		if (site == NULL || hello->cursors[i]->seq > site->down_head)
			continue;
		uint64_t seq = hello->cursors[i]->seq;
		if (seq > cursor->acked) {
			cursor->acked = seq;
		} else if (seq < cursor->acked) {
			/* the agent holds less than it acknowledged (its store was
			 * restored): send again from what it holds */
			cursor->acked = seq;
			cursor->sent = seq;
		}
	}
	for (size_t i = 0; i < agent->n_cursors; i++)
		if (agent->cursors[i].sent < agent->cursors[i].acked)
			agent->cursors[i].sent = agent->cursors[i].acked;
	hq->down_dirty = true;
}

void hq_fanout_reconnected(struct hq_daemon *hq, struct hq_agent *agent)
{
	for (size_t i = 0; i < agent->n_cursors; i++)
		agent->cursors[i].sent = agent->cursors[i].acked;
	hq->down_dirty = true;
}

void hq_fanout_down_ack(struct hq_daemon *hq, struct hq_agent *agent, const Innsync__DownAck *ack)
{
	/* first: opening the transaction may reload the agent's cursors */
	if (hq_ensure_transaction(hq) != 0)
		return;
	for (size_t i = 0; i < ack->n_cursors; i++) {
		struct hq_site_cursor *cursor = find_cursor(agent, ack->cursors[i]->site);
		uint64_t seq = ack->cursors[i]->seq;
		if (cursor == NULL || seq <= cursor->acked || seq > cursor->sent)
			continue;
		cursor->acked = seq;
		cursor->last_progress_mono = mono_ms();
		sqlite3_stmt *stmt = hq_statement(
			hq, "INSERT INTO down_cursors (agent, site, seq) VALUES (?,?,?)"
			    " ON CONFLICT (agent, site) DO UPDATE SET seq = max(seq, excluded.seq)");
		if (stmt == NULL)
			return;
		sqlite3_bind_text(stmt, 1, agent->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, cursor->site, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			log_warnx("cannot record downstream cursor of %s: %s", agent->id,
				  sqlite3_errmsg(hq->db));
		sqlite3_reset(stmt);
	}
	hq->down_dirty = true;
}
