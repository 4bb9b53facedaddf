/* log: owns the process's log level and the format of every log line. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_progname = "innsync";
static enum log_level log_max_level = LOG_LEVEL_INFO;

void log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_max_level = level;
}

static void log_line(const char *tag, const char *fmt, va_list ap, int errnum)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

	char message[1024];
	vsnprintf(message, sizeof message, fmt, ap);
	if (errnum != 0)
		fprintf(stderr, "%s %s: %s%s: %s\n", stamp, log_progname, tag, message,
			strerror(errnum));
	else
		fprintf(stderr, "%s %s: %s%s\n", stamp, log_progname, tag, message);
	fflush(stderr);
}

void log_info(const char *fmt, ...)
{
	if (log_max_level < LOG_LEVEL_INFO)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap, 0);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (log_max_level < LOG_LEVEL_DEBUG)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_line("debug: ", fmt, ap, 0);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;
	va_start(ap, fmt);
	log_line("warning: ", fmt, ap, errnum);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("warning: ", fmt, ap, 0);
	va_end(ap);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
