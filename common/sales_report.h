/* sales_report: what a valid monthly sales report is (DOMAIN.md "Key
 * figures"), its JSON file format, and the figures derived from it
 * (occupancy, ADR, RevPAR). No sockets, no SQL. */
#ifndef INNSYNC_SALES_REPORT_H
#define INNSYNC_SALES_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "innsync.pb-c.h"

#define SALES_REPORT_MAX_FILE_BYTES (64 * 1024)
#define SALES_REPORT_MAX_LINES 64          /* per list: segments, channels, costs, other_revenue */
#define SALES_REPORT_MAX_NAME 64           /* bytes in a segment/channel/cost name */
#define SALES_REPORT_MAX_ANALYSIS (32 * 1024)
#define SALES_REPORT_MAX_ROOMS INT64_C(100000000)

/* Parses and validates a report file's bytes (UTF-8 JSON, at most
 * SALES_REPORT_MAX_FILE_BYTES). site_kind is "member", "franchise" or
 * "managed" (NULL: unknown, no kind-specific rule).
 * On success returns 0 and *out is a report the caller frees with
 * innsync__sales_report__free_unpacked(*out, NULL); warning holds a one-line
 * warning or "" (a franchised store's report without costs).
 * On failure returns -1, *out is NULL, and err holds one line naming the
 * field, e.g. "rooms_sold: 4000 is more than rooms_available (3720)". */
int sales_report_from_json(const char *text, size_t len, const char *site_kind,
			   Innsync__SalesReport **out, char *err, size_t errlen,
			   char *warning, size_t warnlen);

/* The same rules on the structured form, as HQ checks every record it
 * receives. 0 if valid; -1 with a reason naming the field. warning as above. */
int sales_report_check(const Innsync__SalesReport *report, const char *site_kind,
		       char *err, size_t errlen, char *warning, size_t warnlen);

/* Figures derived from a report, all exact integers. */
struct sales_figures {
	double occupancy;          /* rooms_sold / rooms_available, 0..1; 0 if none available */
	int64_t adr_cents;         /* room revenue / rooms sold, half-up; 0 if none sold */
	int64_t revpar_cents;      /* room revenue / rooms available, half-up */
	int64_t other_revenue_cents;
	int64_t total_revenue_cents;
	int64_t costs_cents;
	int64_t gross_operating_profit_cents; /* total revenue - costs */
};

void sales_report_derive(const Innsync__SalesReport *report, struct sales_figures *out);

/* JSON of the report in the file's own shape (money as "123.40" strings).
 * New reference; NULL on allocation failure. */
json_t *sales_report_to_json(const Innsync__SalesReport *report);

#endif
