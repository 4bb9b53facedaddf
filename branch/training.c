/* training: the site's side of HQ's training plans (issue 4):
 *   - `training list`: the plans HQ sent (latest revision of each), their
 *     courses, what changed since the revision received before, and what the
 *     site has sent back (acknowledgement, results) with HQ's verdict;
 *   - `training ack PLAN`: acknowledges the latest revision received
 *     (record training-ack/<site>/<plan>);
 *   - `training results PLAN FILE.csv|FILE.json`: the employees' results,
 *     checked against the plan's courses before anything is stored (record
 *     training-results/<site>/<plan>; resending needs --reason). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "util.h"
#include "wire.h"

struct training_args {
	const char *data;
	const char *plan;
	const char *reason;
	const char *author;
	const char *positional[2];
	size_t n_positional;
	bool json;
};

static int parse_args(int argc, char **argv, const char *usage, struct training_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct training_args, data),
		CLI_STRING("plan", struct training_args, plan),
		CLI_STRING("reason", struct training_args, reason),
		CLI_STRING("author", struct training_args, author),
		CLI_FLAG("json", struct training_args, json),
	};
	int rc = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			   args->positional, 2, &args->n_positional);
	if (rc != 0)
		return rc;
	return fb_check_reason_author(args->reason, args->author);
}

/* The latest and the previous revision of plan id received (NULL if none). */
static void find_plan(const struct fb_inbox *inbox, const char *id,
		      const Innsync__TrainingPlan **latest, const Innsync__TrainingPlan **previous)
{
	*latest = *previous = NULL;
	for (size_t i = 0; i < inbox->n; i++) {
		const Innsync__TrainingPlan *plan = inbox->items[i].body->training_plan;
		if (plan == NULL || strcmp(plan->id, id) != 0)
			continue;
		if (*latest == NULL || plan->revision >= (*latest)->revision) {
			if (*latest != NULL && (*latest)->revision < plan->revision)
				*previous = *latest;
			*latest = plan;
		} else if (*previous == NULL || plan->revision > (*previous)->revision) {
			*previous = plan;
		}
	}
}

/* Whether the plan id appears before index i in the inbox (listed once). */
static bool seen_before(const struct fb_inbox *inbox, size_t i, const char *id)
{
	for (size_t j = 0; j < i; j++) {
		const Innsync__TrainingPlan *plan = inbox->items[j].body->training_plan;
		if (plan != NULL && strcmp(plan->id, id) == 0)
			return true;
	}
	return false;
}

static unsigned acked_revision(sqlite3 *db, const char *site, const char *plan,
			       struct fb_outbox_record *record)
{
	char record_id[160];
	snprintf(record_id, sizeof record_id, "training-ack/%s/%s", site, plan);
	Innsync__RecordBody *body = NULL;
	unsigned revision = 0;
	if (fb_outbox_latest(db, record_id, record, &body) == 0 && body != NULL &&
	    body->payload_case == INNSYNC__RECORD_BODY__PAYLOAD_TRAINING_ACK)
		revision = body->training_ack->plan_revision;
	wire_free((ProtobufCMessage *)body);
	return revision;
}

static json_t *plan_json(struct fb_agent *agent, const Innsync__TrainingPlan *latest,
			 const Innsync__TrainingPlan *previous)
{
	struct fb_outbox_record ack, results;
	char record_id[160];
	unsigned acked = acked_revision(agent->db, agent->id.first_site, latest->id, &ack);
	snprintf(record_id, sizeof record_id, "training-results/%s/%s", agent->id.first_site,
		 latest->id);
	fb_outbox_latest(agent->db, record_id, &results, NULL);
	json_t *out = training_plan_to_json(latest);
	json_object_set_new(out, "previous_revision",
			    previous ? json_integer(previous->revision) : json_null());
	json_object_set_new(out, "changes",
			    previous ? training_plan_changes(previous, latest) : json_array());
	json_object_set_new(out, "acknowledged_revision", acked ? json_integer(acked) : json_null());
	json_object_set_new(out, "acknowledgement", fb_outbox_json(&ack));
	json_object_set_new(out, "results", fb_outbox_json(&results));
	return out;
}

static void print_plan(json_t *plan)
{
	json_t *acked = json_object_get(plan, "acknowledged_revision");
	json_t *results = json_object_get(plan, "results");
	printf("%s revision %lld: %s\n", json_string_value(json_object_get(plan, "id")),
	       (long long)json_integer_value(json_object_get(plan, "revision")),
	       json_string_value(json_object_get(plan, "title")));
	if (*json_string_value(json_object_get(plan, "note")) != '\0')
		printf("  note: %s\n", json_string_value(json_object_get(plan, "note")));
	long long revision = (long long)json_integer_value(json_object_get(plan, "revision"));
	if (json_is_integer(acked) && json_integer_value(acked) == revision)
		printf("  acknowledged\n");
	else
		printf("  revision %lld not acknowledged yet (innsync-branch training ack %s)\n",
		       revision, json_string_value(json_object_get(plan, "id")));
	if (json_is_object(results))
		printf("  results: revision %lld, %s%s%s\n",
		       (long long)json_integer_value(json_object_get(results, "revision")),
		       json_string_value(json_object_get(results, "state")),
		       json_object_get(results, "reason") ? ": " : "",
		       json_object_get(results, "reason")
			       ? json_string_value(json_object_get(results, "reason"))
			       : "");
	json_t *changes = json_object_get(plan, "changes");
	size_t index;
	json_t *item;
	if (json_array_size(changes) > 0)
		printf("  changed since revision %lld:\n",
		       (long long)json_integer_value(json_object_get(plan, "previous_revision")));
	json_array_foreach(changes, index, item)
		printf("    %s\n", json_string_value(json_object_get(item, "text")));
	json_array_foreach(json_object_get(plan, "courses"), index, item) {
		printf("  %-10s %-28.28s %-12.12s %-6s %s..%s %4lld h  pass %3lld  %s%s\n",
		       json_string_value(json_object_get(item, "code")),
		       json_string_value(json_object_get(item, "title")),
		       json_string_value(json_object_get(item, "role")),
		       json_string_value(json_object_get(item, "mode")),
		       json_string_value(json_object_get(item, "start")),
		       json_string_value(json_object_get(item, "end")),
		       (long long)json_integer_value(json_object_get(item, "hours")),
		       (long long)json_integer_value(json_object_get(item, "pass_mark")),
		       json_string_value(json_object_get(item, "trainer")),
		       json_is_true(json_object_get(item, "cancelled")) ? "  CANCELLED" : "");
	}
}

static int cmd_list(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-branch training list --data DIR [--plan P] [--json]\n"
				"Shows the training plans HQ sent, their courses, what changed in the\n"
				"latest revision, and the acknowledgement and results sent back.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, false, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox;
	rc = fb_agent_inbox(&agent, INNSYNC__DOWN_KIND__DOWN_KIND_TRAINING_PLAN, &inbox);
	if (rc != CLI_OK) {
		fb_agent_close(&agent);
		return rc;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < inbox.n; i++) {
		const Innsync__TrainingPlan *plan = inbox.items[i].body->training_plan;
		if (plan == NULL || seen_before(&inbox, i, plan->id) ||
		    (args.plan && strcmp(args.plan, plan->id) != 0))
			continue;
		const Innsync__TrainingPlan *latest, *previous;
		find_plan(&inbox, plan->id, &latest, &previous);
		json_array_append_new(list, plan_json(&agent, latest, previous));
	}
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	if (args.json)
		return cli_print_json(list);
	return fb_print_list(list, print_plan,
			     args.plan ? "no training plans received from HQ with that id"
				       : "no training plans received from HQ");
}

/* Loads the inbox and finds the plan; prints why not. */
static int plan_from_inbox(struct fb_agent *agent, const char *id, struct fb_inbox *inbox,
			   const Innsync__TrainingPlan **latest)
{
	const Innsync__TrainingPlan *previous;
	int rc = fb_agent_inbox(agent, INNSYNC__DOWN_KIND__DOWN_KIND_TRAINING_PLAN, inbox);
	if (rc != CLI_OK)
		return rc;
	find_plan(inbox, id, latest, &previous);
	if (*latest == NULL)
		return cli_fail("plan: %s has not been received from HQ (see innsync-branch training "
				"list)",
				id);
	return CLI_OK;
}

static int cmd_ack(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-branch training ack --data DIR PLAN [--json]\n"
				"Tells HQ the site received the latest revision of the plan.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.n_positional != 1)
		return cli_usage("training ack needs the PLAN id");
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, true, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox = { 0 };
	const Innsync__TrainingPlan *plan = NULL;
	struct fb_outbox_record previous;
	char record_id[160], reason[96] = "";
	uint64_t seq = 0;
	unsigned revision = 0;
	rc = plan_from_inbox(&agent, args.positional[0], &inbox, &plan);
	if (rc != CLI_OK)
		goto done;
	if (acked_revision(agent.db, agent.id.first_site, plan->id, &previous) == plan->revision) {
		if (args.json)
			rc = cli_print_json(json_pack("{s:s, s:i, s:b}", "plan", plan->id,
						      "plan_revision", (int)plan->revision, "queued", 0));
		else
			printf("revision %u of plan %s is already acknowledged\n", plan->revision, plan->id);
		goto done;
	}
	snprintf(record_id, sizeof record_id, "training-ack/%s/%s", agent.id.first_site, plan->id);
	if (previous.revision > 0)
		snprintf(reason, sizeof reason, "acknowledges revision %u of the plan", plan->revision);
	Innsync__TrainingAck ack = INNSYNC__TRAINING_ACK__INIT;
	ack.plan = plan->id;
	ack.plan_revision = plan->revision;
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_TRAINING_ACK;
	body.training_ack = &ack;
	rc = fb_append(&agent, record_id, INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_ACK, args.author,
		       reason, &body, &seq, &revision);
	if (rc == CLI_OK && args.json)
		rc = cli_print_json(json_pack("{s:s, s:i, s:b, s:s, s:I}", "plan", plan->id,
					      "plan_revision", (int)plan->revision, "queued", 1,
					      "record", record_id, "seq", (json_int_t)seq));
	else if (rc == CLI_OK)
		printf("queued acknowledgement of plan %s revision %u (record %llu)\n", plan->id,
		       plan->revision, (unsigned long long)seq);
done:
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	return rc;
}

static int load_results(const char *path, const Innsync__TrainingPlan *plan,
			Innsync__TrainingResults **results)
{
	char *text = NULL, err[512];
	size_t len = 0;
	int rc = fb_read_file(path, &text, &len);
	if (rc != CLI_OK)
		return rc;
	if (fb_is_csv(path))
		rc = training_results_from_csv(text, len, plan, results, err, sizeof err);
	else
		rc = training_results_from_json(text, len, plan, results, err, sizeof err);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s (nothing was stored)", path, err);
	return CLI_OK;
}

static int cmd_results(int argc, char **argv)
{
	struct training_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-branch training results --data DIR PLAN FILE.csv|FILE.json\n"
		"         [--reason TEXT] [--json]\n"
		"Queues the employees' results for the plan: CSV with the header\n"
		"employee_id,name,role,course,attended,score (as a spreadsheet exports it) or\n"
		"JSON (docs/FEEDBACK.md). A row that is wrong is reported with its line and\n"
		"nothing is stored. Sending the results again replaces them and needs --reason.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.n_positional != 2)
		return cli_usage("training results needs PLAN and FILE");
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, true, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox = { 0 };
	const Innsync__TrainingPlan *plan = NULL;
	Innsync__TrainingResults *results = NULL;
	struct fb_outbox_record previous;
	char record_id[160];
	uint64_t seq = 0;
	unsigned revision = 0;
	rc = plan_from_inbox(&agent, args.positional[0], &inbox, &plan);
	if (rc == CLI_OK)
		rc = load_results(args.positional[1], plan, &results);
	if (rc != CLI_OK)
		goto done;
	snprintf(record_id, sizeof record_id, "training-results/%s/%s", agent.id.first_site,
		 plan->id);
	fb_outbox_latest(agent.db, record_id, &previous, NULL);
	if (previous.revision > 0 && (args.reason == NULL || *args.reason == '\0')) {
		rc = cli_fail("results for plan %s were already sent (revision %u); sending them "
			      "again replaces them and needs --reason TEXT",
			      plan->id, previous.revision);
		goto done;
	}
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_TRAINING_RESULTS;
	body.training_results = results;
	rc = fb_append(&agent, record_id, INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_RESULTS,
		       args.author, previous.revision > 0 ? args.reason : "", &body, &seq, &revision);
	if (rc == CLI_OK && args.json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:i, s:i, s:I, s:I}", "record", record_id,
					      "plan", plan->id, "plan_revision", (int)plan->revision,
					      "revision", (int)revision, "seq", (json_int_t)seq,
					      "results", (json_int_t)results->n_results));
	else if (rc == CLI_OK)
		printf("queued %zu results for plan %s as %s revision %u (record %llu)\n",
		       results->n_results, plan->id, record_id, revision, (unsigned long long)seq);
done:
	if (results)
		innsync__training_results__free_unpacked(results, NULL);
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	return rc;
}

int branch_cmd_training(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ack") == 0)
		return cmd_ack(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "results") == 0)
		return cmd_results(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-branch training COMMAND --data DIR ...\n"
		       "  list [--plan P]                 plans from HQ, changes, what was sent back\n"
		       "  ack PLAN                        acknowledge the latest revision\n"
		       "  results PLAN FILE.csv|.json     employees' attendance and scores\n"
		       "Each takes --json; `innsync-branch training COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("training: want list, ack or results");
}
