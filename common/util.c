/* util: clocks, bounded file I/O, paths and small text helpers. */
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_offset_ms(void)
{
	static int loaded;
	static int64_t offset;
	if (!loaded) {
		const char *text = getenv("INNSYNC_CLOCK_OFFSET");
		if (text != NULL && *text != '\0') {
			char *end = NULL;
			long long seconds = strtoll(text, &end, 10);
			if (end != NULL && *end == '\0')
				offset = (int64_t)seconds * 1000;
		}
		loaded = 1;
	}
	return offset;
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_ms();
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void format_iso8601(int64_t unix_ms, char *out, size_t outlen)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int read_file_bounded(const char *path, size_t max_bytes, char **out, size_t *len,
		      char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	FILE *file = fopen(path, "rb");
	if (file == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buffer = malloc(max_bytes + 2);
	if (buffer == NULL) {
		fclose(file);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t got = fread(buffer, 1, max_bytes + 1, file);
	int read_error = ferror(file);
	fclose(file);
	if (read_error) {
		free(buffer);
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	if (got > max_bytes) {
		free(buffer);
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max_bytes);
		return -1;
	}
	buffer[got] = '\0';
	*out = buffer;
	*len = got;
	return 0;
}

/* Makes a rename durable: fsync the directory holding path. */
static int fsync_parent_dir(const char *path)
{
	char dir[4096];
	if (copy_string(dir, sizeof dir, path) != 0)
		return -1;
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		copy_string(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* a stale temporary (other mode, or a link) must not shape the result */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	const char *cursor = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, cursor, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			return -1;
		}
		cursor += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0)
		return -1;
	return fsync_parent_dir(path);
}

int mkdir_p(const char *dir, mode_t mode)
{
	char path[4096];
	if (copy_string(path, sizeof path, dir) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

void hex_encode(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	if (text == NULL || *text < '0' || *text > '9')
		return -1;
	uint64_t value = 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		uint64_t digit = (uint64_t)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	if (value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

size_t utf8_sequence(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int utf8_valid(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	while (*p != '\0') {
		size_t n = utf8_sequence(p);
		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

void text_one_line(char *text, size_t size)
{
	if (size == 0)
		return;
	char *copy = strdup(text);
	if (copy == NULL) {
		text[0] = '\0';
		return;
	}
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)copy;
	size_t o = 0;
	while (*p != '\0') {
		size_t n = utf8_sequence(p);
		bool escape = n == 0 || *p < 0x20 || *p == 0x7f;
		size_t need = escape ? 4 : n;
		if (o + need + 1 > size)
			break;
		if (escape) {
			text[o++] = '\\';
			text[o++] = 'x';
			text[o++] = digits[*p >> 4];
			text[o++] = digits[*p & 0xf];
			p++;
		} else {
			memcpy(text + o, p, n);
			o += n;
			p += n;
		}
	}
	text[o] = '\0';
	free(copy);
}

int copy_string(char *out, size_t outlen, const char *src)
{
	if (outlen == 0)
		return -1;
	size_t n = strlen(src);
	if (n >= outlen) {
		memcpy(out, src, outlen - 1);
		out[outlen - 1] = '\0';
		return -1;
	}
	memcpy(out, src, n + 1);
	return 0;
}
