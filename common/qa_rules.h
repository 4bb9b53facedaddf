/* qa_rules: what the QA loop means, apart from sockets and SQL: the five
 * management-quality categories and three severities, what a valid
 * checklist, inspection, rectification plan and completion are, the
 * weighted overall score, deadlines by severity, the states of a finding
 * and when it is overdue, and the `qa import` file format. Both programs
 * apply these very rules: the inspector's and site's CLI before writing a
 * record, HQ on every record it receives. docs/QA.md is the user's view. */
#ifndef INNSYNC_QA_RULES_H
#define INNSYNC_QA_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "innsync.pb-c.h"

#define QA_MAX_FILE_BYTES (256 * 1024) /* a checklist or import file */
#define QA_MAX_FINDINGS 200	       /* per inspection */
#define QA_MAX_PHOTOS 16	       /* per finding, per completion */
#define QA_MAX_TEXT 4000	       /* bytes of a finding, action or note */
#define QA_MAX_NAME 128		       /* bytes of a person's or checklist's name */
#define QA_MAX_CODE 32		       /* bytes of a checklist item code */
#define QA_MAX_ID 64		       /* bytes of an inspection id */
#define QA_MAX_FINDING_ID (QA_MAX_ID + 8)
#define QA_MAX_CHECKLIST_ITEMS 500
#define QA_MAX_WEIGHT 100 /* per checklist item */
#define QA_MAX_DAYS 365	  /* any configured deadline */
#define QA_DAY_MS INT64_C(86400000)

/*---- Categories, severities ------------------------------------------------*/

enum qa_category { QA_SERVICE, QA_HYGIENE, QA_SAFETY, QA_HARDWARE, QA_CONDUCT, QA_CATEGORY_COUNT };

enum qa_severity { QA_MINOR, QA_MAJOR, QA_CRITICAL, QA_SEVERITY_COUNT };

/* The index of a category or severity name, or -1 if name is not one. */
int qa_category_parse(const char *name);
int qa_severity_parse(const char *name);
/* The name of a valid index ("service", ..., "critical"). */
const char *qa_category_name(int category);
const char *qa_severity_name(int severity);

/*---- Findings: states and deadlines ----------------------------------------*/

/* open -> planned (site's plan) -> done (site's completion, evidence)
 * -> verified (HQ accepts: closed) or reopened (HQ rejects) -> planned ...
 * A plan may be revised while planned or reopened; a completion may be
 * recorded while planned or reopened; HQ decides on a done finding, and
 * may also reopen a verified one (a later visit found it again). */
enum qa_state { QA_OPEN, QA_PLANNED, QA_DONE, QA_VERIFIED, QA_REOPENED, QA_STATE_COUNT };
enum qa_event { QA_EVENT_PLAN, QA_EVENT_DONE, QA_EVENT_ACCEPT, QA_EVENT_REJECT };

int qa_state_parse(const char *name);
const char *qa_state_name(int state);

/* The state after event. 0, or -1 with a reason naming the finding's state
 * (e.g. "finding is verified (closed): it takes no new plan"). */
int qa_state_next(enum qa_state from, enum qa_event event, enum qa_state *to, char *err,
		  size_t errlen);

/* Days HQ gives a site: for the rectification plan of an inspection, and
 * per finding by severity to carry the rectification out. */
struct qa_deadlines {
	uint32_t plan_days;
	uint32_t severity_days[QA_SEVERITY_COUNT];
};

#define QA_PLAN_DAYS_DEFAULT 7
#define QA_MINOR_DAYS_DEFAULT 30
#define QA_MAJOR_DAYS_DEFAULT 14
#define QA_CRITICAL_DAYS_DEFAULT 3

void qa_deadlines_default(struct qa_deadlines *out);
/* from_ms + days. */
int64_t qa_due_after(int64_t from_ms, uint32_t days);
int64_t qa_finding_due(const struct qa_deadlines *deadlines, int severity, int64_t from_ms);

/* Whether a finding is overdue at now_ms: open, planned and reopened
 * findings past their deadline (due_ms), and open findings without a plan
 * past the plan's due date (plan_due_ms, 0: none). Done findings await HQ
 * and verified ones are closed: never overdue. */
bool qa_overdue(enum qa_state state, int64_t due_ms, int64_t plan_due_ms, int64_t now_ms);
/* Whether a finding still needs the site or HQ (everything but verified). */
bool qa_state_is_open(enum qa_state state);

/*---- Identifiers -----------------------------------------------------------*/

/* "QA-<site>-<YYYYMMDD>-<4 hex>" from the day of now_ms (UTC) and two
 * random bytes. -1 if it does not fit in out. */
int qa_inspection_id_make(const char *site, int64_t now_ms, const uint8_t random[2], char *out,
			  size_t outlen);
/* "QA-" followed by letters, digits, '-' or '_', at most QA_MAX_ID bytes. */
bool qa_inspection_id_valid(const char *id);
/* "<inspection>-F<n>" (n from 1). -1 if it does not fit. */
int qa_finding_id_make(const char *inspection, size_t n, char *out, size_t outlen);
/* The inspection of a finding id (the part before "-F<n>") into out, and
 * n. -1 if id is not a valid finding id. */
int qa_finding_id_split(const char *finding, char *inspection, size_t inslen, size_t *n);

/* Parses "YYYY-MM-DD" (a real calendar date). OUT: midnight UTC of that
 * day in Unix ms. 0 or -1. */
int qa_date_parse(const char *text, int64_t *out_ms);

/*---- Checklists and scores -------------------------------------------------*/

/* Parses a checklist file: {"name": "...", "items": [{"code": "HY-01",
 * "category": "hygiene", "text": "...", "weight": 2}, ...]} and checks it.
 * On success 0 and *out (version 0; the caller frees it with
 * innsync__checklist__free_unpacked(*out, NULL)); otherwise -1, *out NULL
 * and one line in err naming the field ("items[3].weight: ..."). */
int qa_checklist_from_json(const char *text, size_t len, Innsync__Checklist **out, char *err,
			   size_t errlen);
/* The same rules on the structured form. 0 or -1 with a reason. */
int qa_checklist_check(const Innsync__Checklist *checklist, char *err, size_t errlen);
/* The item with this code, or NULL. */
const Innsync__ChecklistItem *qa_checklist_item(const Innsync__Checklist *checklist,
						const char *code);
/* Per category: the sum of its items' weights (0 if it has none). With no
 * checklist (NULL) every category weighs 1. */
void qa_checklist_weights(const Innsync__Checklist *checklist, uint32_t weights[QA_CATEGORY_COUNT]);

/* One inspection's scores as arrays by category. */
struct qa_scores {
	bool scored[QA_CATEGORY_COUNT];
	uint32_t score[QA_CATEGORY_COUNT]; /* 0..100 where scored */
	uint32_t weight[QA_CATEGORY_COUNT];
};

/* Reads scores and weights from a (checked) inspection. */
void qa_scores_of(const Innsync__QaInspection *inspection, struct qa_scores *out);
/* The overall score: the mean of the scored categories' scores weighted by
 * their weights, rounded half-up to one decimal. A category without a
 * score is not inspected and does not count (not as zero); a scored
 * category of weight 0 (no checklist item) does not count either.
 * 0 with *out set, or -1 when no category counts (no overall score). */
int qa_overall_score(const struct qa_scores *scores, double *out);

/*---- Records ---------------------------------------------------------------*/

/* A photo reference: 32-byte hash, size 1..max_bytes, JPEG or PNG. */
int qa_photo_ref_check(const Innsync__PhotoRef *photo, uint64_t max_bytes, char *err,
		       size_t errlen);

/* Every rule of a submitted inspection that needs no store: the id, type,
 * inspector, finding ids "<id>-F<n>" in order, categories, severities,
 * texts, item codes (against checklist, when given: the version the
 * inspection names, NULL for version 0), photos (at most max_photo_bytes
 * each), scores 0..100 once per category, the weights equal to the
 * checklist's, and at least one finding or score.
 * 0, or -1 with one line naming the field ("findings[2].severity: ..."). */
int qa_inspection_check(const Innsync__QaInspection *inspection,
			const Innsync__Checklist *checklist, uint64_t max_photo_bytes, char *err,
			size_t errlen);

/* A rectification plan: finding id, action, owner, due date YYYY-MM-DD. */
int qa_plan_check(const Innsync__RectificationPlan *plan, char *err, size_t errlen);
/* A completion: finding id, note, at most QA_MAX_PHOTOS valid photos. */
int qa_done_check(const Innsync__RectificationDone *done, uint64_t max_photo_bytes, char *err,
		  size_t errlen);

/*---- The `qa import` file --------------------------------------------------*/

struct qa_import_finding {
	int category;
	int severity;
	char *item;    /* owned; "" if none */
	char *text;    /* owned */
	char **photos; /* owned: paths as written in the file */
	size_t n_photos;
};

struct qa_import {
	char *site;			    /* owned */
	char *type;			    /* owned; "announced" when absent */
	char *accompanied_by;		    /* owned; "" when absent */
	int score[QA_CATEGORY_COUNT];	    /* -1: not scored */
	struct qa_import_finding *findings; /* owned */
	size_t n_findings;
};

/* Parses and checks an import file (docs/QA.md, "qa import"). 0 and *out
 * (free with qa_import_free), or -1, *out NULL, one line in err. */
int qa_import_parse(const char *text, size_t len, struct qa_import **out, char *err, size_t errlen);
void qa_import_free(struct qa_import **import_p);

#endif
