/* csv_test: unit tests of common/csv.c, the RFC 4180 reader: each case is
 * an input and either the records it gives (as "line:field;field|...") or
 * the whole error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

struct csv_case {
	const char *name;
	const char *input;
	size_t len;          /* 0: strlen(input) */
	const char *records; /* NULL: a failure is expected */
	const char *error;
};

/* "line:f1;f2|line:f1" with '\n' inside a field shown as "\\n". */
static void dump(const struct csv_table *table, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < table->n_records && used < outlen; i++) {
		const struct csv_record *r = &table->records[i];
		used += (size_t)snprintf(out + used, outlen - used, "%s%zu:", i ? "|" : "", r->line);
		for (size_t j = 0; j < r->n_fields && used < outlen; j++) {
			if (j > 0)
				used += (size_t)snprintf(out + used, outlen - used, ";");
			for (const char *p = r->fields[j]; *p && used < outlen; p++)
				used += (size_t)snprintf(out + used, outlen - used, "%s",
							 *p == '\n' ? "\\n" : (char[]){ *p, 0 });
		}
	}
}

static const struct csv_case cases[] = {
	{ "two records, LF", "a,b\nc,d\n", 0, "1:a;b|2:c;d", NULL },
	{ "CRLF line ends", "a,b\r\nc,d\r\n", 0, "1:a;b|2:c;d", NULL },
	{ "lone CR line ends", "a,b\rc,d\r", 0, "1:a;b|2:c;d", NULL },
	{ "no final line end", "a,b\nc,d", 0, "1:a;b|2:c;d", NULL },
	{ "byte-order mark skipped", "\xef\xbb\xbf" "date,x\n1,2\n", 0, "1:date;x|2:1;2", NULL },
	{ "empty fields kept", "a,,c\n,b,\n", 0, "1:a;;c|2:;b;", NULL },
	{ "quoted comma and doubled quotes", "\"a,b\",\"say \"\"hi\"\"\"\n", 0,
	  "1:a,b;say \"hi\"", NULL },
	{ "quoted line breaks keep the next record's line", "x,\"one\r\ntwo\nthree\"\ny,z\n", 0,
	  "1:x;one\\ntwo\\nthree|4:y;z", NULL },
	{ "blank lines and separator-only rows skipped", "\n\na,b\n\r\n,,\n\nc,d\n\n", 0,
	  "3:a;b|7:c;d", NULL },
	{ "an empty quoted field is content", "\"\"\n", 0, "1:", NULL },
	{ "UTF-8 text", "\xe5\xbe\x88\xe5\xa5\xbd,\"\xe5\x8f\xa5,\"\n", 0,
	  "1:\xe5\xbe\x88\xe5\xa5\xbd;\xe5\x8f\xa5,", NULL },
	{ "empty input", "", 0, "", NULL },
	{ "only a BOM", "\xef\xbb\xbf", 0, "", NULL },
	{ "unterminated quote names its opening line", "a,b\nc,\"open\nmore\n", 0, NULL,
	  "line 2: unterminated quoted field (its quote opens on this line)" },
	{ "text after a closing quote", "a,\"b\"c\n", 0, NULL,
	  "line 1: field 2: text after a closing quote (a quote inside a field is written \"\")" },
	{ "quote inside an unquoted field", "a,b\nc,d\"e\n", 0, NULL,
	  "line 2: field 2: a quote inside an unquoted field (quote the whole field and write "
	  "the quote as \"\")" },
	{ "NUL byte", "a,b\0c\n", 6, NULL,
	  "line 1: NUL byte in the file (is it UTF-16? save as \"CSV UTF-8\")" },
	{ "invalid UTF-8 (GBK export)", "a\n\xba\xc3,b\n", 0, NULL,
	  "line 2: field 1 is not UTF-8 text (save the file as \"CSV UTF-8\")" },
	{ "overlong UTF-8", "\xc0\xaf\n", 0, NULL,
	  "line 1: field 1 is not UTF-8 text (save the file as \"CSV UTF-8\")" },
	{ "field over the limit", "a,0123456789abcdefX\n", 0, NULL,
	  "line 1: field 2 is longer than 16 bytes" },
	{ "too many fields", "1,2,3,4,5,6,7,8,9\n", 0, NULL, "line 1: more than 8 fields" },
	{ "too many records", "1\n2\n3\n4\n5\n6\n", 0, NULL, "line 6: more than 5 records in the file" },
};

static void test_cases(void **state)
{
	(void)state;
	const struct csv_limits limits = { 5, 8, 16 };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct csv_case *c = &cases[i];
		struct csv_table *table = NULL;
		char err[256] = "", got[512];
		size_t len = c->len ? c->len : strlen(c->input);
		int rc = csv_parse(c->input, len, &limits, &table, err, sizeof err);
		if (c->records != NULL) {
			if (rc != 0)
				fail_msg("%s: refused: %s", c->name, err);
			dump(table, got, sizeof got);
			if (strcmp(got, c->records) != 0)
				fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->records);
		} else {
			if (rc == 0)
				fail_msg("%s: accepted, want \"%s\"", c->name, c->error);
			if (table != NULL)
				fail_msg("%s: refused but a table was returned", c->name);
			if (strcmp(err, c->error) != 0)
				fail_msg("%s: error \"%s\", want \"%s\"", c->name, err, c->error);
		}
		csv_table_destroy(&table);
		assert_null(table);
	}
}

static void test_default_limits_and_large_input(void **state)
{
	(void)state;
	/* 2,000 rows of 10 fields, each with a quoted comment */
	size_t cap = 2000 * 64 + 64, used = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < 2000; i++)
		used += (size_t)snprintf(text + used, cap - used,
					 "2027-01-%02d,phone,1,2,3,4,5,5,9,\"row %d, ok\"\r\n",
					 i % 28 + 1, i);
	struct csv_table *table = NULL;
	char err[256];
	struct csv_limits limits = CSV_DEFAULT_LIMITS;
	assert_int_equal(csv_parse(text, used, &limits, &table, err, sizeof err), 0);
	assert_int_equal(table->n_records, 2000);
	assert_int_equal(table->records[1999].line, 2000);
	assert_int_equal(table->records[1999].n_fields, 10);
	assert_string_equal(table->records[1999].fields[9], "row 1999, ok");
	csv_table_destroy(&table);
	csv_table_destroy(&table); /* NULL is accepted */
	free(text);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_int_equal(utf8_valid(""), 1);
	assert_int_equal(utf8_valid("plain"), 1);
	assert_int_equal(utf8_valid("\xe6\xb8\x85\xe6\xb4\x81"), 1);       /* 清洁 */
	assert_int_equal(utf8_valid("\xf0\x9f\x98\x80"), 1);                /* emoji */
	assert_int_equal(utf8_valid("\xed\xa0\x80"), 0);                    /* surrogate */
	assert_int_equal(utf8_valid("\xe6\xb8"), 0);                        /* truncated */
	assert_int_equal(utf8_valid("\xff"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_default_limits_and_large_input),
		cmocka_unit_test(test_utf8_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
