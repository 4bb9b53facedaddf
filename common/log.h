/* log: operator-readable log lines on stderr ("2026-12-02T01:40:00Z hq: ...").
 * Levels are checked before formatting. */
#ifndef INNSYNC_LOG_H
#define INNSYNC_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

/* progname: prefix of every line; level: highest level printed. */
void log_init(const char *progname, enum log_level level);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
