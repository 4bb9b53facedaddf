/* blob: content-addressed files (photos) and recognising images by their
 * content, shared by both sides. */
#ifndef INNSYNC_BLOB_H
#define INNSYNC_BLOB_H

#include <stddef.h>
#include <stdint.h>

#define BLOB_CHUNK_MAX (256 * 1024)   /* bytes of one AttachmentChunk */

/* dir/blobs/<hex[0..1]>/<hex of sha256>. 0 or -1 if it does not fit. */
int blob_path(const char *dir, const uint8_t *sha256, char *out, size_t outlen);
/* dir/blobs/partial/<hex>.part: an upload or download in progress. */
int blob_partial_path(const char *dir, const uint8_t *sha256, char *out, size_t outlen);
/* Creates the directories of a blob path. 0 or -1 (errno). */
int blob_make_dirs(const char *dir, const uint8_t *sha256);

/* "image/jpeg" or "image/png" when the bytes start like one, else NULL. */
const char *image_sniff(const uint8_t *data, size_t len);

/* SHA-256 of a whole file, streamed. 0 or -1. OUT: *size (may be NULL). */
int file_sha256(const char *path, uint8_t out[32], uint64_t *size);

/* Copies a stored blob to dst (through dst.part, fsync, rename) after
 * checking that src still hashes to sha256. 0, or -1 with a reason. */
int blob_copy_verified(const char *src, const uint8_t *sha256, const char *dst, char *err,
		       size_t errlen);

#endif
