/* qa.h: what the files of the site side's QA module share (private to
 * branch/qa*.c): qa.c the schema, the command context and small helpers;
 * qa_view.c the findings as the site sees them, derived at read time from
 * what HQ sent (inbox) and what the site wrote (outbox); qa_inspect.c the
 * inspector's commands; qa_site.c the site's inbox and rectify. */
#ifndef INNSYNC_BRANCH_QA_H
#define INNSYNC_BRANCH_QA_H

#include <jansson.h>
#include <stdbool.h>

#include "branch.h"
#include "cli.h"
#include "qa_rules.h"

/*---- qa.c ------------------------------------------------------------------*/

/* What a QA command works with. */
struct qa_ctx {
	const char *data; /* the --data directory */
	sqlite3 *db;	  /* owned */
	struct branch_identity id;
	signing_key *key; /* owned; NULL unless asked for */
};

/* Opens the agent's store and identity (and its signing key if with_key).
 * CLI_OK, or a CLI exit code after printing the reason. */
int qa_ctx_open(struct qa_ctx *ctx, const char *data, bool with_key);
void qa_ctx_close(struct qa_ctx *ctx);


/* The checklist HQ sent (inbox), of this version or (0) the latest; NULL
 * if none arrived. Free with wire_free. */
Innsync__Checklist *qa_inbox_checklist(sqlite3 *db, uint32_t version);


/* Copies a stored blob to dst (dst.part, fsync, rename) after checking it
 * still hashes to sha256. 0, or -1 with a reason. */

/* Whether the blob is in this agent's store. */
bool qa_blob_present(const char *data_dir, const uint8_t *sha256);

/* $USER, or fallback. */
const char *qa_default_author(const char *fallback);

/* Photo n (1, 2, ...) of an inspection, numbered in finding order as HQ
 * numbers them, and the id of its finding. 0 if found, -1 if not. */
int qa_inspection_photo(const Innsync__QaInspection *inspection, int64_t n,
			const Innsync__PhotoRef **out, const char **finding);

/* Copies photo (of its own inspection, or one HQ sent) to out: at once if
 * it is here, else asks the agent to fetch it and, if wait_s > 0, waits
 * for it. CLI exit code. */
int qa_photo_out(struct qa_ctx *ctx, const Innsync__PhotoRef *photo, const char *label,
		 const char *out, uint64_t wait_s, bool json);

/*---- qa_view.c -------------------------------------------------------------*/

/* A finding as the site sees it. Pointers borrow from the view. */
struct qa_view_finding {
	const Innsync__QaReport *report;
	const Innsync__QaFinding *finding;
	int64_t due;
	enum qa_state state;
	bool overdue;
	const Innsync__RecordBody *plan; /* latest not refused, or NULL */
	const char *plan_status;	 /* pending | acknowledged */
	const Innsync__RecordBody *done;
	const char *done_status;
	const Innsync__RectificationDecision *decision; /* HQ's latest, or NULL */
	const char *refusal;				/* HQ refused the latest record: why */
};

struct qa_view;

/* Loads the QA reports and decisions HQ sent to site (NULL: every site of
 * this agent) and the site's own plans and completions, and derives each
 * finding's state, deadline and overdue flag at now_ms. 0 or -1. */
int qa_view_load(sqlite3 *db, const char *site, int64_t now_ms, struct qa_view **out);
void qa_view_destroy(struct qa_view **view_p);

size_t qa_view_count(const struct qa_view *view);
const struct qa_view_finding *qa_view_at(const struct qa_view *view, size_t i);
const struct qa_view_finding *qa_view_find(const struct qa_view *view, const char *finding);
/* The report of an inspection, or NULL. */
const Innsync__QaReport *qa_view_report(const struct qa_view *view, const char *inspection);
size_t qa_view_reports(const struct qa_view *view);
const Innsync__QaReport *qa_view_report_at(const struct qa_view *view, size_t i);

/* JSON of one finding (same keys as HQ's qa show) and of one received
 * inspection with its findings. data_dir: to tell which photos are here. */
json_t *qa_view_finding_json(const struct qa_view_finding *f, const char *data_dir);
json_t *qa_view_inspection_json(const struct qa_view *view, const Innsync__QaReport *report,
				const char *data_dir);
/* Overall score JSON (number or null) and category scores of an inspection. */
json_t *qa_overall_json(const Innsync__QaInspection *inspection);
json_t *qa_category_scores_json(const Innsync__QaInspection *inspection);

/*---- qa_site.c -------------------------------------------------------------*/

/* The text lines of a finding (inbox, qa show). */
void qa_print_finding(const json_t *finding);

#endif
