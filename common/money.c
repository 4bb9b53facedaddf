/* money: exact money as int64 cents. Owns the text form of an amount
 * ("595200.00"), the conversion of JSON values to cents, the formatting of
 * cents, and half-up rounding of ratios. No binary floating point is used
 * for an amount except to recognise a JSON real (see money_from_json). */
#include "money.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest accepted whole-unit amount of a JSON integer or real. */
#define MONEY_MAX_UNITS (MONEY_MAX_CENTS / 100)

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Copies at most 24 bytes of text into out as a quoted, printable excerpt
 * for an error message ("\"1e3\""). Bytes outside printable ASCII become
 * '?' so that the message stays one readable line. */
static void quote_excerpt(const char *text, char *out, size_t outlen)
{
	char buf[32];
	size_t n = 0;
	const char *p = text;
	while (*p != '\0' && n < 24) {
		unsigned char c = (unsigned char)*p++;
		buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[n] = '\0';
	snprintf(out, outlen, "\"%s%s\"", buf, *p != '\0' ? "..." : "");
}

/* Accumulates decimal digits onto *value; -1 if it would exceed limit. */
static int add_digit(int64_t *value, char digit, int64_t limit)
{
	int64_t d = digit - '0';
	if (*value > (limit - d) / 10)
		return -1;
	*value = *value * 10 + d;
	return 0;
}

int money_parse_text(const char *text, int64_t *cents, char *err, size_t errlen)
{
	char quoted[40];
	const char *p = text;
	int negative = 0;
	int64_t whole = 0;
	int64_t fraction = 0;
	int fraction_digits = 0;

	*cents = 0;
	quote_excerpt(text, quoted, sizeof quoted);
	if (*p == '\0') {
		snprintf(err, errlen, "an empty string is not an amount");
		return -1;
	}
	if (*p == '-') {
		negative = 1;
		p++;
	}
	if (!is_digit(*p))
		goto not_decimal;
	for (; is_digit(*p); p++) {
		if (add_digit(&whole, *p, MONEY_MAX_UNITS) != 0)
			goto out_of_range;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			goto not_decimal;
		for (; is_digit(*p); p++) {
			if (fraction_digits == 2) {
				snprintf(err, errlen, "%s has more than two decimals", quoted);
				return -1;
			}
			fraction = fraction * 10 + (*p - '0');
			fraction_digits++;
		}
		if (fraction_digits == 1)
			fraction *= 10;
	}
	if (*p != '\0')
		goto not_decimal;
	if (whole * 100 + fraction > MONEY_MAX_CENTS)
		goto out_of_range;
	*cents = whole * 100 + fraction;
	if (negative)
		*cents = -*cents;
	return 0;

not_decimal:
	snprintf(err, errlen, "%s is not a decimal amount (want e.g. \"1500.50\")", quoted);
	return -1;
out_of_range:
	snprintf(err, errlen, "%s is out of range (at most %lld.00)", quoted,
		 (long long)MONEY_MAX_UNITS);
	return -1;
}

/* The shortest "%.*g" text that reads back as the same double, so that
 * messages show 1.005 rather than 1.0049999999999999. */
static void format_real(double value, char *out, size_t outlen)
{
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(out, outlen, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			return;
	}
}

/*
 * A JSON real is accepted when it is the double nearest to a decimal with
 * at most two decimals: printed with "%.2f" (correctly rounded by glibc) and
 * read back, it gives the very same double. The cents then come from that
 * two-decimal text, never from value * 100 in floating point. This is exact
 * where the "value * 100 is within 1e-6 of an integer" test is not: near
 * 10^11 a valid 12345678901.23 is 0.0002 away from a whole number of cents
 * after the multiplication, and 1.0000000001 is within 1e-6 of 100 cents.
 * 1500.5 and 0.1 are accepted; 1.005 (stored as 1.00499999999999989...) and
 * 0.30000000000000004 are refused.
 */
static int money_from_real(double value, int64_t *cents, char *err, size_t errlen)
{
	char text[64];
	char shown[32];

	format_real(value, shown, sizeof shown);
	if (!isfinite(value) || fabs(value) > (double)MONEY_MAX_UNITS) {
		snprintf(err, errlen, "%s is out of range (at most %lld.00)", shown,
			 (long long)MONEY_MAX_UNITS);
		return -1;
	}
	snprintf(text, sizeof text, "%.2f", value);
	if (strtod(text, NULL) != value) {
		snprintf(err, errlen, "%s has more than two decimals", shown);
		return -1;
	}
	return money_parse_text(text, cents, err, errlen);
}

static const char *json_kind(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	default:
		return "this value";
	}
}

int money_from_json(const json_t *value, int64_t *cents, char *err, size_t errlen)
{
	*cents = 0;
	if (value == NULL) {
		snprintf(err, errlen, "missing amount");
		return -1;
	}
	if (json_is_string(value))
		return money_parse_text(json_string_value(value), cents, err, errlen);
	if (json_is_integer(value)) {
		json_int_t units = json_integer_value(value);
		if (units > MONEY_MAX_UNITS || units < -MONEY_MAX_UNITS) {
			snprintf(err, errlen, "%lld is out of range (at most %lld.00)",
				 (long long)units, (long long)MONEY_MAX_UNITS);
			return -1;
		}
		*cents = (int64_t)units * 100;
		return 0;
	}
	if (json_is_real(value))
		return money_from_real(json_real_value(value), cents, err, errlen);
	snprintf(err, errlen, "%s is not an amount (want a string like \"1500.50\" or a number)",
		 json_kind(value));
	return -1;
}

void money_format(int64_t cents, char *out, size_t outlen)
{
	/* Through uint64_t so that INT64_MIN has a magnitude too. */
	uint64_t magnitude = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	snprintf(out, outlen, "%s%llu.%02llu", cents < 0 ? "-" : "",
		 (unsigned long long)(magnitude / 100), (unsigned long long)(magnitude % 100));
}

/*
 * floor((2|n| + d) / 2d) in 128-bit arithmetic, so neither 2n nor n + d/2
 * can overflow, and an exact half (d even, remainder d/2) rounds up. A
 * negative numerator is rounded symmetrically (away from zero on .5).
 */
int64_t ratio_round_half_up(int64_t numerator, int64_t denominator)
{
	if (denominator <= 0)
		return 0;
	__int128 n = numerator;
	int negative = n < 0;
	if (negative)
		n = -n;
	__int128 d = denominator;
	__int128 q = (2 * n + d) / (2 * d);
	return (int64_t)(negative ? -q : q);
}
