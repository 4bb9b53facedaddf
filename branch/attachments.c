/* attachments: owns the site side's photos: adding them to the local
 * content-addressed store (checked by content: JPEG or PNG, bounded size),
 * linking them to the record that references them, and asking for photos
 * HQ holds. The agent (agent.c, upload/fetch) moves the bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "branch.h"
#include "store.h"
#include "util.h"

int branch_blob_path(const char *data_dir, const uint8_t *sha256, char *out, size_t outlen)
{
	return blob_path(data_dir, sha256, out, outlen);
}

/* Copies src into the blob store under its hash (atomic rename). */
static int store_copy(const char *data_dir, const char *src, const uint8_t *sha256, char *err,
		      size_t errlen)
{
	char final[4096];
	if (blob_make_dirs(data_dir, sha256) != 0 ||
	    blob_path(data_dir, sha256, final, sizeof final) != 0) {
		snprintf(err, errlen, "cannot create the photo store in %s: %s", data_dir,
			 strerror(errno));
		return -1;
	}
	if (access(final, F_OK) == 0)
		return 0; /* the same photo, stored once */
	char *bytes = NULL, reason[512];
	size_t len = 0;
	if (read_file_bounded(src, BRANCH_ATTACHMENT_MAX, &bytes, &len, reason, sizeof reason) != 0) {
		snprintf(err, errlen, "%s", reason);
		return -1;
	}
	int rc = write_file_atomic(final, bytes, len, 0600);
	free(bytes);
	if (rc != 0)
		snprintf(err, errlen, "cannot store %s: %s", src, strerror(errno));
	return rc;
}

int branch_attachment_add(sqlite3 *db, const char *data_dir, const char *path,
			  Innsync__PhotoRef *ref, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if ((uint64_t)st.st_size > BRANCH_ATTACHMENT_MAX) {
		snprintf(err, errlen, "%s: %lld bytes, over the %d MiB photo limit", path,
			 (long long)st.st_size, BRANCH_ATTACHMENT_MAX / (1024 * 1024));
		return -1;
	}
	uint8_t head[16];
	FILE *file = fopen(path, "rb");
	size_t got = file ? fread(head, 1, sizeof head, file) : 0;
	if (file)
		fclose(file);
	const char *mime = image_sniff(head, got);
	if (mime == NULL) {
		snprintf(err, errlen, "%s: not a JPEG or PNG image (checked by its content)", path);
		return -1;
	}
	uint8_t sha256[SHA256_LEN];
	uint64_t size = 0;
	if (file_sha256(path, sha256, &size) != 0) {
		snprintf(err, errlen, "%s: cannot read it", path);
		return -1;
	}
	if (store_copy(data_dir, path, sha256, err, errlen) != 0)
		return -1;
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO attachments (sha256, size, mime, captured_at, state)"
			  " VALUES (?, ?, ?, ?, 'draft') ON CONFLICT (sha256) DO NOTHING",
			  &stmt) != 0) {
		snprintf(err, errlen, "cannot record the photo");
		return -1;
	}
	int64_t captured = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)size);
	sqlite3_bind_text(stmt, 3, mime, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, captured);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	if (rc != 0) {
		snprintf(err, errlen, "cannot record the photo: %s", sqlite3_errmsg(db));
		return -1;
	}
	ref->sha256.data = malloc(SHA256_LEN);
	if (ref->sha256.data == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(ref->sha256.data, sha256, SHA256_LEN);
	ref->sha256.len = SHA256_LEN;
	ref->size = size;
	ref->captured_at_ms = captured;
	ref->mime = (char *)mime;
	return 0;
}

int branch_attachment_link(sqlite3 *db, const uint8_t *sha256, uint64_t seq)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "UPDATE attachments SET state = 'pending', record_seq = ?"
			  " WHERE sha256 = ? AND state IN ('draft', 'failed')",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob(stmt, 2, sha256, SHA256_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

int branch_attachment_request(sqlite3 *db, const uint8_t *sha256, uint64_t size)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO attachment_fetches (sha256, size, state, requested_at)"
			  " VALUES (?, ?, 'wanted', ?) ON CONFLICT (sha256) DO UPDATE SET"
			  " state = CASE state WHEN 'complete' THEN 'complete' ELSE 'wanted' END,"
			  " error = '' RETURNING state = 'complete'",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)size);
	sqlite3_bind_int64(stmt, 3, now_ms());
	int rc = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	return rc;
}
