/* attachments: owns HQ's side of photo uploads and downloads.
 *
 * A blob is content-addressed by its SHA-256. A record (a QA finding)
 * announces it first (hq_attachment_expect); only then may the agent that
 * wrote the record upload it, and only sites it concerns fetch it.
 * Upload rules, checked in order:
 *   1. the blob is expected from this agent, with this size, within the
 *      size limit;
 *   2. a chunk starts exactly at the bytes HQ holds (else: resend from
 *      there), holds at most BLOB_CHUNK_MAX bytes and ends within the size;
 *   3. the first chunk starts like a JPEG or PNG;
 *   4. written chunks are fsynced once per loop turn (after the turn's
 *      commit), then reported to the agent as `have` (durable bytes);
 *   5. when all bytes are there, the file's SHA-256 must match before it is
 *      moved into the store and marked complete; a mismatch discards it.
 * Memory is bounded by the chunks of one turn, not by the file size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define HQ_MAX_OPEN_UPLOADS 64

struct hq_upload {
	uint8_t sha256[SHA256_LEN];
	uint64_t size;
	uint64_t have;          /* bytes written to the partial file */
	int fd;                 /* owned */
	struct hq_agent *agent; /* who uploads it now */
	bool dirty;             /* written this turn, not yet fsynced */
	bool failed;
	char error[128];
};

int hq_blob_path(const char *data_dir, const uint8_t sha256[SHA256_LEN], char *out, size_t outlen)
{
	return blob_path(data_dir, sha256, out, outlen);
}

int hq_attachment_expect(struct hq_daemon *hq, const uint8_t *sha256, uint64_t size,
			 const char *site, const char *agent, const char *record_id)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "INSERT INTO attachments (sha256, size, state) VALUES (?, ?, 'expected')"
		    " ON CONFLICT (sha256) DO NOTHING");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)size);
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return -1;
	stmt = hq_statement(hq, "INSERT OR IGNORE INTO attachment_refs (sha256, site, agent, record_id)"
				" VALUES (?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, record_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int hq_attachment_complete(sqlite3 *db, const uint8_t *sha256)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT state = 'complete' FROM attachments WHERE sha256 = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	return rc;
}

static void send_status(struct hq_daemon *hq, struct hq_agent *agent, const uint8_t *sha256,
			uint64_t have, bool complete, const char *error, bool resend)
{
	Innsync__AttachmentStatus status = INNSYNC__ATTACHMENT_STATUS__INIT;
	status.sha256.data = (uint8_t *)sha256;
	status.sha256.len = SHA256_LEN;
	status.have = have;
	status.complete = complete;
	status.error = (char *)(error ? error : "");
	status.resend = resend;
	Innsync__HqMessage msg = INNSYNC__HQ_MESSAGE__INIT;
	msg.msg_case = INNSYNC__HQ_MESSAGE__MSG_ATTACHMENT_STATUS;
	msg.attachment_status = &status;
	hq_send_to_agent(hq, agent, &msg);
}

/* Rule 1. Returns 1 complete, 0 expected (fills *size), -1 refused (reason). */
static int expected_from(struct hq_daemon *hq, struct hq_agent *agent, const uint8_t *sha256,
			 uint64_t *size, char *reason, size_t reasonlen)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "SELECT a.size, a.state FROM attachments a WHERE a.sha256 = ?1 AND EXISTS"
		    " (SELECT 1 FROM attachment_refs r WHERE r.sha256 = ?1 AND r.agent = ?2)");
	if (stmt == NULL) {
		snprintf(reason, reasonlen, "HQ cannot read its store; try again");
		return -1;
	}
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, agent->id, -1, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(stmt, 0);
		rc = strcmp((const char *)sqlite3_column_text(stmt, 1), "complete") == 0 ? 1 : 0;
	} else {
		snprintf(reason, reasonlen, "no record of this agent references this photo");
	}
	sqlite3_reset(stmt);
	if (rc == 0 && *size > hq->max_attachment_bytes) {
		snprintf(reason, reasonlen, "photo of %llu bytes is over the %llu MiB limit",
			 (unsigned long long)*size,
			 (unsigned long long)(hq->max_attachment_bytes / (1024 * 1024)));
		rc = -1;
	}
	return rc;
}

static struct hq_upload *find_upload(struct hq_daemon *hq, const uint8_t *sha256)
{
	for (size_t i = 0; i < hq->n_uploads; i++)
		if (memcmp(hq->uploads[i].sha256, sha256, SHA256_LEN) == 0)
			return &hq->uploads[i];
	return NULL;
}

static void close_upload(struct hq_daemon *hq, struct hq_upload *upload)
{
	if (upload->fd >= 0)
		close(upload->fd);
	size_t index = (size_t)(upload - hq->uploads);
	hq->uploads[index] = hq->uploads[hq->n_uploads - 1];
	hq->n_uploads--;
}

/* Opens (or resumes) the partial file of an expected blob. */
static struct hq_upload *open_upload(struct hq_daemon *hq, struct hq_agent *agent,
				     const uint8_t *sha256, uint64_t size)
{
	if (hq->uploads == NULL) {
		hq->uploads = calloc(HQ_MAX_OPEN_UPLOADS, sizeof *hq->uploads);
		if (hq->uploads == NULL)
			return NULL;
	}
	for (size_t i = 0; hq->n_uploads == HQ_MAX_OPEN_UPLOADS && i < hq->n_uploads; i++)
		if (!hq->uploads[i].dirty)
			close_upload(hq, &hq->uploads[i]);
	if (hq->n_uploads == HQ_MAX_OPEN_UPLOADS)
		return NULL;
	char path[4096];
	if (blob_make_dirs(hq->data_dir, sha256) != 0 ||
	    blob_partial_path(hq->data_dir, sha256, path, sizeof path) != 0)
		return NULL;
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_warn("cannot open %s", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct hq_upload *upload = &hq->uploads[hq->n_uploads++];
	memset(upload, 0, sizeof *upload);
	memcpy(upload->sha256, sha256, SHA256_LEN);
	upload->size = size;
	upload->have = (uint64_t)st.st_size <= size ? (uint64_t)st.st_size : 0;
	if ((uint64_t)st.st_size > size && ftruncate(fd, 0) != 0)
		log_warn("cannot truncate %s", path);
	upload->fd = fd;
	upload->agent = agent;
	return upload;
}

void hq_attachment_offer(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__AttachmentOffer *offer)
{
	if (offer->sha256.len != SHA256_LEN)
		return;
	const uint8_t *sha256 = offer->sha256.data;
	char reason[160];
	uint64_t size = 0;
	int state = expected_from(hq, agent, sha256, &size, reason, sizeof reason);
	if (state < 0) {
		send_status(hq, agent, sha256, 0, false, reason, false);
		return;
	}
	if (size != offer->size) {
		send_status(hq, agent, sha256, 0, false, "size differs from the one in the record",
			    false);
		return;
	}
	if (state == 1) {
		send_status(hq, agent, sha256, size, true, NULL, false);
		return;
	}
	struct hq_upload *upload = find_upload(hq, sha256);
	if (upload == NULL)
		upload = open_upload(hq, agent, sha256, size);
	if (upload == NULL) {
		send_status(hq, agent, sha256, 0, false, NULL, true);
		return;
	}
	upload->agent = agent;
	/* The partial file may hold bytes not yet fsynced by a crashed HQ;
	 * the final hash check catches any that did not survive. */
	send_status(hq, agent, sha256, upload->have, false, NULL, false);
}

static void count_received(struct hq_daemon *hq, const uint8_t *sha256, size_t bytes)
{
	if (hq_ensure_transaction(hq) != 0)
		return;
	sqlite3_stmt *stmt = hq_statement(
		hq, "UPDATE attachments SET bytes_received = bytes_received + ? WHERE sha256 = ?");
	if (stmt == NULL)
		return;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)bytes);
	sqlite3_bind_blob(stmt, 2, sha256, SHA256_LEN, SQLITE_STATIC);
	sqlite3_step(stmt);
	sqlite3_reset(stmt);
}

void hq_attachment_chunk(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__AttachmentChunk *chunk)
{
	if (chunk->sha256.len != SHA256_LEN)
		return;
	const uint8_t *sha256 = chunk->sha256.data;
	struct hq_upload *upload = find_upload(hq, sha256);
	if (upload == NULL) {
		char reason[160];
		uint64_t size = 0;
		int state = expected_from(hq, agent, sha256, &size, reason, sizeof reason);
		if (state != 0) {
			send_status(hq, agent, sha256, state == 1 ? size : 0, state == 1,
				    state < 0 ? reason : NULL, false);
			return;
		}
		upload = open_upload(hq, agent, sha256, size);
		if (upload == NULL) {
			send_status(hq, agent, sha256, 0, false, NULL, true);
			return;
		}
	}
	upload->agent = agent;
	count_received(hq, sha256, chunk->data.len);
	if (upload->failed)
		return;
	if (chunk->offset != upload->have || chunk->data.len == 0 ||
	    chunk->data.len > BLOB_CHUNK_MAX || chunk->offset + chunk->data.len > upload->size) {
		send_status(hq, agent, sha256, upload->have, false, NULL, true);
		return;
	}
	if (chunk->offset == 0 && image_sniff(chunk->data.data, chunk->data.len) == NULL) {
		upload->failed = true;
		upload->dirty = true;
		copy_string(upload->error, sizeof upload->error,
			    "not a JPEG or PNG image (checked by content)");
		return;
	}
	ssize_t written = pwrite(upload->fd, chunk->data.data, chunk->data.len, (off_t)chunk->offset);
	if (written != (ssize_t)chunk->data.len) {
		log_warn("cannot write an attachment chunk");
		send_status(hq, agent, sha256, upload->have, false, NULL, true);
		return;
	}
	upload->have += chunk->data.len;
	upload->dirty = true;
}

/* Rule 5: verify and move into the store. 0 complete; -1 (reason). */
static int finish_upload(struct hq_daemon *hq, struct hq_upload *upload, char *reason, size_t len)
{
	char partial[4096], final[4096];
	uint8_t actual[SHA256_LEN];
	uint64_t size = 0;
	if (blob_partial_path(hq->data_dir, upload->sha256, partial, sizeof partial) != 0 ||
	    blob_path(hq->data_dir, upload->sha256, final, sizeof final) != 0 ||
	    file_sha256(partial, actual, &size) != 0) {
		snprintf(reason, len, "HQ cannot read the upload");
		return -1;
	}
	if (size != upload->size || memcmp(actual, upload->sha256, SHA256_LEN) != 0) {
		unlink(partial);
		snprintf(reason, len, "the bytes do not match their SHA-256: upload discarded");
		return -1;
	}
	if (rename(partial, final) != 0) {
		snprintf(reason, len, "HQ cannot store the photo: %s", strerror(errno));
		return -1;
	}
	sqlite3_stmt *stmt = NULL;
	int rc = -1;
	if (store_prepare(hq->db,
			  "UPDATE attachments SET state = 'complete', completed_at = ? WHERE sha256 = ?",
			  &stmt) == 0) {
		sqlite3_bind_int64(stmt, 1, now_ms());
		sqlite3_bind_blob(stmt, 2, upload->sha256, SHA256_LEN, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(stmt);
	}
	if (rc != 0)
		snprintf(reason, len, "HQ cannot record the photo; try again");
	return rc;
}

void hq_attachments_flush(struct hq_daemon *hq)
{
	for (size_t i = 0; i < hq->n_uploads;) {
		struct hq_upload *upload = &hq->uploads[i];
		if (!upload->dirty) {
			i++;
			continue;
		}
		upload->dirty = false;
		if (upload->failed) {
			char partial[4096];
			if (blob_partial_path(hq->data_dir, upload->sha256, partial, sizeof partial) == 0)
				unlink(partial);
			log_info("photo upload refused: %s", upload->error);
			send_status(hq, upload->agent, upload->sha256, 0, false, upload->error, false);
			close_upload(hq, upload);
			continue;
		}
		if (fdatasync(upload->fd) != 0) {
			log_warn("cannot sync an attachment");
			i++;
			continue;
		}
		if (upload->have < upload->size) {
			send_status(hq, upload->agent, upload->sha256, upload->have, false, NULL, false);
			i++;
			continue;
		}
		char reason[160];
		char hex[65];
		hex_encode(upload->sha256, SHA256_LEN, hex);
		if (hq->in_transaction)
			hq_ingest_commit(hq);
		if (finish_upload(hq, upload, reason, sizeof reason) == 0) {
			log_info("photo %.16s... complete (%llu bytes)", hex,
				 (unsigned long long)upload->size);
			send_status(hq, upload->agent, upload->sha256, upload->size, true, NULL, false);
		} else {
			log_warnx("photo %.16s...: %s", hex, reason);
			send_status(hq, upload->agent, upload->sha256, 0, false, reason, false);
		}
		close_upload(hq, upload);
	}
}

/* May this agent fetch the blob? It must be complete and concern one of its sites. */
static bool may_fetch(struct hq_daemon *hq, struct hq_agent *agent, const uint8_t *sha256,
		      uint64_t *size)
{
	sqlite3_stmt *stmt = hq_statement(
		hq, "SELECT a.size, r.site FROM attachments a JOIN attachment_refs r"
		    " ON r.sha256 = a.sha256 WHERE a.sha256 = ? AND a.state = 'complete'");
	if (stmt == NULL)
		return false;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	bool allowed = false;
	while (!allowed && sqlite3_step(stmt) == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(stmt, 0);
		allowed = hq_agent_has_site(agent, (const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_reset(stmt);
	return allowed;
}

void hq_attachment_fetch(struct hq_daemon *hq, struct hq_agent *agent,
			 const Innsync__AttachmentFetch *fetch)
{
	if (fetch->sha256.len != SHA256_LEN)
		return;
	uint64_t size = 0;
	if (!may_fetch(hq, agent, fetch->sha256.data, &size)) {
		send_status(hq, agent, fetch->sha256.data, 0, false,
			    "no such photo for this agent's sites (or not yet uploaded)", false);
		return;
	}
	char path[4096];
	static uint8_t buffer[BLOB_CHUNK_MAX];
	ssize_t got = -1;
	if (fetch->offset < size && blob_path(hq->data_dir, fetch->sha256.data, path, sizeof path) == 0) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0) {
			uint64_t want = size - fetch->offset;
			got = pread(fd, buffer, want < sizeof buffer ? want : sizeof buffer,
				    (off_t)fetch->offset);
			close(fd);
		}
	}
	if (got <= 0) {
		send_status(hq, agent, fetch->sha256.data, 0, false, "HQ cannot read this photo", false);
		return;
	}
	Innsync__AttachmentChunk chunk = INNSYNC__ATTACHMENT_CHUNK__INIT;
	chunk.sha256 = fetch->sha256;
	chunk.offset = fetch->offset;
	chunk.data.data = buffer;
	chunk.data.len = (size_t)got;
	chunk.size = size;
	Innsync__HqMessage msg = INNSYNC__HQ_MESSAGE__INIT;
	msg.msg_case = INNSYNC__HQ_MESSAGE__MSG_ATTACHMENT_CHUNK;
	msg.attachment_chunk = &chunk;
	hq_send_to_agent(hq, agent, &msg);
}

void hq_attachments_close(struct hq_daemon *hq)
{
	for (size_t i = 0; i < hq->n_uploads; i++)
		close(hq->uploads[i].fd);
	free(hq->uploads);
	hq->uploads = NULL;
	hq->n_uploads = 0;
}
