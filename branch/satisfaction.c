/* satisfaction: the site's monthly guest-survey results (issue 4):
 *   - `satisfaction submit FILE.csv|FILE.json`: checks the file (every
 *     response, or a monthly aggregate with counts) and queues it as the
 *     record satisfaction/<site>/<YYYY-MM>; a month sent again replaces the
 *     first and needs --reason;
 *   - `satisfaction list`: the months sent, with the figures HQ will compute
 *     (the same common/feedback_rules.c arithmetic) and HQ's verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"
#include "wire.h"

struct satisfaction_args {
	const char *data;
	const char *period;
	const char *reason;
	const char *author;
	const char *file;
	bool json;
};

static int parse_args(int argc, char **argv, const char *usage, struct satisfaction_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct satisfaction_args, data),
		CLI_STRING("period", struct satisfaction_args, period),
		CLI_STRING("reason", struct satisfaction_args, reason),
		CLI_STRING("author", struct satisfaction_args, author),
		CLI_FLAG("json", struct satisfaction_args, json),
	};
	size_t n_positional;
	int rc = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			   &args->file, 1, &n_positional);
	if (rc != 0)
		return rc;
	if (args->period != NULL && feedback_parse_period(args->period) != 0)
		return cli_usage("--period must be YYYY-MM (got \"%s\")", args->period);
	return fb_check_reason_author(args->reason, args->author);
}

/* means, responses and NPS of a report, as HQ will show them. */
static json_t *figures_json(const Innsync__SatisfactionReport *report)
{
	struct satisfaction_summary summary;
	satisfaction_summarise(report, &summary);
	json_t *means = json_object();
	for (int d = 0; d < SURVEY_DIMENSIONS; d++) {
		char mean[32];
		feedback_mean_text(summary.sums[d], summary.responses, mean, sizeof mean);
		json_object_set_new(means, survey_dimensions[d], json_string(mean));
	}
	return json_pack("{s:s, s:I, s:o, s:I, s:s}", "period", report->period, "responses",
			 (json_int_t)summary.responses, "means", means, "nps",
			 (json_int_t)satisfaction_nps(summary.promoters, summary.detractors,
						      summary.responses),
			 "form", report->aggregate ? "aggregate" : "responses");
}

static int load_report(const char *path, const char *period,
		       Innsync__SatisfactionReport **report)
{
	char *text = NULL, err[512];
	size_t len = 0;
	int rc = fb_read_file(path, &text, &len);
	if (rc != CLI_OK)
		return rc;
	if (fb_is_csv(path))
		rc = satisfaction_from_csv(text, len, period, report, err, sizeof err);
	else
		rc = satisfaction_from_json(text, len, period, report, err, sizeof err);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s (nothing was stored)", path, err);
	return CLI_OK;
}

static int print_queued(const struct satisfaction_args *args,
			const Innsync__SatisfactionReport *report, const char *record_id,
			unsigned revision, uint64_t seq)
{
	json_t *figures = figures_json(report);
	if (args->json) {
		json_object_set_new(figures, "record", json_string(record_id));
		json_object_set_new(figures, "revision", json_integer(revision));
		json_object_set_new(figures, "seq", json_integer((json_int_t)seq));
		return cli_print_json(figures);
	}
	printf("queued %s revision %u (record %llu): %lld responses, NPS %lld\n", record_id,
	       revision, (unsigned long long)seq,
	       (long long)json_integer_value(json_object_get(figures, "responses")),
	       (long long)json_integer_value(json_object_get(figures, "nps")));
	json_decref(figures);
	return CLI_OK;
}

static int cmd_submit(int argc, char **argv)
{
	struct satisfaction_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-branch satisfaction submit --data DIR FILE.csv|FILE.json\n"
		"         [--period YYYY-MM] [--reason TEXT] [--json]\n"
		"Queues a month of guest-survey results for HQ: a CSV with the header\n"
		"date,channel,cleanliness,service,value,location,facilities,overall,recommend,comment\n"
		"(one row per response, one month per file) or JSON with responses or a monthly\n"
		"aggregate (docs/FEEDBACK.md). A wrong row is reported with its line and nothing\n"
		"is stored. A month sent again replaces the first and needs --reason.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.file == NULL)
		return cli_usage("satisfaction submit needs FILE.csv or FILE.json");
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, true, &agent);
	if (rc != CLI_OK)
		return rc;
	Innsync__SatisfactionReport *report = NULL;
	struct fb_outbox_record previous;
	char record_id[128];
	uint64_t seq = 0;
	unsigned revision = 0;
	rc = load_report(args.file, args.period, &report);
	if (rc != CLI_OK)
		goto done;
	snprintf(record_id, sizeof record_id, "satisfaction/%s/%s", agent.id.first_site,
		 report->period);
	fb_outbox_latest(agent.db, record_id, &previous, NULL);
	if (previous.revision > 0 && (args.reason == NULL || *args.reason == '\0')) {
		rc = cli_fail("%s was already sent (revision %u); sending it again replaces it "
			      "and needs --reason TEXT",
			      report->period, previous.revision);
		goto done;
	}
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_SATISFACTION;
	body.satisfaction = report;
	rc = fb_append(&agent, record_id, INNSYNC__RECORD_KIND__RECORD_KIND_SATISFACTION,
		       args.author, previous.revision > 0 ? args.reason : "", &body, &seq, &revision);
	if (rc == CLI_OK)
		rc = print_queued(&args, report, record_id, revision, seq);
done:
	if (report)
		innsync__satisfaction_report__free_unpacked(report, NULL);
	fb_agent_close(&agent);
	return rc;
}

static void print_month(json_t *item)
{
	json_t *sent = json_object_get(item, "sent");
	printf("%s  %5lld responses  NPS %4lld  revision %lld %s%s%s\n",
	       json_string_value(json_object_get(item, "period")),
	       (long long)json_integer_value(json_object_get(item, "responses")),
	       (long long)json_integer_value(json_object_get(item, "nps")),
	       (long long)json_integer_value(json_object_get(sent, "revision")),
	       json_string_value(json_object_get(sent, "state")),
	       json_object_get(sent, "reason") ? ": " : "",
	       json_object_get(sent, "reason")
		       ? json_string_value(json_object_get(sent, "reason"))
		       : "");
}

static int cmd_list(int argc, char **argv)
{
	struct satisfaction_args args = { 0 };
	int parsed = parse_args(argc, argv,
				"usage: innsync-branch satisfaction list --data DIR [--json]\n"
				"The months of survey results sent, their figures and HQ's verdict.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, false, &agent);
	if (rc != CLI_OK)
		return rc;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(agent.db,
			  "SELECT DISTINCT record_id FROM outbox WHERE kind = ? ORDER BY record_id",
			  &stmt) != 0) {
		fb_agent_close(&agent);
		return cli_fail("cannot read the outbox");
	}
	sqlite3_bind_int(stmt, 1, INNSYNC__RECORD_KIND__RECORD_KIND_SATISFACTION);
	json_t *list = json_array();
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		struct fb_outbox_record record;
		Innsync__RecordBody *body = NULL;
		fb_outbox_latest(agent.db, (const char *)sqlite3_column_text(stmt, 0), &record, &body);
		if (body == NULL || body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_SATISFACTION) {
			wire_free((ProtobufCMessage *)body);
			continue;
		}
		json_t *item = figures_json(body->satisfaction);
		json_object_set_new(item, "sent", fb_outbox_json(&record));
		json_array_append_new(list, item);
		wire_free((ProtobufCMessage *)body);
	}
	sqlite3_finalize(stmt);
	fb_agent_close(&agent);
	if (args.json)
		return cli_print_json(list);
	return fb_print_list(list, print_month, "no survey results sent yet");
}

int branch_cmd_satisfaction(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "submit") == 0)
		return cmd_submit(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-branch satisfaction COMMAND --data DIR ...\n"
		       "  submit FILE.csv|FILE.json [--period YYYY-MM] [--reason TEXT]\n"
		       "  list                       months sent and HQ's verdict\n"
		       "Each takes --json; `innsync-branch satisfaction COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("satisfaction: want submit or list");
}
