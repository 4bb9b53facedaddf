/* cli: owns the output conventions of every sub-command (errors, exit codes,
 * JSON). */
#include "cli.h"

#include <stdarg.h>
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
