/* cli: conventions shared by every sub-command of both programs: one-line
 * errors on stderr, exit codes, JSON output, option parsing helpers. */
#ifndef INNSYNC_CLI_H
#define INNSYNC_CLI_H

#include <jansson.h>
#include <stdint.h>

enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,     /* the command could not do what was asked */
	CLI_USAGE = 2,    /* the command line is wrong */
};

/* Set once by main: "innsync-hq" or "innsync-branch". */
extern const char *cli_progname;

/* Prints "<progname>: <message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "<progname>: <message> (see --help)"; returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints value (indented, keys in insertion order) and a newline on stdout,
 * then releases it. Returns CLI_OK, or CLI_FAIL if value is NULL. */
int cli_print_json(json_t *value);

/* ISO 8601 string, or JSON null for 0. New reference. */
json_t *cli_json_time(int64_t unix_ms);

#endif
