/* sales: what HQ does with a monthly sales report record: the report rules
 * (common/sales_report.c), the record id convention sales/<site>/<period>,
 * and the sales_reports table. */
#include <stdio.h>
#include <string.h>

#include "hq.h"
#include "sales_report.h"

void hq_sales_check(struct hq_daemon *hq, struct hq_agent *agent, const struct hq_site_head *site,
		    const Innsync__RecordBody *body, struct verdict *v)
{
	(void)hq;
	(void)agent;
	if (body->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_SALES_REPORT) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "a sales-report record carries no sales report");
		return;
	}
	char err[256], warning[256];
	if (sales_report_check(body->sales_report, site->kind, err, sizeof err, warning,
			       sizeof warning) != 0) {
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "%s", err);
		return;
	}
	char expected[128];
	snprintf(expected, sizeof expected, "sales/%s/%s", body->site, body->sales_report->period);
	if (strcmp(expected, body->record_id) != 0)
		verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID,
			    "record_id: a sales report of %s for %s must have id %s, not %.64s",
			    body->site, body->sales_report->period, expected, body->record_id);
}

int hq_sales_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		   const Innsync__RecordBody *body)
{
	const Innsync__SalesReport *report = body->sales_report;
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO sales_reports (site, period, revision, agent, seq,"
		    " rooms_available, rooms_sold, room_revenue_cents, submitted_at)"
		    " VALUES (?,?,?,?,?,?,?,?,?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, body->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, report->period, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, body->revision);
	sqlite3_bind_text(stmt, 4, agent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)seq);
	sqlite3_bind_int64(stmt, 6, report->rooms_available);
	sqlite3_bind_int64(stmt, 7, report->rooms_sold);
	sqlite3_bind_int64(stmt, 8, report->room_revenue_cents);
	sqlite3_bind_int64(stmt, 9, body->created_at_ms);
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}
