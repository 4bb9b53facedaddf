/* sales_report_test: unit tests of common/sales_report.c: the fixture files
 * in tests/data/reports (README.md there lists them), a table of inline
 * report files for every refusal rule, the same rules on the structured
 * form (sales_report_check, as HQ runs it), the derived figures, and the
 * JSON written back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "sales_report.h"

#ifndef INNSYNC_TEST_DATA_DIR
#define INNSYNC_TEST_DATA_DIR "tests/data"
#endif

#define FIXTURE_MAX_BYTES (1024 * 1024)

/*---- Helpers ------------------------------------------------------------*/

/* The whole fixture file; caller frees. Fails the test if unreadable. */
static char *read_fixture(const char *name, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/reports/%s", INNSYNC_TEST_DATA_DIR, name);
	FILE *file = fopen(path, "rb");
	if (file == NULL)
		fail_msg("cannot open %s", path);
	char *buffer = malloc(FIXTURE_MAX_BYTES + 1);
	assert_non_null(buffer);
	*len = fread(buffer, 1, FIXTURE_MAX_BYTES, file);
	fclose(file);
	buffer[*len] = '\0';
	return buffer;
}

/* Every message is one line of text. */
static void assert_one_line(const char *label, const char *message)
{
	for (const char *p = message; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			fail_msg("%s: message is not one line: \"%s\"", label, message);
	}
}

/* Parses text and compares the outcome with the expectation: want_error
 * NULL means accepted, otherwise the error must start with want_error.
 * want_warning is the exact warning ("" for none). */
static void expect_parse(const char *label, const char *text, size_t len, const char *kind,
			 const char *want_error, const char *want_warning)
{
	Innsync__SalesReport *report = (Innsync__SalesReport *)1;
	char err[1024] = "";
	char warning[256] = "unset";
	int rc = sales_report_from_json(text, len, kind, &report, err, sizeof err,
					warning, sizeof warning);
	if (want_error == NULL) {
		if (rc != 0)
			fail_msg("%s: refused: %s", label, err);
		assert_non_null(report);
		if (strcmp(warning, want_warning) != 0)
			fail_msg("%s: warning \"%s\", want \"%s\"", label, warning, want_warning);
		innsync__sales_report__free_unpacked(report, NULL);
		return;
	}
	if (rc == 0) {
		innsync__sales_report__free_unpacked(report, NULL);
		fail_msg("%s: accepted, want \"%s\"", label, want_error);
	}
	if (report != NULL)
		fail_msg("%s: refused but *out is not NULL", label);
	if (strncmp(err, want_error, strlen(want_error)) != 0)
		fail_msg("%s: error \"%s\", want \"%s\"", label, err, want_error);
	if (warning[0] != '\0')
		fail_msg("%s: refused with a warning \"%s\"", label, warning);
	assert_one_line(label, err);
}

/* A report parsed from a fixture, which must be valid. */
static Innsync__SalesReport *load_fixture(const char *name)
{
	size_t len;
	char *text = read_fixture(name, &len);
	Innsync__SalesReport *report = NULL;
	char err[512];
	if (sales_report_from_json(text, len, NULL, &report, err, sizeof err, NULL, 0) != 0)
		fail_msg("%s: %s", name, err);
	free(text);
	return report;
}

static const char franchise_warning[] =
	"costs: a franchised store's report should include its operating costs "
	"(labour, energy, ...)";

/*---- Fixture files ------------------------------------------------------*/

static const struct {
	const char *file;
	const char *kind;
	const char *error;    /* NULL: valid; else the start of the message */
	const char *warning;
} fixture_cases[] = {
	{ "valid-full.json", NULL, NULL, "" },
	{ "valid-full.json", "franchise", NULL, "" },
	{ "valid-minimal.json", NULL, NULL, "" },
	{ "valid-minimal.json", "member", NULL, "" },
	{ "valid-minimal.json", "managed", NULL, "" },
	{ "valid-minimal.json", "franchise", NULL, franchise_warning },
	{ "bad-period.json", NULL, "period: \"2026-13\" is not a month (want YYYY-MM)", NULL },
	{ "bad-negative.json", NULL, "other_revenue.fnb: -42000.00 is negative", NULL },
	{ "bad-sold-over-available.json", NULL,
	  "rooms_sold: 4000 is more than rooms_available (3720)", NULL },
	{ "bad-segments-nights.json", NULL,
	  "segments: room_nights add up to 2876 but rooms_sold is 2976", NULL },
	{ "bad-segments-revenue.json", NULL,
	  "segments: revenue adds up to 595000.00 but room_revenue is 595200.00", NULL },
	{ "bad-channels.json", NULL,
	  "channels: room_nights add up to 2876 but rooms_sold is 2976", NULL },
	{ "bad-unknown-field.json", NULL,
	  "unknown field \"foo\" (allowed: period, currency, rooms_available, rooms_sold, "
	  "room_revenue, other_revenue, segments, channels, costs, analysis)", NULL },
	{ "bad-not-utf8.json", NULL,
	  "file is not valid UTF-8 JSON: unable to decode byte 0xff", NULL },
	{ "bad-not-json.json", NULL, "file is not valid UTF-8 JSON: ", NULL },
	{ "bad-too-large.json", NULL, "file is larger than 65536 bytes", NULL },
	{ "bad-money-decimals.json", NULL,
	  "room_revenue: \"350000.005\" has more than two decimals", NULL },
	{ "bad-missing-field.json", NULL, "rooms_sold: missing (required)", NULL },
	{ "bad-duplicate-key.json", NULL,
	  "file is not valid UTF-8 JSON: duplicate object key", NULL },
};

static void test_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof fixture_cases / sizeof fixture_cases[0]; i++) {
		size_t len;
		char *text = read_fixture(fixture_cases[i].file, &len);
		expect_parse(fixture_cases[i].file, text, len, fixture_cases[i].kind,
			     fixture_cases[i].error, fixture_cases[i].warning);
		free(text);
	}
}

/* The full example's values, exactly. */
static void test_full_fixture_values(void **state)
{
	(void)state;
	Innsync__SalesReport *r = load_fixture("valid-full.json");
	assert_string_equal(r->period, "2026-10");
	assert_string_equal(r->currency, "CNY");
	assert_int_equal(r->rooms_available, 3720);
	assert_int_equal(r->rooms_sold, 2976);
	assert_int_equal(r->room_revenue_cents, 59520000);
	assert_int_equal(r->n_other_revenue, 3);
	assert_string_equal(r->other_revenue[0]->name, "fnb");
	assert_int_equal(r->other_revenue[0]->cents, 4200000);
	assert_string_equal(r->other_revenue[1]->name, "meeting");
	assert_int_equal(r->other_revenue[1]->cents, 800000);
	assert_string_equal(r->other_revenue[2]->name, "other");
	assert_int_equal(r->other_revenue[2]->cents, 150050);
	assert_int_equal(r->n_segments, 4);
	assert_string_equal(r->segments[0]->name, "ota");
	assert_int_equal(r->segments[0]->room_nights, 1200);
	assert_int_equal(r->segments[0]->revenue_cents, 24000000);
	assert_int_equal(r->n_channels, 4);
	assert_string_equal(r->channels[0]->name, "brand_app");
	assert_int_equal(r->n_costs, 2);
	assert_string_equal(r->costs[0]->name, "labour");
	assert_int_equal(r->costs[0]->cents, 12000000);
	assert_non_null(strstr(r->analysis, "会员增长明显"));
	innsync__sales_report__free_unpacked(r, NULL);

	r = load_fixture("valid-minimal.json");
	assert_string_equal(r->currency, "CNY"); /* the default */
	assert_int_equal(r->n_other_revenue + r->n_segments + r->n_channels + r->n_costs, 0);
	assert_string_equal(r->analysis, "");
	innsync__sales_report__free_unpacked(r, NULL);
}

/*---- Inline files: one case per rule ------------------------------------*/

#define ROOMS "\"rooms_available\": 100, \"rooms_sold\": 80, \"room_revenue\": \"16000.00\""
#define BASE "\"period\": \"2026-10\", " ROOMS
#define NAME48 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME65 NAME48 "aaaaaaaaaaaaaaaaa"
#define SEG_OTA "{\"name\": \"ota\", \"room_nights\": 50, \"revenue\": \"10000\"}"
#define SEG_WALK "{\"name\": \"walk_in\", \"room_nights\": 30, \"revenue\": \"6000.00\"}"

static const struct {
	const char *json;
	const char *kind;
	const char *error;    /* NULL: valid; else the start of the message */
} inline_cases[] = {
	/* accepted */
	{ "{" BASE "}", NULL, NULL },
	{ "{\"period\": \"2000-01\", " ROOMS "}", NULL, NULL },
	{ "{\"period\": \"2099-12\", " ROOMS "}", NULL, NULL },
	{ "{" BASE ", \"currency\": \"USD\"}", NULL, NULL },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 0, \"rooms_sold\": 0, "
	  "\"room_revenue\": 0}", NULL, NULL },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 80, \"rooms_sold\": 80, "
	  "\"room_revenue\": 16000.5}", NULL, NULL },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", " SEG_WALK "]}", NULL, NULL },
	{ "{" BASE ", \"channels\": [" SEG_WALK ", " SEG_OTA "]}", NULL, NULL },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 10, \"rooms_sold\": 0, "
	  "\"room_revenue\": \"0\", \"segments\": [], \"channels\": []}", NULL, NULL },
	{ "{" BASE ", \"other_revenue\": {}, \"costs\": {}, \"analysis\": \"\"}", NULL, NULL },
	{ "{" BASE ", \"costs\": {\"labour\": 0}}", "franchise", NULL },
	{ "{" BASE ", \"segments\": [{\"name\": \"酒店官网\", \"room_nights\": 80, "
	  "\"revenue\": 16000}]}", NULL, NULL },

	/* syntax and shape of the file */
	{ "", NULL, "file is not valid UTF-8 JSON: '[' or '{' expected near end of file "
		    "at line 1 column 0" },
	{ "{" BASE, NULL, "file is not valid UTF-8 JSON: " },
	{ "{" BASE "} {}", NULL, "file is not valid UTF-8 JSON: end of file expected" },
	{ "{" BASE ", \"analysis\": \"a\xff\"}", NULL,
	  "file is not valid UTF-8 JSON: unable to decode byte 0xff" },
	{ "{" BASE ", \"analysis\": \"\\u0000\"}", NULL, "file is not valid UTF-8 JSON: " },
	{ "{" BASE ", \"period\": \"2026-10\"}", NULL,
	  "file is not valid UTF-8 JSON: duplicate object key near '\"period\"' at line 1" },
	{ "[]", NULL, "file is not a JSON object" },
	{ "{" BASE ", \"Period\": 1}", NULL, "unknown field \"Period\" (allowed: period, " },
	{ "{" BASE ", \"a\\nb\": 1}", NULL, "unknown field \"a\\x0ab\" (allowed: " },

	/* required fields and their types */
	{ "{" ROOMS "}", NULL, "period: missing (required)" },
	{ "{\"period\": \"2026-10\", \"rooms_sold\": 80, \"room_revenue\": \"1\"}", NULL,
	  "rooms_available: missing (required)" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80}", NULL,
	  "room_revenue: missing (required)" },
	{ "{\"period\": 202610, " ROOMS "}", NULL, "period: 202610 is not a string" },
	{ "{\"period\": null, " ROOMS "}", NULL, "period: null is not a string" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": \"100\", \"rooms_sold\": 80, "
	  "\"room_revenue\": \"1\"}", NULL, "rooms_available: \"100\" is not a whole number" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100.0, \"rooms_sold\": 80, "
	  "\"room_revenue\": \"1\"}", NULL, "rooms_available: 100.0 is not a whole number" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": true}", NULL, "room_revenue: a boolean is not an amount" },

	/* period and currency */
	{ "{\"period\": \"2026-13\", " ROOMS "}", NULL,
	  "period: \"2026-13\" is not a month (want YYYY-MM)" },
	{ "{\"period\": \"2026-00\", " ROOMS "}", NULL,
	  "period: \"2026-00\" is not a month (want YYYY-MM)" },
	{ "{\"period\": \"2026-1\", " ROOMS "}", NULL,
	  "period: \"2026-1\" is not a month (want YYYY-MM)" },
	{ "{\"period\": \"2026/10\", " ROOMS "}", NULL,
	  "period: \"2026/10\" is not a month (want YYYY-MM)" },
	{ "{\"period\": \"2026-10-01\", " ROOMS "}", NULL,
	  "period: \"2026-10-01\" is not a month (want YYYY-MM)" },
	{ "{\"period\": \"\", " ROOMS "}", NULL, "period: \"\" is not a month (want YYYY-MM)" },
	{ "{\"period\": \"1999-12\", " ROOMS "}", NULL,
	  "period: \"1999-12\" is out of range (want a year from 2000 to 2099)" },
	{ "{\"period\": \"2100-01\", " ROOMS "}", NULL,
	  "period: \"2100-01\" is out of range (want a year from 2000 to 2099)" },
	{ "{" BASE ", \"currency\": \"cny\"}", NULL,
	  "currency: \"cny\" is not a currency code (want 3 upper-case letters, e.g. CNY)" },
	{ "{" BASE ", \"currency\": \"CN\"}", NULL, "currency: \"CN\" is not a currency code" },
	{ "{" BASE ", \"currency\": \"CNYY\"}", NULL, "currency: \"CNYY\" is not a currency code" },
	{ "{" BASE ", \"currency\": 156}", NULL, "currency: 156 is not a string" },

	/* negatives, bounds, sold <= available */
	{ "{\"period\": \"2026-10\", \"rooms_available\": -1, \"rooms_sold\": 0, "
	  "\"room_revenue\": 0}", NULL, "rooms_available: -1 is negative" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": -80, "
	  "\"room_revenue\": 0}", NULL, "rooms_sold: -80 is negative" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": \"-3.10\"}", NULL, "room_revenue: -3.10 is negative" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": -1}", NULL, "room_revenue: -1.00 is negative" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100000001, \"rooms_sold\": 0, "
	  "\"room_revenue\": 0}", NULL,
	  "rooms_available: 100000001 is more than the maximum 100000000" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 101, "
	  "\"room_revenue\": 0}", NULL, "rooms_sold: 101 is more than rooms_available (100)" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": \"1.001\"}", NULL, "room_revenue: \"1.001\" has more than two decimals" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": 1.001}", NULL, "room_revenue: 1.001 has more than two decimals" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": \"1e3\"}", NULL, "room_revenue: \"1e3\" is not a decimal amount" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 100, \"rooms_sold\": 80, "
	  "\"room_revenue\": \"100000000000.01\"}", NULL, "room_revenue: \"100000000000.01\" is out" },

	/* other_revenue and costs */
	{ "{" BASE ", \"other_revenue\": []}", NULL,
	  "other_revenue: an array is not an object (want {\"name\": \"amount\", ...})" },
	{ "{" BASE ", \"other_revenue\": {\"fnb\": \"1.234\"}}", NULL,
	  "other_revenue.fnb: \"1.234\" has more than two decimals" },
	{ "{" BASE ", \"other_revenue\": {\"fnb\": null}}", NULL,
	  "other_revenue.fnb: null is not an amount" },
	{ "{" BASE ", \"costs\": {\"labour\": \"1\", \"energy\": \"-5\"}}", NULL,
	  "costs.energy: -5.00 is negative" },
	{ "{" BASE ", \"costs\": {\"rent & fees\": -1}}", NULL,
	  "costs[\"rent & fees\"]: -1.00 is negative" },
	{ "{" BASE ", \"costs\": {\"\": \"1\"}}", NULL, "costs: empty name" },
	{ "{" BASE ", \"costs\": {\"" NAME65 "\": 1}}", NULL,
	  "costs: name \"" NAME48 "...\" is longer than 64 bytes" },
	{ "{" BASE ", \"costs\": {\"a\\tb\": 1}}", NULL,
	  "costs: name \"a\\x09b\" contains a control character" },

	/* segments and channels */
	{ "{" BASE ", \"segments\": {}}", NULL, "segments: an object is not an array" },
	{ "{" BASE ", \"segments\": [\"ota\"]}", NULL,
	  "segments[0]: \"ota\" is not an object (want {\"name\", \"room_nights\", \"revenue\"})" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", {\"name\": \"x\", \"rooms\": 1}]}", NULL,
	  "segments[1]: unknown field \"rooms\" (allowed: name, room_nights, revenue)" },
	{ "{" BASE ", \"segments\": [{\"room_nights\": 80, \"revenue\": 16000}]}", NULL,
	  "segments[0].name: missing (required)" },
	{ "{" BASE ", \"segments\": [{\"name\": \"ota\", \"revenue\": 16000}]}", NULL,
	  "segments[0].room_nights: missing (required)" },
	{ "{" BASE ", \"segments\": [{\"name\": \"ota\", \"room_nights\": 80}]}", NULL,
	  "segments[0].revenue: missing (required)" },
	{ "{" BASE ", \"segments\": [{\"name\": 1, \"room_nights\": 80, \"revenue\": 1}]}", NULL,
	  "segments[0].name: 1 is not a string" },
	{ "{" BASE ", \"segments\": [{\"name\": \"\", \"room_nights\": 80, \"revenue\": 16000}]}",
	  NULL, "segments[0].name: empty name" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", {\"name\": \"ota\", \"room_nights\": 30, "
	  "\"revenue\": 6000}]}", NULL, "segments[1].name: \"ota\" appears twice (also segments[0])" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", {\"name\": \"x\", \"room_nights\": -5, "
	  "\"revenue\": 6000}]}", NULL, "segments[1].room_nights: -5 is negative" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", {\"name\": \"x\", \"room_nights\": 30, "
	  "\"revenue\": \"-0.01\"}]}", NULL, "segments[1].revenue: -0.01 is negative" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", {\"name\": \"x\", \"room_nights\": 30.5, "
	  "\"revenue\": 1}]}", NULL, "segments[1].room_nights: 30.5 is not a whole number" },
	{ "{" BASE ", \"segments\": [" SEG_OTA "]}", NULL,
	  "segments: room_nights add up to 50 but rooms_sold is 80" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", {\"name\": \"x\", \"room_nights\": 30, "
	  "\"revenue\": \"6000.01\"}]}", NULL,
	  "segments: revenue adds up to 16000.01 but room_revenue is 16000.00" },
	{ "{" BASE ", \"segments\": []}", NULL,
	  "segments: room_nights add up to 0 but rooms_sold is 80" },
	{ "{\"period\": \"2026-10\", \"rooms_available\": 10, \"rooms_sold\": 0, "
	  "\"room_revenue\": \"5\", \"channels\": []}", NULL,
	  "channels: revenue adds up to 0.00 but room_revenue is 5.00" },
	{ "{" BASE ", \"segments\": [" SEG_OTA ", " SEG_WALK "], \"channels\": [" SEG_OTA "]}",
	  NULL, "channels: room_nights add up to 50 but rooms_sold is 80" },

	/* analysis */
	{ "{" BASE ", \"analysis\": 5}", NULL, "analysis: 5 is not a string" },
	{ "{" BASE ", \"analysis\": null}", NULL, "analysis: null is not a string" },
};

static void test_inline_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof inline_cases / sizeof inline_cases[0]; i++)
		expect_parse(inline_cases[i].json, inline_cases[i].json,
			     strlen(inline_cases[i].json), inline_cases[i].kind,
			     inline_cases[i].error, "");
}

/* A file of exactly len bytes: the base report padded with spaces. */
static char *padded_report(size_t len)
{
	static const char head[] = "{" BASE;
	char *text = malloc(len + 1);
	assert_non_null(text);
	memset(text, ' ', len);
	memcpy(text, head, sizeof head - 1);
	text[len - 1] = '}';
	text[len] = '\0';
	return text;
}

static void test_size_limit(void **state)
{
	(void)state;
	char *text = padded_report(SALES_REPORT_MAX_FILE_BYTES);
	expect_parse("65536 bytes", text, SALES_REPORT_MAX_FILE_BYTES, NULL, NULL, "");
	free(text);
	text = padded_report(SALES_REPORT_MAX_FILE_BYTES + 1);
	expect_parse("65537 bytes", text, SALES_REPORT_MAX_FILE_BYTES + 1, NULL,
		     "file is larger than 65536 bytes", NULL);
	free(text);
	expect_parse("NULL text", NULL, 0, NULL, "file is not valid UTF-8 JSON: ", NULL);
}

/* {BASE, "<key>": <n generated entries>} */
static char *report_with_list(const char *key, size_t n, int as_object)
{
	size_t cap = 256 + n * 96;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t used = (size_t)snprintf(text, cap, "{\"period\": \"2026-10\", "
				       "\"rooms_available\": %zu, \"rooms_sold\": %zu, "
				       "\"room_revenue\": %zu, \"%s\": %c",
				       n, n, n, key, as_object ? '{' : '[');
	for (size_t i = 0; i < n; i++) {
		const char *sep = i > 0 ? ", " : "";
		if (as_object)
			used += (size_t)snprintf(text + used, cap - used, "%s\"n%zu\": 1", sep, i);
		else
			used += (size_t)snprintf(text + used, cap - used,
						 "%s{\"name\": \"n%zu\", \"room_nights\": 1, "
						 "\"revenue\": 1}", sep, i);
	}
	snprintf(text + used, cap - used, "%c}", as_object ? '}' : ']');
	return text;
}

static void test_list_bounds(void **state)
{
	(void)state;
	static const struct {
		const char *key;
		int as_object;
		const char *error; /* for 65 entries */
	} lists[] = {
		{ "segments", 0, "segments: 65 lines, at most 64 allowed" },
		{ "channels", 0, "channels: 65 lines, at most 64 allowed" },
		{ "other_revenue", 1, "other_revenue: 65 entries, at most 64 allowed" },
		{ "costs", 1, "costs: 65 entries, at most 64 allowed" },
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		char *text = report_with_list(lists[i].key, SALES_REPORT_MAX_LINES,
					      lists[i].as_object);
		expect_parse(lists[i].key, text, strlen(text), NULL, NULL, "");
		free(text);
		text = report_with_list(lists[i].key, SALES_REPORT_MAX_LINES + 1,
					lists[i].as_object);
		expect_parse(lists[i].key, text, strlen(text), NULL, lists[i].error, NULL);
		free(text);
	}
}

static void test_analysis_bound(void **state)
{
	(void)state;
	size_t cap = SALES_REPORT_MAX_ANALYSIS + 256;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t n = SALES_REPORT_MAX_ANALYSIS; n <= SALES_REPORT_MAX_ANALYSIS + 1; n++) {
		size_t used = (size_t)snprintf(text, cap, "{" BASE ", \"analysis\": \"");
		memset(text + used, 'x', n);
		snprintf(text + used + n, cap - used - n, "\"}");
		expect_parse("analysis", text, strlen(text), NULL,
			     n > SALES_REPORT_MAX_ANALYSIS ?
			     "analysis: 32769 bytes, at most 32768 allowed" : NULL, "");
	}
	free(text);
}

/*---- The structured form, as HQ checks it ------------------------------*/

static void replace_string(char **field, const char *value)
{
	if (*field != NULL && *field != protobuf_c_empty_string)
		free(*field);
	*field = strdup(value);
	assert_non_null(*field);
}

static void expect_checked(const char *label, const Innsync__SalesReport *report,
			 const char *kind, const char *want_error, const char *want_warning)
{
	char err[512] = "";
	char warning[256] = "unset";
	int rc = sales_report_check(report, kind, err, sizeof err, warning, sizeof warning);
	if (want_error == NULL) {
		if (rc != 0)
			fail_msg("%s: refused: %s", label, err);
		if (strcmp(warning, want_warning) != 0)
			fail_msg("%s: warning \"%s\", want \"%s\"", label, warning, want_warning);
		return;
	}
	if (rc == 0)
		fail_msg("%s: accepted, want \"%s\"", label, want_error);
	if (strcmp(err, want_error) != 0)
		fail_msg("%s: error \"%s\", want \"%s\"", label, err, want_error);
	assert_one_line(label, err);
}

static void drop_segments(Innsync__SalesReport *r)
{
	for (size_t i = 0; i < r->n_segments; i++)
		innsync__mix_line__free_unpacked(r->segments[i], NULL);
	free(r->segments);
	r->segments = NULL;
	r->n_segments = 0;
}

static void drop_costs(Innsync__SalesReport *r)
{
	for (size_t i = 0; i < r->n_costs; i++)
		innsync__amount__free_unpacked(r->costs[i], NULL);
	free(r->costs);
	r->costs = NULL;
	r->n_costs = 0;
}

/* Each case breaks one thing in a copy of the full fixture. */
enum mutation {
	KEEP,
	DROP_SEGMENTS,  /* empty lists on the wire mean "not given": no sum rule */
	DROP_COSTS,
	BAD_PERIOD,
	BAD_CURRENCY,
	BAD_SOLD,
	BAD_AVAILABLE,
	BAD_REVENUE,
	BAD_OTHER,
	DUP_COST,
	DUP_SEGMENT,
	BAD_SEGMENT_UTF8,
	BAD_SEGMENT_SUM,
	BAD_CHANNEL_SUM,
	BAD_ANALYSIS,
	TOO_MANY_LINES, /* a count beyond the bound; restored before freeing */
};

static void mutate(Innsync__SalesReport *r, enum mutation m)
{
	switch (m) {
	case KEEP:
		break;
	case DROP_SEGMENTS:
		drop_segments(r);
		break;
	case DROP_COSTS:
		drop_costs(r);
		break;
	case BAD_PERIOD:
		replace_string(&r->period, "2026-1x");
		break;
	case BAD_CURRENCY:
		replace_string(&r->currency, "");
		break;
	case BAD_SOLD:
		r->rooms_sold = 4000;
		break;
	case BAD_AVAILABLE:
		r->rooms_available = -1;
		break;
	case BAD_REVENUE:
		r->room_revenue_cents = MONEY_MAX_CENTS + 1;
		break;
	case BAD_OTHER:
		r->other_revenue[2]->cents = -1;
		break;
	case DUP_COST:
		replace_string(&r->costs[1]->name, "labour");
		break;
	case DUP_SEGMENT:
		replace_string(&r->segments[3]->name, "ota");
		break;
	case BAD_SEGMENT_UTF8:
		replace_string(&r->segments[0]->name, "o\xfft");
		break;
	case BAD_SEGMENT_SUM:
		r->segments[0]->revenue_cents += 1;
		break;
	case BAD_CHANNEL_SUM:
		r->channels[3]->room_nights -= 1;
		break;
	case BAD_ANALYSIS:
		replace_string(&r->analysis, "ok \xc0\xaf"); /* overlong '/' */
		break;
	case TOO_MANY_LINES:
		r->n_segments = SALES_REPORT_MAX_LINES + 1;
		break;
	}
}

static const struct {
	const char *label;
	enum mutation mutation;
	const char *kind;
	const char *error;
	const char *warning;
} check_cases[] = {
	{ "valid", KEEP, "franchise", NULL, "" },
	{ "no segments", DROP_SEGMENTS, NULL, NULL, "" },
	{ "franchise without costs", DROP_COSTS, "franchise", NULL, franchise_warning },
	{ "member without costs", DROP_COSTS, "member", NULL, "" },
	{ "period", BAD_PERIOD, NULL, "period: \"2026-1x\" is not a month (want YYYY-MM)", NULL },
	{ "currency", BAD_CURRENCY, NULL,
	  "currency: \"\" is not a currency code (want 3 upper-case letters, e.g. CNY)", NULL },
	{ "sold", BAD_SOLD, NULL, "rooms_sold: 4000 is more than rooms_available (3720)", NULL },
	{ "available", BAD_AVAILABLE, NULL, "rooms_available: -1 is negative", NULL },
	{ "revenue", BAD_REVENUE, NULL,
	  "room_revenue: 100000000000.01 is more than the maximum 100000000000.00", NULL },
	{ "other", BAD_OTHER, NULL, "other_revenue.other: -0.01 is negative", NULL },
	{ "costs dup", DUP_COST, NULL, "costs.labour: appears twice", NULL },
	{ "segment dup", DUP_SEGMENT, NULL,
	  "segments[3].name: \"ota\" appears twice (also segments[0])", NULL },
	{ "segment utf8", BAD_SEGMENT_UTF8, NULL,
	  "segments[0].name: name \"o\\xfft\" is not valid UTF-8", NULL },
	{ "segment sum", BAD_SEGMENT_SUM, NULL,
	  "segments: revenue adds up to 595200.01 but room_revenue is 595200.00", NULL },
	{ "channel sum", BAD_CHANNEL_SUM, NULL,
	  "channels: room_nights add up to 2975 but rooms_sold is 2976", NULL },
	{ "analysis", BAD_ANALYSIS, NULL, "analysis: not valid UTF-8", NULL },
	{ "lines", TOO_MANY_LINES, NULL, "segments: 65 lines, at most 64 allowed", NULL },
};

static void test_check_structured(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
		Innsync__SalesReport *r = load_fixture("valid-full.json");
		size_t n_segments = r->n_segments;
		mutate(r, check_cases[i].mutation);
		expect_checked(check_cases[i].label, r, check_cases[i].kind, check_cases[i].error,
			       check_cases[i].warning);
		if (check_cases[i].mutation == TOO_MANY_LINES)
			r->n_segments = n_segments;
		innsync__sales_report__free_unpacked(r, NULL);
	}
	expect_checked("NULL", NULL, NULL, "report: missing", NULL);
}

static void test_check_after_wire_round_trip(void **state)
{
	(void)state;
	Innsync__SalesReport *r = load_fixture("valid-full.json");
	size_t len = innsync__sales_report__get_packed_size(r);
	uint8_t *bytes = malloc(len);
	assert_non_null(bytes);
	innsync__sales_report__pack(r, bytes);
	Innsync__SalesReport *back = innsync__sales_report__unpack(NULL, len, bytes);
	assert_non_null(back);
	expect_checked("unpacked", back, "franchise", NULL, "");
	assert_int_equal(back->room_revenue_cents, r->room_revenue_cents);
	innsync__sales_report__free_unpacked(back, NULL);
	innsync__sales_report__free_unpacked(r, NULL);
	free(bytes);
}

/*---- Derived figures ----------------------------------------------------*/

static void test_derive_full(void **state)
{
	(void)state;
	Innsync__SalesReport *r = load_fixture("valid-full.json");
	struct sales_figures f;
	sales_report_derive(r, &f);
	assert_true(f.occupancy > 0.7999999 && f.occupancy < 0.8000001);
	assert_int_equal(f.adr_cents, 20000);        /* 595200.00 / 2976 */
	assert_int_equal(f.revpar_cents, 16000);     /* 595200.00 / 3720 */
	assert_int_equal(f.other_revenue_cents, 5150050);
	assert_int_equal(f.total_revenue_cents, 64670050);
	assert_int_equal(f.costs_cents, 15000000);
	assert_int_equal(f.gross_operating_profit_cents, 49670050);
	innsync__sales_report__free_unpacked(r, NULL);
}

static const struct {
	int64_t available, sold, revenue, other, costs;
	double occupancy;
	int64_t adr, revpar, total, gop;
} derive_cases[] = {
	/* available sold revenue other costs | occupancy adr revpar total gop */
	{ 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0 },
	{ 10, 0, 0, 0, 0, 0.0, 0, 0, 0, 0 },
	{ 3, 3, 100, 0, 0, 1.0, 33, 33, 100, 100 },     /* 33.33 down */
	{ 3, 3, 200, 0, 0, 1.0, 67, 67, 200, 200 },     /* 66.67 up */
	{ 4, 2, 1, 0, 0, 0.5, 1, 0, 1, 1 },             /* 0.5 up, 0.25 down */
	{ 8, 6, 3, 0, 0, 0.75, 1, 0, 3, 3 },            /* 0.5 up, 0.375 down */
	{ 100, 80, 16000, 500, 20000, 0.8, 200, 160, 16500, -3500 },
	{ SALES_REPORT_MAX_ROOMS, SALES_REPORT_MAX_ROOMS, MONEY_MAX_CENTS, MONEY_MAX_CENTS,
	  0, 1.0, 100000, 100000, 2 * MONEY_MAX_CENTS, 2 * MONEY_MAX_CENTS },
};

static void test_derive_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof derive_cases / sizeof derive_cases[0]; i++) {
		Innsync__SalesReport r = INNSYNC__SALES_REPORT__INIT;
		Innsync__Amount other = INNSYNC__AMOUNT__INIT;
		Innsync__Amount cost = INNSYNC__AMOUNT__INIT;
		Innsync__Amount *other_list[] = { &other };
		Innsync__Amount *cost_list[] = { &cost };
		r.rooms_available = derive_cases[i].available;
		r.rooms_sold = derive_cases[i].sold;
		r.room_revenue_cents = derive_cases[i].revenue;
		other.cents = derive_cases[i].other;
		cost.cents = derive_cases[i].costs;
		r.n_other_revenue = 1;
		r.other_revenue = other_list;
		r.n_costs = 1;
		r.costs = cost_list;

		struct sales_figures f;
		sales_report_derive(&r, &f);
		if (f.occupancy < derive_cases[i].occupancy - 1e-9 ||
		    f.occupancy > derive_cases[i].occupancy + 1e-9 ||
		    f.adr_cents != derive_cases[i].adr ||
		    f.revpar_cents != derive_cases[i].revpar ||
		    f.total_revenue_cents != derive_cases[i].total ||
		    f.gross_operating_profit_cents != derive_cases[i].gop)
			fail_msg("derive case %zu: occupancy %g adr %lld revpar %lld total %lld "
				 "gop %lld", i, f.occupancy, (long long)f.adr_cents,
				 (long long)f.revpar_cents, (long long)f.total_revenue_cents,
				 (long long)f.gross_operating_profit_cents);
	}
}

/*---- Back to JSON -------------------------------------------------------*/

static const char full_as_written[] =
	"{\"period\": \"2026-10\", \"currency\": \"CNY\", \"rooms_available\": 3720,"
	" \"rooms_sold\": 2976, \"room_revenue\": \"595200.00\","
	" \"other_revenue\": {\"fnb\": \"42000.00\", \"meeting\": \"8000.00\", \"other\": \"1500.50\"},"
	" \"segments\": ["
	"{\"name\": \"ota\", \"room_nights\": 1200, \"revenue\": \"240000.00\"},"
	"{\"name\": \"member\", \"room_nights\": 900, \"revenue\": \"189000.00\"},"
	"{\"name\": \"corporate\", \"room_nights\": 500, \"revenue\": \"95000.00\"},"
	"{\"name\": \"walk_in\", \"room_nights\": 376, \"revenue\": \"71200.00\"}],"
	" \"channels\": ["
	"{\"name\": \"brand_app\", \"room_nights\": 900, \"revenue\": \"180000.00\"},"
	"{\"name\": \"ota\", \"room_nights\": 1300, \"revenue\": \"260000.00\"},"
	"{\"name\": \"phone\", \"room_nights\": 300, \"revenue\": \"60000.00\"},"
	"{\"name\": \"walk_in\", \"room_nights\": 476, \"revenue\": \"95200.00\"}],"
	" \"costs\": {\"labour\": \"120000.00\", \"energy\": \"30000.00\"}}";

static void test_to_json_full(void **state)
{
	(void)state;
	Innsync__SalesReport *r = load_fixture("valid-full.json");
	json_t *got = sales_report_to_json(r);
	assert_non_null(got);
	json_t *want = json_loads(full_as_written, 0, NULL);
	assert_non_null(want);
	/* analysis compared apart: it is long */
	assert_string_equal(json_string_value(json_object_get(got, "analysis")), r->analysis);
	json_object_del(got, "analysis");
	if (!json_equal(got, want)) {
		char *dump = json_dumps(got, JSON_COMPACT);
		fail_msg("to_json gave %s", dump);
	}
	json_decref(got);
	json_decref(want);
	innsync__sales_report__free_unpacked(r, NULL);
}

static void test_to_json_minimal(void **state)
{
	(void)state;
	Innsync__SalesReport *r = load_fixture("valid-minimal.json");
	json_t *got = sales_report_to_json(r);
	json_t *want = json_loads("{\"period\": \"2026-10\", \"currency\": \"CNY\", "
				  "\"rooms_available\": 3100, \"rooms_sold\": 2000, "
				  "\"room_revenue\": \"350000.00\"}", 0, NULL);
	assert_non_null(got);
	assert_non_null(want);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	innsync__sales_report__free_unpacked(r, NULL);
}

/* file -> report -> JSON text -> report gives the same wire bytes. */
static void test_json_round_trip(void **state)
{
	(void)state;
	static const char *const files[] = { "valid-full.json", "valid-minimal.json" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		Innsync__SalesReport *first = load_fixture(files[i]);
		json_t *json = sales_report_to_json(first);
		assert_non_null(json);
		char *text = json_dumps(json, JSON_INDENT(2));
		assert_non_null(text);
		Innsync__SalesReport *second = NULL;
		char err[512];
		if (sales_report_from_json(text, strlen(text), NULL, &second, err, sizeof err,
					   NULL, 0) != 0)
			fail_msg("%s: written JSON refused: %s", files[i], err);
		size_t len1 = innsync__sales_report__get_packed_size(first);
		size_t len2 = innsync__sales_report__get_packed_size(second);
		assert_int_equal(len1, len2);
		uint8_t *b1 = malloc(len1);
		uint8_t *b2 = malloc(len2);
		assert_non_null(b1);
		assert_non_null(b2);
		innsync__sales_report__pack(first, b1);
		innsync__sales_report__pack(second, b2);
		assert_memory_equal(b1, b2, len1);
		free(b1);
		free(b2);
		free(text);
		json_decref(json);
		innsync__sales_report__free_unpacked(first, NULL);
		innsync__sales_report__free_unpacked(second, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_full_fixture_values),
		cmocka_unit_test(test_inline_files),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_list_bounds),
		cmocka_unit_test(test_analysis_bound),
		cmocka_unit_test(test_check_structured),
		cmocka_unit_test(test_check_after_wire_round_trip),
		cmocka_unit_test(test_derive_full),
		cmocka_unit_test(test_derive_table),
		cmocka_unit_test(test_to_json_full),
		cmocka_unit_test(test_to_json_minimal),
		cmocka_unit_test(test_json_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
