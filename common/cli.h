/* cli: conventions shared by every sub-command of both programs: one-line
 * errors on stderr, exit codes, JSON output, option parsing helpers. */
#ifndef INNSYNC_CLI_H
#define INNSYNC_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
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

/* A command's options in one table: each long option fills one field of the
 * command's argument struct. Every command also takes --help. */
enum cli_option_kind {
	CLI_OPT_STRING, /* --name VALUE: sets a const char * field */
	CLI_OPT_FLAG,   /* --name: sets a bool field to true */
	CLI_OPT_LIST,   /* --name VALUE, repeatable: appends to a struct cli_list field */
};

#define CLI_LIST_MAX 16

/* The values of a repeatable option, in order. overflow: given more than
 * CLI_LIST_MAX times (the first CLI_LIST_MAX are kept). */
struct cli_list {
	const char *items[CLI_LIST_MAX];
	size_t n;
	bool overflow;
};

struct cli_option {
	const char *name; /* without "--" */
	enum cli_option_kind kind;
	size_t offset;    /* of the field in the argument struct */
};

#define CLI_STRING(name, type, field) { name, CLI_OPT_STRING, offsetof(type, field) }
#define CLI_FLAG(name, type, field) { name, CLI_OPT_FLAG, offsetof(type, field) }
#define CLI_LIST(name, type, field) { name, CLI_OPT_LIST, offsetof(type, field) }
#define CLI_MAX_OPTIONS 32

/* Parses argv[1..argc-1] (argv[0] names the command) against options,
 * filling args. Arguments that are not options go to positional[0..max-1]
 * (*n_positional of them; positional may be NULL when max is 0).
 * Returns 0 parsed; 1 after printing usage for --help; CLI_USAGE (message
 * printed) for an unknown option, a missing value or one positional too many. */
int cli_parse(int argc, char **argv, const struct cli_option *options, size_t n_options,
	      void *args, const char *usage, const char **positional, size_t max_positional,
	      size_t *n_positional);

/* For commands sharing one option table: refuses any option given that is
 * not in allowed (bit i: options[i]). 0, or CLI_USAGE with "this command does
 * not take --NAME". */
int cli_only_options(const struct cli_option *options, size_t n_options, const void *args,
		     unsigned long allowed);

/* ISO 8601 string, or JSON null for 0. New reference. */
json_t *cli_json_time(int64_t unix_ms);

#endif
