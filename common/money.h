/* money: exact money as int64 cents. Parses decimal strings and JSON values
 * with at most two decimals, formats cents, and rounds ratios half-up. */
#ifndef INNSYNC_MONEY_H
#define INNSYNC_MONEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Largest accepted absolute amount: 10^13 cents (100 billion). */
#define MONEY_MAX_CENTS INT64_C(10000000000000)

/* Parses "595200.00", "8000", "1500.5", "-3.10". Refuses anything else
 * (exponents, more than two decimals, spaces, empty, out of range).
 * 0 on success; -1 with a reason in err (without the field name). */
int money_parse_text(const char *text, int64_t *cents, char *err, size_t errlen);

/* Same for a JSON value: a string as above, an integer, or a real number
 * that has at most two decimals. */
int money_from_json(const json_t *value, int64_t *cents, char *err, size_t errlen);

/* "595200.00", "-3.10". out: at least 32 bytes. */
void money_format(int64_t cents, char *out, size_t outlen);

/* round(numerator / denominator) half-up (away from zero on .5) for
 * non-negative numerator and positive denominator; 0 if denominator <= 0. */
int64_t ratio_round_half_up(int64_t numerator, int64_t denominator);

#endif
