/* cli: owns the output conventions of every sub-command (errors, exit codes,
 * JSON). */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

const char *cli_progname = "innsync";

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cli_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return CLI_FAIL;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cli_progname);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see --help)\n");
	va_end(ap);
	return CLI_USAGE;
}

int cli_print_json(json_t *value)
{
	if (value == NULL)
		return cli_fail("out of memory building JSON output");
	char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(value);
	if (text == NULL)
		return cli_fail("out of memory building JSON output");
	puts(text);
	free(text);
	return CLI_OK;
}

json_t *cli_json_time(int64_t unix_ms)
{
	if (unix_ms <= 0)
		return json_null();
	char text[32];
	format_iso8601(unix_ms, text, sizeof text);
	return json_string(text);
}

static void take_positional(const char *arg, const char **positional, size_t max_positional,
			    size_t *n_positional, const char **surplus)
{
	if (n_positional != NULL && *n_positional < max_positional)
		positional[(*n_positional)++] = arg;
	else if (*surplus == NULL)
		*surplus = arg;
}

int cli_parse(int argc, char **argv, const struct cli_option *options, size_t n_options,
	      void *args, const char *usage, const char **positional, size_t max_positional,
	      size_t *n_positional)
{
	struct option table[CLI_MAX_OPTIONS + 2];
	if (n_options > CLI_MAX_OPTIONS)
		return cli_usage("internal error: too many options");
	for (size_t i = 0; i < n_options; i++) {
		table[i].name = options[i].name;
		table[i].has_arg = options[i].kind == CLI_OPT_FLAG ? no_argument : required_argument;
		table[i].flag = NULL;
		table[i].val = 256 + (int)i;
	}
	table[n_options] = (struct option){ "help", no_argument, NULL, 'h' };
	table[n_options + 1] = (struct option){ 0 };
	if (n_positional != NULL)
		*n_positional = 0;
	char *base = args;
	const char *surplus = NULL; /* the first argument beyond max_positional */
	int opt;
	/* "-" first: arguments that are not options come back as 1, in order */
	while ((opt = getopt_long(argc, argv, "-", table, NULL)) != -1) {
		if (opt == 'h') {
			printf("%s", usage);
			return 1;
		}
		if (opt == 1) {
			take_positional(optarg, positional, max_positional, n_positional, &surplus);
			continue;
		}
		if (opt < 256 || (size_t)(opt - 256) >= n_options)
			return CLI_USAGE; /* getopt printed what was wrong */
		const struct cli_option *o = &options[opt - 256];
		if (o->kind == CLI_OPT_STRING) {
			*(const char **)(void *)(base + o->offset) = optarg;
		} else if (o->kind == CLI_OPT_FLAG) {
			*(bool *)(void *)(base + o->offset) = true;
		} else {
			struct cli_list *list = (struct cli_list *)(void *)(base + o->offset);
			if (list->n < CLI_LIST_MAX)
				list->items[list->n++] = optarg;
			else
				list->overflow = true;
		}
	}
	/* what follows "--" is positional too */
	for (; optind < argc; optind++)
		take_positional(argv[optind], positional, max_positional, n_positional, &surplus);
	if (surplus != NULL)
		return cli_usage("unexpected argument \"%s\"", surplus);
	return 0;
}

int cli_only_options(const struct cli_option *options, size_t n_options, const void *args,
		     unsigned long allowed)
{
	const char *base = args;
	for (size_t i = 0; i < n_options; i++) {
		const void *field = base + options[i].offset;
		bool given = options[i].kind == CLI_OPT_STRING ? *(const char *const *)field != NULL
			     : options[i].kind == CLI_OPT_FLAG ? *(const bool *)field
							       : ((const struct cli_list *)field)->n > 0;
		if (given && (allowed & (1ul << i)) == 0)
			return cli_usage("this command does not take --%s", options[i].name);
	}
	return 0;
}
