/* complaints: the site's side of guest complaints HQ forwards (issue 4):
 *   - `complaint list`: complaints received (open ones, or --all), their
 *     first-response deadline, whether the site answered and in time;
 *   - `complaint respond ID --text TEXT [--resolved]`: one response, queued
 *     as a new revision of complaint-response/<site>/<ID>; --resolved closes
 *     the complaint (no response after that). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"
#include "wire.h"

struct complaint_args {
	const char *data;
	const char *text;
	const char *author;
	const char *id;
	bool resolved;
	bool all;
	bool json;
};

static int parse_args(int argc, char **argv, const char *usage, struct complaint_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct complaint_args, data),
		CLI_STRING("text", struct complaint_args, text),
		CLI_STRING("author", struct complaint_args, author),
		CLI_FLAG("resolved", struct complaint_args, resolved),
		CLI_FLAG("all", struct complaint_args, all),
		CLI_FLAG("json", struct complaint_args, json),
	};
	size_t n_positional;
	return cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			 &args->id, 1, &n_positional);
}

/* What the site wrote about one complaint. */
struct response_state {
	unsigned responses;
	int64_t first_at;       /* 0: none */
	bool resolved;
	struct fb_outbox_record latest;
};

static int response_state(sqlite3 *db, const char *site, const char *id,
			  struct response_state *out)
{
	char record_id[160];
	snprintf(record_id, sizeof record_id, "complaint-response/%s/%s", site, id);
	memset(out, 0, sizeof *out);
	Innsync__RecordBody *body = NULL;
	if (fb_outbox_latest(db, record_id, &out->latest, &body) != 0)
		return -1;
	out->responses = out->latest.revisions;
	out->resolved = body != NULL &&
			body->payload_case == INNSYNC__RECORD_BODY__PAYLOAD_COMPLAINT_RESPONSE &&
			body->complaint_response->resolved;
	wire_free((ProtobufCMessage *)body);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT COALESCE(min(created_at), 0) FROM outbox WHERE record_id = ?",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		out->first_at = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

static json_t *complaint_json(const Innsync__Complaint *c, const struct response_state *st)
{
	bool late = complaint_is_late(c->due_at_ms, st->first_at, now_ms());
	const char *state = st->resolved ? "resolved" : st->responses ? "responded" : "open";
	return json_pack("{s:s, s:o, s:s, s:s, s:s, s:i, s:o, s:s, s:b, s:i, s:o, s:o}", "id",
			 c->id, "received_at", cli_json_time(c->received_at_ms), "text", c->text,
			 "guest", c->guest, "channel", c->channel, "deadline_hours",
			 (int)c->deadline_hours, "due_at", cli_json_time(c->due_at_ms), "state",
			 state, "late", late, "responses", (int)st->responses,
			 "first_response_at", cli_json_time(st->first_at), "latest_response",
			 fb_outbox_json(&st->latest));
}

static void print_complaint(json_t *c)
{
	printf("%-8s due %s  %-9s%s  %s\n", json_string_value(json_object_get(c, "id")),
	       json_string_value(json_object_get(c, "due_at")),
	       json_string_value(json_object_get(c, "state")),
	       json_is_true(json_object_get(c, "late")) ? " LATE" : "",
	       json_string_value(json_object_get(c, "text")));
}

static int cmd_list(int argc, char **argv)
{
	struct complaint_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-branch complaint list --data DIR [--all] [--json]\n"
				"Guest complaints HQ forwarded that are not resolved yet (--all: every\n"
				"one), with the first-response deadline and whether it was met.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, false, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox;
	rc = fb_agent_inbox(&agent, INNSYNC__DOWN_KIND__DOWN_KIND_COMPLAINT, &inbox);
	if (rc != CLI_OK) {
		fb_agent_close(&agent);
		return rc;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < inbox.n; i++) {
		const Innsync__Complaint *c = inbox.items[i].body->complaint;
		struct response_state st;
		if (c == NULL || response_state(agent.db, agent.id.first_site, c->id, &st) != 0)
			continue;
		if (args.all || !st.resolved)
			json_array_append_new(list, complaint_json(c, &st));
	}
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	if (args.json)
		return cli_print_json(list);
	return fb_print_list(list, print_complaint,
			     args.all ? "no complaints" : "no open complaints");
}

/* The complaint id as HQ sent it, or NULL. */
static const Innsync__Complaint *find_complaint(const struct fb_inbox *inbox, const char *id)
{
	for (size_t i = 0; i < inbox->n; i++) {
		const Innsync__Complaint *c = inbox->items[i].body->complaint;
		if (c != NULL && strcmp(c->id, id) == 0)
			return c;
	}
	return NULL;
}

static int check_respond(struct fb_agent *agent, const struct complaint_args *args,
			 const struct fb_inbox *inbox, struct response_state *st)
{
	char err[256];
	if (feedback_text_check("--text", args->text, FEEDBACK_MAX_TEXT, true, err, sizeof err) != 0)
		return cli_usage("%s", err);
	if (find_complaint(inbox, args->id) == NULL)
		return cli_fail("complaint: %s has not been received from HQ (see innsync-branch "
				"complaint list --all)",
				args->id);
	if (response_state(agent->db, agent->id.first_site, args->id, st) != 0)
		return cli_fail("cannot read the outbox");
	if (st->resolved)
		return cli_fail("complaint: %s is already resolved", args->id);
	return CLI_OK;
}

static int cmd_respond(int argc, char **argv)
{
	struct complaint_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-branch complaint respond --data DIR ID --text TEXT [--resolved]\n"
		"         [--author NAME] [--json]\n"
		"Queues a response to the guest complaint ID for HQ; --resolved closes it.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.id == NULL || args.text == NULL)
		return cli_usage("complaint respond needs the complaint ID and --text TEXT");
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, true, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox = { 0 };
	struct response_state st;
	char record_id[160];
	uint64_t seq = 0;
	unsigned revision = 0;
	rc = fb_agent_inbox(&agent, INNSYNC__DOWN_KIND__DOWN_KIND_COMPLAINT, &inbox);
	if (rc == CLI_OK)
		rc = check_respond(&agent, &args, &inbox, &st);
	if (rc != CLI_OK)
		goto done;
	snprintf(record_id, sizeof record_id, "complaint-response/%s/%s", agent.id.first_site,
		 args.id);
	Innsync__ComplaintResponse response = INNSYNC__COMPLAINT_RESPONSE__INIT;
	response.complaint = (char *)args.id;
	response.text = (char *)args.text;
	response.resolved = args.resolved;
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_COMPLAINT_RESPONSE;
	body.complaint_response = &response;
	const char *reason = st.responses == 0 ? ""
			     : args.resolved  ? "resolves the complaint"
					      : "further response";
	rc = fb_append(&agent, record_id, INNSYNC__RECORD_KIND__RECORD_KIND_COMPLAINT_RESPONSE,
		       args.author, reason, &body, &seq, &revision);
	if (rc == CLI_OK && args.json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:i, s:b, s:I}", "complaint", args.id,
					      "record", record_id, "revision", (int)revision,
					      "resolved", args.resolved, "seq", (json_int_t)seq));
	else if (rc == CLI_OK)
		printf("queued response %u to complaint %s%s (record %llu)\n", revision, args.id,
		       args.resolved ? ", resolved" : "", (unsigned long long)seq);
done:
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	return rc;
}

int branch_cmd_complaint(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "respond") == 0)
		return cmd_respond(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-branch complaint COMMAND --data DIR ...\n"
		       "  list [--all]                       complaints from HQ and their deadlines\n"
		       "  respond ID --text TEXT [--resolved] answer one (and close it)\n"
		       "Each takes --json; `innsync-branch complaint COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("complaint: want list or respond");
}
