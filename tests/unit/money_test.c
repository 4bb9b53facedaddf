/* money_test: unit tests of common/money.c: parsing decimal text and JSON
 * values into cents, formatting cents, and half-up rounding of ratios.
 * Each test walks a table of cases and names the failing one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "money.h"

struct parse_case {
	const char *input;  /* text, or JSON for money_from_json */
	int ok;
	int64_t cents;      /* when ok */
	const char *error;  /* when !ok: the whole expected reason */
};

static void check_result(const struct parse_case *c, int rc, int64_t cents, const char *err)
{
	if (c->ok) {
		if (rc != 0)
			fail_msg("%s: refused: %s", c->input, err);
		if (cents != c->cents)
			fail_msg("%s: got %lld cents, want %lld", c->input, (long long)cents,
				 (long long)c->cents);
		return;
	}
	if (rc == 0)
		fail_msg("%s: accepted as %lld cents, want refusal", c->input, (long long)cents);
	if (cents != 0)
		fail_msg("%s: refused but cents set to %lld", c->input, (long long)cents);
	if (strcmp(err, c->error) != 0)
		fail_msg("%s: reason \"%s\", want \"%s\"", c->input, err, c->error);
}

static const struct parse_case text_cases[] = {
	{ "595200.00", 1, 59520000, NULL },
	{ "8000", 1, 800000, NULL },
	{ "1500.5", 1, 150050, NULL },
	{ "1500.50", 1, 150050, NULL },
	{ "-3.10", 1, -310, NULL },
	{ "-0.05", 1, -5, NULL },
	{ "0", 1, 0, NULL },
	{ "-0", 1, 0, NULL },
	{ "0.01", 1, 1, NULL },
	{ "007.50", 1, 750, NULL },
	{ "100000000000", 1, MONEY_MAX_CENTS, NULL },
	{ "100000000000.00", 1, MONEY_MAX_CENTS, NULL },
	{ "-100000000000.00", 1, -MONEY_MAX_CENTS, NULL },
	{ "99999999999.99", 1, MONEY_MAX_CENTS - 1, NULL },
	{ "100000000000.01", 0, 0, "\"100000000000.01\" is out of range (at most 100000000000.00)" },
	{ "100000000001", 0, 0, "\"100000000001\" is out of range (at most 100000000000.00)" },
	{ "99999999999999999999999", 0, 0,
	  "\"99999999999999999999999\" is out of range (at most 100000000000.00)" },
	{ "1.005", 0, 0, "\"1.005\" has more than two decimals" },
	{ "1.000", 0, 0, "\"1.000\" has more than two decimals" },
	{ "", 0, 0, "an empty string is not an amount" },
	{ "1e3", 0, 0, "\"1e3\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ " 1", 0, 0, "\" 1\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "1 ", 0, 0, "\"1 \" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "+1", 0, 0, "\"+1\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "1.", 0, 0, "\"1.\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ ".5", 0, 0, "\".5\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "-", 0, 0, "\"-\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "--1", 0, 0, "\"--1\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "1,000.00", 0, 0, "\"1,000.00\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "1.2.3", 0, 0, "\"1.2.3\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "0x10", 0, 0, "\"0x10\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "NaN", 0, 0, "\"NaN\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "1\n", 0, 0, "\"1?\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "\xef\xbc\x91", 0, 0, "\"???\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "1234567890123456789012345678901234567890", 0, 0,
	  "\"123456789012345678901234...\" is out of range (at most 100000000000.00)" },
};

static void test_parse_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
		const struct parse_case *c = &text_cases[i];
		char err[256] = "";
		int64_t cents = 12345;
		int rc = money_parse_text(c->input, &cents, err, sizeof err);
		check_result(c, rc, cents, err);
	}
}

static const struct parse_case json_cases[] = {
	{ "\"1500.50\"", 1, 150050, NULL },
	{ "\"8000\"", 1, 800000, NULL },
	{ "8000", 1, 800000, NULL },
	{ "0", 1, 0, NULL },
	{ "-3", 1, -300, NULL },
	{ "1500.5", 1, 150050, NULL },
	{ "1500.50", 1, 150050, NULL },
	{ "0.1", 1, 10, NULL },
	{ "0.07", 1, 7, NULL },
	{ "-3.1", 1, -310, NULL },
	{ "1e3", 1, 100000, NULL },
	{ "12345678901.23", 1, 1234567890123, NULL },
	{ "99999999999.99", 1, MONEY_MAX_CENTS - 1, NULL },
	{ "100000000000", 1, MONEY_MAX_CENTS, NULL },
	{ "100000000000.0", 1, MONEY_MAX_CENTS, NULL },
	{ "100000000001", 0, 0, "100000000001 is out of range (at most 100000000000.00)" },
	{ "-100000000001", 0, 0, "-100000000001 is out of range (at most 100000000000.00)" },
	{ "1e12", 0, 0, "1e+12 is out of range (at most 100000000000.00)" },
	{ "1.005", 0, 0, "1.005 has more than two decimals" },
	{ "1.001", 0, 0, "1.001 has more than two decimals" },
	{ "0.30000000000000004", 0, 0, "0.30000000000000004 has more than two decimals" },
	{ "1.0000000001", 0, 0, "1.0000000001 has more than two decimals" },
	{ "\"1.005\"", 0, 0, "\"1.005\" has more than two decimals" },
	{ "\"abc\"", 0, 0, "\"abc\" is not a decimal amount (want e.g. \"1500.50\")" },
	{ "true", 0, 0, "a boolean is not an amount (want a string like \"1500.50\" or a number)" },
	{ "null", 0, 0, "null is not an amount (want a string like \"1500.50\" or a number)" },
	{ "{}", 0, 0, "an object is not an amount (want a string like \"1500.50\" or a number)" },
	{ "[1]", 0, 0, "an array is not an amount (want a string like \"1500.50\" or a number)" },
};

static void test_from_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
		const struct parse_case *c = &json_cases[i];
		json_error_t error;
		json_t *value = json_loads(c->input, JSON_DECODE_ANY, &error);
		if (value == NULL)
			fail_msg("%s: bad test input: %s", c->input, error.text);
		char err[256] = "";
		int64_t cents = 12345;
		int rc = money_from_json(value, &cents, err, sizeof err);
		json_decref(value);
		check_result(c, rc, cents, err);
	}
}

static const struct {
	int64_t cents;
	const char *text;
} format_cases[] = {
	{ 0, "0.00" },
	{ 5, "0.05" },
	{ 10, "0.10" },
	{ -5, "-0.05" },
	{ -310, "-3.10" },
	{ 150050, "1500.50" },
	{ 59520000, "595200.00" },
	{ MONEY_MAX_CENTS, "100000000000.00" },
	{ INT64_MAX, "92233720368547758.07" },
	{ INT64_MIN, "-92233720368547758.08" },
};

static void test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
		char out[32];
		money_format(format_cases[i].cents, out, sizeof out);
		assert_string_equal(out, format_cases[i].text);
	}
}

/* Whatever money_format writes within range, money_parse_text reads back. */
static void test_format_parse_round_trip(void **state)
{
	(void)state;
	static const int64_t samples[] = {
		0, 1, -1, 99, 100, 101, -101, 123456789, MONEY_MAX_CENTS, -MONEY_MAX_CENTS,
	};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		char text[32];
		char err[128];
		int64_t back = 0;
		money_format(samples[i], text, sizeof text);
		assert_int_equal(money_parse_text(text, &back, err, sizeof err), 0);
		assert_true(back == samples[i]);
	}
}

static const struct {
	int64_t numerator;
	int64_t denominator;
	int64_t want;
} ratio_cases[] = {
	{ 0, 5, 0 },
	{ 1, 3, 0 },
	{ 1, 2, 1 },          /* exact half rounds up */
	{ 2, 3, 1 },
	{ 5, 2, 3 },
	{ 7, 2, 4 },
	{ 100, 3, 33 },
	{ 200, 3, 67 },
	{ 149, 100, 1 },
	{ 150, 100, 2 },
	{ 59520000, 2976, 20000 }, /* ADR of the example: 200.00 */
	{ 59520000, 3720, 16000 }, /* RevPAR: 160.00 */
	{ 10, 0, 0 },
	{ 10, -1, 0 },
	{ -1, 2, -1 },        /* away from zero */
	{ -5, 3, -2 },
	{ -4, 3, -1 },
	{ INT64_MAX, 1, INT64_MAX },
	{ INT64_MAX, 2, INT64_C(4611686018427387904) },
	{ INT64_MAX, INT64_MAX, 1 },
	{ INT64_MAX - 1, INT64_MAX, 1 },
	{ INT64_MAX / 2, INT64_MAX, 0 },      /* just under a half */
	{ INT64_MAX / 2 + 1, INT64_MAX, 1 },  /* just over */
};

static void test_ratio_round_half_up(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ratio_cases / sizeof ratio_cases[0]; i++) {
		int64_t got = ratio_round_half_up(ratio_cases[i].numerator,
						  ratio_cases[i].denominator);
		if (got != ratio_cases[i].want)
			fail_msg("ratio(%lld, %lld) = %lld, want %lld",
				 (long long)ratio_cases[i].numerator,
				 (long long)ratio_cases[i].denominator, (long long)got,
				 (long long)ratio_cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_text),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_ratio_round_half_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
