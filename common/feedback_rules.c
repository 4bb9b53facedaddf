/* feedback_rules: owns the rules of issue 4's files and records: training
 * plans and results, guest-survey results, complaint responses, evaluation
 * forms and answers; and the arithmetic done on them. Both sides use it: a
 * site checks a file before it stores anything, HQ checks every record it
 * receives against the same rules (the *_check functions).
 *
 * Files are checked in this order and the first failure is reported:
 *   1. syntax: JSON (UTF-8, no duplicate keys) or CSV (csv.c: RFC 4180,
 *      UTF-8), within FEEDBACK_MAX_FILE_BYTES;
 *   2. shape: the known fields only, each of the right type; a CSV file's
 *      header names the columns of docs/FEEDBACK.md in order and every row
 *      has that many fields;
 *   3. values: the structured rules (*_check), naming the CSV line or the
 *      JSON field.
 *
 * Arithmetic is exact: means are sums of integer scores divided with
 * ratio_round_half_up (money.c) at two decimals; NPS is one such division
 * of integers, rounded half away from zero. */
#include "feedback_rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "csv.h"
#include "money.h"
#include "util.h"

#define QUOTE_SIZE 96   /* a quoted excerpt of a value in a message */
#define PREFIX_SIZE 64  /* "results[1999]." or "line 12345: " */

/*---- Messages ----------------------------------------------------------*/

static int refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes the reason into err and returns -1, for "return refuse(...)". */
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "\"value\"" with at most 40 bytes of value (cut on a UTF-8 boundary)
 * and control characters shown as '?'. */
static const char *quote(const char *text, char *out, size_t outlen)
{
	char buf[64];
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)text;
	while (*p != '\0' && n < 40) {
		size_t len = 1;
		if (*p >= 0xc0)
			len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (n + len > 40)
			break;
		for (size_t i = 0; i < len && *p != '\0'; i++, p++)
			buf[n++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
	}
	buf[n] = '\0';
	snprintf(out, outlen, "\"%s%s\"", buf, *p != '\0' ? "..." : "");
	return out;
}

/*---- Dates -------------------------------------------------------------*/

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* n decimal digits at text -> *out; -1 if any is not a digit. */
static int digits(const char *text, size_t n, unsigned *out)
{
	unsigned value = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (unsigned)(text[i] - '0');
	}
	*out = value;
	return 0;
}

/* "YYYY-MM-DD" at the start of text (not necessarily its end). */
static int parse_ymd(const char *text, unsigned *y, unsigned *m, unsigned *d)
{
	if (strnlen(text, 10) < 10 || text[4] != '-' || text[7] != '-' ||
	    digits(text, 4, y) != 0 || digits(text + 5, 2, m) != 0 || digits(text + 8, 2, d) != 0)
		return -1;
	if (*y < 1970 || *m < 1 || *m > 12 || *d < 1 || *d > month_days(*y, *m))
		return -1;
	return 0;
}

int feedback_parse_date(const char *text, int64_t *days)
{
	unsigned y, m, d;
	if (text == NULL || strlen(text) != 10 || parse_ymd(text, &y, &m, &d) != 0)
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

int feedback_parse_period(const char *text)
{
	unsigned y, m;
	if (text == NULL || strlen(text) != 7 || text[4] != '-' || digits(text, 4, &y) != 0 ||
	    digits(text + 5, 2, &m) != 0 || y < 1970 || m < 1 || m > 12)
		return -1;
	return 0;
}

int feedback_day_end_ms(const char *date, int64_t *ms)
{
	int64_t days = 0;
	if (feedback_parse_date(date, &days) != 0)
		return -1;
	*ms = (days + 1) * 86400 * 1000;
	return 0;
}

void feedback_format_date(int64_t unix_ms, char *out, size_t outlen)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
}

/* "Z", "+08:00", "-0530", "" (UTC) -> offset in seconds east of UTC. */
static int parse_zone(const char *zone, int64_t *offset)
{
	*offset = 0;
	if (*zone == '\0' || strcmp(zone, "Z") == 0 || strcmp(zone, "z") == 0)
		return 0;
	if (*zone != '+' && *zone != '-')
		return -1;
	unsigned hh, mm;
	size_t len = strlen(zone + 1);
	if (len == 5 && zone[3] == ':') {
		if (digits(zone + 1, 2, &hh) != 0 || digits(zone + 4, 2, &mm) != 0)
			return -1;
	} else if (len == 4) {
		if (digits(zone + 1, 2, &hh) != 0 || digits(zone + 3, 2, &mm) != 0)
			return -1;
	} else {
		return -1;
	}
	if (hh > 14 || mm > 59)
		return -1;
	*offset = (int64_t)(hh * 3600 + mm * 60) * (*zone == '-' ? -1 : 1);
	return 0;
}

int feedback_parse_time(const char *text, int64_t *unix_ms, char *err, size_t errlen)
{
	char shown[QUOTE_SIZE];
	unsigned y, mo, d, h, mi, s = 0;
	const char *p = text;
	int64_t offset = 0;
	if (parse_ymd(p, &y, &mo, &d) != 0 || (p[10] != 'T' && p[10] != ' ') ||
	    digits(p + 11, 2, &h) != 0 || p[13] != ':' || digits(p + 14, 2, &mi) != 0)
		goto bad;
	p += 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &s) != 0)
			goto bad;
		p += 3;
	}
	if (h > 23 || mi > 59 || s > 59 || parse_zone(p, &offset) != 0)
		goto bad;
	*unix_ms = ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s - offset) * 1000;
	return 0;
bad:
	return refuse(err, errlen,
		      "%s is not a time (want e.g. 2027-01-10T08:30:00+08:00, or ...Z for UTC)",
		      quote(text, shown, sizeof shown));
}

int feedback_valid_id(const char *id)
{
	size_t len = id ? strlen(id) : 0;
	if (len == 0 || len > FEEDBACK_MAX_ID)
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

void feedback_mean_text(int64_t sum, int64_t count, char *out, size_t outlen)
{
	if (count <= 0) {
		snprintf(out, outlen, "%s", "");
		return;
	}
	int64_t hundredths = ratio_round_half_up(sum * 100, count);
	snprintf(out, outlen, "%lld.%02lld", (long long)(hundredths / 100),
		 (long long)(hundredths % 100));
}

/*---- Text values -------------------------------------------------------*/

static bool blank(const char *text)
{
	for (const char *p = text; *p; p++)
		if (!isspace((unsigned char)*p))
			return false;
	return true;
}

int feedback_text_check(const char *name, const char *text, size_t max, bool required,
			char *err, size_t errlen)
{
	if (text == NULL)
		text = "";
	size_t len = strlen(text);
	if (required && blank(text))
		return refuse(err, errlen, "%s: missing (it must not be empty)", name);
	if (len > max)
		return refuse(err, errlen, "%s: longer than %zu bytes", name, max);
	if (!utf8_valid(text))
		return refuse(err, errlen, "%s: not UTF-8 text", name);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') || *p == 0x7f)
			return refuse(err, errlen, "%s: contains a control character", name);
	return 0;
}

/* feedback_text_check for the field `field` of prefix ("line 3: ",
 * "courses[2]."). */
static int text_field(const char *prefix, const char *field, const char *text, size_t max,
		      bool required, char *err, size_t errlen)
{
	char name[PREFIX_SIZE + 32];
	snprintf(name, sizeof name, "%s%s", prefix, field);
	return feedback_text_check(name, text, max, required, err, errlen);
}

static int id_field(const char *prefix, const char *field, const char *id, char *err,
		    size_t errlen)
{
	char shown[QUOTE_SIZE];
	if (id == NULL || *id == '\0')
		return refuse(err, errlen, "%s%s: missing", prefix, field);
	if (!feedback_valid_id(id))
		return refuse(err, errlen,
			      "%s%s: %s is not an id (use 1-%d letters, digits, '.', '_' or '-')",
			      prefix, field, quote(id, shown, sizeof shown), FEEDBACK_MAX_ID);
	return 0;
}

/* A copy of text without surrounding spaces (CSV cells); NULL if out of memory. */
static char *trimmed_copy(const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	char *copy = malloc(len + 1);
	if (copy != NULL) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	return copy;
}

/*---- JSON fields -------------------------------------------------------*/

static json_t *load_json(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t error;
	if (len > FEEDBACK_MAX_FILE_BYTES) {
		refuse(err, errlen, "the file is larger than %d bytes", FEEDBACK_MAX_FILE_BYTES);
		return NULL;
	}
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL) {
		refuse(err, errlen, "line %d, column %d: not valid JSON: %s", error.line,
		       error.column, error.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		refuse(err, errlen, "the file must hold one JSON object {...}");
		return NULL;
	}
	return root;
}

/* Refuses a key of object that is not in known (NULL-terminated). */
static int known_keys(const json_t *object, const char *const *known, const char *prefix,
		      char *err, size_t errlen)
{
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)object, key, value) {
		bool found = false;
		for (size_t i = 0; known[i] != NULL && !found; i++)
			found = strcmp(key, known[i]) == 0;
		if (!found) {
			char list[256] = "", shown[QUOTE_SIZE];
			size_t used = 0;
			for (size_t i = 0; known[i] != NULL && used < sizeof list; i++)
				used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
							 i ? ", " : "", known[i]);
			return refuse(err, errlen, "%s%s: unknown field (known: %s)", prefix,
				      quote(key, shown, sizeof shown), list);
		}
	}
	(void)value;
	return 0;
}

/* A string member: *out is a malloc'd copy (left alone when absent and
 * optional). */
static int json_text(const json_t *object, const char *key, const char *prefix, size_t max,
		     bool required, char **out, char *err, size_t errlen)
{
	json_t *value = json_object_get(object, key);
	if (value == NULL || json_is_null(value)) {
		if (required)
			return refuse(err, errlen, "%s%s: missing", prefix, key);
		return 0;
	}
	if (!json_is_string(value))
		return refuse(err, errlen, "%s%s: want a string", prefix, key);
	if (strlen(json_string_value(value)) != json_string_length(value))
		return refuse(err, errlen, "%s%s: contains a NUL character", prefix, key);
	if (text_field(prefix, key, json_string_value(value), max, required, err, errlen) != 0)
		return -1;
	char *copy = strdup(json_string_value(value));
	if (copy == NULL)
		return refuse(err, errlen, "out of memory");
	*out = copy;
	return 0;
}

/* An integer member in [min, max] (left alone when absent and optional). */
static int json_uint(const json_t *object, const char *key, const char *prefix, json_int_t min,
		     json_int_t max, bool required, uint32_t *out, char *err, size_t errlen)
{
	json_t *value = json_object_get(object, key);
	if (value == NULL || json_is_null(value)) {
		if (required)
			return refuse(err, errlen, "%s%s: missing", prefix, key);
		return 0;
	}
	if (!json_is_integer(value))
		return refuse(err, errlen, "%s%s: want a whole number from %lld to %lld", prefix, key,
			      (long long)min, (long long)max);
	json_int_t n = json_integer_value(value);
	if (n < min || n > max)
		return refuse(err, errlen, "%s%s: %lld is not from %lld to %lld", prefix, key,
			      (long long)n, (long long)min, (long long)max);
	*out = (uint32_t)n;
	return 0;
}

/* An array member of 1..max elements. */
static int json_list(const json_t *object, const char *key, size_t max, json_t **out,
		     char *err, size_t errlen)
{
	json_t *value = json_object_get(object, key);
	if (value == NULL)
		return refuse(err, errlen, "%s: missing", key);
	if (!json_is_array(value))
		return refuse(err, errlen, "%s: want a list [...]", key);
	if (json_array_size(value) == 0)
		return refuse(err, errlen, "%s: the list is empty", key);
	if (json_array_size(value) > max)
		return refuse(err, errlen, "%s: more than %zu entries", key, max);
	*out = value;
	return 0;
}

/* An optional member key naming what the file is for must be want;
 * refuses "<key>: the file <verb> <found>, not <want>" (found: the member,
 * or other when it is not a string). */
static int json_same_id(const json_t *object, const char *key, const char *want,
			const char *verb, const char *other, char *err, size_t errlen)
{
	json_t *value = json_object_get(object, key);
	if (value == NULL || (json_is_string(value) && strcmp(json_string_value(value), want) == 0))
		return 0;
	char shown[QUOTE_SIZE];
	return refuse(err, errlen, "%s: the file %s %s, not %s", key, verb,
		      json_is_string(value) ? quote(json_string_value(value), shown, sizeof shown)
					    : other,
		      want);
}

/* Allocates a repeated field's array of n pointers (n_items stays 0 and is
 * raised as items are attached, so that free_unpacked frees a partial list). */
static void *new_list(size_t n)
{
	return calloc(n ? n : 1, sizeof(void *));
}

/*---- CSV ---------------------------------------------------------------*/

/* The fields a record uses: empty cells after the n wanted columns (a
 * spreadsheet's untouched columns) are not counted. */
static size_t used_width(const struct csv_record *record, size_t n)
{
	size_t width = record->n_fields;
	while (width > n && blank(record->fields[width - 1]))
		width--;
	return width;
}

/* The header must name exactly these columns, in order (case and
 * surrounding spaces ignored). */
static int csv_header(const struct csv_table *table, const char *const *columns, size_t n,
		      char *err, size_t errlen)
{
	char want[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof want; i++)
		used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", i ? "," : "",
					 columns[i]);
	if (table->n_records == 0)
		return refuse(err, errlen, "line 1: the file is empty (want the header %s)", want);
	const struct csv_record *header = &table->records[0];
	if (used_width(header, n) != n)
		return refuse(err, errlen, "line %zu: the header has %zu columns, want %zu: %s",
			      header->line, used_width(header, n), n, want);
	for (size_t i = 0; i < n; i++) {
		char *name = trimmed_copy(header->fields[i]);
		if (name == NULL)
			return refuse(err, errlen, "out of memory");
		bool same = strcasecmp(name, columns[i]) == 0;
		char shown[QUOTE_SIZE];
		if (!same)
			refuse(err, errlen, "line %zu: column %zu is %s, want \"%s\" (header: %s)",
			       header->line, i + 1, quote(name, shown, sizeof shown), columns[i], want);
		free(name);
		if (!same)
			return -1;
	}
	if (table->n_records == 1)
		return refuse(err, errlen, "line %zu: the file has a header but no rows",
			      header->line + 1);
	return 0;
}

/* Parses a file of at most FEEDBACK_MAX_FILE_BYTES whose header names
 * columns. OUT: *table (caller destroys; NULL on failure). 0 or -1. */
static int csv_load(const char *text, size_t len, const struct csv_limits *limits,
		    const char *const *columns, size_t n, struct csv_table **table, char *err,
		    size_t errlen)
{
	*table = NULL;
	if (len > FEEDBACK_MAX_FILE_BYTES)
		return refuse(err, errlen, "the file is larger than %d bytes",
			      FEEDBACK_MAX_FILE_BYTES);
	if (csv_parse(text, len, limits, table, err, errlen) != 0)
		return -1;
	if (csv_header(*table, columns, n, err, errlen) != 0) {
		csv_table_destroy(table);
		return -1;
	}
	return 0;
}

static int csv_width(const struct csv_record *row, size_t n, const char *hint, char *err,
		     size_t errlen)
{
	if (used_width(row, n) != n)
		return refuse(err, errlen, "line %zu: %zu fields, want %zu%s", row->line,
			      used_width(row, n), n, hint);
	return 0;
}

/* A cell as a whole number in [0, max]; -1 if it is not one. */
static int cell_number(const char *cell, uint64_t max, uint32_t *out)
{
	char *text = trimmed_copy(cell);
	uint64_t value = 0;
	int rc = text != NULL ? parse_u64(text, 0, max, &value) : -1;
	free(text);
	if (rc == 0)
		*out = (uint32_t)value;
	return rc;
}

/*---- Training: plans ---------------------------------------------------*/

static const char *const modes[] = { "onsite", "online", "hq", NULL };

static bool one_of(const char *value, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(value, list[i]) == 0)
			return true;
	return false;
}

static int check_course(const Innsync__TrainingCourse *c, const char *prefix, char *err,
			size_t errlen)
{
	char shown[QUOTE_SIZE];
	int64_t start = 0, end = 0;
	if (id_field(prefix, "code", c->code, err, errlen) != 0 ||
	    text_field(prefix, "title", c->title, FEEDBACK_MAX_NAME, true, err, errlen) != 0 ||
	    id_field(prefix, "role", c->role, err, errlen) != 0 ||
	    text_field(prefix, "level", c->level, FEEDBACK_MAX_ID, false, err, errlen) != 0 ||
	    text_field(prefix, "trainer", c->trainer, FEEDBACK_MAX_NAME, false, err, errlen) != 0)
		return -1;
	if (!one_of(c->mode, modes))
		return refuse(err, errlen, "%smode: %s is not onsite, online or hq", prefix,
			      quote(c->mode, shown, sizeof shown));
	if (feedback_parse_date(c->start, &start) != 0)
		return refuse(err, errlen, "%sstart: %s is not a date (want YYYY-MM-DD)", prefix,
			      quote(c->start, shown, sizeof shown));
	if (feedback_parse_date(c->end, &end) != 0)
		return refuse(err, errlen, "%send: %s is not a date (want YYYY-MM-DD)", prefix,
			      quote(c->end, shown, sizeof shown));
	if (end < start)
		return refuse(err, errlen, "%send: %s is before start %s", prefix, c->end, c->start);
	if (c->hours < 1 || c->hours > TRAINING_MAX_HOURS)
		return refuse(err, errlen, "%shours: %u is not from 1 to %d", prefix, c->hours,
			      TRAINING_MAX_HOURS);
	if (c->pass_mark > 100)
		return refuse(err, errlen, "%spass_mark: %u is not from 0 to 100", prefix,
			      c->pass_mark);
	return 0;
}

int training_plan_check(const Innsync__TrainingPlan *plan, char *err, size_t errlen)
{
	if (id_field("", "id", plan->id, err, errlen) != 0 ||
	    text_field("", "title", plan->title, FEEDBACK_MAX_NAME, true, err, errlen) != 0 ||
	    text_field("", "note", plan->note, FEEDBACK_MAX_TEXT, false, err, errlen) != 0)
		return -1;
	if (plan->n_courses == 0)
		return refuse(err, errlen, "courses: a plan needs at least one course");
	if (plan->n_courses > TRAINING_MAX_COURSES)
		return refuse(err, errlen, "courses: more than %d courses", TRAINING_MAX_COURSES);
	for (size_t i = 0; i < plan->n_courses; i++) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "courses[%zu].", i);
		if (check_course(plan->courses[i], prefix, err, errlen) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(plan->courses[j]->code, plan->courses[i]->code) == 0)
				return refuse(err, errlen, "%scode: %s is also the code of courses[%zu]",
					      prefix, plan->courses[i]->code, j);
	}
	return 0;
}

const Innsync__TrainingCourse *training_plan_course(const Innsync__TrainingPlan *plan,
						    const char *code)
{
	for (size_t i = 0; i < plan->n_courses; i++)
		if (strcmp(plan->courses[i]->code, code) == 0)
			return plan->courses[i];
	return NULL;
}

static const char *const plan_keys[] = { "id", "title", "audience", "courses", "note", NULL };
static const char *const course_keys[] = { "code",  "title",   "role",      "level",
					   "mode",  "start",   "end",       "hours",
					   "trainer", "pass_mark", "cancelled", NULL };

static int course_from_json(const json_t *value, const char *prefix,
			    Innsync__TrainingCourse *c, char *err, size_t errlen)
{
	if (!json_is_object(value))
		return refuse(err, errlen, "%.*s: want an object {...}", (int)strlen(prefix) - 1,
			      prefix);
	if (known_keys(value, course_keys, prefix, err, errlen) != 0 ||
	    json_text(value, "code", prefix, FEEDBACK_MAX_ID, true, &c->code, err, errlen) != 0 ||
	    json_text(value, "title", prefix, FEEDBACK_MAX_NAME, true, &c->title, err, errlen) != 0 ||
	    json_text(value, "role", prefix, FEEDBACK_MAX_ID, true, &c->role, err, errlen) != 0 ||
	    json_text(value, "level", prefix, FEEDBACK_MAX_ID, false, &c->level, err, errlen) != 0 ||
	    json_text(value, "mode", prefix, 16, true, &c->mode, err, errlen) != 0 ||
	    json_text(value, "start", prefix, 16, true, &c->start, err, errlen) != 0 ||
	    json_text(value, "end", prefix, 16, true, &c->end, err, errlen) != 0 ||
	    json_uint(value, "hours", prefix, 1, TRAINING_MAX_HOURS, true, &c->hours, err,
		      errlen) != 0 ||
	    json_text(value, "trainer", prefix, FEEDBACK_MAX_NAME, false, &c->trainer, err,
		      errlen) != 0 ||
	    json_uint(value, "pass_mark", prefix, 0, 100, true, &c->pass_mark, err, errlen) != 0)
		return -1;
	json_t *cancelled = json_object_get(value, "cancelled");
	if (cancelled != NULL && !json_is_boolean(cancelled))
		return refuse(err, errlen, "%scancelled: want true or false", prefix);
	c->cancelled = json_is_true(cancelled);
	return 0;
}

static int plan_courses_from_json(const json_t *root, Innsync__TrainingPlan *plan, char *err,
				  size_t errlen)
{
	json_t *list = NULL;
	if (json_list(root, "courses", TRAINING_MAX_COURSES, &list, err, errlen) != 0)
		return -1;
	plan->courses = new_list(json_array_size(list));
	if (plan->courses == NULL)
		return refuse(err, errlen, "out of memory");
	size_t index;
	json_t *value;
	json_array_foreach(list, index, value) {
		Innsync__TrainingCourse *c = malloc(sizeof *c);
		if (c == NULL)
			return refuse(err, errlen, "out of memory");
		innsync__training_course__init(c);
		plan->courses[plan->n_courses++] = c;
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "courses[%zu].", index);
		if (course_from_json(value, prefix, c, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int training_plan_from_json(const char *text, size_t len, Innsync__TrainingPlan **plan_out,
			    char **audience_json, char *err, size_t errlen)
{
	*plan_out = NULL;
	*audience_json = NULL;
	json_t *root = load_json(text, len, err, errlen);
	if (root == NULL)
		return -1;
	Innsync__TrainingPlan *plan = malloc(sizeof *plan);
	int rc = -1;
	if (plan == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	innsync__training_plan__init(plan);
	json_t *audience = json_object_get(root, "audience");
	if (known_keys(root, plan_keys, "", err, errlen) != 0 ||
	    json_text(root, "id", "", FEEDBACK_MAX_ID, true, &plan->id, err, errlen) != 0 ||
	    json_text(root, "title", "", FEEDBACK_MAX_NAME, true, &plan->title, err, errlen) != 0 ||
	    json_text(root, "note", "", FEEDBACK_MAX_TEXT, false, &plan->note, err, errlen) != 0)
		goto done;
	if (!json_is_object(audience)) {
		refuse(err, errlen,
		       "audience: missing or not an object (want e.g. {\"all\": true} or "
		       "{\"kinds\": [\"franchise\"]})");
		goto done;
	}
	if (plan_courses_from_json(root, plan, err, errlen) != 0 ||
	    training_plan_check(plan, err, errlen) != 0)
		goto done;
	*audience_json = json_dumps(audience, JSON_COMPACT | JSON_SORT_KEYS);
	if (*audience_json == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	json_decref(root);
	if (rc == 0)
		*plan_out = plan;
	else if (plan != NULL)
		innsync__training_plan__free_unpacked(plan, NULL);
	return rc;
}

static char *dup_text(const char *text)
{
	return strdup(text ? text : "");
}

static Innsync__TrainingCourse *course_copy(const Innsync__TrainingCourse *from)
{
	Innsync__TrainingCourse *c = malloc(sizeof *c);
	if (c == NULL)
		return NULL;
	*c = *from;
	c->code = dup_text(from->code);
	c->title = dup_text(from->title);
	c->role = dup_text(from->role);
	c->level = dup_text(from->level);
	c->mode = dup_text(from->mode);
	c->start = dup_text(from->start);
	c->end = dup_text(from->end);
	c->trainer = dup_text(from->trainer);
	if (!c->code || !c->title || !c->role || !c->level || !c->mode || !c->start || !c->end ||
	    !c->trainer) {
		innsync__training_course__free_unpacked(c, NULL);
		return NULL;
	}
	return c;
}

int training_plan_keep_dropped(Innsync__TrainingPlan *next, const Innsync__TrainingPlan *previous)
{
	for (size_t i = 0; i < previous->n_courses; i++) {
		const Innsync__TrainingCourse *old = previous->courses[i];
		if (training_plan_course(next, old->code) != NULL)
			continue;
		Innsync__TrainingCourse **grown =
			realloc(next->courses, (next->n_courses + 1) * sizeof *grown);
		if (grown == NULL)
			return -1;
		next->courses = grown;
		Innsync__TrainingCourse *copy = course_copy(old);
		if (copy == NULL)
			return -1;
		copy->cancelled = true;
		next->courses[next->n_courses++] = copy;
	}
	return 0;
}

static void add_change(json_t *changes, const char *course, const char *change, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static void add_change(json_t *changes, const char *course, const char *change, const char *fmt,
		       ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(changes, json_pack("{s:s, s:s, s:s}", "course", course, "change",
						 change, "text", text));
}

static void course_changes(json_t *changes, const Innsync__TrainingCourse *old,
			   const Innsync__TrainingCourse *now)
{
	if (now->cancelled && !old->cancelled) {
		add_change(changes, now->code, "cancelled", "%s (%s) is cancelled", now->code,
			   now->title);
		return;
	}
	if (!now->cancelled && old->cancelled)
		add_change(changes, now->code, "details", "%s (%s) is back on the plan", now->code,
			   now->title);
	if (strcmp(old->start, now->start) != 0 || strcmp(old->end, now->end) != 0)
		add_change(changes, now->code, "dates", "%s moved from %s..%s to %s..%s", now->code,
			   old->start, old->end, now->start, now->end);
	if (strcmp(old->mode, now->mode) != 0 || strcmp(old->trainer, now->trainer) != 0 ||
	    old->hours != now->hours || old->pass_mark != now->pass_mark ||
	    strcmp(old->title, now->title) != 0 || strcmp(old->role, now->role) != 0 ||
	    strcmp(old->level, now->level) != 0)
		add_change(changes, now->code, "details",
			   "%s now: %s, %s, %u h, trainer %s, pass mark %u", now->code, now->title,
			   now->mode, now->hours, *now->trainer ? now->trainer : "-", now->pass_mark);
}

json_t *training_plan_changes(const Innsync__TrainingPlan *previous,
			      const Innsync__TrainingPlan *next)
{
	json_t *changes = json_array();
	for (size_t i = 0; changes != NULL && i < next->n_courses; i++) {
		const Innsync__TrainingCourse *now = next->courses[i];
		const Innsync__TrainingCourse *old = training_plan_course(previous, now->code);
		if (old == NULL)
			add_change(changes, now->code, now->cancelled ? "cancelled" : "added",
				   "%s (%s) %s", now->code, now->title,
				   now->cancelled ? "is cancelled" : "is new on the plan");
		else
			course_changes(changes, old, now);
	}
	return changes;
}

json_t *training_plan_to_json(const Innsync__TrainingPlan *plan)
{
	json_t *courses = json_array();
	for (size_t i = 0; courses != NULL && i < plan->n_courses; i++) {
		const Innsync__TrainingCourse *c = plan->courses[i];
		json_array_append_new(
			courses,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:b}", "code",
				  c->code, "title", c->title, "role", c->role, "level", c->level,
				  "mode", c->mode, "start", c->start, "end", c->end, "hours",
				  (int)c->hours, "trainer", c->trainer, "pass_mark", (int)c->pass_mark,
				  "cancelled", c->cancelled));
	}
	return json_pack("{s:s, s:s, s:i, s:s, s:o}", "id", plan->id, "title", plan->title,
			 "revision", (int)plan->revision, "note", plan->note, "courses", courses);
}

/*---- Training: results -------------------------------------------------*/

static void course_list(const Innsync__TrainingPlan *plan, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < plan->n_courses && used + 1 < outlen; i++) {
		if (plan->courses[i]->cancelled)
			continue;
		if (i >= 12) {
			snprintf(out + used, outlen - used, ", ...");
			break;
		}
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? ", " : "",
					 plan->courses[i]->code);
	}
}

static int check_result(const Innsync__TrainingResult *r, const Innsync__TrainingPlan *plan,
			const char *prefix, char *err, size_t errlen)
{
	char shown[QUOTE_SIZE], courses[256];
	if (text_field(prefix, "employee_id", r->employee_id, FEEDBACK_MAX_ID, true, err,
		       errlen) != 0 ||
	    text_field(prefix, "name", r->name, FEEDBACK_MAX_NAME, true, err, errlen) != 0 ||
	    text_field(prefix, "role", r->role, FEEDBACK_MAX_ID, true, err, errlen) != 0)
		return -1;
	const Innsync__TrainingCourse *course = training_plan_course(plan, r->course);
	if (course == NULL) {
		course_list(plan, courses, sizeof courses);
		return refuse(err, errlen, "%scourse: %s is not a course of plan %s (courses: %s)",
			      prefix, quote(r->course, shown, sizeof shown), plan->id, courses);
	}
	if (course->cancelled)
		return refuse(err, errlen,
			      "%scourse: %s was cancelled in revision %u of plan %s; remove its rows",
			      prefix, course->code, plan->revision, plan->id);
	if (r->attended && !r->scored)
		return refuse(err, errlen,
			      "%sscore: missing (the employee attended: give a score from 0 to 100)",
			      prefix);
	if (!r->attended && r->scored)
		return refuse(err, errlen, "%sscore: must be empty when attended is no", prefix);
	if (r->score > 100)
		return refuse(err, errlen, "%sscore: %u is not from 0 to 100", prefix, r->score);
	return 0;
}

/* Index of an earlier result for the same employee and course, or -1. */
static long duplicate_of(const Innsync__TrainingResults *results, size_t i)
{
	const Innsync__TrainingResult *r = results->results[i];
	for (size_t j = 0; j < i; j++)
		if (strcmp(results->results[j]->employee_id, r->employee_id) == 0 &&
		    strcmp(results->results[j]->course, r->course) == 0)
			return (long)j;
	return -1;
}

int training_results_check(const Innsync__TrainingResults *results,
			   const Innsync__TrainingPlan *plan, char *err, size_t errlen)
{
	if (strcmp(results->plan, plan->id) != 0)
		return refuse(err, errlen, "plan: the results are for %s, not %s", results->plan,
			      plan->id);
	if (results->n_results == 0)
		return refuse(err, errlen, "results: none (report at least one employee)");
	if (results->n_results > TRAINING_MAX_RESULTS)
		return refuse(err, errlen, "results: more than %d", TRAINING_MAX_RESULTS);
	for (size_t i = 0; i < results->n_results; i++) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "results[%zu].", i);
		if (check_result(results->results[i], plan, prefix, err, errlen) != 0)
			return -1;
		long dup = duplicate_of(results, i);
		if (dup >= 0)
			return refuse(err, errlen,
				      "%scourse: employee %s already has a result for %s in "
				      "results[%ld]",
				      prefix, results->results[i]->employee_id,
				      results->results[i]->course, dup);
	}
	return 0;
}

enum training_outcome training_result_outcome(const Innsync__TrainingResult *result,
					      uint32_t pass_mark)
{
	if (!result->attended || !result->scored)
		return TRAINING_ABSENT;
	return result->score >= pass_mark ? TRAINING_PASSED : TRAINING_FAILED;
}

static Innsync__TrainingResults *new_results(const Innsync__TrainingPlan *plan, size_t n)
{
	Innsync__TrainingResults *results = malloc(sizeof *results);
	if (results == NULL)
		return NULL;
	innsync__training_results__init(results);
	results->plan = strdup(plan->id);
	results->plan_revision = plan->revision;
	results->results = new_list(n);
	if (results->plan == NULL || results->results == NULL) {
		innsync__training_results__free_unpacked(results, NULL);
		return NULL;
	}
	return results;
}

static Innsync__TrainingResult *attach_result(Innsync__TrainingResults *results)
{
	Innsync__TrainingResult *r = malloc(sizeof *r);
	if (r != NULL) {
		innsync__training_result__init(r);
		results->results[results->n_results++] = r;
	}
	return r;
}

/* yes/no cell -> 1/0; -1 otherwise. */
static int yes_no(const char *cell)
{
	char *text = trimmed_copy(cell);
	int value = -1;
	if (text != NULL) {
		if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "y") == 0 ||
		    strcasecmp(text, "true") == 0)
			value = 1;
		else if (strcasecmp(text, "no") == 0 || strcasecmp(text, "n") == 0 ||
			 strcasecmp(text, "false") == 0)
			value = 0;
	}
	free(text);
	return value;
}

static const char *const result_columns[] = { "employee_id", "name",     "role",
					      "course",      "attended", "score" };
#define RESULT_COLUMNS 6

static int result_from_row(const struct csv_record *row, Innsync__TrainingResult *r,
			   char *err, size_t errlen)
{
	char shown[QUOTE_SIZE];
	if (csv_width(row, RESULT_COLUMNS, " (employee_id,name,role,course,attended,score)", err,
		      errlen) != 0)
		return -1;
	r->employee_id = trimmed_copy(row->fields[0]);
	r->name = trimmed_copy(row->fields[1]);
	r->role = trimmed_copy(row->fields[2]);
	r->course = trimmed_copy(row->fields[3]);
	if (!r->employee_id || !r->name || !r->role || !r->course)
		return refuse(err, errlen, "out of memory");
	int attended = yes_no(row->fields[4]);
	if (attended < 0)
		return refuse(err, errlen, "line %zu: attended: %s is not yes or no", row->line,
			      quote(row->fields[4], shown, sizeof shown));
	r->attended = attended == 1;
	if (!blank(row->fields[5])) {
		if (cell_number(row->fields[5], 1000000, &r->score) != 0)
			return refuse(err, errlen,
				      "line %zu: score: %s is not a whole number from 0 to 100",
				      row->line, quote(row->fields[5], shown, sizeof shown));
		r->scored = true;
	}
	return 0;
}

int training_results_from_csv(const char *text, size_t len, const Innsync__TrainingPlan *plan,
			      Innsync__TrainingResults **out, char *err, size_t errlen)
{
	*out = NULL;
	struct csv_table *table = NULL;
	struct csv_limits limits = { TRAINING_MAX_RESULTS + 1, 32, 1024 };
	if (csv_load(text, len, &limits, result_columns, RESULT_COLUMNS, &table, err, errlen) != 0)
		return -1;
	Innsync__TrainingResults *results = NULL;
	size_t *lines = NULL;
	int rc = -1;
	results = new_results(plan, table->n_records - 1);
	lines = calloc(table->n_records, sizeof *lines);
	if (results == NULL || lines == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 1; i < table->n_records; i++) {
		const struct csv_record *row = &table->records[i];
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "line %zu: ", row->line);
		Innsync__TrainingResult *r = attach_result(results);
		if (r == NULL) {
			refuse(err, errlen, "out of memory");
			goto done;
		}
		lines[results->n_results - 1] = row->line;
		if (result_from_row(row, r, err, errlen) != 0 ||
		    check_result(r, plan, prefix, err, errlen) != 0)
			goto done;
		long dup = duplicate_of(results, results->n_results - 1);
		if (dup >= 0) {
			refuse(err, errlen, "line %zu: employee %s already has a result for %s on line %zu",
			       row->line, r->employee_id, r->course, lines[dup]);
			goto done;
		}
	}
	rc = training_results_check(results, plan, err, errlen);
done:
	free(lines);
	csv_table_destroy(&table);
	if (rc == 0)
		*out = results;
	else if (results != NULL)
		innsync__training_results__free_unpacked(results, NULL);
	return rc;
}

static const char *const results_keys[] = { "plan", "results", NULL };
static const char *const result_keys[] = { "employee_id", "name",  "role", "course",
					   "attended",    "score", NULL };

static int result_from_json(const json_t *value, const char *prefix, Innsync__TrainingResult *r,
			    char *err, size_t errlen)
{
	if (!json_is_object(value))
		return refuse(err, errlen, "%.*s: want an object {...}", (int)strlen(prefix) - 1,
			      prefix);
	if (known_keys(value, result_keys, prefix, err, errlen) != 0 ||
	    json_text(value, "employee_id", prefix, FEEDBACK_MAX_ID, true, &r->employee_id, err,
		      errlen) != 0 ||
	    json_text(value, "name", prefix, FEEDBACK_MAX_NAME, true, &r->name, err, errlen) != 0 ||
	    json_text(value, "role", prefix, FEEDBACK_MAX_ID, true, &r->role, err, errlen) != 0 ||
	    json_text(value, "course", prefix, FEEDBACK_MAX_ID, true, &r->course, err, errlen) != 0)
		return -1;
	json_t *attended = json_object_get(value, "attended");
	if (json_is_boolean(attended))
		r->attended = json_is_true(attended);
	else if (json_is_string(attended) && yes_no(json_string_value(attended)) >= 0)
		r->attended = yes_no(json_string_value(attended)) == 1;
	else
		return refuse(err, errlen, "%sattended: want true or false (or \"yes\"/\"no\")",
			      prefix);
	json_t *score = json_object_get(value, "score");
	if (score != NULL && !json_is_null(score)) {
		if (!json_is_integer(score) || json_integer_value(score) < 0 ||
		    json_integer_value(score) > 1000000)
			return refuse(err, errlen, "%sscore: want a whole number from 0 to 100 or null",
				      prefix);
		r->score = (uint32_t)json_integer_value(score);
		r->scored = true;
	}
	return 0;
}

int training_results_from_json(const char *text, size_t len, const Innsync__TrainingPlan *plan,
			       Innsync__TrainingResults **out, char *err, size_t errlen)
{
	*out = NULL;
	json_t *root = load_json(text, len, err, errlen);
	if (root == NULL)
		return -1;
	Innsync__TrainingResults *results = NULL;
	json_t *list = NULL;
	int rc = -1;
	if (known_keys(root, results_keys, "", err, errlen) != 0 ||
	    json_list(root, "results", TRAINING_MAX_RESULTS, &list, err, errlen) != 0 ||
	    json_same_id(root, "plan", plan->id, "is for", "another plan", err, errlen) != 0)
		goto done;
	results = new_results(plan, json_array_size(list));
	if (results == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	size_t index;
	json_t *value;
	json_array_foreach(list, index, value) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "results[%zu].", index);
		Innsync__TrainingResult *r = attach_result(results);
		if (r == NULL) {
			refuse(err, errlen, "out of memory");
			goto done;
		}
		if (result_from_json(value, prefix, r, err, errlen) != 0)
			goto done;
	}
	rc = training_results_check(results, plan, err, errlen);
done:
	json_decref(root);
	if (rc == 0)
		*out = results;
	else if (results != NULL)
		innsync__training_results__free_unpacked(results, NULL);
	return rc;
}

/*---- Guest satisfaction ------------------------------------------------*/

const char *const survey_dimensions[SURVEY_DIMENSIONS] = {
	"cleanliness", "service", "value", "location", "facilities", "overall",
};
const char *const survey_channels[SURVEY_CHANNELS] = {
	"questionnaire", "phone", "onsite", "online_review",
};

static const char *const survey_columns[] = {
	"date",     "channel",    "cleanliness", "service",   "value",
	"location", "facilities", "overall",     "recommend", "comment",
};
#define SURVEY_COLUMNS 10

static uint32_t *response_score(Innsync__SurveyResponse *r, size_t dimension)
{
	uint32_t *scores[SURVEY_DIMENSIONS] = {
		&r->cleanliness, &r->service, &r->value, &r->location, &r->facilities, &r->overall,
	};
	return scores[dimension];
}

static uint32_t response_score_of(const Innsync__SurveyResponse *r, size_t dimension)
{
	return *response_score((Innsync__SurveyResponse *)r, dimension);
}

static int channel_index(const char *channel)
{
	for (int i = 0; i < SURVEY_CHANNELS; i++)
		if (strcmp(channel, survey_channels[i]) == 0)
			return i;
	return -1;
}

/* "On-site", "online review", "Online_Review" -> the canonical name; NULL
 * if not a channel. */
static const char *channel_canonical(const char *text)
{
	char norm[32];
	size_t n = 0;
	char *trimmed = trimmed_copy(text);
	if (trimmed == NULL)
		return NULL;
	for (const char *p = trimmed; *p && n + 1 < sizeof norm; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (c == '-' || c == ' ' || c == '_')
			c = '_';
		norm[n++] = c;
	}
	norm[n] = '\0';
	bool whole = strlen(trimmed) < sizeof norm;
	free(trimmed);
	if (!whole)
		return NULL;
	if (strcmp(norm, "on_site") == 0)
		return "onsite";
	int i = channel_index(norm);
	return i >= 0 ? survey_channels[i] : NULL;
}

/* The month of date must be period. */
static bool in_period(const char *date, const char *period)
{
	return strncmp(date, period, 7) == 0;
}

static int check_response(const Innsync__SurveyResponse *r, const char *period,
			  const char *prefix, char *err, size_t errlen)
{
	char shown[QUOTE_SIZE];
	int64_t day = 0;
	if (feedback_parse_date(r->date, &day) != 0)
		return refuse(err, errlen, "%sdate: %s is not a date (want YYYY-MM-DD)", prefix,
			      quote(r->date, shown, sizeof shown));
	if (!in_period(r->date, period))
		return refuse(err, errlen, "%sdate: %s is not in %s (one report holds one month)",
			      prefix, r->date, period);
	if (channel_index(r->channel) < 0)
		return refuse(err, errlen,
			      "%schannel: %s is not questionnaire, phone, onsite or online_review",
			      prefix, quote(r->channel, shown, sizeof shown));
	for (size_t d = 0; d < SURVEY_DIMENSIONS; d++) {
		uint32_t score = response_score_of(r, d);
		if (score < 1 || score > 5)
			return refuse(err, errlen, "%s%s: %u is not from 1 to 5", prefix,
				      survey_dimensions[d], score);
	}
	if (r->recommend > 10)
		return refuse(err, errlen, "%srecommend: %u is not from 0 to 10", prefix,
			      r->recommend);
	return text_field(prefix, "comment", r->comment, FEEDBACK_MAX_COMMENT, false, err, errlen);
}

/* The distribution of dimension name in the aggregate, or NULL. */
static const Innsync__ScoreDistribution *aggregate_distribution(
	const Innsync__SatisfactionAggregate *a, const char *name)
{
	for (size_t i = 0; i < a->n_distributions; i++)
		if (strcmp(a->distributions[i]->dimension, name) == 0)
			return a->distributions[i];
	return NULL;
}

static int check_distribution(const Innsync__SatisfactionAggregate *a, const char *name,
			      size_t width, const char *prefix, char *err, size_t errlen)
{
	const Innsync__ScoreDistribution *d = aggregate_distribution(a, name);
	if (d == NULL)
		return refuse(err, errlen, "aggregate.%s%s: missing", prefix, name);
	if (d->n_counts != width)
		return refuse(err, errlen, "aggregate.%s%s: want %zu counts", prefix, name, width);
	uint64_t total = 0;
	for (size_t k = 0; k < width; k++)
		total += d->counts[k];
	if (total != a->responses)
		return refuse(err, errlen,
			      "aggregate.%s%s: the counts add up to %llu, not responses (%u)", prefix,
			      name, (unsigned long long)total, a->responses);
	return 0;
}

static int check_aggregate(const Innsync__SatisfactionAggregate *a, char *err, size_t errlen)
{
	if (a->responses < 1 || a->responses > SURVEY_MAX_AGGREGATE)
		return refuse(err, errlen, "aggregate.responses: %u is not from 1 to %d",
			      a->responses, SURVEY_MAX_AGGREGATE);
	if (a->n_distributions != SURVEY_DIMENSIONS + 1)
		return refuse(err, errlen,
			      "aggregate.scores: want the six dimensions and recommend, each once");
	for (size_t d = 0; d < SURVEY_DIMENSIONS; d++)
		if (check_distribution(a, survey_dimensions[d], 5, "scores.", err, errlen) != 0)
			return -1;
	if (check_distribution(a, "recommend", 11, "", err, errlen) != 0)
		return -1;
	if (a->n_channels == 0)
		return 0;
	uint64_t total = 0;
	for (size_t i = 0; i < a->n_channels; i++) {
		char shown[QUOTE_SIZE];
		if (channel_index(a->channels[i]->channel) < 0)
			return refuse(err, errlen,
				      "aggregate.channels: %s is not questionnaire, phone, onsite or "
				      "online_review",
				      quote(a->channels[i]->channel, shown, sizeof shown));
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->channels[j]->channel, a->channels[i]->channel) == 0)
				return refuse(err, errlen, "aggregate.channels: %s given twice",
					      a->channels[i]->channel);
		total += a->channels[i]->responses;
	}
	if (total != a->responses)
		return refuse(err, errlen,
			      "aggregate.channels: the counts add up to %llu, not responses (%u)",
			      (unsigned long long)total, a->responses);
	return 0;
}

int satisfaction_check(const Innsync__SatisfactionReport *report, char *err, size_t errlen)
{
	char shown[QUOTE_SIZE];
	if (feedback_parse_period(report->period) != 0)
		return refuse(err, errlen, "period: %s is not a month (want YYYY-MM)",
			      quote(report->period, shown, sizeof shown));
	if (report->aggregate != NULL && report->n_responses > 0)
		return refuse(err, errlen, "responses: a report holds responses or an aggregate, "
					   "not both");
	if (report->aggregate != NULL)
		return check_aggregate(report->aggregate, err, errlen);
	if (report->n_responses == 0)
		return refuse(err, errlen, "responses: none (a month needs at least one response)");
	if (report->n_responses > SURVEY_MAX_RESPONSES)
		return refuse(err, errlen,
			      "responses: more than %d in one month (send a monthly aggregate)",
			      SURVEY_MAX_RESPONSES);
	for (size_t i = 0; i < report->n_responses; i++) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "responses[%zu].", i);
		if (check_response(report->responses[i], report->period, prefix, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static Innsync__SatisfactionReport *new_report(size_t n)
{
	Innsync__SatisfactionReport *report = malloc(sizeof *report);
	if (report == NULL)
		return NULL;
	innsync__satisfaction_report__init(report);
	if (n > 0) {
		report->responses = new_list(n);
		if (report->responses == NULL) {
			innsync__satisfaction_report__free_unpacked(report, NULL);
			return NULL;
		}
	}
	return report;
}

static Innsync__SurveyResponse *attach_response(Innsync__SatisfactionReport *report)
{
	Innsync__SurveyResponse *r = malloc(sizeof *r);
	if (r != NULL) {
		innsync__survey_response__init(r);
		report->responses[report->n_responses++] = r;
	}
	return r;
}

/* Sets report->period from period, or from the month of date. */
static int set_period(Innsync__SatisfactionReport *report, const char *period, const char *date,
		      char *err, size_t errlen)
{
	char month[8];
	if (period == NULL) {
		snprintf(month, sizeof month, "%.7s", date);
		period = month;
	}
	report->period = strdup(period);
	if (report->period == NULL)
		return refuse(err, errlen, "out of memory");
	return 0;
}

/* Sets report->period from period, or from the month of the first
 * response r, whose date must be a date. */
static int period_from_first(Innsync__SatisfactionReport *report, const char *period,
			     const Innsync__SurveyResponse *r, const char *prefix, char *err,
			     size_t errlen)
{
	int64_t day;
	char shown[QUOTE_SIZE];
	if (feedback_parse_date(r->date, &day) != 0)
		return refuse(err, errlen, "%sdate: %s is not a date (want YYYY-MM-DD)", prefix,
			      quote(r->date, shown, sizeof shown));
	return set_period(report, period, r->date, err, errlen);
}

static int response_from_row(const struct csv_record *row, Innsync__SurveyResponse *r,
			     char *err, size_t errlen)
{
	char shown[QUOTE_SIZE];
	if (csv_width(row, SURVEY_COLUMNS,
		      " (date,channel,cleanliness,service,value,location,facilities,overall,"
		      "recommend,comment; a comma inside a comment needs the comment quoted)",
		      err, errlen) != 0)
		return -1;
	r->date = trimmed_copy(row->fields[0]);
	r->comment = trimmed_copy(row->fields[9]);
	if (r->date == NULL || r->comment == NULL)
		return refuse(err, errlen, "out of memory");
	const char *channel = channel_canonical(row->fields[1]);
	if (channel == NULL)
		return refuse(err, errlen,
			      "line %zu: channel: %s is not questionnaire, phone, on-site or "
			      "online review",
			      row->line, quote(row->fields[1], shown, sizeof shown));
	r->channel = strdup(channel);
	if (r->channel == NULL)
		return refuse(err, errlen, "out of memory");
	for (size_t d = 0; d < SURVEY_DIMENSIONS; d++)
		if (cell_number(row->fields[2 + d], 5, response_score(r, d)) != 0 ||
		    *response_score(r, d) < 1)
			return refuse(err, errlen, "line %zu: %s: %s is not a whole number from 1 to 5",
				      row->line, survey_dimensions[d],
				      quote(row->fields[2 + d], shown, sizeof shown));
	if (cell_number(row->fields[8], 10, &r->recommend) != 0)
		return refuse(err, errlen, "line %zu: recommend: %s is not a whole number from 0 to 10",
			      row->line, quote(row->fields[8], shown, sizeof shown));
	return 0;
}

int satisfaction_from_csv(const char *text, size_t len, const char *period,
			  Innsync__SatisfactionReport **out, char *err, size_t errlen)
{
	*out = NULL;
	struct csv_table *table = NULL;
	struct csv_limits limits = { SURVEY_MAX_RESPONSES + 1, 32, FEEDBACK_MAX_COMMENT * 2 };
	if (csv_load(text, len, &limits, survey_columns, SURVEY_COLUMNS, &table, err, errlen) != 0)
		return -1;
	Innsync__SatisfactionReport *report = NULL;
	int rc = -1;
	report = new_report(table->n_records - 1);
	if (report == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 1; i < table->n_records; i++) {
		const struct csv_record *row = &table->records[i];
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "line %zu: ", row->line);
		Innsync__SurveyResponse *r = attach_response(report);
		if (r == NULL) {
			refuse(err, errlen, "out of memory");
			goto done;
		}
		if (response_from_row(row, r, err, errlen) != 0)
			goto done;
		if (i == 1 && period_from_first(report, period, r, prefix, err, errlen) != 0)
			goto done;
		if (check_response(r, report->period, prefix, err, errlen) != 0)
			goto done;
	}
	rc = satisfaction_check(report, err, errlen);
done:
	csv_table_destroy(&table);
	if (rc == 0)
		*out = report;
	else if (report != NULL)
		innsync__satisfaction_report__free_unpacked(report, NULL);
	return rc;
}

static const char *const survey_keys[] = { "period", "responses", "aggregate", NULL };
static const char *const response_keys[] = { "date",       "channel", "cleanliness", "service",
					     "value",      "location", "facilities", "overall",
					     "recommend",  "comment",  NULL };

static int response_from_json(const json_t *value, const char *prefix,
			      Innsync__SurveyResponse *r, char *err, size_t errlen)
{
	char *channel = NULL;
	if (!json_is_object(value))
		return refuse(err, errlen, "%.*s: want an object {...}", (int)strlen(prefix) - 1,
			      prefix);
	if (known_keys(value, response_keys, prefix, err, errlen) != 0 ||
	    json_text(value, "date", prefix, 16, true, &r->date, err, errlen) != 0 ||
	    json_text(value, "channel", prefix, 32, true, &channel, err, errlen) != 0 ||
	    json_text(value, "comment", prefix, FEEDBACK_MAX_COMMENT, false, &r->comment, err,
		      errlen) != 0)
		return -1;
	const char *canonical = channel_canonical(channel);
	char shown[QUOTE_SIZE];
	if (canonical == NULL)
		refuse(err, errlen, "%schannel: %s is not questionnaire, phone, onsite or online_review",
		       prefix, quote(channel, shown, sizeof shown));
	free(channel);
	if (canonical == NULL)
		return -1;
	r->channel = strdup(canonical);
	if (r->channel == NULL)
		return refuse(err, errlen, "out of memory");
	for (size_t d = 0; d < SURVEY_DIMENSIONS; d++)
		if (json_uint(value, survey_dimensions[d], prefix, 1, 5, true, response_score(r, d),
			      err, errlen) != 0)
			return -1;
	return json_uint(value, "recommend", prefix, 0, 10, true, &r->recommend, err, errlen);
}

static int responses_from_json(const json_t *list, const char *period,
			       Innsync__SatisfactionReport *report, char *err, size_t errlen)
{
	size_t index;
	json_t *value;
	json_array_foreach(list, index, value) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "responses[%zu].", index);
		Innsync__SurveyResponse *r = attach_response(report);
		if (r == NULL)
			return refuse(err, errlen, "out of memory");
		if (response_from_json(value, prefix, r, err, errlen) != 0)
			return -1;
		if (index == 0 && report->period == protobuf_c_empty_string &&
		    period_from_first(report, period, r, prefix, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* {"1": n, ..., "5": n} (or "0".."10") -> a ScoreDistribution. */
static int distribution_from_json(const json_t *object, const char *name, size_t first,
				  size_t width, const char *prefix,
				  Innsync__ScoreDistribution **out, char *err, size_t errlen)
{
	if (!json_is_object(object))
		return refuse(err, errlen, "aggregate.%s%s: %s", prefix, name,
			      object ? "want an object {\"1\": count, ...}" : "missing");
	Innsync__ScoreDistribution *d = malloc(sizeof *d);
	if (d == NULL)
		return refuse(err, errlen, "out of memory");
	innsync__score_distribution__init(d);
	*out = d;
	d->dimension = strdup(name);
	d->counts = calloc(width, sizeof *d->counts);
	if (d->dimension == NULL || d->counts == NULL)
		return refuse(err, errlen, "out of memory");
	d->n_counts = width;
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)object, key, value) {
		uint64_t score = 0;
		char shown[QUOTE_SIZE];
		if (parse_u64(key, first, first + width - 1, &score) != 0)
			return refuse(err, errlen, "aggregate.%s%s: %s is not a score from %zu to %zu",
				      prefix, name, quote(key, shown, sizeof shown), first,
				      first + width - 1);
		if (!json_is_integer(value) || json_integer_value(value) < 0 ||
		    json_integer_value(value) > SURVEY_MAX_AGGREGATE)
			return refuse(err, errlen, "aggregate.%s%s.%s: want a count from 0 to %d",
				      prefix, name, key, SURVEY_MAX_AGGREGATE);
		d->counts[score - first] = (uint32_t)json_integer_value(value);
	}
	return 0;
}

static const char *const aggregate_keys[] = { "responses", "scores", "recommend", "channels",
					      NULL };
static const char *const score_keys[] = { "cleanliness", "service",    "value",
					  "location",    "facilities", "overall", NULL };

static int channels_from_json(const json_t *object, Innsync__SatisfactionAggregate *a,
			      char *err, size_t errlen)
{
	if (!json_is_object(object))
		return refuse(err, errlen, "aggregate.channels: want an object {\"phone\": count, ...}");
	a->channels = new_list(json_object_size(object));
	if (a->channels == NULL)
		return refuse(err, errlen, "out of memory");
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)object, key, value) {
		char shown[QUOTE_SIZE];
		const char *channel = channel_canonical(key);
		if (channel == NULL)
			return refuse(err, errlen,
				      "aggregate.channels: %s is not questionnaire, phone, onsite or "
				      "online_review",
				      quote(key, shown, sizeof shown));
		if (!json_is_integer(value) || json_integer_value(value) < 0 ||
		    json_integer_value(value) > SURVEY_MAX_AGGREGATE)
			return refuse(err, errlen, "aggregate.channels.%s: want a count", channel);
		Innsync__ChannelCount *c = malloc(sizeof *c);
		if (c == NULL)
			return refuse(err, errlen, "out of memory");
		innsync__channel_count__init(c);
		a->channels[a->n_channels++] = c;
		c->channel = strdup(channel);
		if (c->channel == NULL)
			return refuse(err, errlen, "out of memory");
		c->responses = (uint32_t)json_integer_value(value);
	}
	return 0;
}

static int aggregate_from_json(const json_t *object, Innsync__SatisfactionReport *report,
			       char *err, size_t errlen)
{
	if (!json_is_object(object))
		return refuse(err, errlen, "aggregate: want an object {...}");
	Innsync__SatisfactionAggregate *a = malloc(sizeof *a);
	if (a == NULL)
		return refuse(err, errlen, "out of memory");
	innsync__satisfaction_aggregate__init(a);
	report->aggregate = a;
	a->distributions = new_list(SURVEY_DIMENSIONS + 1);
	if (a->distributions == NULL)
		return refuse(err, errlen, "out of memory");
	if (known_keys(object, aggregate_keys, "aggregate.", err, errlen) != 0 ||
	    json_uint(object, "responses", "aggregate.", 1, SURVEY_MAX_AGGREGATE, true,
		      &a->responses, err, errlen) != 0)
		return -1;
	json_t *scores = json_object_get(object, "scores");
	if (!json_is_object(scores))
		return refuse(err, errlen, "aggregate.scores: %s",
			      scores ? "want an object {\"cleanliness\": {...}, ...}" : "missing");
	if (known_keys(scores, score_keys, "aggregate.scores.", err, errlen) != 0)
		return -1;
	for (size_t d = 0; d < SURVEY_DIMENSIONS; d++)
		if (distribution_from_json(json_object_get(scores, survey_dimensions[d]),
					   survey_dimensions[d], 1, 5, "scores.",
					   &a->distributions[a->n_distributions++], err, errlen) != 0)
			return -1;
	if (distribution_from_json(json_object_get(object, "recommend"), "recommend", 0, 11, "",
				   &a->distributions[a->n_distributions++], err, errlen) != 0)
		return -1;
	json_t *channels = json_object_get(object, "channels");
	if (channels != NULL && channels_from_json(channels, a, err, errlen) != 0)
		return -1;
	return 0;
}

int satisfaction_from_json(const char *text, size_t len, const char *period,
			   Innsync__SatisfactionReport **out, char *err, size_t errlen)
{
	*out = NULL;
	json_t *root = load_json(text, len, err, errlen);
	if (root == NULL)
		return -1;
	Innsync__SatisfactionReport *report = new_report(0);
	int rc = -1;
	char *file_period = NULL;
	json_t *responses = json_object_get(root, "responses");
	json_t *aggregate = json_object_get(root, "aggregate");
	if (report == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	if (known_keys(root, survey_keys, "", err, errlen) != 0 ||
	    json_text(root, "period", "", 16, aggregate != NULL && period == NULL, &file_period,
		      err, errlen) != 0)
		goto done;
	if (file_period != NULL && period != NULL && strcmp(file_period, period) != 0) {
		refuse(err, errlen, "period: the file says %.16s, the command line %.16s",
		       file_period, period);
		goto done;
	}
	if (file_period != NULL)
		period = file_period;
	if ((responses == NULL) == (aggregate == NULL)) {
		refuse(err, errlen, "responses: give either \"responses\": [...] or \"aggregate\": {...}");
		goto done;
	}
	if (aggregate != NULL) {
		if (set_period(report, period, "", err, errlen) != 0 ||
		    aggregate_from_json(aggregate, report, err, errlen) != 0)
			goto done;
	} else {
		json_t *list = NULL;
		if (json_list(root, "responses", SURVEY_MAX_RESPONSES, &list, err, errlen) != 0)
			goto done;
		report->responses = new_list(json_array_size(list));
		if (report->responses == NULL) {
			refuse(err, errlen, "out of memory");
			goto done;
		}
		if (period != NULL && set_period(report, period, "", err, errlen) != 0)
			goto done;
		if (responses_from_json(list, period, report, err, errlen) != 0)
			goto done;
	}
	rc = satisfaction_check(report, err, errlen);
done:
	free(file_period);
	json_decref(root);
	if (rc == 0)
		*out = report;
	else if (report != NULL)
		innsync__satisfaction_report__free_unpacked(report, NULL);
	return rc;
}

static void summarise_recommend(struct satisfaction_summary *out, uint32_t score, int64_t n)
{
	if (score >= 9)
		out->promoters += n;
	else if (score >= 7)
		out->passives += n;
	else
		out->detractors += n;
}

static void summarise_aggregate(const Innsync__SatisfactionAggregate *a,
				struct satisfaction_summary *out)
{
	out->responses = a->responses;
	for (size_t d = 0; d < SURVEY_DIMENSIONS; d++) {
		const Innsync__ScoreDistribution *dist = aggregate_distribution(a, survey_dimensions[d]);
		for (size_t k = 0; dist != NULL && k < dist->n_counts; k++)
			out->sums[d] += (int64_t)(k + 1) * dist->counts[k];
	}
	const Innsync__ScoreDistribution *rec = aggregate_distribution(a, "recommend");
	for (size_t k = 0; rec != NULL && k < rec->n_counts; k++)
		summarise_recommend(out, (uint32_t)k, rec->counts[k]);
	for (size_t i = 0; i < a->n_channels; i++) {
		int c = channel_index(a->channels[i]->channel);
		if (c >= 0)
			out->channels[c] += a->channels[i]->responses;
	}
}

void satisfaction_summarise(const Innsync__SatisfactionReport *report,
			    struct satisfaction_summary *out)
{
	memset(out, 0, sizeof *out);
	if (report->aggregate != NULL) {
		summarise_aggregate(report->aggregate, out);
		return;
	}
	out->responses = (int64_t)report->n_responses;
	for (size_t i = 0; i < report->n_responses; i++) {
		const Innsync__SurveyResponse *r = report->responses[i];
		for (size_t d = 0; d < SURVEY_DIMENSIONS; d++)
			out->sums[d] += response_score_of(r, d);
		summarise_recommend(out, r->recommend, 1);
		int c = channel_index(r->channel);
		if (c >= 0)
			out->channels[c]++;
	}
}

int64_t satisfaction_nps(int64_t promoters, int64_t detractors, int64_t responses)
{
	if (responses <= 0)
		return 0;
	/* ratio_round_half_up rounds a negative numerator symmetrically:
	 * half away from zero. */
	return ratio_round_half_up(100 * (promoters - detractors), responses);
}

/*---- Complaints --------------------------------------------------------*/

void complaint_settings_default(struct complaint_settings *settings)
{
	memset(settings, 0, sizeof *settings);
	snprintf(settings->home_region, sizeof settings->home_region, "%s",
		 COMPLAINT_DEFAULT_HOME_REGION);
	settings->home_hours = COMPLAINT_DEFAULT_HOME_HOURS;
	settings->other_hours = COMPLAINT_DEFAULT_OTHER_HOURS;
}

unsigned complaint_deadline_hours(const struct complaint_settings *settings,
				  const char *site_region)
{
	if (site_region != NULL && *site_region != '\0' &&
	    strcasecmp(site_region, settings->home_region) == 0)
		return settings->home_hours;
	return settings->other_hours;
}

int64_t complaint_due_ms(int64_t received_ms, unsigned hours)
{
	return received_ms + (int64_t)hours * 3600 * 1000;
}

bool complaint_is_late(int64_t due_ms, int64_t first_response_ms, int64_t now)
{
	if (first_response_ms > 0)
		return first_response_ms > due_ms;
	return now > due_ms;
}

int complaint_response_check(const Innsync__ComplaintResponse *response, char *err,
			     size_t errlen)
{
	if (id_field("", "complaint", response->complaint, err, errlen) != 0)
		return -1;
	return text_field("", "text", response->text, FEEDBACK_MAX_TEXT, true, err, errlen);
}

/*---- The GMs' evaluation of HQ ------------------------------------------*/

const char *const evaluation_departments[EVALUATION_DEPARTMENTS] = {
	"customer_service", "qa", "training", "sales", "systems",
};

static bool known_department(const char *department)
{
	for (size_t i = 0; i < EVALUATION_DEPARTMENTS; i++)
		if (strcmp(department, evaluation_departments[i]) == 0)
			return true;
	return false;
}

int evaluation_form_check(const Innsync__EvaluationRound *form, char *err, size_t errlen)
{
	if (text_field("", "name", form->name, FEEDBACK_MAX_NAME, true, err, errlen) != 0)
		return -1;
	if (form->n_items == 0)
		return refuse(err, errlen, "items: a form needs at least one item");
	if (form->n_items > EVALUATION_MAX_ITEMS)
		return refuse(err, errlen, "items: more than %d items", EVALUATION_MAX_ITEMS);
	for (size_t i = 0; i < form->n_items; i++) {
		const Innsync__EvaluationItem *item = form->items[i];
		char prefix[PREFIX_SIZE], shown[QUOTE_SIZE];
		snprintf(prefix, sizeof prefix, "items[%zu].", i);
		if (id_field(prefix, "code", item->code, err, errlen) != 0)
			return -1;
		if (!known_department(item->department))
			return refuse(err, errlen,
				      "%sdepartment: %s is not customer_service, qa, training, sales "
				      "or systems",
				      prefix, quote(item->department, shown, sizeof shown));
		if (text_field(prefix, "text", item->text, FEEDBACK_MAX_COMMENT, true, err,
			       errlen) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(form->items[j]->code, item->code) == 0)
				return refuse(err, errlen, "%scode: %s is also the code of items[%zu]",
					      prefix, item->code, j);
	}
	return 0;
}

const Innsync__EvaluationItem *evaluation_round_item(const Innsync__EvaluationRound *round,
						     const char *code)
{
	for (size_t i = 0; i < round->n_items; i++)
		if (strcmp(round->items[i]->code, code) == 0)
			return round->items[i];
	return NULL;
}

static const char *const form_keys[] = { "name", "items", NULL };
static const char *const item_keys[] = { "code", "department", "text", NULL };

int evaluation_form_from_json(const char *text, size_t len, Innsync__EvaluationRound **form_out,
			      char *err, size_t errlen)
{
	*form_out = NULL;
	json_t *root = load_json(text, len, err, errlen);
	if (root == NULL)
		return -1;
	Innsync__EvaluationRound *form = malloc(sizeof *form);
	json_t *list = NULL;
	int rc = -1;
	if (form == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	innsync__evaluation_round__init(form);
	if (known_keys(root, form_keys, "", err, errlen) != 0 ||
	    json_text(root, "name", "", FEEDBACK_MAX_NAME, true, &form->name, err, errlen) != 0 ||
	    json_list(root, "items", EVALUATION_MAX_ITEMS, &list, err, errlen) != 0)
		goto done;
	form->items = new_list(json_array_size(list));
	if (form->items == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	size_t index;
	json_t *value;
	json_array_foreach(list, index, value) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "items[%zu].", index);
		if (!json_is_object(value)) {
			refuse(err, errlen, "items[%zu]: want an object {...}", index);
			goto done;
		}
		Innsync__EvaluationItem *item = malloc(sizeof *item);
		if (item == NULL) {
			refuse(err, errlen, "out of memory");
			goto done;
		}
		innsync__evaluation_item__init(item);
		form->items[form->n_items++] = item;
		if (known_keys(value, item_keys, prefix, err, errlen) != 0 ||
		    json_text(value, "code", prefix, FEEDBACK_MAX_ID, true, &item->code, err,
			      errlen) != 0 ||
		    json_text(value, "department", prefix, 32, true, &item->department, err,
			      errlen) != 0 ||
		    json_text(value, "text", prefix, FEEDBACK_MAX_COMMENT, true, &item->text, err,
			      errlen) != 0)
			goto done;
	}
	rc = evaluation_form_check(form, err, errlen);
done:
	json_decref(root);
	if (rc == 0)
		*form_out = form;
	else if (form != NULL)
		innsync__evaluation_round__free_unpacked(form, NULL);
	return rc;
}

static void item_list(const Innsync__EvaluationRound *round, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < round->n_items && used + 1 < outlen; i++) {
		if (i >= 12) {
			snprintf(out + used, outlen - used, ", ...");
			break;
		}
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
					 round->items[i]->code);
	}
}

static int check_rating(const Innsync__EvaluationRating *rating,
			const Innsync__EvaluationRound *round, const char *prefix, char *err,
			size_t errlen)
{
	char shown[QUOTE_SIZE], items[256];
	if (evaluation_round_item(round, rating->code) == NULL) {
		item_list(round, items, sizeof items);
		return refuse(err, errlen, "%scode: %s is not an item of round %s (items: %s)",
			      prefix, quote(rating->code, shown, sizeof shown), round->id, items);
	}
	if (rating->rating < 1 || rating->rating > 5)
		return refuse(err, errlen, "%srating: %u is not from 1 to 5", prefix, rating->rating);
	return text_field(prefix, "comment", rating->comment, FEEDBACK_MAX_COMMENT, false, err,
			  errlen);
}

int evaluation_answer_check(const Innsync__EvaluationAnswer *answer,
			    const Innsync__EvaluationRound *round, int64_t written_ms, char *err,
			    size_t errlen)
{
	if (strcmp(answer->round, round->id) != 0)
		return refuse(err, errlen, "round: the answer is for %s, not %s", answer->round,
			      round->id);
	if (written_ms >= round->due_at_ms)
		return refuse(err, errlen,
			      "round: %s closed at the end of %s (UTC); answers are no longer "
			      "accepted",
			      round->id, round->due);
	for (size_t i = 0; i < answer->n_answers; i++) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "answers[%zu].", i);
		if (check_rating(answer->answers[i], round, prefix, err, errlen) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(answer->answers[j]->code, answer->answers[i]->code) == 0)
				return refuse(err, errlen, "%scode: %s is rated twice (also answers[%zu])",
					      prefix, answer->answers[i]->code, j);
	}
	for (size_t i = 0; i < round->n_items; i++) {
		bool rated = false;
		for (size_t j = 0; j < answer->n_answers && !rated; j++)
			rated = strcmp(answer->answers[j]->code, round->items[i]->code) == 0;
		if (!rated)
			return refuse(err, errlen, "answers: item %s (%s) is not rated",
				      round->items[i]->code, round->items[i]->department);
	}
	return 0;
}

static const char *const answer_keys[] = { "round", "answers", NULL };
static const char *const rating_keys[] = { "code", "rating", "comment", NULL };

static int rating_from_json(const json_t *value, const char *prefix,
			    Innsync__EvaluationRating *rating, char *err, size_t errlen)
{
	if (!json_is_object(value))
		return refuse(err, errlen, "%.*s: want an object {...}", (int)strlen(prefix) - 1,
			      prefix);
	if (known_keys(value, rating_keys, prefix, err, errlen) != 0 ||
	    json_text(value, "code", prefix, FEEDBACK_MAX_ID, true, &rating->code, err,
		      errlen) != 0 ||
	    json_uint(value, "rating", prefix, 1, 5, true, &rating->rating, err, errlen) != 0 ||
	    json_text(value, "comment", prefix, FEEDBACK_MAX_COMMENT, false, &rating->comment, err,
		      errlen) != 0)
		return -1;
	return 0;
}

int evaluation_answer_from_json(const char *text, size_t len,
				const Innsync__EvaluationRound *round,
				Innsync__EvaluationAnswer **out, char *err, size_t errlen)
{
	*out = NULL;
	json_t *root = load_json(text, len, err, errlen);
	if (root == NULL)
		return -1;
	Innsync__EvaluationAnswer *answer = malloc(sizeof *answer);
	json_t *list = NULL;
	int rc = -1;
	if (answer == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	innsync__evaluation_answer__init(answer);
	if (known_keys(root, answer_keys, "", err, errlen) != 0 ||
	    json_list(root, "answers", EVALUATION_MAX_ITEMS, &list, err, errlen) != 0 ||
	    json_same_id(root, "round", round->id, "answers", "another round", err, errlen) != 0)
		goto done;
	answer->round = strdup(round->id);
	answer->answers = new_list(json_array_size(list));
	if (answer->round == NULL || answer->answers == NULL) {
		refuse(err, errlen, "out of memory");
		goto done;
	}
	size_t index;
	json_t *value;
	json_array_foreach(list, index, value) {
		char prefix[PREFIX_SIZE];
		snprintf(prefix, sizeof prefix, "answers[%zu].", index);
		Innsync__EvaluationRating *rating = malloc(sizeof *rating);
		if (rating == NULL) {
			refuse(err, errlen, "out of memory");
			goto done;
		}
		innsync__evaluation_rating__init(rating);
		answer->answers[answer->n_answers++] = rating;
		if (rating_from_json(value, prefix, rating, err, errlen) != 0)
			goto done;
	}
	rc = 0;
done:
	json_decref(root);
	if (rc == 0)
		*out = answer;
	else if (answer != NULL)
		innsync__evaluation_answer__free_unpacked(answer, NULL);
	return rc;
}

void rating_stats_add(struct rating_stats *stats, uint32_t rating)
{
	if (rating < 1 || rating > 5)
		return;
	stats->count++;
	stats->sum += rating;
	stats->distribution[rating - 1]++;
}

void rating_stats_to_json(const struct rating_stats *stats, json_t *object)
{
	char mean[32];
	feedback_mean_text(stats->sum, stats->count, mean, sizeof mean);
	json_t *distribution = json_object();
	for (int r = 0; r < 5; r++) {
		char key[4];
		snprintf(key, sizeof key, "%d", r + 1);
		json_object_set_new(distribution, key, json_integer(stats->distribution[r]));
	}
	json_object_set_new(object, "mean", stats->count ? json_string(mean) : json_null());
	json_object_set_new(object, "count", json_integer(stats->count));
	json_object_set_new(object, "distribution", distribution);
}
