/* satisfaction: HQ's side of the sites' monthly guest-survey results
 * (issue 4): the SATISFACTION record (id satisfaction/<site>/<period>; a new
 * revision replaces the month), its totals in the satisfaction table, and
 * `innsync-hq satisfaction`, which shows per site and month the response
 * count, the mean of each dimension (decimal strings, half-up, two places)
 * and the NPS, all computed by common/feedback_rules.c from exact integer
 * sums. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feedback.h"
#include "store.h"
#include "util.h"

void hq_satisfaction_check(struct hq_daemon *hq, const struct hq_site_head *site,
			   const Innsync__RecordBody *body, struct verdict *v)
{
	(void)hq;
	(void)site;
	if (body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_SATISFACTION) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "a guest satisfaction record carries no survey results");
		return;
	}
	char err[400];
	if (satisfaction_check(body->satisfaction, err, sizeof err) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
		return;
	}
	fb_record_id_is(body, "satisfaction", body->satisfaction->period, v);
}

static char *channels_text(const struct satisfaction_summary *summary)
{
	json_t *channels = json_object();
	for (size_t i = 0; i < SURVEY_CHANNELS; i++)
		if (summary->channels[i] > 0)
			json_object_set_new(channels, survey_channels[i],
					    json_integer(summary->channels[i]));
	char *text = json_dumps(channels, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(channels);
	return text;
}

int hq_satisfaction_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
			  const Innsync__RecordBody *body)
{
	static const char sql[] =
		"INSERT INTO satisfaction (site, period, revision, form, responses,"
		" sum_cleanliness, sum_service, sum_value, sum_location, sum_facilities,"
		" sum_overall, promoters, passives, detractors, channels, submitted_at, agent, seq)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	const Innsync__SatisfactionReport *report = body->satisfaction;
	struct satisfaction_summary summary;
	satisfaction_summarise(report, &summary);
	char *channels = channels_text(&summary);
	sqlite3_stmt *stmt = hq_statement(hq, sql);
	if (stmt == NULL || channels == NULL) {
		free(channels);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, body->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, report->period, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, body->revision);
	sqlite3_bind_text(stmt, 4, report->aggregate ? "aggregate" : "responses", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, summary.responses);
	for (int d = 0; d < SURVEY_DIMENSIONS; d++)
		sqlite3_bind_int64(stmt, 6 + d, summary.sums[d]);
	sqlite3_bind_int64(stmt, 12, summary.promoters);
	sqlite3_bind_int64(stmt, 13, summary.passives);
	sqlite3_bind_int64(stmt, 14, summary.detractors);
	sqlite3_bind_text(stmt, 15, channels, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 16, body->created_at_ms);
	sqlite3_bind_text(stmt, 17, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 18, (sqlite3_int64)seq);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(stmt);
	free(channels);
	return rc;
}

/*---- `innsync-hq satisfaction` -----------------------------------------*/

/* Columns of the query below. */
enum { COL_SITE, COL_PERIOD, COL_REVISION, COL_FORM, COL_RESPONSES, COL_SUMS,
       COL_PROMOTERS = COL_SUMS + SURVEY_DIMENSIONS, COL_PASSIVES, COL_DETRACTORS,
       COL_CHANNELS, COL_SUBMITTED };

static json_t *row_json(sqlite3_stmt *row)
{
	int64_t responses = sqlite3_column_int64(row, COL_RESPONSES);
	json_t *means = json_object();
	for (int d = 0; d < SURVEY_DIMENSIONS; d++) {
		char mean[32];
		feedback_mean_text(sqlite3_column_int64(row, COL_SUMS + d), responses, mean,
				   sizeof mean);
		json_object_set_new(means, survey_dimensions[d], json_string(mean));
	}
	json_t *channels = json_loads(fb_column_text(row, COL_CHANNELS), 0, NULL);
	int64_t promoters = sqlite3_column_int64(row, COL_PROMOTERS);
	int64_t detractors = sqlite3_column_int64(row, COL_DETRACTORS);
	return json_pack("{s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:s, s:o, s:o}", "site",
			 fb_column_text(row, COL_SITE), "period", fb_column_text(row, COL_PERIOD),
			 "responses", (json_int_t)responses, "means", means, "nps",
			 (json_int_t)satisfaction_nps(promoters, detractors, responses), "promoters",
			 (json_int_t)promoters, "passives",
			 (json_int_t)sqlite3_column_int64(row, COL_PASSIVES), "detractors",
			 (json_int_t)detractors, "revision",
			 (json_int_t)sqlite3_column_int64(row, COL_REVISION), "form",
			 fb_column_text(row, COL_FORM), "channels",
			 channels ? channels : json_object(), "submitted_at",
			 cli_json_time(sqlite3_column_int64(row, COL_SUBMITTED)));
}

static void print_row(sqlite3_stmt *row)
{
	int64_t responses = sqlite3_column_int64(row, COL_RESPONSES);
	printf("%-10s %-7s %9lld", fb_column_text(row, COL_SITE), fb_column_text(row, COL_PERIOD),
	       (long long)responses);
	for (int d = 0; d < SURVEY_DIMENSIONS; d++) {
		char mean[32];
		feedback_mean_text(sqlite3_column_int64(row, COL_SUMS + d), responses, mean,
				   sizeof mean);
		printf(" %6s", mean);
	}
	printf(" %5lld\n", (long long)satisfaction_nps(sqlite3_column_int64(row, COL_PROMOTERS),
						       sqlite3_column_int64(row, COL_DETRACTORS),
						       responses));
}

struct satisfaction_args {
	const char *data;
	const char *site;
	const char *period;
	bool json;
};

int hq_cmd_satisfaction(int argc, char **argv)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct satisfaction_args, data),
		CLI_STRING("site", struct satisfaction_args, site),
		CLI_STRING("period", struct satisfaction_args, period),
		CLI_FLAG("json", struct satisfaction_args, json),
	};
	static const char usage[] =
		"usage: innsync-hq satisfaction --data DIR [--site ID] [--period YYYY-MM] [--json]\n"
		"Guest satisfaction per site and month (latest revision): responses,\n"
		"mean of each dimension (1-5, rounded half-up to two decimals) and NPS\n"
		"(100 x (promoters 9-10 - detractors 0-6) / responses, rounded half\n"
		"away from zero).\n";
	struct satisfaction_args args = { 0 };
	const char *positional[2];
	size_t n_positional;
	int parsed = cli_parse(argc, argv, options, sizeof options / sizeof options[0], &args,
			       usage, positional, 2, &n_positional);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	/* an optional "list" first; anything else is unexpected */
	size_t first = n_positional > 0 && strcmp(positional[0], "list") == 0 ? 1 : 0;
	if (first < n_positional)
		return cli_usage("unexpected argument \"%s\"", positional[first]);
	if (args.period != NULL && feedback_parse_period(args.period) != 0)
		return cli_usage("--period must be YYYY-MM (got \"%s\")", args.period);
	sqlite3 *db = fb_open_store(args.data);
	if (db == NULL)
		return CLI_FAIL;
	static const char sql[] =
		"SELECT s.site, s.period, s.revision, s.form, s.responses, s.sum_cleanliness,"
		" s.sum_service, s.sum_value, s.sum_location, s.sum_facilities, s.sum_overall,"
		" s.promoters, s.passives, s.detractors, s.channels, s.submitted_at"
		" FROM satisfaction s WHERE s.revision = (SELECT max(revision) FROM satisfaction x"
		"   WHERE x.site = s.site AND x.period = s.period)"
		" AND (?1 IS NULL OR s.site = ?1) AND (?2 IS NULL OR s.period = ?2)"
		" ORDER BY s.site, s.period";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot query guest satisfaction");
	}
	if (args.site)
		sqlite3_bind_text(stmt, 1, args.site, -1, SQLITE_STATIC);
	if (args.period)
		sqlite3_bind_text(stmt, 2, args.period, -1, SQLITE_STATIC);
	json_t *list = json_array();
	if (!args.json)
		printf("%-10s %-7s %9s %6s %6s %6s %6s %6s %6s %5s\n", "SITE", "PERIOD", "RESPONSES",
		       "CLEAN", "SERVIC", "VALUE", "LOCAT", "FACIL", "OVERAL", "NPS");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (args.json)
			json_array_append_new(list, row_json(stmt));
		else
			print_row(stmt);
	}
	return fb_list_done(db, stmt, list, args.json);
}
