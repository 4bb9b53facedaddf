/* qa_site: owns the site manager's side of the QA loop:
 *   inbox    the inspections HQ forwarded and their findings, overdue first
 *   rectify  a rectification plan (--action --owner --due) or its
 *            completion (--done --note [--photo FILE]...), each a signed
 *            record for HQ; a plan or completion written again (after HQ
 *            reopened the finding) is a new revision of the same record.
 * Both read the findings as qa_view.c derives them; rectify refuses at
 * once what HQ would refuse (unknown finding, a step the finding's state
 * does not allow). --no-local-check skips those checks: a test aid to show
 * that HQ refuses them too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qa.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/*---- inbox -----------------------------------------------------------------*/

static int finding_order(const void *a, const void *b)
{
	const struct qa_view_finding *x = *(const struct qa_view_finding *const *)a;
	const struct qa_view_finding *y = *(const struct qa_view_finding *const *)b;
	if (x->overdue != y->overdue)
		return x->overdue ? -1 : 1;
	bool x_open = qa_state_is_open(x->state), y_open = qa_state_is_open(y->state);
	if (x_open != y_open)
		return x_open ? -1 : 1;
	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return strcmp(x->finding->id, y->finding->id);
}

static bool awaiting_plan(enum qa_state state)
{
	return state == QA_OPEN || state == QA_REOPENED;
}

static json_t *inspection_summary(const struct qa_view *view, const Innsync__QaReport *report)
{
	const Innsync__QaInspection *inspection = report->inspection;
	int open = 0, overdue = 0, waiting = 0;
	for (size_t i = 0; i < qa_view_count(view); i++) {
		const struct qa_view_finding *f = qa_view_at(view, i);
		if (f->report != report)
			continue;
		open += qa_state_is_open(f->state);
		overdue += f->overdue;
		waiting += awaiting_plan(f->state);
	}
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:i, s:i, s:i}", "id", inspection->id, "site",
	    inspection->site, "inspector", inspection->inspector, "type", inspection->type,
	    "received_at", cli_json_time(report->received_at_ms), "plan_due",
	    cli_json_time(report->plan_due_ms), "overall_score", qa_overall_json(inspection),
	    "findings", (json_int_t)inspection->n_findings, "open_findings", open, "awaiting_plan",
	    waiting, "overdue_findings", overdue);
}

static json_t *inbox_json(const struct qa_view *view, const char *site, bool all,
			  const char *data_dir)
{
	size_t n = qa_view_count(view);
	const struct qa_view_finding **sorted = calloc(n + 1, sizeof *sorted);
	json_t *inspections = json_array(), *findings = json_array();
	int open = 0, overdue = 0, waiting = 0;
	for (size_t i = 0; i < qa_view_reports(view); i++)
		json_array_append_new(inspections,
				      inspection_summary(view, qa_view_report_at(view, i)));
	for (size_t i = 0; sorted != NULL && i < n; i++)
		sorted[i] = qa_view_at(view, i);
	if (sorted != NULL)
		qsort(sorted, n, sizeof *sorted, finding_order);
	for (size_t i = 0; sorted != NULL && i < n; i++) {
		const struct qa_view_finding *f = sorted[i];
		open += qa_state_is_open(f->state);
		overdue += f->overdue;
		waiting += awaiting_plan(f->state);
		if (all || qa_state_is_open(f->state))
			json_array_append_new(findings, qa_view_finding_json(f, data_dir));
	}
	free(sorted);
	return json_pack("{s:o, s:i, s:i, s:i, s:o, s:o}", "site",
			 site ? json_string(site) : json_null(), "open_findings", open,
			 "awaiting_plan", waiting, "overdue_findings", overdue, "inspections",
			 inspections, "findings", findings);
}

static const char *get_text(const json_t *object, const char *key)
{
	const char *text = json_string_value(json_object_get(object, key));
	return text != NULL ? text : "-";
}

void qa_print_finding(const json_t *f)
{
	const json_t *item = json_object_get(f, "item");
	printf("  %s  %s/%s%s%s  %s, due %s%s\n", get_text(f, "id"), get_text(f, "category"),
	       get_text(f, "severity"), json_is_string(item) ? " item " : "",
	       json_is_string(item) ? json_string_value(item) : "", get_text(f, "state"),
	       get_text(f, "due"), json_is_true(json_object_get(f, "overdue")) ? "  OVERDUE" : "");
	printf("      %s\n", get_text(f, "text"));
	size_t i;
	json_t *photo;
	json_array_foreach(json_object_get(f, "photos"), i, photo) printf(
	    "      photo %lld: %s, %lld bytes%s\n",
	    (long long)json_integer_value(json_object_get(photo, "n")), get_text(photo, "mime"),
	    (long long)json_integer_value(json_object_get(photo, "size")),
	    json_is_true(json_object_get(photo, "here")) ? " (here)" : "");
	const json_t *plan = json_object_get(f, "plan");
	if (json_is_object(plan))
		printf("      plan: %s (owner %s, by %s; %s)\n", get_text(plan, "action"),
		       get_text(plan, "owner"), get_text(plan, "due_date"),
		       get_text(plan, "status"));
	const json_t *done = json_object_get(f, "done");
	if (json_is_object(done))
		printf("      done: %s (%zu photos; %s)\n", get_text(done, "note"),
		       json_array_size(json_object_get(done, "photos")), get_text(done, "status"));
	const json_t *decision = json_object_get(f, "decision");
	if (json_is_object(decision))
		printf("      HQ %s it: %s\n",
		       json_is_true(json_object_get(decision, "accepted")) ? "verified"
									   : "reopened",
		       get_text(decision, "note"));
	if (json_is_string(json_object_get(f, "refused")))
		printf("      HQ REFUSED the last record: %s\n", get_text(f, "refused"));
}

static void print_inbox(const json_t *inbox, bool all)
{
	const json_t *inspections = json_object_get(inbox, "inspections");
	printf("%zu inspections received; %lld findings open, %lld awaiting a plan, %lld overdue\n",
	       json_array_size(inspections),
	       (long long)json_integer_value(json_object_get(inbox, "open_findings")),
	       (long long)json_integer_value(json_object_get(inbox, "awaiting_plan")),
	       (long long)json_integer_value(json_object_get(inbox, "overdue_findings")));
	size_t i;
	json_t *item;
	json_array_foreach(inspections, i, item)
	{
		char overall[16] = "-";
		json_t *score = json_object_get(item, "overall_score");
		if (json_is_number(score))
			snprintf(overall, sizeof overall, "%.1f", json_number_value(score));
		printf("  %s  %s by %s, received %s, overall %s, %lld open of %lld, plan due %s\n",
		       get_text(item, "id"), get_text(item, "type"), get_text(item, "inspector"),
		       get_text(item, "received_at"), overall,
		       (long long)json_integer_value(json_object_get(item, "open_findings")),
		       (long long)json_integer_value(json_object_get(item, "findings")),
		       get_text(item, "plan_due"));
	}
	const json_t *findings = json_object_get(inbox, "findings");
	if (json_array_size(findings) > 0)
		printf("findings%s (overdue first):\n", all ? "" : " open");
	json_array_foreach(findings, i, item) qa_print_finding(item);
}

int branch_cmd_inbox(int argc, char **argv)
{
	struct inbox_args {
		const char *data, *site;
		bool all, json;
	} args = {0};
	static const struct cli_option options[] = {
	    CLI_STRING("data", struct inbox_args, data), CLI_FLAG("all", struct inbox_args, all),
	    CLI_STRING("site", struct inbox_args, site), CLI_FLAG("json", struct inbox_args, json),
	};
	int parsed = cli_parse(
	    argc, argv, options, sizeof options / sizeof options[0], &args,
	    "usage: innsync-branch inbox --data DIR [--all] [--site ID] [--json]\n"
	    "The QA inspections HQ forwarded to this site, and their findings\n"
	    "not yet closed (--all: closed ones too), overdue first: state (open,\n"
	    "planned, done, verified, reopened), deadline, plan and completion.\n",
	    NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data, *site = args.site;
	bool all = args.all, json = args.json;
	struct qa_ctx ctx;
	int rc = qa_ctx_open(&ctx, data, false);
	if (rc != CLI_OK)
		return rc;
	if (site == NULL && strcmp(ctx.id.role, "branch") == 0)
		site = ctx.id.first_site;
	struct qa_view *view = NULL;
	if (qa_view_load(ctx.db, site, now_ms(), &view) != 0) {
		qa_ctx_close(&ctx);
		return cli_fail("cannot read the agent's inbox in %s", data);
	}
	json_t *inbox = inbox_json(view, site, all, ctx.data);
	qa_view_destroy(&view);
	qa_ctx_close(&ctx);
	if (json)
		return cli_print_json(inbox);
	print_inbox(inbox, all);
	json_decref(inbox);
	return CLI_OK;
}

/*---- rectify ---------------------------------------------------------------*/

#define RECTIFY_MAX_PHOTOS QA_MAX_PHOTOS

struct rectify_args {
	const char *data, *finding, *action, *owner, *due, *note, *reason, *author;
	struct cli_list photos; /* RECTIFY_MAX_PHOTOS == CLI_LIST_MAX */
	bool done, json, unchecked;
};

static int parse_rectify(int argc, char **argv, struct rectify_args *args)
{
#define RECTIFY_STRING(name, field) CLI_STRING(name, struct rectify_args, field)
	static const struct cli_option options[] = {
	    RECTIFY_STRING("data", data),     RECTIFY_STRING("finding", finding),
	    RECTIFY_STRING("action", action), RECTIFY_STRING("owner", owner),
	    RECTIFY_STRING("due", due),	      CLI_FLAG("done", struct rectify_args, done),
	    RECTIFY_STRING("note", note),     CLI_LIST("photo", struct rectify_args, photos),
	    RECTIFY_STRING("reason", reason), RECTIFY_STRING("author", author),
	    CLI_FLAG("json", struct rectify_args, json),
	    CLI_FLAG("no-local-check", struct rectify_args, unchecked),
	};
#undef RECTIFY_STRING
	size_t n_options = sizeof options / sizeof options[0];
	memset(args, 0, sizeof *args);
	int parsed = cli_parse(
	    argc, argv, options, n_options, args,
	    "usage: innsync-branch rectify --data DIR --finding F --action TEXT\n"
	    "                              --owner NAME --due YYYY-MM-DD\n"
	    "       innsync-branch rectify --data DIR --finding F --done --note TEXT\n"
	    "                              [--photo FILE]...\n"
	    "       common options: [--reason TEXT] [--author NAME] [--json]\n"
	    "Records the site's rectification plan for a finding, or its completion\n"
	    "with evidence photos (JPEG or PNG), as a signed record for HQ. A plan\n"
	    "or completion written again (e.g. after HQ reopened the finding) is a\n"
	    "new revision; --reason says why (a default is used if omitted).\n",
	    NULL, 0, NULL);
	if (parsed != 0)
		return parsed;
	if (args->photos.overflow)
		return cli_usage("at most %d --photo", RECTIFY_MAX_PHOTOS);
	if (args->finding == NULL)
		return cli_usage("rectify needs --finding F (see innsync-branch inbox)");
	if (args->done && (args->note == NULL || args->action || args->owner || args->due))
		return cli_usage("rectify --done takes --note TEXT and --photo FILE, not a plan");
	if (!args->done && (args->action == NULL || args->owner == NULL || args->due == NULL ||
			    args->note != NULL || args->photos.n > 0))
		return cli_usage("a plan needs --action TEXT, --owner NAME and --due YYYY-MM-DD "
				 "(or record completion with --done --note TEXT)");
	if (args->reason != NULL && strlen(args->reason) > 1000)
		return cli_usage("--reason is limited to 1000 bytes");
	return 0;
}

/* The local checks: the finding is this site's and its state allows the
 * step. Fills inspection. CLI_OK or a refusal. */
static int local_check(struct qa_ctx *ctx, const struct rectify_args *args, char *inspection,
		       size_t inslen)
{
	size_t n = 0;
	if (qa_finding_id_split(args->finding, inspection, inslen, &n) != 0)
		return cli_usage("--finding: \"%s\" is not a finding id (see innsync-branch inbox)",
				 args->finding);
	if (args->unchecked)
		return CLI_OK;
	struct qa_view *view = NULL;
	if (qa_view_load(ctx->db, ctx->id.first_site, now_ms(), &view) != 0)
		return cli_fail("cannot read the agent's inbox");
	const struct qa_view_finding *f = qa_view_find(view, args->finding);
	int rc = CLI_OK;
	enum qa_state next;
	char err[256];
	if (f == NULL)
		rc = cli_fail(
		    "finding %s is not in site %s's inbox (innsync-branch inbox lists them)",
		    args->finding, ctx->id.first_site);
	else if (qa_state_next(f->state, args->done ? QA_EVENT_DONE : QA_EVENT_PLAN, &next, err,
			       sizeof err) != 0)
		rc = cli_fail("finding %s: %s", args->finding, err);
	else if (!args->done && f->due > 0) {
		int64_t due = 0;
		if (qa_date_parse(args->due, &due) == 0 && due >= f->due)
			fprintf(stderr,
				"innsync-branch: warning: --due %s is after HQ's deadline for "
				"this finding\n",
				args->due);
	}
	qa_view_destroy(&view);
	return rc;
}

/* The default reason of a revision > 1. */
static const char *revision_reason(const struct rectify_args *args)
{
	if (args->reason != NULL && args->reason[0] != '\0')
		return args->reason;
	return args->done ? "completion recorded again (after HQ reopened the finding)"
			  : "plan revised";
}

struct photo_set {
	Innsync__PhotoRef refs[RECTIFY_MAX_PHOTOS];
	Innsync__PhotoRef *pointers[RECTIFY_MAX_PHOTOS];
	size_t n;
};

static void photo_set_free(struct photo_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->refs[i].sha256.data);
	set->n = 0;
}

static int add_photos(struct qa_ctx *ctx, const struct rectify_args *args, struct photo_set *set)
{
	char err[512];
	for (size_t i = 0; i < args->photos.n; i++) {
		Innsync__PhotoRef *ref = &set->refs[set->n];
		innsync__photo_ref__init(ref);
		if (branch_attachment_add(ctx->db, ctx->data, args->photos.items[i], ref, err,
					  sizeof err) != 0)
			return cli_fail("%s", err);
		set->pointers[set->n++] = ref;
	}
	return CLI_OK;
}

/* Writes the record (and links its photos) in one transaction. */
static int write_rectification(struct qa_ctx *ctx, const struct rectify_args *args,
			       Innsync__RecordBody *body, const struct photo_set *photos,
			       char *record_id, uint64_t *seq, unsigned *revision)
{
	if (store_begin(ctx->db) != 0)
		return cli_fail("the agent's store is busy; try again");
	unsigned previous = outbox_latest_revision(ctx->db, record_id);
	struct outbox_entry entry = {
	    .record_id = record_id,
	    .kind = args->done ? INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_DONE
			       : INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_PLAN,
	    .site = ctx->id.first_site,
	    .author = args->author ? args->author : qa_default_author("site manager"),
	    .reason = previous > 0 ? revision_reason(args) : "",
	};
	int failed = outbox_append(ctx->db, &ctx->id, ctx->key, &entry, body, seq, revision);
	for (size_t i = 0; failed == 0 && i < photos->n; i++)
		failed = branch_attachment_link(ctx->db, photos->refs[i].sha256.data, *seq);
	if (failed != 0 || store_commit(ctx->db) != 0) {
		store_rollback(ctx->db);
		return cli_fail("cannot write the outbox in %s", ctx->data);
	}
	return CLI_OK;
}

static int rectify_run(struct qa_ctx *ctx, const struct rectify_args *args)
{
	char inspection[QA_MAX_ID + 1], record_id[QA_MAX_FINDING_ID + 32], err[512];
	if (strcmp(ctx->id.role, "branch") != 0)
		return cli_fail(
		    "only a site's own agent records rectifications (this is an inspector's)");
	int rc = local_check(ctx, args, inspection, sizeof inspection);
	if (rc != CLI_OK)
		return rc;
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	Innsync__RectificationPlan plan = INNSYNC__RECTIFICATION_PLAN__INIT;
	Innsync__RectificationDone done = INNSYNC__RECTIFICATION_DONE__INIT;
	struct photo_set photos = {.n = 0};
	if (args->done) {
		rc = add_photos(ctx, args, &photos);
		done.finding = (char *)args->finding;
		done.inspection = inspection;
		done.note = (char *)args->note;
		done.photos = photos.pointers;
		done.n_photos = photos.n;
		body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_DONE;
		body.rectification_done = &done;
		if (rc == CLI_OK &&
		    qa_done_check(&done, BRANCH_ATTACHMENT_MAX, err, sizeof err) != 0)
			rc = cli_usage("%s", err);
	} else {
		int64_t due = 0;
		plan.finding = (char *)args->finding;
		plan.inspection = inspection;
		plan.action = (char *)args->action;
		plan.owner = (char *)args->owner;
		plan.due_date = (char *)args->due;
		body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_RECTIFICATION_PLAN;
		body.rectification_plan = &plan;
		if (qa_plan_check(&plan, err, sizeof err) != 0)
			rc = cli_usage("%s", err);
		else if (qa_date_parse(args->due, &due) == 0 && due + QA_DAY_MS <= now_ms())
			rc = cli_usage("--due %s is in the past", args->due);
	}
	snprintf(record_id, sizeof record_id, "%s/%s",
		 args->done ? "rectification-done" : "rectification-plan", args->finding);
	uint64_t seq = 0;
	unsigned revision = 0;
	if (rc == CLI_OK)
		rc = write_rectification(ctx, args, &body, &photos, record_id, &seq, &revision);
	if (rc == CLI_OK && args->json)
		rc = cli_print_json(json_pack(
		    "{s:s, s:s, s:I, s:I, s:s, s:I}", "record", record_id, "finding", args->finding,
		    "seq", (json_int_t)seq, "revision", (json_int_t)revision, "kind",
		    args->done ? "done" : "plan", "photos", (json_int_t)photos.n));
	else if (rc == CLI_OK)
		printf("queued %s revision %u as record %llu%s\n", record_id, revision,
		       (unsigned long long)seq,
		       photos.n ? " (photos upload after HQ acknowledges it)" : "");
	photo_set_free(&photos);
	return rc;
}

int branch_cmd_rectify(int argc, char **argv)
{
	struct rectify_args args;
	int rc = parse_rectify(argc, argv, &args);
	if (rc != 0)
		return rc == 1 ? CLI_OK : rc;
	struct qa_ctx ctx;
	rc = qa_ctx_open(&ctx, args.data, true);
	if (rc != CLI_OK)
		return rc;
	rc = rectify_run(&ctx, &args);
	qa_ctx_close(&ctx);
	return rc;
}
