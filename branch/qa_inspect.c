/* qa_inspect: owns the inspector's commands (`innsync-branch qa ...`):
 *   start    open a draft inspection of an assigned site; prints its id
 *   finding  add a finding (category, severity, text, item, photos)
 *   score    score a category 0..100
 *   submit   seal the draft: one signed record "qa/<id>" (revision 1),
 *            its photos linked for upload; immutable from then on
 *   import   the same from one JSON file (docs/QA.md)
 *   show, list, checklist, photo   what this agent holds
 * Drafts live in this agent's own tables (qa.c) and work offline. The
 * rules are qa_rules.c's, applied here before anything is signed and again
 * by HQ. --no-local-check (start, submit) skips the local refusals: a test
 * aid to show HQ refuses an unassigned site or an edited inspection too. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "cli.h"
#include "log.h"
#include "qa.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/*---- Options ---------------------------------------------------------------*/

_Static_assert(QA_MAX_PHOTOS == CLI_LIST_MAX, "--photo collects QA_MAX_PHOTOS values");

struct qa_args {
	const char *data, *site, *type, *accompanied, *category, *severity, *text, *item;
	const char *out, *reason, *score_text, *wait_text;
	struct cli_list photos; /* QA_MAX_PHOTOS == CLI_LIST_MAX */
	const char *positional[2];
	size_t n_positional;
	long score; /* -1: not given */
	uint64_t wait_s;
	bool json, unchecked;
};

/* One table for all: a command names the options it takes (OPT_BIT mask)
 * and is refused the others. */
enum {
	OPT_DATA,
	OPT_JSON,
	OPT_SITE,
	OPT_TYPE,
	OPT_ACCOMPANIED,
	OPT_CATEGORY,
	OPT_SEVERITY,
	OPT_TEXT,
	OPT_ITEM,
	OPT_PHOTO,
	OPT_SCORE,
	OPT_OUT,
	OPT_WAIT,
	OPT_REASON,
	OPT_UNCHECKED,
	OPT_COUNT,
};

#define OPT_BIT(opt) (1u << (opt))
#define QA_STRING(name, field) CLI_STRING(name, struct qa_args, field)

static const struct cli_option qa_options[OPT_COUNT] = {
	[OPT_DATA] = QA_STRING("data", data),
	[OPT_JSON] = CLI_FLAG("json", struct qa_args, json),
	[OPT_SITE] = QA_STRING("site", site),
	[OPT_TYPE] = QA_STRING("type", type),
	[OPT_ACCOMPANIED] = QA_STRING("accompanied-by", accompanied),
	[OPT_CATEGORY] = QA_STRING("category", category),
	[OPT_SEVERITY] = QA_STRING("severity", severity),
	[OPT_TEXT] = QA_STRING("text", text),
	[OPT_ITEM] = QA_STRING("item", item),
	[OPT_PHOTO] = CLI_LIST("photo", struct qa_args, photos),
	[OPT_SCORE] = QA_STRING("score", score_text),
	[OPT_OUT] = QA_STRING("out", out),
	[OPT_WAIT] = QA_STRING("wait", wait_text),
	[OPT_REASON] = QA_STRING("reason", reason),
	[OPT_UNCHECKED] = CLI_FLAG("no-local-check", struct qa_args, unchecked),
};

/* allowed: OPT_BIT mask of the command's options (--data, --json and
 * --help always). 0, 1 after --help, or a CLI exit code. */
static int parse_args(int argc, char **argv, unsigned allowed, size_t max_positional,
		      const char *usage, struct qa_args *args)
{
	memset(args, 0, sizeof *args);
	args->score = -1;
	int rc = cli_parse(argc, argv, qa_options, OPT_COUNT, args, usage, args->positional,
			   max_positional, &args->n_positional);
	if (rc != 0)
		return rc;
	allowed |= OPT_BIT(OPT_DATA) | OPT_BIT(OPT_JSON);
	rc = cli_only_options(qa_options, OPT_COUNT, args, allowed);
	if (rc != 0)
		return rc;
	if (args->photos.overflow)
		return cli_usage("at most %d --photo per finding", QA_MAX_PHOTOS);
	uint64_t value = 0;
	if (args->score_text != NULL) {
		if (parse_u64(args->score_text, 0, 100, &value) != 0)
			return cli_usage("--score must be a whole number from 0 to 100 (got \"%s\")",
					 args->score_text);
		args->score = (long)value;
	}
	if (args->wait_text != NULL && parse_u64(args->wait_text, 0, 3600, &args->wait_s) != 0)
		return cli_usage("--wait must be seconds from 0 to 3600");
	return 0;
}

/*---- Drafts ----------------------------------------------------------------*/

struct draft {
	char id[QA_MAX_ID + 1];
	char site[64];
	char type[16];
	char accompanied[QA_MAX_NAME + 1];
	char inspector[QA_MAX_NAME + 1];
	uint32_t checklist_version;
	int64_t started_at, submitted_at;
	bool submitted;
	uint64_t seq;
};

static const char *column_text(sqlite3_stmt *stmt, int column)
{
	const char *text = (const char *)sqlite3_column_text(stmt, column);
	return text != NULL ? text : "";
}

/* 1 found, 0 not, -1 error. */
static int draft_load(sqlite3 *db, const char *id, struct draft *out)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(
		db,
		"SELECT site, type, accompanied_by, inspector, checklist_version, started_at,"
		" state, COALESCE(submitted_at, 0), COALESCE(seq, 0) FROM qa_drafts"
		" WHERE id = ?",
		&stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	int found = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		copy_string(out->id, sizeof out->id, id);
		copy_string(out->site, sizeof out->site, column_text(stmt, 0));
		copy_string(out->type, sizeof out->type, column_text(stmt, 1));
		copy_string(out->accompanied, sizeof out->accompanied, column_text(stmt, 2));
		copy_string(out->inspector, sizeof out->inspector, column_text(stmt, 3));
		out->checklist_version = (uint32_t)sqlite3_column_int64(stmt, 4);
		out->started_at = sqlite3_column_int64(stmt, 5);
		out->submitted = strcmp(column_text(stmt, 6), "submitted") == 0;
		out->submitted_at = sqlite3_column_int64(stmt, 7);
		out->seq = (uint64_t)sqlite3_column_int64(stmt, 8);
		found = 1;
	}
	sqlite3_finalize(stmt);
	return found;
}

/* The draft, which must exist and still be open. CLI_OK or a refusal. */
static int open_draft(sqlite3 *db, const char *id, struct draft *out)
{
	int found = draft_load(db, id, out);
	if (found < 0)
		return cli_fail("cannot read the agent's store");
	if (found == 0)
		return cli_fail(
		    "no inspection %s on this agent (qa start opens one; qa list lists them)", id);
	if (out->submitted) {
		char when[32];
		format_iso8601(out->submitted_at, when, sizeof when);
		return cli_fail(
		    "inspection %s was submitted at %s: a submitted inspection is sealed "
		    "and cannot be changed",
		    id, when);
	}
	return CLI_OK;
}

static int inspector_only(const struct qa_ctx *ctx)
{
	if (strcmp(ctx->id.role, "inspector") == 0)
		return CLI_OK;
	return cli_fail("only an inspector's agent records inspections (this is site %s's agent)",
			ctx->id.first_site);
}

static int draft_create(sqlite3 *db, const struct draft *d)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "INSERT INTO qa_drafts (id, site, type, accompanied_by, inspector,"
			  " checklist_version, started_at) VALUES (?,?,?,?,?,?,?)",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, d->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, d->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, d->accompanied, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, d->inspector, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, d->checklist_version);
	sqlite3_bind_int64(stmt, 7, d->started_at);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

/* Fills a new draft for site (id, checklist, inspector). CLI_OK or refusal. */
static int draft_new(struct qa_ctx *ctx, const char *site, const char *type,
		     const char *accompanied, bool unchecked, struct draft *d)
{
	memset(d, 0, sizeof *d);
	if (!unchecked && !branch_has_site(ctx->db, site))
		return cli_fail("site %s is not assigned to this inspector (HQ assigns sites with "
				"innsync-hq token --inspector NAME --sites ...)",
				site);
	if (strcmp(type, "announced") != 0 && strcmp(type, "mystery") != 0)
		return cli_usage("--type must be announced or mystery (got \"%s\")", type);
	if (strlen(accompanied) > QA_MAX_NAME || strchr(accompanied, '\n') != NULL)
		return cli_usage("--accompanied-by: one line of at most %d bytes", QA_MAX_NAME);
	Innsync__Checklist *checklist = qa_inbox_checklist(ctx->db, 0);
	d->checklist_version = checklist ? checklist->version : 0;
	wire_free((ProtobufCMessage *)checklist);
	uint8_t random[2];
	d->started_at = now_ms();
	if (random_fill(random, sizeof random) != 0 ||
	    qa_inspection_id_make(site, d->started_at, random, d->id, sizeof d->id) != 0)
		return cli_fail("cannot make an inspection id for site %s", site);
	copy_string(d->site, sizeof d->site, site);
	copy_string(d->type, sizeof d->type, type);
	copy_string(d->accompanied, sizeof d->accompanied, accompanied);
	copy_string(d->inspector, sizeof d->inspector, ctx->id.inspector);
	return CLI_OK;
}

/*---- qa start --------------------------------------------------------------*/

static int qa_start(struct qa_ctx *ctx, const struct qa_args *args)
{
	if (args->site == NULL || args->n_positional > 0)
		return cli_usage("qa start needs --site ID");
	int rc = inspector_only(ctx);
	if (rc != CLI_OK)
		return rc;
	struct draft d;
	rc = draft_new(ctx, args->site, args->type ? args->type : "announced",
		       args->accompanied ? args->accompanied : "", args->unchecked, &d);
	if (rc != CLI_OK)
		return rc;
	if (draft_create(ctx->db, &d) != 0)
		return cli_fail("cannot store the draft (try again): %s", sqlite3_errmsg(ctx->db));
	if (d.checklist_version == 0)
		fprintf(stderr,
			"innsync-branch: warning: no checklist from HQ yet: item codes are not "
			"checked and every category weighs 1\n");
	if (args->json)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "id", d.id, "site",
					       d.site, "type", d.type, "inspector", d.inspector,
					       "checklist_version", (json_int_t)d.checklist_version,
					       "started_at", cli_json_time(d.started_at)));
	printf("%s\n", d.id);
	return CLI_OK;
}

/*---- qa finding ------------------------------------------------------------*/

/* The finding's fields against the rules and the draft's checklist. */
static int finding_check(sqlite3 *db, const struct draft *d, const struct qa_args *args)
{
	if (args->category == NULL || args->severity == NULL || args->text == NULL)
		return cli_usage("qa finding needs --category, --severity and --text");
	if (qa_category_parse(args->category) < 0)
		return cli_usage(
		    "--category must be service, hygiene, safety, hardware or conduct");
	if (qa_severity_parse(args->severity) < 0)
		return cli_usage("--severity must be minor, major or critical");
	if (args->text[strspn(args->text, " \t\r\n")] == '\0' || strlen(args->text) > QA_MAX_TEXT)
		return cli_usage("--text: 1 to %d bytes", QA_MAX_TEXT);
	if (args->item == NULL || d->checklist_version == 0)
		return CLI_OK;
	Innsync__Checklist *checklist = qa_inbox_checklist(db, d->checklist_version);
	const Innsync__ChecklistItem *item = qa_checklist_item(checklist, args->item);
	int rc = CLI_OK;
	if (checklist == NULL)
		rc = cli_fail("checklist version %u is no longer in this agent's inbox",
			      d->checklist_version);
	else if (item == NULL)
		rc = cli_usage("--item: %s is not an item of checklist \"%s\" v%u", args->item,
			       checklist->name, checklist->version);
	else if (strcmp(item->category, args->category) != 0)
		rc = cli_usage("--item: %s is in category %s, not %s", item->code, item->category,
			       args->category);
	wire_free((ProtobufCMessage *)checklist);
	return rc;
}

struct photo_list {
	Innsync__PhotoRef refs[QA_MAX_PHOTOS];
	size_t n;
};

static void photo_list_free(struct photo_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->refs[i].sha256.data);
	list->n = 0;
}

/* Checks and copies photos into the blob store (base: directory that
 * relative paths are relative to, NULL: as given). */
static int photos_add(struct qa_ctx *ctx, const char *const *paths, size_t n, const char *base,
		      struct photo_list *out)
{
	char err[512], path[4096];
	for (size_t i = 0; i < n; i++) {
		if (base != NULL && paths[i][0] != '/')
			snprintf(path, sizeof path, "%s/%s", base, paths[i]);
		else
			copy_string(path, sizeof path, paths[i]);
		Innsync__PhotoRef *ref = &out->refs[out->n];
		innsync__photo_ref__init(ref);
		if (branch_attachment_add(ctx->db, ctx->data, path, ref, err, sizeof err) != 0)
			return cli_fail("%s", err);
		out->n++;
	}
	return CLI_OK;
}

/* Inserts finding n of the draft with its photos (caller's transaction). */
static int finding_insert(sqlite3 *db, const char *inspection, int64_t n, const char *category,
			  const char *severity, const char *item, const char *text,
			  const struct photo_list *photos)
{
	sqlite3_stmt *finding = NULL, *photo = NULL;
	int rc = -1;
	if (store_prepare(db,
			  "INSERT INTO qa_draft_findings (inspection, n, category, severity, item,"
			  " text, created_at) VALUES (?,?,?,?,?,?,?)",
			  &finding) != 0 ||
	    store_prepare(
		db,
		"INSERT INTO qa_draft_photos (inspection, finding, idx, sha256, size, mime,"
		" captured_at) VALUES (?,?,?,?,?,?,?)",
		&photo) != 0)
		goto done;
	sqlite3_bind_text(finding, 1, inspection, -1, SQLITE_STATIC);
	sqlite3_bind_int64(finding, 2, n);
	sqlite3_bind_text(finding, 3, category, -1, SQLITE_STATIC);
	sqlite3_bind_text(finding, 4, severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(finding, 5, item, -1, SQLITE_STATIC);
	sqlite3_bind_text(finding, 6, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(finding, 7, now_ms());
	if (sqlite3_step(finding) != SQLITE_DONE)
		goto done;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < photos->n; i++) {
		const Innsync__PhotoRef *ref = &photos->refs[i];
		sqlite3_bind_text(photo, 1, inspection, -1, SQLITE_STATIC);
		sqlite3_bind_int64(photo, 2, n);
		sqlite3_bind_int64(photo, 3, (sqlite3_int64)i);
		sqlite3_bind_blob(photo, 4, ref->sha256.data, SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(photo, 5, (sqlite3_int64)ref->size);
		sqlite3_bind_text(photo, 6, ref->mime, -1, SQLITE_STATIC);
		sqlite3_bind_int64(photo, 7, ref->captured_at_ms);
		rc = sqlite3_step(photo) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(photo);
	}
done:
	sqlite3_finalize(finding);
	sqlite3_finalize(photo);
	return rc;
}

static int qa_finding(struct qa_ctx *ctx, const struct qa_args *args)
{
	if (args->n_positional != 1)
		return cli_usage("qa finding needs the INSPECTION id");
	const char *id = args->positional[0];
	struct draft d;
	int rc = open_draft(ctx->db, id, &d);
	if (rc == CLI_OK)
		rc = finding_check(ctx->db, &d, args);
	if (rc != CLI_OK)
		return rc;
	struct photo_list photos = {.n = 0};
	rc = photos_add(ctx, args->photos.items, args->photos.n, NULL, &photos);
	long long count = 0;
	char finding_id[QA_MAX_FINDING_ID + 1];
	if (rc == CLI_OK && store_begin(ctx->db) != 0)
		rc = cli_fail("the agent's store is busy; try again");
	if (rc == CLI_OK) {
		sqlite3_stmt *stmt = NULL;
		if (store_prepare(ctx->db,
				  "SELECT count(*) FROM qa_draft_findings WHERE inspection = ?",
				  &stmt) == 0) {
			sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
			if (sqlite3_step(stmt) == SQLITE_ROW)
				count = sqlite3_column_int64(stmt, 0);
			sqlite3_finalize(stmt);
		}
		if (open_draft(ctx->db, id, &d) != CLI_OK) /* sealed meanwhile? */
			rc = CLI_FAIL;
		else if (count >= QA_MAX_FINDINGS)
			rc = cli_fail("inspection %s already has %d findings, the most allowed", id,
				      QA_MAX_FINDINGS);
		else if (finding_insert(ctx->db, id, count + 1, args->category, args->severity,
					args->item ? args->item : "", args->text, &photos) != 0 ||
			 store_commit(ctx->db) != 0)
			rc = cli_fail("cannot store the finding: %s", sqlite3_errmsg(ctx->db));
		if (rc != CLI_OK)
			store_rollback(ctx->db);
	}
	size_t n_photos = photos.n;
	photo_list_free(&photos);
	if (rc != CLI_OK)
		return rc;
	qa_finding_id_make(id, (size_t)count + 1, finding_id, sizeof finding_id);
	if (args->json)
		return cli_print_json(json_pack("{s:s, s:s, s:I, s:I}", "id", finding_id,
					       "inspection", id, "n", (json_int_t)count + 1,
					       "photos", (json_int_t)n_photos));
	printf("%s\n", finding_id);
	return CLI_OK;
}

/*---- qa score --------------------------------------------------------------*/

static int score_set(sqlite3 *db, const char *id, const char *category, long score)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(
		db,
		"INSERT INTO qa_draft_scores (inspection, category, score) VALUES (?,?,?)"
		" ON CONFLICT (inspection, category) DO UPDATE SET score = excluded.score",
		&stmt) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, category, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, score);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

static int qa_score(struct qa_ctx *ctx, const struct qa_args *args)
{
	if (args->n_positional != 1 || args->category == NULL || args->score < 0)
		return cli_usage("qa score needs INSPECTION, --category C and --score 0-100");
	if (qa_category_parse(args->category) < 0)
		return cli_usage(
		    "--category must be service, hygiene, safety, hardware or conduct");
	struct draft d;
	if (store_begin(ctx->db) != 0)
		return cli_fail("the agent's store is busy; try again");
	int rc = open_draft(ctx->db, args->positional[0], &d);
	if (rc == CLI_OK && (score_set(ctx->db, d.id, args->category, args->score) != 0 ||
			     store_commit(ctx->db) != 0))
		rc = cli_fail("cannot store the score: %s", sqlite3_errmsg(ctx->db));
	if (rc != CLI_OK) {
		store_rollback(ctx->db);
		return rc;
	}
	if (args->json)
		return cli_print_json(json_pack("{s:s, s:s, s:i}", "inspection", d.id, "category",
					       args->category, "score", (int)args->score));
	printf("%s: %s scored %ld\n", d.id, args->category, args->score);
	return CLI_OK;
}

/*---- Building the signed inspection ----------------------------------------*/

/* A malloc'd protobuf tree, freed with innsync__qa_inspection__free_unpacked:
 * every string and array it holds is its own. */
static char *dup_text(const char *text, bool *oom)
{
	char *copy = strdup(text ? text : "");
	if (copy == NULL)
		*oom = true;
	return copy;
}

static void *grow(void *array, size_t count, size_t size, bool *oom)
{
	void *grown = realloc(array, (count + 1) * size);
	if (grown == NULL)
		*oom = true;
	return grown != NULL ? grown : array;
}

static void build_photos(sqlite3_stmt *stmt, Innsync__QaFinding *finding, bool *oom)
{
	while (!*oom && sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__PhotoRef *ref = malloc(sizeof *ref);
		uint8_t *sha = malloc(SHA256_LEN);
		finding->photos =
		    grow(finding->photos, finding->n_photos, sizeof *finding->photos, oom);
		if (ref == NULL || sha == NULL || *oom ||
		    sqlite3_column_bytes(stmt, 0) != SHA256_LEN) {
			free(ref);
			free(sha);
			*oom = true;
			break;
		}
		innsync__photo_ref__init(ref);
		memcpy(sha, sqlite3_column_blob(stmt, 0), SHA256_LEN);
		ref->sha256.data = sha;
		ref->sha256.len = SHA256_LEN;
		ref->size = (uint64_t)sqlite3_column_int64(stmt, 1);
		ref->mime = dup_text(column_text(stmt, 2), oom);
		ref->captured_at_ms = sqlite3_column_int64(stmt, 3);
		finding->photos[finding->n_photos++] = ref;
	}
	sqlite3_reset(stmt);
}

static void build_findings(sqlite3 *db, Innsync__QaInspection *in, bool *oom)
{
	sqlite3_stmt *stmt = NULL, *photos = NULL;
	if (store_prepare(
		db,
		"SELECT n, category, severity, item, text, created_at FROM qa_draft_findings"
		" WHERE inspection = ? ORDER BY n",
		&stmt) != 0 ||
	    store_prepare(db,
			  "SELECT sha256, size, mime, captured_at FROM qa_draft_photos"
			  " WHERE inspection = ? AND finding = ? ORDER BY idx",
			  &photos) != 0) {
		*oom = true;
		goto done;
	}
	sqlite3_bind_text(stmt, 1, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(photos, 1, in->id, -1, SQLITE_STATIC);
	while (!*oom && sqlite3_step(stmt) == SQLITE_ROW) {
		Innsync__QaFinding *f = malloc(sizeof *f);
		char id[QA_MAX_FINDING_ID + 1];
		in->findings = grow(in->findings, in->n_findings, sizeof *in->findings, oom);
		if (f == NULL || *oom) {
			free(f);
			*oom = true;
			break;
		}
		innsync__qa_finding__init(f);
		in->findings[in->n_findings++] = f;
		qa_finding_id_make(in->id, (size_t)sqlite3_column_int64(stmt, 0), id, sizeof id);
		f->id = dup_text(id, oom);
		f->category = dup_text(column_text(stmt, 1), oom);
		f->severity = dup_text(column_text(stmt, 2), oom);
		f->item = dup_text(column_text(stmt, 3), oom);
		f->text = dup_text(column_text(stmt, 4), oom);
		f->created_at_ms = sqlite3_column_int64(stmt, 5);
		sqlite3_bind_int64(photos, 2, sqlite3_column_int64(stmt, 0));
		build_photos(photos, f, oom);
	}
done:
	sqlite3_finalize(stmt);
	sqlite3_finalize(photos);
}

/* Scores in category order, and every category's weight. */
static void build_scores(sqlite3 *db, Innsync__QaInspection *in,
			 const Innsync__Checklist *checklist, bool *oom)
{
	uint32_t weights[QA_CATEGORY_COUNT];
	qa_checklist_weights(checklist, weights);
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT score FROM qa_draft_scores WHERE inspection = ? AND category = ?",
			  &stmt) != 0) {
		*oom = true;
		return;
	}
	in->scores = calloc(QA_CATEGORY_COUNT, sizeof *in->scores);
	in->weights = calloc(QA_CATEGORY_COUNT, sizeof *in->weights);
	for (int c = 0; !*oom && in->scores && in->weights && c < QA_CATEGORY_COUNT; c++) {
		Innsync__CategoryWeight *w = malloc(sizeof *w);
		if (w == NULL) {
			*oom = true;
			break;
		}
		innsync__category_weight__init(w);
		w->category = dup_text(qa_category_name(c), oom);
		w->weight = weights[c];
		in->weights[in->n_weights++] = w;
		sqlite3_bind_text(stmt, 1, in->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, qa_category_name(c), -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			Innsync__CategoryScore *s = malloc(sizeof *s);
			if (s == NULL) {
				*oom = true;
			} else {
				innsync__category_score__init(s);
				s->category = dup_text(qa_category_name(c), oom);
				s->score = (uint32_t)sqlite3_column_int64(stmt, 0);
				in->scores[in->n_scores++] = s;
			}
		}
		sqlite3_reset(stmt);
	}
	if (in->scores == NULL || in->weights == NULL)
		*oom = true;
	sqlite3_finalize(stmt);
}

/* The inspection as it will be signed. NULL on error. */
static Innsync__QaInspection *draft_build(sqlite3 *db, const struct draft *d,
					  const Innsync__Checklist *checklist)
{
	Innsync__QaInspection *in = malloc(sizeof *in);
	if (in == NULL)
		return NULL;
	innsync__qa_inspection__init(in);
	bool oom = false;
	in->id = dup_text(d->id, &oom);
	in->site = dup_text(d->site, &oom);
	in->type = dup_text(d->type, &oom);
	in->inspector = dup_text(d->inspector, &oom);
	in->accompanied_by = dup_text(d->accompanied, &oom);
	in->started_at_ms = d->started_at;
	in->submitted_at_ms = now_ms();
	in->checklist_version = checklist ? checklist->version : 0;
	in->checklist_name = dup_text(checklist ? checklist->name : "", &oom);
	if (!oom)
		build_findings(db, in, &oom);
	if (!oom)
		build_scores(db, in, checklist, &oom);
	if (oom) {
		innsync__qa_inspection__free_unpacked(in, NULL);
		return NULL;
	}
	return in;
}

/*---- qa submit -------------------------------------------------------------*/

/* Every photo's bytes in the blob store still hash to the reference. */
static int photos_intact(const char *data_dir, const Innsync__QaInspection *in)
{
	for (size_t i = 0; i < in->n_findings; i++) {
		for (size_t j = 0; j < in->findings[i]->n_photos; j++) {
			const Innsync__PhotoRef *ref = in->findings[i]->photos[j];
			uint8_t actual[SHA256_LEN];
			char path[4096];
			if (branch_blob_path(data_dir, ref->sha256.data, path, sizeof path) != 0 ||
			    file_sha256(path, actual, NULL) != 0 ||
			    memcmp(actual, ref->sha256.data, SHA256_LEN) != 0)
				return cli_fail(
				    "photo %zu of finding %s changed or vanished since it was "
				    "added (its SHA-256 differs): add the photo again in a "
				    "new finding",
				    j + 1, in->findings[i]->id);
		}
	}
	return CLI_OK;
}

static int draft_mark_submitted(sqlite3 *db, const char *id, int64_t at, uint64_t seq)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "UPDATE qa_drafts SET state = 'submitted', submitted_at = ?, seq = ?"
			  " WHERE id = ?",
			  &stmt) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, at);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)seq);
	sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(stmt);
	return rc;
}

struct sealed {
	uint64_t seq;
	unsigned revision;
	size_t photos;
	json_t *overall; /* owned */
};

/* Signs the draft into the outbox and seals it, inside the caller's
 * transaction. CLI_OK or a refusal. */
static int seal(struct qa_ctx *ctx, const struct draft *d, const char *reason, struct sealed *out)
{
	Innsync__Checklist *checklist = NULL;
	if (d->checklist_version > 0) {
		checklist = qa_inbox_checklist(ctx->db, d->checklist_version);
		if (checklist == NULL)
			return cli_fail("checklist version %u is no longer in this agent's inbox",
					d->checklist_version);
	}
	Innsync__QaInspection *in = draft_build(ctx->db, d, checklist);
	char err[512], record_id[QA_MAX_ID + 8];
	int rc = CLI_OK;
	if (in == NULL)
		rc = cli_fail("cannot read the draft %s", d->id);
	else if (qa_inspection_check(in, checklist, BRANCH_ATTACHMENT_MAX, err, sizeof err) != 0)
		rc = cli_fail("inspection %s cannot be submitted: %s", d->id, err);
	else
		rc = photos_intact(ctx->data, in);
	wire_free((ProtobufCMessage *)checklist);
	snprintf(record_id, sizeof record_id, "qa/%s", d->id);
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_QA_INSPECTION;
	body.qa_inspection = in;
	struct outbox_entry entry = {
	    .record_id = record_id,
	    .kind = INNSYNC__RECORD_KIND__RECORD_KIND_QA_INSPECTION,
	    .site = d->site,
	    .author = d->inspector,
	    .reason = reason,
	    .revision = d->submitted ? 0 : 1,
	};
	if (rc == CLI_OK && outbox_append(ctx->db, &ctx->id, ctx->key, &entry, &body, &out->seq,
					  &out->revision) != 0)
		rc = cli_fail("cannot write the outbox in %s", ctx->data);
	out->photos = 0;
	for (size_t i = 0; rc == CLI_OK && i < in->n_findings; i++) {
		for (size_t j = 0; rc == CLI_OK && j < in->findings[i]->n_photos;
		     j++, out->photos++)
			if (branch_attachment_link(ctx->db, in->findings[i]->photos[j]->sha256.data,
						   out->seq) != 0)
				rc = cli_fail("cannot queue the photos for upload");
	}
	if (rc == CLI_OK &&
	    draft_mark_submitted(ctx->db, d->id, in->submitted_at_ms, out->seq) != 0)
		rc = cli_fail("cannot seal the draft");
	if (rc == CLI_OK)
		out->overall = qa_overall_json(in);
	if (in != NULL)
		innsync__qa_inspection__free_unpacked(in, NULL);
	return rc;
}

static int print_sealed(const struct draft *d, struct sealed *s, bool json)
{
	char record_id[QA_MAX_ID + 8];
	snprintf(record_id, sizeof record_id, "qa/%s", d->id);
	if (json)
		return cli_print_json(json_pack(
		    "{s:s, s:s, s:s, s:I, s:I, s:I, s:o}", "id", d->id, "record", record_id, "site",
		    d->site, "seq", (json_int_t)s->seq, "revision", (json_int_t)s->revision,
		    "photos", (json_int_t)s->photos, "overall_score", s->overall));
	if (json_is_number(s->overall))
		printf(
		    "submitted %s as record %llu (overall score %.1f, %zu photos); the agent sends "
		    "it, then its photos, when HQ is reachable\n",
		    d->id, (unsigned long long)s->seq, json_number_value(s->overall), s->photos);
	else
		printf("submitted %s as record %llu (%zu photos); the agent sends it, then its "
		       "photos, when HQ is reachable\n",
		       d->id, (unsigned long long)s->seq, s->photos);
	json_decref(s->overall);
	return CLI_OK;
}

static int qa_submit(struct qa_ctx *ctx, const struct qa_args *args)
{
	if (args->n_positional != 1)
		return cli_usage("qa submit needs the INSPECTION id");
	int rc = inspector_only(ctx);
	if (rc != CLI_OK)
		return rc;
	struct draft d = {.submitted = false};
	if (store_begin(ctx->db) != 0)
		return cli_fail("the agent's store is busy; try again");
	/* checked inside the transaction: two submits cannot both seal it */
	int found = draft_load(ctx->db, args->positional[0], &d);
	if (found != 1 || !d.submitted || !args->unchecked)
		rc = open_draft(ctx->db, args->positional[0], &d);
	struct sealed s = {0};
	const char *reason =
	    d.submitted ? (args->reason ? args->reason : "edited after submission") : "";
	if (rc == CLI_OK)
		rc = seal(ctx, &d, reason, &s);
	if (rc == CLI_OK && store_commit(ctx->db) != 0)
		rc = cli_fail("cannot write the outbox in %s", ctx->data);
	if (rc != CLI_OK) {
		store_rollback(ctx->db);
		return rc;
	}
	return print_sealed(&d, &s, args->json);
}

/*---- qa import -------------------------------------------------------------*/

/* The import's findings and scores into the new draft (caller's
 * transaction); photos already in the blob store, in file order. */
static int import_store(struct qa_ctx *ctx, const struct draft *d, const struct qa_import *im,
			const char *base)
{
	if (draft_create(ctx->db, d) != 0)
		return cli_fail("cannot store the inspection: %s", sqlite3_errmsg(ctx->db));
	for (size_t i = 0; i < im->n_findings; i++) {
		const struct qa_import_finding *f = &im->findings[i];
		struct photo_list photos = {.n = 0};
		int rc =
		    photos_add(ctx, (const char *const *)f->photos, f->n_photos, base, &photos);
		if (rc == CLI_OK &&
		    finding_insert(ctx->db, d->id, (int64_t)i + 1, qa_category_name(f->category),
				   qa_severity_name(f->severity), f->item, f->text, &photos) != 0)
			rc = cli_fail("cannot store finding %zu", i + 1);
		photo_list_free(&photos);
		if (rc != CLI_OK)
			return rc;
	}
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		if (im->score[c] >= 0 &&
		    score_set(ctx->db, d->id, qa_category_name(c), im->score[c]) != 0)
			return cli_fail("cannot store the scores");
	return CLI_OK;
}

static int qa_import(struct qa_ctx *ctx, const struct qa_args *args)
{
	if (args->n_positional != 1)
		return cli_usage("qa import needs the inspection FILE.json");
	int rc = inspector_only(ctx);
	if (rc != CLI_OK)
		return rc;
	const char *file = args->positional[0];
	char *text = NULL, err[512], dir[4096];
	size_t len = 0;
	if (read_file_bounded(file, QA_MAX_FILE_BYTES, &text, &len, err, sizeof err) != 0)
		return cli_fail("%s", err);
	struct qa_import *im = NULL;
	rc = qa_import_parse(text, len, &im, err, sizeof err);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s", file, err);
	copy_string(dir, sizeof dir, file);
	const char *base = dirname(dir);
	struct draft d;
	rc = draft_new(ctx, im->site, im->type, im->accompanied_by, args->unchecked, &d);
	if (rc == CLI_OK && store_begin(ctx->db) != 0)
		rc = cli_fail("the agent's store is busy; try again");
	struct sealed s = {0};
	if (rc == CLI_OK) {
		rc = import_store(ctx, &d, im, base);
		if (rc == CLI_OK)
			rc = seal(ctx, &d, "", &s);
		if (rc == CLI_OK && store_commit(ctx->db) != 0)
			rc = cli_fail("cannot write the outbox in %s", ctx->data);
		if (rc != CLI_OK)
			store_rollback(ctx->db);
	}
	qa_import_free(&im);
	if (rc != CLI_OK)
		return rc;
	return print_sealed(&d, &s, args->json);
}

/*---- qa show, qa list, qa photo --------------------------------------------*/

/* An inspection this agent knows: its own (draft or sealed) or one HQ sent. */
struct known {
	struct draft draft;
	bool own;
	Innsync__QaInspection *built; /* owned: an open draft */
	Innsync__RecordBody *record;  /* owned: the sealed record */
	char status[16];	      /* draft | pending | acknowledged | refused */
	char refusal[512];
	const Innsync__QaInspection *inspection;
	const Innsync__QaReport *report; /* borrowed from the view, or NULL */
};

static void known_release(struct known *k)
{
	if (k->built != NULL)
		innsync__qa_inspection__free_unpacked(k->built, NULL);
	wire_free((ProtobufCMessage *)k->record);
	k->built = NULL;
	k->record = NULL;
}

static int load_sealed(sqlite3 *db, struct known *k)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db, "SELECT body, state, reason FROM outbox WHERE seq = ?", &stmt) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)k->draft.seq);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		k->record = (Innsync__RecordBody *)wire_unpack(
		    &innsync__record_body__descriptor, sqlite3_column_blob(stmt, 0),
		    (size_t)sqlite3_column_bytes(stmt, 0));
		copy_string(k->status, sizeof k->status, column_text(stmt, 1));
		copy_string(k->refusal, sizeof k->refusal, column_text(stmt, 2));
	}
	sqlite3_finalize(stmt);
	if (k->record == NULL ||
	    k->record->payload_case != INNSYNC__RECORD_BODY__PAYLOAD_QA_INSPECTION)
		return -1;
	k->inspection = k->record->qa_inspection;
	return 0;
}

/* CLI_OK with k filled, or a refusal. */
static int known_load(struct qa_ctx *ctx, const struct qa_view *view, const char *id,
		      struct known *k)
{
	memset(k, 0, sizeof *k);
	k->report = qa_view_report(view, id);
	int found = draft_load(ctx->db, id, &k->draft);
	if (found == 1) {
		k->own = true;
		if (k->draft.submitted) {
			if (load_sealed(ctx->db, k) != 0)
				return cli_fail("the sealed record of %s cannot be read", id);
		} else {
			Innsync__Checklist *checklist =
			    qa_inbox_checklist(ctx->db, k->draft.checklist_version);
			k->built = draft_build(ctx->db, &k->draft, checklist);
			wire_free((ProtobufCMessage *)checklist);
			if (k->built == NULL)
				return cli_fail("cannot read the draft %s", id);
			copy_string(k->status, sizeof k->status, "draft");
			k->inspection = k->built;
		}
		return CLI_OK;
	}
	if (k->report != NULL) {
		k->inspection = k->report->inspection;
		copy_string(k->status, sizeof k->status, "received");
		return CLI_OK;
	}
	return cli_fail("no inspection %s on this agent (see innsync-branch qa list)", id);
}

/* 'uploaded' per the agent: the photo reached HQ. */
static bool photo_uploaded(sqlite3 *db, const uint8_t *sha256)
{
	sqlite3_stmt *stmt = NULL;
	bool uploaded = false;
	if (store_prepare(db, "SELECT state = 'uploaded' FROM attachments WHERE sha256 = ?",
			  &stmt) != 0)
		return false;
	sqlite3_bind_blob(stmt, 1, sha256, SHA256_LEN, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		uploaded = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return uploaded;
}

/* An own inspection not (yet) forwarded back by HQ: findings as recorded,
 * state open, no deadline yet. */
static json_t *own_findings_json(struct qa_ctx *ctx, const Innsync__QaInspection *in,
				 bool *complete)
{
	json_t *list = json_array();
	int64_t n = 0;
	for (size_t i = 0; i < in->n_findings; i++) {
		const Innsync__QaFinding *f = in->findings[i];
		json_t *photos = json_array();
		for (size_t j = 0; j < f->n_photos; j++) {
			const Innsync__PhotoRef *p = f->photos[j];
			char hex[2 * SHA256_LEN + 1];
			hex_encode(p->sha256.data, SHA256_LEN, hex);
			bool uploaded = photo_uploaded(ctx->db, p->sha256.data);
			*complete = *complete && uploaded;
			json_array_append_new(photos, json_pack("{s:I, s:s, s:I, s:s, s:o, s:b}",
								"n", (json_int_t)++n, "sha256", hex,
								"size", (json_int_t)p->size, "mime",
								p->mime, "captured_at",
								cli_json_time(p->captured_at_ms),
								"uploaded", (int)uploaded));
		}
		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s, s:o, s:s, s:n, s:s, s:b, s:o}", "id", f->id,
			      "category", f->category, "severity", f->severity, "item",
			      f->item[0] ? json_string(f->item) : json_null(), "text", f->text,
			      "due", "state", "open", "overdue", 0, "photos", photos));
	}
	return list;
}

static json_t *known_json(struct qa_ctx *ctx, const struct qa_view *view, const struct known *k)
{
	json_t *out = k->report ? qa_view_inspection_json(view, k->report, ctx->data) : NULL;
	if (out != NULL && !k->own)
		return out;
	bool complete = true;
	json_t *findings = own_findings_json(ctx, k->inspection, &complete);
	if (out == NULL) {
		const Innsync__QaInspection *in = k->inspection;
		out = json_pack(
		    "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", in->id, "site",
		    in->site, "inspector", in->inspector, "type", in->type, "accompanied_by",
		    in->accompanied_by[0] ? json_string(in->accompanied_by) : json_null(),
		    "started_at", cli_json_time(in->started_at_ms), "submitted_at",
		    k->draft.submitted ? cli_json_time(in->submitted_at_ms) : json_null(),
		    "overall_score", qa_overall_json(in), "category_scores",
		    qa_category_scores_json(in), "findings", findings);
	} else {
		/* HQ's view of the states, this agent's view of the uploads */
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(out, "findings"), i, f)
		{
			json_t *own = json_array_get(findings, i);
			if (own != NULL)
				json_object_set(f, "photos", json_object_get(own, "photos"));
		}
		json_decref(findings);
	}
	json_object_set_new(out, "complete", json_boolean(complete));
	json_object_set_new(out, "status", json_string(k->status));
	json_object_set_new(out, "refusal",
			    strcmp(k->status, "refused") == 0 ? json_string(k->refusal)
							      : json_null());
	return out;
}

static void print_known(const json_t *in)
{
	printf("inspection %s of %s (%s) by %s: %s\n", json_string_value(json_object_get(in, "id")),
	       json_string_value(json_object_get(in, "site")),
	       json_string_value(json_object_get(in, "type")),
	       json_string_value(json_object_get(in, "inspector")),
	       json_string_value(json_object_get(in, "status"))
		   ? json_string_value(json_object_get(in, "status"))
		   : "received from HQ");
	if (json_is_string(json_object_get(in, "refusal")))
		printf("HQ REFUSED it: %s\n", json_string_value(json_object_get(in, "refusal")));
	json_t *overall = json_object_get(in, "overall_score");
	if (json_is_number(overall))
		printf("overall score %.1f\n", json_number_value(overall));
	const char *key;
	json_t *score;
	json_object_foreach(json_object_get(in, "category_scores"), key, score)
	    printf("  %-9s %3lld\n", key, (long long)json_integer_value(score));
	printf("photos: %s\n", json_is_true(json_object_get(in, "complete"))
				   ? "all arrived"
				   : "not all arrived yet");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(in, "findings"), i, f) qa_print_finding(f);
}

static int qa_show(struct qa_ctx *ctx, const struct qa_args *args)
{
	if (args->n_positional != 1)
		return cli_usage("qa show needs the INSPECTION id");
	struct qa_view *view = NULL;
	if (qa_view_load(ctx->db, NULL, now_ms(), &view) != 0)
		return cli_fail("cannot read the agent's inbox");
	struct known k;
	int rc = known_load(ctx, view, args->positional[0], &k);
	json_t *out = rc == CLI_OK ? known_json(ctx, view, &k) : NULL;
	known_release(&k);
	qa_view_destroy(&view);
	if (rc != CLI_OK)
		return rc;
	if (args->json)
		return cli_print_json(out);
	print_known(out);
	json_decref(out);
	return CLI_OK;
}

static json_t *drafts_json(sqlite3 *db)
{
	json_t *list = json_array();
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(
		db,
		"SELECT d.id, d.site, d.type, d.inspector, d.started_at, d.state,"
		" COALESCE(o.state, ''), COALESCE(o.reason, ''),"
		" (SELECT count(*) FROM qa_draft_findings f WHERE f.inspection = d.id),"
		" (SELECT count(*) FROM qa_draft_photos p WHERE p.inspection = d.id)"
		" FROM qa_drafts d LEFT JOIN outbox o ON o.seq = d.seq ORDER BY d.started_at",
		&stmt) != 0)
		return list;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		bool draft = strcmp(column_text(stmt, 5), "draft") == 0;
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:I}", "id",
				    column_text(stmt, 0), "site", column_text(stmt, 1), "type",
				    column_text(stmt, 2), "inspector", column_text(stmt, 3),
				    "started_at", cli_json_time(sqlite3_column_int64(stmt, 4)),
				    "status", draft ? "draft" : column_text(stmt, 6), "refusal",
				    strcmp(column_text(stmt, 6), "refused") == 0
					? json_string(column_text(stmt, 7))
					: json_null(),
				    "findings", (json_int_t)sqlite3_column_int64(stmt, 8), "photos",
				    (json_int_t)sqlite3_column_int64(stmt, 9)));
	}
	sqlite3_finalize(stmt);
	return list;
}

static int qa_list(struct qa_ctx *ctx, const struct qa_args *args)
{
	json_t *drafts = drafts_json(ctx->db);
	json_t *received = json_array();
	struct qa_view *view = NULL;
	if (qa_view_load(ctx->db, NULL, now_ms(), &view) == 0) {
		for (size_t i = 0; i < qa_view_reports(view); i++) {
			const Innsync__QaReport *r = qa_view_report_at(view, i);
			json_array_append_new(
			    received, json_pack("{s:s, s:s, s:s, s:o, s:o, s:I}", "id",
						r->inspection->id, "site", r->inspection->site,
						"inspector", r->inspection->inspector,
						"received_at", cli_json_time(r->received_at_ms),
						"overall_score", qa_overall_json(r->inspection),
						"findings", (json_int_t)r->inspection->n_findings));
		}
		qa_view_destroy(&view);
	}
	if (args->json)
		return cli_print_json(json_pack("{s:o, s:o}", "own", drafts, "received", received));
	size_t i;
	json_t *row;
	json_array_foreach(drafts, i, row)
	    printf("%-28s %-8s %-9s %-12s %lld findings, %lld photos\n",
		   json_string_value(json_object_get(row, "id")),
		   json_string_value(json_object_get(row, "site")),
		   json_string_value(json_object_get(row, "type")),
		   json_string_value(json_object_get(row, "status")),
		   (long long)json_integer_value(json_object_get(row, "findings")),
		   (long long)json_integer_value(json_object_get(row, "photos")));
	json_array_foreach(received, i, row)
	    printf("%-28s %-8s received from HQ %s, %lld findings\n",
		   json_string_value(json_object_get(row, "id")),
		   json_string_value(json_object_get(row, "site")),
		   json_string_value(json_object_get(row, "received_at")),
		   (long long)json_integer_value(json_object_get(row, "findings")));
	json_decref(drafts);
	json_decref(received);
	return CLI_OK;
}

static int qa_checklist(struct qa_ctx *ctx, const struct qa_args *args)
{
	Innsync__Checklist *checklist = qa_inbox_checklist(ctx->db, 0);
	if (checklist == NULL)
		return cli_fail("no checklist from HQ yet (the agent receives it when online)");
	json_t *items = json_array();
	for (size_t i = 0; i < checklist->n_items; i++)
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:I}", "code",
						       checklist->items[i]->code, "category",
						       checklist->items[i]->category, "text",
						       checklist->items[i]->text, "weight",
						       (json_int_t)checklist->items[i]->weight));
	json_t *out = json_pack("{s:s, s:I, s:o}", "name", checklist->name, "version",
				(json_int_t)checklist->version, "items", items);
	wire_free((ProtobufCMessage *)checklist);
	if (args->json)
		return cli_print_json(out);
	printf("checklist \"%s\" version %lld\n", json_string_value(json_object_get(out, "name")),
	       (long long)json_integer_value(json_object_get(out, "version")));
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item)
	    printf("  %-8s %-9s %3lld  %s\n", json_string_value(json_object_get(item, "code")),
		   json_string_value(json_object_get(item, "category")),
		   (long long)json_integer_value(json_object_get(item, "weight")),
		   json_string_value(json_object_get(item, "text")));
	json_decref(out);
	return CLI_OK;
}

static int qa_photo(struct qa_ctx *ctx, const struct qa_args *args)
{
	uint64_t n = 0;
	if (args->n_positional != 2 || args->out == NULL)
		return cli_usage("qa photo needs INSPECTION N and --out FILE");
	if (parse_u64(args->positional[1], 1, 100000, &n) != 0)
		return cli_usage("N must be a photo number (1, 2, ...), got \"%s\"",
				 args->positional[1]);
	struct qa_view *view = NULL;
	if (qa_view_load(ctx->db, NULL, now_ms(), &view) != 0)
		return cli_fail("cannot read the agent's inbox");
	struct known k;
	int rc = known_load(ctx, view, args->positional[0], &k);
	const Innsync__PhotoRef *photo = NULL;
	const char *finding = NULL;
	char label[QA_MAX_ID + 32];
	snprintf(label, sizeof label, "photo %llu of %s", (unsigned long long)n,
		 args->positional[0]);
	if (rc == CLI_OK && qa_inspection_photo(k.inspection, (int64_t)n, &photo, &finding) != 0)
		rc = cli_fail("inspection %s has no photo %llu", args->positional[0],
			      (unsigned long long)n);
	if (rc == CLI_OK)
		rc = qa_photo_out(ctx, photo, label, args->out, args->wait_s, args->json);
	known_release(&k);
	qa_view_destroy(&view);
	return rc;
}

/*---- Dispatch --------------------------------------------------------------*/

static const struct {
	const char *name;
	int (*run)(struct qa_ctx *ctx, const struct qa_args *args);
	unsigned options; /* OPT_BIT mask */
	size_t max_positional;
	bool with_key;
	const char *usage;
} qa_commands[] = {
	{"start", qa_start,
	 OPT_BIT(OPT_SITE) | OPT_BIT(OPT_TYPE) | OPT_BIT(OPT_ACCOMPANIED) | OPT_BIT(OPT_UNCHECKED), 0,
	 false,
	 "usage: innsync-branch qa start --data DIR --site ID [--type announced|mystery]\n"
	 "                              [--accompanied-by NAME] [--json]\n"
	 "Opens a draft inspection of a site assigned to this inspector and prints\n"
	 "its id. Works offline.\n"},
	{"finding", qa_finding,
	 OPT_BIT(OPT_CATEGORY) | OPT_BIT(OPT_SEVERITY) | OPT_BIT(OPT_TEXT) | OPT_BIT(OPT_ITEM) |
	 OPT_BIT(OPT_PHOTO),
	 1, false,
	 "usage: innsync-branch qa finding --data DIR INSPECTION\n"
	 "         --category service|hygiene|safety|hardware|conduct\n"
	 "         --severity minor|major|critical --text TEXT [--item CODE]\n"
	 "         [--photo FILE]... [--json]\n"
	 "Adds a finding; prints its id. Photos are JPEG or PNG (checked by their\n"
	 "content), at most 20 MiB each, at most 16 per finding.\n"},
	{"score", qa_score, OPT_BIT(OPT_CATEGORY) | OPT_BIT(OPT_SCORE), 1, false,
	 "usage: innsync-branch qa score --data DIR INSPECTION --category C --score 0-100\n"
	 "A category without a score is not inspected (it does not count as 0).\n"},
	{"submit", qa_submit, OPT_BIT(OPT_UNCHECKED) | OPT_BIT(OPT_REASON), 1, true,
	 "usage: innsync-branch qa submit --data DIR INSPECTION [--json]\n"
	 "Seals the inspection: one signed record for HQ, immutable from then on.\n"
	 "The agent sends it, then its photos, when HQ is reachable.\n"},
	{"import", qa_import, OPT_BIT(OPT_UNCHECKED), 1, true,
	 "usage: innsync-branch qa import --data DIR FILE.json [--json]\n"
	 "Records and submits a whole inspection from a file (format: docs/QA.md);\n"
	 "photo paths are relative to the file's directory.\n"},
	{"show", qa_show, 0, 1, false,
	 "usage: innsync-branch qa show --data DIR INSPECTION [--json]\n"
	 "An inspection this agent recorded or received: scores, findings, states,\n"
	 "deadlines, photos.\n"},
	{"list", qa_list, 0, 0, false,
	 "usage: innsync-branch qa list --data DIR [--json]\n"
	 "This agent's own inspections (drafts and submitted) and those received.\n"},
	{"checklist", qa_checklist, 0, 0, false,
	 "usage: innsync-branch qa checklist --data DIR [--json]\n"
	 "The latest QA checklist HQ sent to this agent.\n"},
	{"photo", qa_photo, OPT_BIT(OPT_OUT) | OPT_BIT(OPT_WAIT), 2, false,
	 "usage: innsync-branch qa photo --data DIR INSPECTION N --out FILE [--wait SECONDS]\n"
	 "Writes photo N (numbered as in qa show) of an inspection to FILE. A photo\n"
	 "not here yet is fetched from HQ by the agent; --wait waits for it.\n"},
};

int branch_cmd_qa(int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < sizeof qa_commands / sizeof qa_commands[0]; i++) {
		if (strcmp(argv[1], qa_commands[i].name) != 0)
			continue;
		struct qa_args args;
		int rc = parse_args(argc - 1, argv + 1, qa_commands[i].options,
				    qa_commands[i].max_positional, qa_commands[i].usage, &args);
		if (rc != 0)
			return rc == 1 ? CLI_OK : rc;
		struct qa_ctx ctx;
		rc = qa_ctx_open(&ctx, args.data, qa_commands[i].with_key);
		if (rc != CLI_OK)
			return rc;
		rc = qa_commands[i].run(&ctx, &args);
		qa_ctx_close(&ctx);
		return rc;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-branch qa start|finding|score|submit|import|show|list|"
		       "checklist|photo ...\n"
		       "Each takes --data DIR and --json; add --help for details.\n");
		return CLI_OK;
	}
	return cli_usage("qa takes start, finding, score, submit, import, show, list, checklist "
			 "or photo");
}
