/* cmd_reports: `innsync-hq reports`: the latest revision of each monthly
 * sales report with its derived figures (sales_report.c computes them). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hq.h"
#include "money.h"
#include "sales_report.h"
#include "store.h"
#include "util.h"
#include "wire.h"

static json_t *money_json(int64_t cents)
{
	char text[32];
	money_format(cents, text, sizeof text);
	return json_string(text);
}

/* One report as JSON: the contract's keys first, then the rest as submitted. */
static json_t *report_json(sqlite3_stmt *row, const Innsync__RecordBody *body)
{
	const Innsync__SalesReport *report = body->sales_report;
	struct sales_figures figures;
	sales_report_derive(report, &figures);
	json_t *submitted = sales_report_to_json(report);
	json_t *out = json_pack(
		"{s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
		"site", (const char *)sqlite3_column_text(row, 0),
		"period", (const char *)sqlite3_column_text(row, 1),
		"revision", (json_int_t)sqlite3_column_int64(row, 2),
		"revisions", (json_int_t)sqlite3_column_int64(row, 3),
		"currency", report->currency,
		"rooms_available", (json_int_t)report->rooms_available,
		"rooms_sold", (json_int_t)report->rooms_sold,
		"room_revenue", money_json(report->room_revenue_cents),
		"occupancy", round(figures.occupancy * 10000.0) / 10000.0,
		"adr", money_json(figures.adr_cents),
		"revpar", money_json(figures.revpar_cents),
		"other_revenue_total", money_json(figures.other_revenue_cents),
		"total_revenue", money_json(figures.total_revenue_cents),
		"submitted_at", cli_json_time(sqlite3_column_int64(row, 5)),
		"agent", (const char *)sqlite3_column_text(row, 6),
		"reason", json_string(body->reason ? body->reason : ""));
	if (out == NULL || submitted == NULL) {
		json_decref(out);
		json_decref(submitted);
		return NULL;
	}
	static const char *const passthrough[] = { "segments", "channels", "other_revenue",
						   "costs", "analysis" };
	for (size_t i = 0; i < sizeof passthrough / sizeof passthrough[0]; i++) {
		json_t *value = json_object_get(submitted, passthrough[i]);
		if (value != NULL)
			json_object_set(out, passthrough[i], value);
		else if (i < 2)
			json_object_set_new(out, passthrough[i], json_array());
	}
	if (report->n_costs > 0) {
		json_object_set_new(out, "costs_total", money_json(figures.costs_cents));
		json_object_set_new(out, "gross_operating_profit",
				    money_json(figures.gross_operating_profit_cents));
	}
	json_decref(submitted);
	return out;
}

static void print_report_line(sqlite3_stmt *row, const Innsync__RecordBody *body)
{
	const Innsync__SalesReport *report = body->sales_report;
	struct sales_figures figures;
	sales_report_derive(report, &figures);
	char revenue[32], adr[32], revpar[32];
	money_format(report->room_revenue_cents, revenue, sizeof revenue);
	money_format(figures.adr_cents, adr, sizeof adr);
	money_format(figures.revpar_cents, revpar, sizeof revpar);
	printf("%-10s %-7s %3lld %7lld %7lld %6.1f%% %10s %9s %9s %-4s\n",
	       (const char *)sqlite3_column_text(row, 0), (const char *)sqlite3_column_text(row, 1),
	       sqlite3_column_int64(row, 2), (long long)report->rooms_available,
	       (long long)report->rooms_sold, figures.occupancy * 100.0, revenue, adr, revpar,
	       report->currency);
}

int hq_cmd_reports(int argc, char **argv)
{
	struct reports_args {
		const char *data, *site, *period;
		bool json;
	} args = { 0 };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct reports_args, data),
		CLI_STRING("site", struct reports_args, site),
		CLI_STRING("period", struct reports_args, period),
		CLI_FLAG("json", struct reports_args, json),
	};
	int parsed = cli_parse(argc, argv, options, 4, &args,
			       "usage: innsync-hq reports --data DIR [--site ID] [--period YYYY-MM] [--json]\n"
			       "Lists the latest revision of each monthly sales report with\n"
			       "occupancy, ADR and RevPAR (rounded half-up to the cent).\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data, *site = args.site, *period = args.period;
	bool json = args.json;
	if (data == NULL)
		return cli_usage("--data DIR is required");
	char err[512];
	sqlite3 *db = NULL;
	if (hq_store_open(data, &db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	static const char *const sql =
		"SELECT sr.site, sr.period, sr.revision,"
		" (SELECT count(*) FROM sales_reports x WHERE x.site = sr.site AND x.period = sr.period),"
		" r.body, sr.submitted_at, sr.agent"
		" FROM sales_reports sr JOIN records r ON r.agent = sr.agent AND r.seq = sr.seq"
		" WHERE sr.revision = (SELECT max(revision) FROM sales_reports y"
		"   WHERE y.site = sr.site AND y.period = sr.period)"
		" AND (?1 IS NULL OR sr.site = ?1) AND (?2 IS NULL OR sr.period = ?2)"
		" ORDER BY sr.site, sr.period";
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, sql, &stmt) != 0) {
		sqlite3_close(db);
		return cli_fail("cannot query reports");
	}
	if (site)
		sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
	if (period)
		sqlite3_bind_text(stmt, 2, period, -1, SQLITE_STATIC);
	json_t *list = json_array();
	int rc = CLI_OK;
	if (!json)
		printf("%-10s %-7s %3s %7s %7s %7s %10s %9s %9s %-4s\n", "SITE", "PERIOD", "REV",
		       "AVAIL", "SOLD", "OCC", "ROOM REV", "ADR", "REVPAR", "CUR");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__RecordBody *body = (Innsync__RecordBody *)wire_unpack(
			&innsync__record_body__descriptor, sqlite3_column_blob(stmt, 4),
			(size_t)sqlite3_column_bytes(stmt, 4));
		if (body == NULL || body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_SALES_REPORT) {
			rc = cli_fail("stored report %s %s cannot be read: run innsync-hq verify",
				      (const char *)sqlite3_column_text(stmt, 0),
				      (const char *)sqlite3_column_text(stmt, 1));
			wire_free((ProtobufCMessage *)body);
			continue;
		}
		if (json)
			json_array_append_new(list, report_json(stmt, body));
		else
			print_report_line(stmt, body);
		wire_free((ProtobufCMessage *)body);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (json) {
		int printed = cli_print_json(list);
		return rc != CLI_OK ? rc : printed;
	}
	json_decref(list);
	return rc;
}
