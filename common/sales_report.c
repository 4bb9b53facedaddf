/* sales_report: owns what a valid monthly sales report is (DOMAIN.md "Key
 * figures", issue 2 "The monthly sales report file"), the conversion of a
 * report file's JSON to the wire type Innsync__SalesReport and back, and the
 * derived figures (occupancy, ADR, RevPAR, totals, GOP).
 *
 * A file is checked in this order, and the first failure is reported as one
 * line that starts with the field it is about:
 *   1. size: at most SALES_REPORT_MAX_FILE_BYTES;
 *   2. syntax: UTF-8 JSON (jansson refuses invalid UTF-8 and, with
 *      JSON_REJECT_DUPLICATES, duplicate keys), an object at the top;
 *   3. no top-level field other than those in top_fields;
 *   4. types: required fields present, counts are JSON integers, money is a
 *      decimal string or number with at most two decimals, names are
 *      strings, lists and maps within SALES_REPORT_MAX_LINES;
 *   5. sales_report_check on the structured form: the rules shared with HQ,
 *      which checks every record it receives;
 *   6. a segments or channels key present with an empty list must still add
 *      up (so only passes when rooms_sold and room_revenue are both 0).
 */
#include "sales_report.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "money.h"

/* Source bytes of a value shown in a message, and the buffer that holds
 * them quoted with every byte escaped at worst ("\xff" is 4 bytes). */
#define QUOTE_MAX 48
#define QUOTE_SIZE (QUOTE_MAX * 4 + 8)
#define PATH_SIZE (QUOTE_SIZE + 32)

static const char *const top_fields[] = {
	"period", "currency", "rooms_available", "rooms_sold", "room_revenue",
	"other_revenue", "segments", "channels", "costs", "analysis", NULL,
};

static const char *const line_fields[] = { "name", "room_nights", "revenue", NULL };

static const char franchise_warning[] =
	"costs: a franchised store's report should include its operating costs "
	"(labour, energy, ...)";

/*---- Messages ----------------------------------------------------------*/

static void vset_message(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (buf == NULL || len == 0)
		return;
	vsnprintf(buf, len, fmt, ap);
}

static void set_message(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_message(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_message(buf, len, fmt, ap);
	va_end(ap);
}

/* Writes the reason into err and returns -1, for "return refuse(...)". */
static int refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_message(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}


/* Copies at most max source bytes of text into out so that the result is
 * one printable line: control and non-UTF-8 bytes become \xNN, "..." marks
 * a cut, and with quoted set, quotes and backslashes are escaped too. */
static void escape_text(const char *text, size_t max, int quoted, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t used = 0;
	size_t o = 0;

	while (*p != '\0' && o + 8 < outlen) {
		size_t n = utf8_sequence(p);
		if (used + (n == 0 ? 1 : n) > max)
			break;
		if (n == 0 || *p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
			n = 1;
		} else if (quoted && (*p == '"' || *p == '\\')) {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		used += n;
	}
	if (*p != '\0' && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* "\"text\"" for a message; out: QUOTE_SIZE bytes. */
static void quote_text(const char *text, char *out, size_t outlen)
{
	if (outlen < 3) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	out[0] = '"';
	escape_text(text != NULL ? text : "", QUOTE_MAX, 1, out + 1, outlen - 2);
	size_t n = strlen(out);
	out[n] = '"';
	out[n + 1] = '\0';
}

/* A short picture of a JSON value for a type error: "\"3720\"", "3720.5",
 * "true", "an object". out: QUOTE_SIZE bytes. */
static void describe_json(const json_t *value, char *out, size_t outlen)
{
	if (json_is_string(value)) {
		quote_text(json_string_value(value), out, outlen);
	} else if (json_is_object(value)) {
		snprintf(out, outlen, "an object");
	} else if (json_is_array(value)) {
		snprintf(out, outlen, "an array");
	} else {
		char *dump = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
		escape_text(dump != NULL ? dump : "?", QUOTE_MAX, 0, out, outlen);
		free(dump);
	}
}

/* "costs.labour" for a plain name, else "costs[\"a b\"]". */
static void member_path(const char *list, const char *name, char *out, size_t outlen)
{
	int plain = name[0] != '\0' && strlen(name) <= SALES_REPORT_MAX_NAME;
	for (const char *p = name; plain && *p != '\0'; p++) {
		char c = *p;
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-';
	}
	if (plain) {
		snprintf(out, outlen, "%s.%s", list, name);
	} else {
		char quoted[QUOTE_SIZE];
		quote_text(name, quoted, sizeof quoted);
		snprintf(out, outlen, "%s[%s]", list, quoted);
	}
}

static const char *or_empty(const char *text)
{
	return text != NULL ? text : "";
}

/*---- Rules on the structured form -------------------------------------*/

static int is_ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "YYYY-MM", year 2000-2099, month 01-12. */
static int check_period(const char *period, char *err, size_t errlen)
{
	char quoted[QUOTE_SIZE];
	quote_text(period, quoted, sizeof quoted);
	int shape = strlen(period) == 7 && period[4] == '-';
	for (int i = 0; shape && i < 7; i++) {
		if (i != 4)
			shape = is_ascii_digit(period[i]);
	}
	if (!shape)
		return refuse(err, errlen, "period: %s is not a month (want YYYY-MM)", quoted);
	int year = (period[0] - '0') * 1000 + (period[1] - '0') * 100 +
		   (period[2] - '0') * 10 + (period[3] - '0');
	int month = (period[5] - '0') * 10 + (period[6] - '0');
	if (month < 1 || month > 12)
		return refuse(err, errlen, "period: %s is not a month (want YYYY-MM)", quoted);
	if (year < 2000 || year > 2099)
		return refuse(err, errlen, "period: %s is out of range (want a year from 2000 to 2099)",
			      quoted);
	return 0;
}

/* Three upper-case ASCII letters (ISO 4217 shape). */
static int check_currency(const char *currency, char *err, size_t errlen)
{
	int ok = strlen(currency) == 3;
	for (int i = 0; ok && i < 3; i++)
		ok = currency[i] >= 'A' && currency[i] <= 'Z';
	if (ok)
		return 0;
	char quoted[QUOTE_SIZE];
	quote_text(currency, quoted, sizeof quoted);
	return refuse(err, errlen,
		      "currency: %s is not a currency code (want 3 upper-case letters, e.g. CNY)",
		      quoted);
}

/* A count of room-nights: 0..SALES_REPORT_MAX_ROOMS. */
static int check_count(const char *path, int64_t value, char *err, size_t errlen)
{
	if (value < 0)
		return refuse(err, errlen, "%s: %lld is negative", path, (long long)value);
	if (value > SALES_REPORT_MAX_ROOMS)
		return refuse(err, errlen, "%s: %lld is more than the maximum %lld", path,
			      (long long)value, (long long)SALES_REPORT_MAX_ROOMS);
	return 0;
}

/* An amount: 0..MONEY_MAX_CENTS. */
static bool amount_ok(int64_t cents)
{
	return cents >= 0 && cents <= MONEY_MAX_CENTS;
}

static int check_amount(const char *path, int64_t cents, char *err, size_t errlen)
{
	if (amount_ok(cents))
		return 0; /* HQ checks every record: no formatting on the good path */
	char text[32];
	char limit[32];
	money_format(cents, text, sizeof text);
	if (cents < 0)
		return refuse(err, errlen, "%s: %s is negative", path, text);
	if (cents > MONEY_MAX_CENTS) {
		money_format(MONEY_MAX_CENTS, limit, sizeof limit);
		return refuse(err, errlen, "%s: %s is more than the maximum %s", path, text, limit);
	}
	return 0;
}

/* A segment, channel, cost or revenue name: 1..SALES_REPORT_MAX_NAME bytes
 * of UTF-8 without control characters. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > SALES_REPORT_MAX_NAME || !utf8_valid(name))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int check_name(const char *path, const char *name, char *err, size_t errlen)
{
	if (name_ok(name))
		return 0;
	char quoted[QUOTE_SIZE];
	quote_text(name, quoted, sizeof quoted);
	if (name[0] == '\0')
		return refuse(err, errlen, "%s: empty name", path);
	if (strlen(name) > SALES_REPORT_MAX_NAME)
		return refuse(err, errlen, "%s: name %s is longer than %d bytes", path, quoted,
			      SALES_REPORT_MAX_NAME);
	if (!utf8_valid(name))
		return refuse(err, errlen, "%s: name %s is not valid UTF-8", path, quoted);
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return refuse(err, errlen, "%s: name %s contains a control character",
				      path, quoted);
	}
	return 0;
}

static int check_list_size(const char *list, size_t n, const void *items, const char *unit,
			   char *err, size_t errlen)
{
	if (n > SALES_REPORT_MAX_LINES)
		return refuse(err, errlen, "%s: %zu %s, at most %d allowed", list, n, unit,
			      SALES_REPORT_MAX_LINES);
	if (n > 0 && items == NULL)
		return refuse(err, errlen, "%s: %zu %s announced but none present", list, n, unit);
	return 0;
}

/* Named amounts (other_revenue, costs): names valid and unique, amounts
 * non-negative and in range. */
static int check_amounts(const char *list, size_t n, Innsync__Amount *const *items,
			 char *err, size_t errlen)
{
	char path[PATH_SIZE];
	if (check_list_size(list, n, items, "entries", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (items[i] == NULL)
			return refuse(err, errlen, "%s: entry %zu is missing", list, i);
		const char *name = or_empty(items[i]->name);
		if (check_name(list, name, err, errlen) != 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(or_empty(items[j]->name), name) == 0) {
				member_path(list, name, path, sizeof path);
				return refuse(err, errlen, "%s: appears twice", path);
			}
		}
		if (amount_ok(items[i]->cents))
			continue;
		member_path(list, name, path, sizeof path);
		return check_amount(path, items[i]->cents, err, errlen);
	}
	return 0;
}

static int check_line(const char *list, size_t i, const Innsync__MixLine *line,
		      char *err, size_t errlen)
{
	char path[PATH_SIZE];
	if (line == NULL)
		return refuse(err, errlen, "%s[%zu]: missing", list, i);
	if (name_ok(or_empty(line->name)) && line->room_nights >= 0 &&
	    line->room_nights <= SALES_REPORT_MAX_ROOMS && amount_ok(line->revenue_cents))
		return 0; /* paths are built only to name what is wrong */
	snprintf(path, sizeof path, "%s[%zu].name", list, i);
	if (check_name(path, or_empty(line->name), err, errlen) != 0)
		return -1;
	snprintf(path, sizeof path, "%s[%zu].room_nights", list, i);
	if (check_count(path, line->room_nights, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof path, "%s[%zu].revenue", list, i);
	return check_amount(path, line->revenue_cents, err, errlen);
}

/* The lines' room-nights and revenue equal rooms_sold and room_revenue.
 * Lines are already within bounds, so the sums cannot overflow. */
static int check_mix_sums(const char *list, size_t n, Innsync__MixLine *const *lines,
			  const Innsync__SalesReport *report, char *err, size_t errlen)
{
	int64_t nights = 0;
	int64_t revenue = 0;
	for (size_t i = 0; i < n; i++) {
		nights += lines[i]->room_nights;
		revenue += lines[i]->revenue_cents;
	}
	if (nights != report->rooms_sold)
		return refuse(err, errlen, "%s: room_nights add up to %lld but rooms_sold is %lld",
			      list, (long long)nights, (long long)report->rooms_sold);
	if (revenue != report->room_revenue_cents) {
		char sum[32];
		char want[32];
		money_format(revenue, sum, sizeof sum);
		money_format(report->room_revenue_cents, want, sizeof want);
		return refuse(err, errlen, "%s: revenue adds up to %s but room_revenue is %s",
			      list, sum, want);
	}
	return 0;
}

/* A guest-source mix (segments, channels): lines valid, names unique, and
 * when there are lines at all, they add up. */
static int check_mix(const char *list, size_t n, Innsync__MixLine *const *lines,
		     const Innsync__SalesReport *report, char *err, size_t errlen)
{
	if (check_list_size(list, n, lines, "lines", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (check_line(list, i, lines[i], err, errlen) != 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(or_empty(lines[j]->name), or_empty(lines[i]->name)) != 0)
				continue;
			char quoted[QUOTE_SIZE];
			quote_text(lines[i]->name, quoted, sizeof quoted);
			return refuse(err, errlen, "%s[%zu].name: %s appears twice (also %s[%zu])",
				      list, i, quoted, list, j);
		}
	}
	if (n == 0)
		return 0;
	return check_mix_sums(list, n, lines, report, err, errlen);
}

static int check_analysis(const char *analysis, char *err, size_t errlen)
{
	size_t len = strlen(analysis);
	if (len > SALES_REPORT_MAX_ANALYSIS)
		return refuse(err, errlen, "analysis: %zu bytes, at most %d allowed", len,
			      SALES_REPORT_MAX_ANALYSIS);
	if (!utf8_valid(analysis))
		return refuse(err, errlen, "analysis: not valid UTF-8");
	return 0;
}

static int check_rooms(const Innsync__SalesReport *report, char *err, size_t errlen)
{
	if (check_count("rooms_available", report->rooms_available, err, errlen) != 0 ||
	    check_count("rooms_sold", report->rooms_sold, err, errlen) != 0)
		return -1;
	if (report->rooms_sold > report->rooms_available)
		return refuse(err, errlen, "rooms_sold: %lld is more than rooms_available (%lld)",
			      (long long)report->rooms_sold, (long long)report->rooms_available);
	return 0;
}

int sales_report_check(const Innsync__SalesReport *report, const char *site_kind,
		       char *err, size_t errlen, char *warning, size_t warnlen)
{
	set_message(warning, warnlen, "%s", "");
	if (report == NULL)
		return refuse(err, errlen, "report: missing");
	if (check_period(or_empty(report->period), err, errlen) != 0 ||
	    check_currency(or_empty(report->currency), err, errlen) != 0 ||
	    check_rooms(report, err, errlen) != 0 ||
	    check_amount("room_revenue", report->room_revenue_cents, err, errlen) != 0 ||
	    check_amounts("other_revenue", report->n_other_revenue, report->other_revenue,
			  err, errlen) != 0 ||
	    check_mix("segments", report->n_segments, report->segments, report, err, errlen) != 0 ||
	    check_mix("channels", report->n_channels, report->channels, report, err, errlen) != 0 ||
	    check_amounts("costs", report->n_costs, report->costs, err, errlen) != 0 ||
	    check_analysis(or_empty(report->analysis), err, errlen) != 0)
		return -1;
	if (site_kind != NULL && strcmp(site_kind, "franchise") == 0 && report->n_costs == 0)
		set_message(warning, warnlen, "%s", franchise_warning);
	return 0;
}

/*---- JSON file -> structured form -------------------------------------*/

static int is_listed(const char *key, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		if (strcmp(key, names[i]) == 0)
			return 1;
	}
	return 0;
}

/* Every key of object is in names; prefix: "" or "segments[2]: ". */
static int check_known_fields(const json_t *object, const char *const *names,
			      const char *prefix, char *err, size_t errlen)
{
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)object, key, value) {
		if (is_listed(key, names))
			continue;
		char allowed[256] = "";
		size_t used = 0;
		for (size_t i = 0; names[i] != NULL && used < sizeof allowed; i++)
			used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s",
						 i > 0 ? ", " : "", names[i]);
		char quoted[QUOTE_SIZE];
		quote_text(key, quoted, sizeof quoted);
		return refuse(err, errlen, "%sunknown field %s (allowed: %s)", prefix, quoted,
			      allowed);
	}
	return 0;
}

static json_t *require(const json_t *object, const char *path, const char *key,
		       char *err, size_t errlen)
{
	json_t *value = json_object_get(object, key);
	if (value == NULL)
		refuse(err, errlen, "%s: missing (required)", path);
	return value;
}

/* A JSON string into a new malloc'd copy. */
static int take_string(const char *path, const json_t *value, char **out,
		       char *err, size_t errlen)
{
	if (!json_is_string(value)) {
		char shown[QUOTE_SIZE];
		describe_json(value, shown, sizeof shown);
		return refuse(err, errlen, "%s: %s is not a string", path, shown);
	}
	char *copy = strdup(json_string_value(value));
	if (copy == NULL)
		return refuse(err, errlen, "%s: out of memory", path);
	*out = copy;
	return 0;
}

/* A JSON integer (bounds are sales_report_check's). */
static int take_count(const char *path, const json_t *value, int64_t *out,
		      char *err, size_t errlen)
{
	if (!json_is_integer(value)) {
		char shown[QUOTE_SIZE];
		describe_json(value, shown, sizeof shown);
		return refuse(err, errlen, "%s: %s is not a whole number", path, shown);
	}
	*out = (int64_t)json_integer_value(value);
	return 0;
}

static int take_money(const char *path, const json_t *value, int64_t *out,
		      char *err, size_t errlen)
{
	char reason[256];
	if (money_from_json(value, out, reason, sizeof reason) != 0)
		return refuse(err, errlen, "%s: %s", path, reason);
	return 0;
}

/* {"name": amount, ...} into a repeated Amount. Each element is counted in
 * *n as soon as it is attached, so that free_unpacked frees a partial list. */
static int take_amounts(const char *list, const json_t *value, size_t *n,
			Innsync__Amount ***out, char *err, size_t errlen)
{
	char path[PATH_SIZE];
	const char *key;
	json_t *item;

	if (!json_is_object(value)) {
		char shown[QUOTE_SIZE];
		describe_json(value, shown, sizeof shown);
		return refuse(err, errlen, "%s: %s is not an object (want {\"name\": \"amount\", ...})",
			      list, shown);
	}
	size_t count = json_object_size(value);
	if (check_list_size(list, count, value, "entries", err, errlen) != 0)
		return -1;
	if (count == 0)
		return 0;
	*out = calloc(count, sizeof **out);
	if (*out == NULL)
		return refuse(err, errlen, "%s: out of memory", list);
	json_object_foreach((json_t *)value, key, item) {
		Innsync__Amount *amount = malloc(sizeof *amount);
		if (amount == NULL)
			return refuse(err, errlen, "%s: out of memory", list);
		innsync__amount__init(amount);
		(*out)[(*n)++] = amount;
		amount->name = strdup(key);
		if (amount->name == NULL)
			return refuse(err, errlen, "%s: out of memory", list);
		member_path(list, key, path, sizeof path);
		if (take_money(path, item, &amount->cents, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* {"name": ..., "room_nights": ..., "revenue": ...} into line. */
static int take_line(const char *list, size_t i, const json_t *value, Innsync__MixLine *line,
		     char *err, size_t errlen)
{
	char path[PATH_SIZE];
	char prefix[PATH_SIZE + 4];
	const json_t *field;

	snprintf(path, sizeof path, "%s[%zu]", list, i);
	if (!json_is_object(value)) {
		char shown[QUOTE_SIZE];
		describe_json(value, shown, sizeof shown);
		return refuse(err, errlen,
			      "%s: %s is not an object (want {\"name\", \"room_nights\", \"revenue\"})",
			      path, shown);
	}
	snprintf(prefix, sizeof prefix, "%s: ", path);
	if (check_known_fields(value, line_fields, prefix, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof path, "%s[%zu].name", list, i);
	field = require(value, path, "name", err, errlen);
	if (field == NULL || take_string(path, field, &line->name, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof path, "%s[%zu].room_nights", list, i);
	field = require(value, path, "room_nights", err, errlen);
	if (field == NULL || take_count(path, field, &line->room_nights, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof path, "%s[%zu].revenue", list, i);
	field = require(value, path, "revenue", err, errlen);
	if (field == NULL || take_money(path, field, &line->revenue_cents, err, errlen) != 0)
		return -1;
	return 0;
}

/* [{line}, ...] into a repeated MixLine; partial lists as in take_amounts. */
static int take_mix(const char *list, const json_t *value, size_t *n,
		    Innsync__MixLine ***out, char *err, size_t errlen)
{
	if (!json_is_array(value)) {
		char shown[QUOTE_SIZE];
		describe_json(value, shown, sizeof shown);
		return refuse(err, errlen, "%s: %s is not an array", list, shown);
	}
	size_t count = json_array_size(value);
	if (check_list_size(list, count, value, "lines", err, errlen) != 0)
		return -1;
	if (count == 0)
		return 0;
	*out = calloc(count, sizeof **out);
	if (*out == NULL)
		return refuse(err, errlen, "%s: out of memory", list);
	for (size_t i = 0; i < count; i++) {
		Innsync__MixLine *line = malloc(sizeof *line);
		if (line == NULL)
			return refuse(err, errlen, "%s: out of memory", list);
		innsync__mix_line__init(line);
		(*out)[(*n)++] = line;
		if (take_line(list, i, json_array_get(value, i), line, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int take_required(const json_t *root, Innsync__SalesReport *report,
			 char *err, size_t errlen)
{
	const json_t *value;

	value = require(root, "period", "period", err, errlen);
	if (value == NULL || take_string("period", value, &report->period, err, errlen) != 0)
		return -1;
	value = require(root, "rooms_available", "rooms_available", err, errlen);
	if (value == NULL ||
	    take_count("rooms_available", value, &report->rooms_available, err, errlen) != 0)
		return -1;
	value = require(root, "rooms_sold", "rooms_sold", err, errlen);
	if (value == NULL || take_count("rooms_sold", value, &report->rooms_sold, err, errlen) != 0)
		return -1;
	value = require(root, "room_revenue", "room_revenue", err, errlen);
	if (value == NULL ||
	    take_money("room_revenue", value, &report->room_revenue_cents, err, errlen) != 0)
		return -1;
	return 0;
}

static int take_optional(const json_t *root, Innsync__SalesReport *report,
			 char *err, size_t errlen)
{
	const json_t *value;

	value = json_object_get(root, "currency");
	if (value != NULL) {
		if (take_string("currency", value, &report->currency, err, errlen) != 0)
			return -1;
	} else {
		report->currency = strdup("CNY");
		if (report->currency == NULL)
			return refuse(err, errlen, "currency: out of memory");
	}
	value = json_object_get(root, "other_revenue");
	if (value != NULL && take_amounts("other_revenue", value, &report->n_other_revenue,
					  &report->other_revenue, err, errlen) != 0)
		return -1;
	value = json_object_get(root, "segments");
	if (value != NULL && take_mix("segments", value, &report->n_segments,
				      &report->segments, err, errlen) != 0)
		return -1;
	value = json_object_get(root, "channels");
	if (value != NULL && take_mix("channels", value, &report->n_channels,
				      &report->channels, err, errlen) != 0)
		return -1;
	value = json_object_get(root, "costs");
	if (value != NULL && take_amounts("costs", value, &report->n_costs, &report->costs,
					  err, errlen) != 0)
		return -1;
	value = json_object_get(root, "analysis");
	if (value != NULL && take_string("analysis", value, &report->analysis, err, errlen) != 0)
		return -1;
	return 0;
}

/* Rule 6: a present but empty segments/channels list must add up too. */
static int check_present_empty(const json_t *root, const Innsync__SalesReport *report,
			       char *err, size_t errlen)
{
	if (json_object_get(root, "segments") != NULL && report->n_segments == 0 &&
	    check_mix_sums("segments", 0, NULL, report, err, errlen) != 0)
		return -1;
	if (json_object_get(root, "channels") != NULL && report->n_channels == 0 &&
	    check_mix_sums("channels", 0, NULL, report, err, errlen) != 0)
		return -1;
	return 0;
}

static int load_error(const json_error_t *error, char *err, size_t errlen)
{
	char text[sizeof error->text * 4];
	escape_text(error->text, sizeof error->text, 0, text, sizeof text);
	return refuse(err, errlen, "file is not valid UTF-8 JSON: %s at line %d column %d",
		      text, error->line, error->column);
}

int sales_report_from_json(const char *text, size_t len, const char *site_kind,
			   Innsync__SalesReport **out, char *err, size_t errlen,
			   char *warning, size_t warnlen)
{
	json_error_t error;
	json_t *root = NULL;
	Innsync__SalesReport *report = NULL;

	*out = NULL;
	set_message(warning, warnlen, "%s", "");
	if (len > SALES_REPORT_MAX_FILE_BYTES)
		return refuse(err, errlen, "file is larger than %d bytes",
			      SALES_REPORT_MAX_FILE_BYTES);
	if (text == NULL)
		len = 0;
	root = json_loadb(text != NULL ? text : "", len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL)
		return load_error(&error, err, errlen);
	if (!json_is_object(root)) {
		refuse(err, errlen, "file is not a JSON object (want {\"period\": ...})");
		goto fail;
	}
	report = malloc(sizeof *report);
	if (report == NULL) {
		refuse(err, errlen, "file: out of memory");
		goto fail;
	}
	innsync__sales_report__init(report);
	if (check_known_fields(root, top_fields, "", err, errlen) != 0 ||
	    take_required(root, report, err, errlen) != 0 ||
	    take_optional(root, report, err, errlen) != 0 ||
	    sales_report_check(report, site_kind, err, errlen, warning, warnlen) != 0 ||
	    check_present_empty(root, report, err, errlen) != 0)
		goto fail;
	json_decref(root);
	*out = report;
	return 0;

fail:
	set_message(warning, warnlen, "%s", "");
	json_decref(root);
	if (report != NULL)
		innsync__sales_report__free_unpacked(report, NULL);
	return -1;
}

/*---- Derived figures ----------------------------------------------------*/

static int64_t clamp_int64(__int128 value)
{
	if (value > INT64_MAX)
		return INT64_MAX;
	if (value < INT64_MIN)
		return INT64_MIN;
	return (int64_t)value;
}

/* Sum of amounts, clamped so an unchecked report cannot overflow. */
static int64_t sum_amounts(size_t n, Innsync__Amount *const *items)
{
	__int128 sum = 0;
	for (size_t i = 0; i < n && items != NULL; i++) {
		if (items[i] != NULL)
			sum += items[i]->cents;
	}
	return clamp_int64(sum);
}

void sales_report_derive(const Innsync__SalesReport *report, struct sales_figures *out)
{
	memset(out, 0, sizeof *out);
	if (report->rooms_available > 0) {
		out->occupancy = (double)report->rooms_sold / (double)report->rooms_available;
		out->revpar_cents = ratio_round_half_up(report->room_revenue_cents,
							report->rooms_available);
	}
	if (report->rooms_sold > 0)
		out->adr_cents = ratio_round_half_up(report->room_revenue_cents,
						     report->rooms_sold);
	out->other_revenue_cents = sum_amounts(report->n_other_revenue, report->other_revenue);
	out->total_revenue_cents = clamp_int64((__int128)report->room_revenue_cents +
					       out->other_revenue_cents);
	out->costs_cents = sum_amounts(report->n_costs, report->costs);
	out->gross_operating_profit_cents = clamp_int64((__int128)out->total_revenue_cents -
							out->costs_cents);
}

/*---- Structured form -> JSON --------------------------------------------*/

static json_t *money_json(int64_t cents)
{
	char text[32];
	money_format(cents, text, sizeof text);
	return json_string(text);
}

/* {"name": "amount", ...}; NULL on failure. */
static json_t *amounts_json(size_t n, Innsync__Amount *const *items)
{
	json_t *object = json_object();
	for (size_t i = 0; object != NULL && i < n; i++) {
		if (json_object_set_new(object, or_empty(items[i]->name),
					money_json(items[i]->cents)) != 0) {
			json_decref(object);
			object = NULL;
		}
	}
	return object;
}

static json_t *line_json(const Innsync__MixLine *line)
{
	json_t *object = json_object();
	if (object == NULL)
		return NULL;
	if (json_object_set_new(object, "name", json_string(or_empty(line->name))) != 0 ||
	    json_object_set_new(object, "room_nights", json_integer(line->room_nights)) != 0 ||
	    json_object_set_new(object, "revenue", money_json(line->revenue_cents)) != 0) {
		json_decref(object);
		return NULL;
	}
	return object;
}

/* [{line}, ...]; NULL on failure. */
static json_t *mix_json(size_t n, Innsync__MixLine *const *lines)
{
	json_t *array = json_array();
	for (size_t i = 0; array != NULL && i < n; i++) {
		if (json_array_append_new(array, line_json(lines[i])) != 0) {
			json_decref(array);
			array = NULL;
		}
	}
	return array;
}

/* Sets key to value (taking the reference) unless omit; a NULL value is a
 * failure. 0 or -1. */
static int set_unless(json_t *object, const char *key, json_t *value, int omit)
{
	if (omit) {
		json_decref(value);
		return 0;
	}
	return json_object_set_new(object, key, value);
}

/* Also NULL if a string of the report is not UTF-8 (never so for a report
 * that passed sales_report_check). */
json_t *sales_report_to_json(const Innsync__SalesReport *report)
{
	json_t *root = json_object();
	if (root == NULL)
		return NULL;
	const char *analysis = or_empty(report->analysis);
	if (json_object_set_new(root, "period", json_string(or_empty(report->period))) != 0 ||
	    json_object_set_new(root, "currency", json_string(or_empty(report->currency))) != 0 ||
	    json_object_set_new(root, "rooms_available",
				json_integer(report->rooms_available)) != 0 ||
	    json_object_set_new(root, "rooms_sold", json_integer(report->rooms_sold)) != 0 ||
	    json_object_set_new(root, "room_revenue",
				money_json(report->room_revenue_cents)) != 0 ||
	    set_unless(root, "other_revenue",
		       amounts_json(report->n_other_revenue, report->other_revenue),
		       report->n_other_revenue == 0) != 0 ||
	    set_unless(root, "segments", mix_json(report->n_segments, report->segments),
		       report->n_segments == 0) != 0 ||
	    set_unless(root, "channels", mix_json(report->n_channels, report->channels),
		       report->n_channels == 0) != 0 ||
	    set_unless(root, "costs", amounts_json(report->n_costs, report->costs),
		       report->n_costs == 0) != 0 ||
	    set_unless(root, "analysis", json_string(analysis), analysis[0] == '\0') != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}
