/* feedback: the site-side helpers of issue 4's commands (training.c,
 * satisfaction.c, complaints.c, evaluation.c): opening the agent, loading
 * what HQ sent from the inbox, the state of what the site wrote from the
 * outbox, and appending a signed record in one transaction. The feedback
 * module keeps no tables of its own: everything is derived from the inbox
 * and the outbox when a command runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"
#include "wire.h"

int branch_feedback_migrate(sqlite3 *db, char *err, size_t errlen)
{
	(void)db;
	(void)err;
	(void)errlen;
	return 0; /* no tables: see the top of this file */
}

int fb_agent_open(const char *data, bool want_key, struct fb_agent *agent)
{
	char err[512];
	memset(agent, 0, sizeof *agent);
	if (data == NULL)
		return cli_usage("--data DIR is required");
	if (branch_store_open(data, &agent->db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	if (branch_identity_load(agent->db, &agent->id, err, sizeof err) != 0) {
		fb_agent_close(agent);
		return cli_fail("%s", err);
	}
	if (strcmp(agent->id.role, "branch") != 0 || agent->id.first_site[0] == '\0') {
		fb_agent_close(agent);
		return cli_fail("this is an inspector's agent; the command is for a site's own agent");
	}
	if (want_key && branch_signing_key_load(data, &agent->key) != 0) {
		fb_agent_close(agent);
		return cli_fail("cannot read the agent's signing key in %s/keys", data);
	}
	return CLI_OK;
}

void fb_agent_close(struct fb_agent *agent)
{
	signing_key_destroy(&agent->key);
	sqlite3_close(agent->db);
	agent->db = NULL;
}

int fb_inbox_load(sqlite3 *db, const char *site, Innsync__DownKind kind, struct fb_inbox *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT seq, body, received_at FROM inbox WHERE site = ? AND kind = ?"
			  " ORDER BY seq",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, (int)kind);
	int rc = 0;
	size_t cap = 0;
	while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__DownBody *body = (Innsync__DownBody *)wire_unpack(
			&innsync__down_body__descriptor, sqlite3_column_blob(stmt, 1),
			(size_t)sqlite3_column_bytes(stmt, 1));
		if (body == NULL)
			continue; /* not readable by this version: skipped */
		if (out->n == cap) {
			size_t grown_cap = cap ? cap * 2 : 16;
			struct fb_inbox_item *grown = realloc(out->items, grown_cap * sizeof *grown);
			if (grown == NULL) {
				wire_free((ProtobufCMessage *)body);
				rc = -1;
				break;
			}
			out->items = grown;
			cap = grown_cap;
		}
		out->items[out->n].body = body;
		out->items[out->n].seq = (uint64_t)sqlite3_column_int64(stmt, 0);
		out->items[out->n].received_at = sqlite3_column_int64(stmt, 2);
		out->n++;
	}
	sqlite3_finalize(stmt);
	if (rc != 0)
		fb_inbox_free(out);
	return rc;
}

void fb_inbox_free(struct fb_inbox *inbox)
{
	for (size_t i = 0; i < inbox->n; i++)
		wire_free((ProtobufCMessage *)inbox->items[i].body);
	free(inbox->items);
	inbox->items = NULL;
	inbox->n = 0;
}

int fb_outbox_latest(sqlite3 *db, const char *record_id, struct fb_outbox_record *out,
		     Innsync__RecordBody **body_out)
{
	memset(out, 0, sizeof *out);
	if (body_out != NULL)
		*body_out = NULL;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT revision, seq, state, reason, created_at, body,"
			  " (SELECT count(*) FROM outbox x WHERE x.record_id = o.record_id)"
			  " FROM outbox o WHERE record_id = ? ORDER BY revision DESC, seq DESC LIMIT 1",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		out->revision = (unsigned)sqlite3_column_int64(stmt, 0);
		out->seq = (uint64_t)sqlite3_column_int64(stmt, 1);
		copy_string(out->state, sizeof out->state, (const char *)sqlite3_column_text(stmt, 2));
		copy_string(out->reason, sizeof out->reason,
			    (const char *)sqlite3_column_text(stmt, 3));
		out->created_at = sqlite3_column_int64(stmt, 4);
		out->revisions = (unsigned)sqlite3_column_int64(stmt, 6);
		if (body_out != NULL)
			*body_out = (Innsync__RecordBody *)wire_unpack(
				&innsync__record_body__descriptor, sqlite3_column_blob(stmt, 5),
				(size_t)sqlite3_column_bytes(stmt, 5));
	}
	sqlite3_finalize(stmt);
	return 0;
}

json_t *fb_outbox_json(const struct fb_outbox_record *record)
{
	if (record->revision == 0)
		return json_null();
	json_t *out = json_pack("{s:i, s:s, s:o}", "revision", (int)record->revision, "state",
				record->state, "written_at", cli_json_time(record->created_at));
	if (out != NULL && strcmp(record->state, "refused") == 0)
		json_object_set_new(out, "reason", json_string(record->reason));
	return out;
}

int fb_append(struct fb_agent *agent, const char *record_id, Innsync__RecordKind kind,
	      const char *author, const char *reason, Innsync__RecordBody *body, uint64_t *seq,
	      unsigned *revision)
{
	struct outbox_entry entry = {
		.record_id = record_id,
		.kind = kind,
		.site = agent->id.first_site,
		.author = author ? author : fb_default_author(),
		.reason = reason ? reason : "",
	};
	if (store_begin(agent->db) != 0)
		return cli_fail("the agent's store is busy; try again");
	if (outbox_append(agent->db, &agent->id, agent->key, &entry, body, seq, revision) != 0 ||
	    store_commit(agent->db) != 0) {
		store_rollback(agent->db);
		return cli_fail("cannot write the outbox (a record is limited to %d bytes)",
				WIRE_MAX_RECORD_BODY);
	}
	return CLI_OK;
}

int fb_check_reason_author(const char *reason, const char *author)
{
	char err[256];
	if (reason != NULL &&
	    feedback_text_check("--reason", reason, 1000, false, err, sizeof err) != 0)
		return cli_usage("%s", err);
	if (author != NULL &&
	    feedback_text_check("--author", author, FEEDBACK_MAX_NAME, false, err, sizeof err) != 0)
		return cli_usage("%s", err);
	return 0;
}

int fb_agent_inbox(struct fb_agent *agent, Innsync__DownKind kind, struct fb_inbox *inbox)
{
	if (fb_inbox_load(agent->db, agent->id.first_site, kind, inbox) != 0)
		return cli_fail("cannot read what HQ sent");
	return CLI_OK;
}

int fb_print_list(json_t *list, void (*print)(json_t *item), const char *empty)
{
	size_t index;
	json_t *item;
	json_array_foreach(list, index, item)
		print(item);
	if (json_array_size(list) == 0)
		printf("%s\n", empty);
	json_decref(list);
	return CLI_OK;
}

const char *fb_default_author(void)
{
	const char *user = getenv("USER");
	return (user != NULL && *user != '\0') ? user : "site staff";
}

int fb_read_file(const char *path, char **text, size_t *len)
{
	char err[512];
	if (read_file_bounded(path, FEEDBACK_MAX_FILE_BYTES, text, len, err, sizeof err) != 0)
		return cli_fail("%s", err);
	return CLI_OK;
}

int fb_is_csv(const char *path)
{
	size_t len = strlen(path);
	return len >= 4 && strcasecmp(path + len - 4, ".csv") == 0;
}
