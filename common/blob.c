/* blob: owns the on-disk layout of content-addressed blobs and the image
 * sniffing both sides apply to photos. */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int blob_path(const char *dir, const uint8_t *sha256, char *out, size_t outlen)
{
	char hex[65];
	hex_encode(sha256, 32, hex);
	int n = snprintf(out, outlen, "%s/blobs/%.2s/%s", dir, hex, hex);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int blob_partial_path(const char *dir, const uint8_t *sha256, char *out, size_t outlen)
{
	char hex[65];
	hex_encode(sha256, 32, hex);
	int n = snprintf(out, outlen, "%s/blobs/partial/%s.part", dir, hex);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int blob_make_dirs(const char *dir, const uint8_t *sha256)
{
	char path[4096], hex[65];
	hex_encode(sha256, 32, hex);
	if (snprintf(path, sizeof path, "%s/blobs/partial", dir) >= (int)sizeof path ||
	    mkdir_p(path, 0700) != 0)
		return -1;
	if (snprintf(path, sizeof path, "%s/blobs/%.2s", dir, hex) >= (int)sizeof path)
		return -1;
	return mkdir_p(path, 0700);
}

const char *image_sniff(const uint8_t *data, size_t len)
{
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return "image/jpeg";
	if (len >= sizeof png && memcmp(data, png, sizeof png) == 0)
		return "image/png";
	return NULL;
}

int file_sha256(const char *path, uint8_t out[32], uint64_t *size)
{
	FILE *file = fopen(path, "rb");
	if (file == NULL)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	static unsigned char buffer[64 * 1024];
	uint64_t total = 0;
	size_t n;
	while (ok && (n = fread(buffer, 1, sizeof buffer, file)) > 0) {
		ok = EVP_DigestUpdate(ctx, buffer, n) == 1;
		total += n;
	}
	ok = ok && !ferror(file);
	unsigned int outlen = 32;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &outlen) == 1;
	EVP_MD_CTX_free(ctx);
	fclose(file);
	if (ok && size != NULL)
		*size = total;
	return ok ? 0 : -1;
}

static int stream_copy(const char *src, const char *part)
{
	int in = open(src, O_RDONLY);
	int out = open(part, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	static char buffer[64 * 1024];
	ssize_t n = 0;
	int rc = (in >= 0 && out >= 0) ? 0 : -1;
	while (rc == 0 && (n = read(in, buffer, sizeof buffer)) > 0)
		rc = write(out, buffer, (size_t)n) == n ? 0 : -1;
	if (n < 0 || (out >= 0 && fsync(out) != 0))
		rc = -1;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = -1;
	return rc;
}

int blob_copy_verified(const char *src, const uint8_t *sha256, const char *dst, char *err,
		       size_t errlen)
{
	uint8_t actual[32];
	char part[4096];
	if (file_sha256(src, actual, NULL) != 0) {
		snprintf(err, errlen, "cannot read the stored photo %.300s", src);
		return -1;
	}
	if (memcmp(actual, sha256, sizeof actual) != 0) {
		snprintf(err, errlen, "the stored photo no longer matches its SHA-256 "
				      "(run innsync-hq verify at HQ)");
		return -1;
	}
	if (snprintf(part, sizeof part, "%s.part", dst) >= (int)sizeof part) {
		snprintf(err, errlen, "--out path too long");
		return -1;
	}
	if (stream_copy(src, part) != 0 || rename(part, dst) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
		unlink(part);
		return -1;
	}
	return 0;
}
