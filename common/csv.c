/* csv: owns the reading of CSV text as spreadsheets export it (RFC 4180):
 *   - fields separated by ',', records by CRLF, LF or a lone CR;
 *   - a field may be quoted with '"'; inside, '""' is one quote and commas
 *     and line breaks are data (a CRLF inside becomes LF);
 *   - a quote inside an unquoted field, or text after a closing quote, is an
 *     error (the file is ambiguous; we never guess);
 *   - a UTF-8 byte-order mark at the start is skipped; every field must be
 *     UTF-8 and no byte may be NUL;
 *   - a record with no content (an empty line, or only separators as some
 *     spreadsheets write for empty rows) is skipped;
 *   - records, fields per record and bytes per field are bounded.
 * Each record remembers the line it starts on so that callers name it. */
#include "csv.h"

#include "util.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum terminator { TERM_COMMA, TERM_EOL, TERM_EOF, TERM_ERROR };

struct parser {
	const char *p, *end;
	size_t line;                   /* physical line of p */
	const struct csv_limits *limits;
	char *err;
	size_t errlen;
	char *buf;                     /* owned; the field being read */
	size_t len, cap;
	bool quoted;                   /* the field being read was quoted */
	char **fields;                 /* owned until handed to a record */
	size_t n_fields, cap_fields;
	bool any_content;              /* the record has a quoted or non-empty field */
	struct csv_table *table;       /* owned until returned */
	size_t cap_records;
};

static int fail(struct parser *ps, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, size_t line, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "line %zu: %s", line, text);
	return -1;
}



static int append_byte(struct parser *ps, char c, size_t field_line)
{
	if (ps->len >= ps->limits->max_field_bytes)
		return fail(ps, field_line, "field %zu is longer than %zu bytes", ps->n_fields + 1,
			    ps->limits->max_field_bytes);
	if (ps->len + 1 >= ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		char *grown = realloc(ps->buf, cap);
		if (grown == NULL)
			return fail(ps, field_line, "out of memory");
		ps->buf = grown;
		ps->cap = cap;
	}
	ps->buf[ps->len++] = c;
	return 0;
}

/* After a field: consumes its terminator. */
static enum terminator terminate(struct parser *ps)
{
	if (ps->p >= ps->end)
		return TERM_EOF;
	char c = *ps->p++;
	if (c == ',')
		return TERM_COMMA;
	if (c == '\r' && ps->p < ps->end && *ps->p == '\n')
		ps->p++;
	ps->line++;
	return TERM_EOL;
}

static enum terminator read_quoted(struct parser *ps)
{
	size_t opened = ps->line;
	ps->p++; /* the opening quote */
	for (;;) {
		if (ps->p >= ps->end) {
			fail(ps, opened, "unterminated quoted field (its quote opens on this line)");
			return TERM_ERROR;
		}
		char c = *ps->p++;
		if (c == '"') {
			if (ps->p < ps->end && *ps->p == '"') {
				ps->p++;
			} else {
				break;
			}
		} else if (c == '\0') {
			fail(ps, ps->line, "NUL byte in the file (is it UTF-16? save as \"CSV UTF-8\")");
			return TERM_ERROR;
		} else if (c == '\r' || c == '\n') {
			if (c == '\r' && ps->p < ps->end && *ps->p == '\n')
				ps->p++;
			ps->line++;
			c = '\n';
		}
		if (append_byte(ps, c, opened) != 0)
			return TERM_ERROR;
	}
	if (ps->p < ps->end && *ps->p != ',' && *ps->p != '\r' && *ps->p != '\n') {
		fail(ps, ps->line,
		     "field %zu: text after a closing quote (a quote inside a field is written \"\")",
		     ps->n_fields + 1);
		return TERM_ERROR;
	}
	return terminate(ps);
}

static enum terminator read_plain(struct parser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == ',' || c == '\r' || c == '\n')
			break;
		if (c == '"') {
			fail(ps, ps->line,
			     "field %zu: a quote inside an unquoted field (quote the whole field "
			     "and write the quote as \"\")",
			     ps->n_fields + 1);
			return TERM_ERROR;
		}
		if (c == '\0') {
			fail(ps, ps->line, "NUL byte in the file (is it UTF-16? save as \"CSV UTF-8\")");
			return TERM_ERROR;
		}
		if (append_byte(ps, c, ps->line) != 0)
			return TERM_ERROR;
		ps->p++;
	}
	return terminate(ps);
}

/* Hands the field buffer to the record being built. */
static int push_field(struct parser *ps, size_t record_line)
{
	if (ps->n_fields >= ps->limits->max_fields)
		return fail(ps, record_line, "more than %zu fields", ps->limits->max_fields);
	if (ps->n_fields == ps->cap_fields) {
		size_t cap = ps->cap_fields ? ps->cap_fields * 2 : 16;
		char **grown = realloc(ps->fields, cap * sizeof *grown);
		if (grown == NULL)
			return fail(ps, record_line, "out of memory");
		ps->fields = grown;
		ps->cap_fields = cap;
	}
	char *field = malloc(ps->len + 1);
	if (field == NULL)
		return fail(ps, record_line, "out of memory");
	if (ps->len > 0)
		memcpy(field, ps->buf, ps->len);
	field[ps->len] = '\0';
	if (!utf8_valid(field)) {
		free(field);
		return fail(ps, record_line,
			    "field %zu is not UTF-8 text (save the file as \"CSV UTF-8\")",
			    ps->n_fields + 1);
	}
	if (ps->quoted || ps->len > 0)
		ps->any_content = true;
	ps->fields[ps->n_fields++] = field;
	ps->len = 0;
	return 0;
}

static void drop_fields(struct parser *ps)
{
	for (size_t i = 0; i < ps->n_fields; i++)
		free(ps->fields[i]);
	ps->n_fields = 0;
}

static int push_record(struct parser *ps, size_t record_line)
{
	struct csv_table *table = ps->table;
	if (table->n_records >= ps->limits->max_records)
		return fail(ps, record_line, "more than %zu records in the file",
			    ps->limits->max_records);
	if (table->n_records == ps->cap_records) {
		size_t cap = ps->cap_records ? ps->cap_records * 2 : 64;
		struct csv_record *grown = realloc(table->records, cap * sizeof *grown);
		if (grown == NULL)
			return fail(ps, record_line, "out of memory");
		table->records = grown;
		ps->cap_records = cap;
	}
	char **fields = malloc(ps->n_fields * sizeof *fields);
	if (fields == NULL)
		return fail(ps, record_line, "out of memory");
	memcpy(fields, ps->fields, ps->n_fields * sizeof *fields);
	struct csv_record *record = &table->records[table->n_records++];
	record->line = record_line;
	record->n_fields = ps->n_fields;
	record->fields = fields;
	ps->n_fields = 0; /* now owned by the record */
	return 0;
}

/* Reads one record (possibly blank). Returns 1 at end of input after it,
 * 0 if more follows, -1 on error. */
static int read_record(struct parser *ps)
{
	size_t record_line = ps->line;
	enum terminator term;
	ps->any_content = false;
	do {
		ps->len = 0;
		ps->quoted = ps->p < ps->end && *ps->p == '"';
		term = ps->quoted ? read_quoted(ps) : read_plain(ps);
		if (term == TERM_ERROR || push_field(ps, record_line) != 0)
			return -1;
	} while (term == TERM_COMMA);
	if (!ps->any_content)
		drop_fields(ps);
	else if (push_record(ps, record_line) != 0)
		return -1;
	return term == TERM_EOF ? 1 : 0;
}

int csv_parse(const char *text, size_t len, const struct csv_limits *limits,
	      struct csv_table **out, char *err, size_t errlen)
{
	*out = NULL;
	struct parser ps = {
		.p = text, .end = text + len, .line = 1, .limits = limits, .err = err,
		.errlen = errlen,
	};
	ps.table = calloc(1, sizeof *ps.table);
	if (ps.table == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	int rc = 0;
	while (rc == 0 && ps.p < ps.end)
		rc = read_record(&ps);
	drop_fields(&ps);
	free(ps.fields);
	free(ps.buf);
	if (rc < 0) {
		csv_table_destroy(&ps.table);
		return -1;
	}
	*out = ps.table;
	return 0;
}

void csv_table_destroy(struct csv_table **table_p)
{
	if (table_p == NULL || *table_p == NULL)
		return;
	struct csv_table *table = *table_p;
	for (size_t i = 0; i < table->n_records; i++) {
		for (size_t j = 0; j < table->records[i].n_fields; j++)
			free(table->records[i].fields[j]);
		free(table->records[i].fields);
	}
	free(table->records);
	free(table);
	*table_p = NULL;
}
