/* util: clocks, bounded file I/O, paths and small text helpers shared by
 * both programs. */
#ifndef INNSYNC_UTIL_H
#define INNSYNC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Wall-clock Unix milliseconds. Tests may shift it with the environment
 * variable INNSYNC_CLOCK_OFFSET (seconds, may be negative). */
int64_t now_ms(void);
/* Monotonic milliseconds, for timeouts and rates. */
int64_t mono_ms(void);

/* "2026-12-02T01:40:00Z" (UTC, second precision). out: at least 32 bytes. */
void format_iso8601(int64_t unix_ms, char *out, size_t outlen);

/* Reads a whole file of at most max_bytes. On success *out (NUL-terminated,
 * caller frees) and *len are set and 0 is returned; otherwise -1 with a
 * one-line reason in err (e.g. "report.json: larger than 65536 bytes"). */
int read_file_bounded(const char *path, size_t max_bytes, char **out, size_t *len,
		      char *err, size_t errlen);

/* Writes data to path through a temporary file, fsync and rename. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Creates dir and its parents (mode for the new ones). 0 or -1 (errno). */
int mkdir_p(const char *dir, mode_t mode);

/* out = dir + "/" + name. -1 if it does not fit. */
int path_join(char *out, size_t outlen, const char *dir, const char *name);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *bytes, size_t n, char *out);

/* Parses a decimal unsigned integer in [min,max]; whole string must match. */
int parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Length (1-4) of the valid UTF-8 sequence that starts at s, or 0 if the
 * bytes there are not one (bad lead or continuation byte, overlong form,
 * surrogate, beyond U+10FFFF). */
size_t utf8_sequence(const unsigned char *s);
/* 1 if text (NUL-terminated) is valid UTF-8, else 0. */
int utf8_valid(const char *text);

/* Rewrites text (NUL-terminated, in a buffer of size bytes) as one
 * printable UTF-8 line: control characters and bytes that are not valid
 * UTF-8 (including a sequence cut at the end) become \xNN; truncated to fit. */
void text_one_line(char *text, size_t size);

/* strlcpy-like: copies at most outlen-1 bytes, always NUL-terminates.
 * Returns -1 if src was truncated. */
int copy_string(char *out, size_t outlen, const char *src);

#endif
