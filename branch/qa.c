/* qa: owns the site side's QA tables (component "qa" of branch.db) and the
 * helpers the QA commands share: opening the agent's store, the checklist
 * HQ sent, JSON output, and getting a photo out of the blob store (or from
 * HQ through the agent).
 *
 * Tables (an inspector's drafts; a site keeps no QA table of its own:
 * findings and their states are derived from the inbox and the outbox at
 * read time, see qa_view.c):
 *   qa_drafts          an inspection being recorded, then submitted (seq:
 *                      its outbox record; immutable from then on)
 *   qa_draft_findings  its findings, numbered 1.. (ids "<id>-F<n>")
 *   qa_draft_photos    each finding's photos (content in the blob store)
 *   qa_draft_scores    a score 0..100 per category inspected */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "cli.h"
#include "qa.h"
#include "store.h"
#include "util.h"
#include "wire.h"

static const char *const qa_migrations[] = {
	/* 1: issue 3 */
	"CREATE TABLE qa_drafts ("
	"  id TEXT PRIMARY KEY,"
	"  site TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  accompanied_by TEXT NOT NULL DEFAULT '',"
	"  inspector TEXT NOT NULL,"
	"  checklist_version INTEGER NOT NULL DEFAULT 0,"
	"  started_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','submitted')),"
	"  submitted_at INTEGER,"
	"  seq INTEGER);"
	"CREATE TABLE qa_draft_findings ("
	"  inspection TEXT NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  category TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  item TEXT NOT NULL DEFAULT '',"
	"  text TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (inspection, n)) WITHOUT ROWID;"
	"CREATE TABLE qa_draft_photos ("
	"  inspection TEXT NOT NULL,"
	"  finding INTEGER NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  mime TEXT NOT NULL,"
	"  captured_at INTEGER NOT NULL,"
	"  PRIMARY KEY (inspection, finding, idx)) WITHOUT ROWID;"
	"CREATE TABLE qa_draft_scores ("
	"  inspection TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  score INTEGER NOT NULL,"
	"  PRIMARY KEY (inspection, category)) WITHOUT ROWID;",
};

int branch_qa_migrate(sqlite3 *db, char *err, size_t errlen)
{
	return store_migrate_component(db, "qa", qa_migrations,
				       (int)(sizeof qa_migrations / sizeof qa_migrations[0]), err,
				       errlen);
}

int qa_ctx_open(struct qa_ctx *ctx, const char *data, bool with_key)
{
	char err[512];
	memset(ctx, 0, sizeof *ctx);
	ctx->data = data;
	if (data == NULL)
		return cli_usage("--data DIR is required");
	if (branch_store_open(data, &ctx->db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	if (branch_identity_load(ctx->db, &ctx->id, err, sizeof err) != 0) {
		qa_ctx_close(ctx);
		return cli_fail("%s", err);
	}
	if (with_key && branch_signing_key_load(data, &ctx->key) != 0) {
		qa_ctx_close(ctx);
		return cli_fail("cannot read the agent's signing key in %s/keys", data);
	}
	return CLI_OK;
}

void qa_ctx_close(struct qa_ctx *ctx)
{
	signing_key_destroy(&ctx->key);
	sqlite3_close(ctx->db);
	ctx->db = NULL;
}

Innsync__Checklist *qa_inbox_checklist(sqlite3 *db, uint32_t version)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT body FROM inbox WHERE kind = ? ORDER BY seq", &stmt) != 0)
		return NULL;
	sqlite3_bind_int(stmt, 1, INNSYNC__DOWN_KIND__DOWN_KIND_CHECKLIST);
	Innsync__DownBody *best = NULL;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__DownBody *body = (Innsync__DownBody *)wire_unpack(
		    &innsync__down_body__descriptor, sqlite3_column_blob(stmt, 0),
		    (size_t)sqlite3_column_bytes(stmt, 0));
		bool usable = body != NULL &&
			      body->payload_case == INNSYNC__DOWN_BODY__PAYLOAD_CHECKLIST &&
			      (version == 0 || body->checklist->version == version);
		if (usable &&
		    (best == NULL || body->checklist->version > best->checklist->version)) {
			wire_free((ProtobufCMessage *)best);
			best = body;
		} else {
			wire_free((ProtobufCMessage *)body);
		}
	}
	sqlite3_finalize(stmt);
	if (best == NULL)
		return NULL;
	/* hand out the checklist alone: re-pack it so wire_free frees it whole */
	uint8_t *bytes = NULL;
	size_t len = 0;
	Innsync__Checklist *checklist = NULL;
	if (wire_pack(&best->checklist->base, &bytes, &len) == 0)
		checklist =
		    (Innsync__Checklist *)wire_unpack(&innsync__checklist__descriptor, bytes, len);
	free(bytes);
	wire_free((ProtobufCMessage *)best);
	return checklist;
}

bool qa_blob_present(const char *data_dir, const uint8_t *sha256)
{
	char path[4096];
	return branch_blob_path(data_dir, sha256, path, sizeof path) == 0 &&
	       access(path, R_OK) == 0;
}

const char *qa_default_author(const char *fallback)
{
	const char *user = getenv("USER");
	return (user != NULL && *user != '\0') ? user : fallback;
}

int qa_inspection_photo(const Innsync__QaInspection *inspection, int64_t n,
			const Innsync__PhotoRef **out, const char **finding)
{
	int64_t count = 0;
	for (size_t i = 0; i < inspection->n_findings; i++) {
		const Innsync__QaFinding *f = inspection->findings[i];
		for (size_t j = 0; j < f->n_photos; j++) {
			if (++count == n) {
				*out = f->photos[j];
				*finding = f->id;
				return 0;
			}
		}
	}
	return -1;
}

/*---- Getting a photo out ---------------------------------------------------*/

/* The state of a fetch the agent was asked for: 1 complete, 0 still
 * wanted, -1 failed (reason in err). */
static int fetch_state(sqlite3 *db, const uint8_t *sha256, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT state, error FROM attachment_fetches WHERE sha256 = ?",
			  &stmt) != 0) {
		snprintf(err, errlen, "cannot read the agent's store");
		return -1;
	}
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(stmt, 0);
		if (strcmp(state, "complete") == 0) {
			rc = 1;
		} else if (strcmp(state, "failed") == 0) {
			snprintf(err, errlen, "HQ refused the photo: %s",
				 (const char *)sqlite3_column_text(stmt, 1));
			rc = -1;
		}
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* Polls until the agent fetched the photo or wait_s passed. 1, 0 or -1. */
static int wait_fetch(sqlite3 *db, const char *data_dir, const uint8_t *sha256, uint64_t wait_s,
		      char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + (int64_t)wait_s * 1000;
	const struct timespec pause = {0, 200 * 1000 * 1000};
	for (;;) {
		int state = fetch_state(db, sha256, err, errlen);
		if (state != 0)
			return state == 1 && qa_blob_present(data_dir, sha256) ? 1 : state;
		if (mono_ms() >= deadline)
			return 0;
		nanosleep(&pause, NULL);
	}
}

static int photo_written(const Innsync__PhotoRef *photo, const char *label, const char *out,
			 bool json)
{
	char hex[2 * SHA256_LEN + 1];
	hex_encode(photo->sha256.data, SHA256_LEN, hex);
	if (json)
		return cli_print_json(json_pack(
		    "{s:s, s:s, s:s, s:I, s:s, s:s}", "photo", label, "status", "written", "sha256",
		    hex, "size", (json_int_t)photo->size, "mime", photo->mime, "out", out));
	printf("wrote %s (%s, %llu bytes, %s, sha256 %s)\n", out, label,
	       (unsigned long long)photo->size, photo->mime, hex);
	return CLI_OK;
}

int qa_photo_out(struct qa_ctx *ctx, const Innsync__PhotoRef *photo, const char *label,
		 const char *out, uint64_t wait_s, bool json)
{
	char path[4096], err[512];
	if (photo->sha256.len != SHA256_LEN ||
	    branch_blob_path(ctx->data, photo->sha256.data, path, sizeof path) != 0)
		return cli_fail("%s: not a valid photo reference", label);
	int here = qa_blob_present(ctx->data, photo->sha256.data) ? 1 : 0;
	if (!here) {
		here = branch_attachment_request(ctx->db, photo->sha256.data, photo->size);
		if (here < 0)
			return cli_fail("cannot ask the agent for %s", label);
		if (here == 1 && !qa_blob_present(ctx->data, photo->sha256.data))
			here = 0;
		if (here == 0 && wait_s > 0)
			here = wait_fetch(ctx->db, ctx->data, photo->sha256.data, wait_s, err,
					  sizeof err);
		if (here < 0)
			return cli_fail("%s: %s", label, err);
	}
	if (here == 1) {
		if (blob_copy_verified(path, photo->sha256.data, out, err, sizeof err) != 0)
			return cli_fail("%s: %s", label, err);
		return photo_written(photo, label, out, json);
	}
	if (wait_s > 0)
		return cli_fail("%s has not arrived within %llu s; the agent keeps fetching it "
				"(innsync-branch run must be running and HQ reachable)",
				label, (unsigned long long)wait_s);
	if (json)
		return cli_print_json(json_pack("{s:s, s:s, s:s}", "photo", label, "status",
					       "requested", "out", out));
	printf("%s is not here yet: the agent (innsync-branch run) fetches it from HQ;\n"
	       "run this again later, or add --wait SECONDS\n",
	       label);
	return CLI_OK;
}
