/* qa_rules_test: unit tests of common/qa_rules.c: names, the finding state
 * machine (every state x event), deadlines and overdue rules, ids and
 * dates, checklist files, the weighted overall score, the inspection /
 * plan / completion checks as HQ runs them, and the `qa import` file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_rules.h"

/*---- Helpers ------------------------------------------------------------*/

static void assert_one_line(const char *label, const char *message)
{
	if (message[0] == '\0')
		fail_msg("%s: empty message", label);
	for (const char *p = message; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			fail_msg("%s: message is not one line: \"%s\"", label, message);
}

/* Either rc == 0 (want NULL) or rc != 0 and err starts with want. */
static void expect_result(const char *label, int rc, const char *err, const char *want)
{
	if (want == NULL) {
		if (rc != 0)
			fail_msg("%s: refused: %s", label, err);
		return;
	}
	if (rc == 0)
		fail_msg("%s: accepted, want \"%s\"", label, want);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("%s: error \"%s\", want \"%s...\"", label, err, want);
	assert_one_line(label, err);
}

/*---- Names --------------------------------------------------------------*/

static void test_names(void **state)
{
	(void)state;
	static const char *const categories[] = {"service", "hygiene", "safety", "hardware",
						 "conduct"};
	for (int i = 0; i < QA_CATEGORY_COUNT; i++) {
		assert_int_equal(qa_category_parse(categories[i]), i);
		assert_string_equal(qa_category_name(i), categories[i]);
	}
	assert_int_equal(qa_category_parse("Hygiene"), -1);
	assert_int_equal(qa_category_parse(""), -1);
	assert_int_equal(qa_category_parse(NULL), -1);
	assert_int_equal(qa_severity_parse("critical"), QA_CRITICAL);
	assert_int_equal(qa_severity_parse("minor"), QA_MINOR);
	assert_int_equal(qa_severity_parse("severe"), -1);
	assert_int_equal(qa_state_parse("reopened"), QA_REOPENED);
	assert_string_equal(qa_state_name(QA_VERIFIED), "verified");
	assert_string_equal(qa_state_name(99), "?");
}

/*---- The state machine --------------------------------------------------*/

static const struct {
	enum qa_state from;
	enum qa_event event;
	int to; /* -1: refused */
} transitions[] = {
	{QA_OPEN, QA_EVENT_PLAN, QA_PLANNED},
	{QA_OPEN, QA_EVENT_DONE, -1},
	{QA_OPEN, QA_EVENT_ACCEPT, -1},
	{QA_OPEN, QA_EVENT_REJECT, -1},
	{QA_PLANNED, QA_EVENT_PLAN, QA_PLANNED},
	{QA_PLANNED, QA_EVENT_DONE, QA_DONE},
	{QA_PLANNED, QA_EVENT_ACCEPT, -1},
	{QA_PLANNED, QA_EVENT_REJECT, -1},
	{QA_DONE, QA_EVENT_PLAN, -1},
	{QA_DONE, QA_EVENT_DONE, -1},
	{QA_DONE, QA_EVENT_ACCEPT, QA_VERIFIED},
	{QA_DONE, QA_EVENT_REJECT, QA_REOPENED},
	{QA_VERIFIED, QA_EVENT_PLAN, -1},
	{QA_VERIFIED, QA_EVENT_DONE, -1},
	{QA_VERIFIED, QA_EVENT_ACCEPT, -1},
	{QA_VERIFIED, QA_EVENT_REJECT, QA_REOPENED},
	{QA_REOPENED, QA_EVENT_PLAN, QA_PLANNED},
	{QA_REOPENED, QA_EVENT_DONE, QA_DONE},
	{QA_REOPENED, QA_EVENT_ACCEPT, -1},
	{QA_REOPENED, QA_EVENT_REJECT, -1},
};

static void test_transitions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
		enum qa_state to = (enum qa_state)77;
		char err[256] = "";
		char label[64];
		snprintf(label, sizeof label, "%s + event %d", qa_state_name(transitions[i].from),
			 (int)transitions[i].event);
		int rc =
		    qa_state_next(transitions[i].from, transitions[i].event, &to, err, sizeof err);
		if (transitions[i].to < 0) {
			if (rc == 0)
				fail_msg("%s: allowed (-> %s), want refused", label,
					 qa_state_name(to));
			assert_one_line(label, err);
			assert_non_null(strstr(err, qa_state_name(transitions[i].from)));
		} else {
			if (rc != 0)
				fail_msg("%s: refused: %s", label, err);
			assert_int_equal(to, transitions[i].to);
		}
	}
}

/*---- Deadlines and overdue ----------------------------------------------*/

static void test_deadlines(void **state)
{
	(void)state;
	struct qa_deadlines d;
	qa_deadlines_default(&d);
	assert_int_equal(d.plan_days, 7);
	assert_int_equal(d.severity_days[QA_CRITICAL], 3);
	assert_int_equal(d.severity_days[QA_MAJOR], 14);
	assert_int_equal(d.severity_days[QA_MINOR], 30);
	int64_t t = INT64_C(1767225600000); /* 2026-01-01 */
	assert_true(qa_finding_due(&d, QA_CRITICAL, t) == t + 3 * QA_DAY_MS);
	assert_true(qa_finding_due(&d, QA_MINOR, t) == t + 30 * QA_DAY_MS);
	assert_true(qa_due_after(t, 7) == t + 7 * QA_DAY_MS);
}

static const struct {
	enum qa_state state;
	int64_t due, plan_due, now;
	bool overdue;
} overdue_cases[] = {
	{QA_OPEN, 100, 0, 100, false}, /* at the deadline: not yet */
	{QA_OPEN, 100, 0, 101, true},
	{QA_OPEN, 100, 50, 60, true}, /* no plan by the plan's due date */
	{QA_OPEN, 100, 50, 40, false},
	{QA_PLANNED, 100, 50, 60, false}, /* planned in time */
	{QA_PLANNED, 100, 50, 101, true},
	{QA_REOPENED, 100, 50, 101, true},
	{QA_REOPENED, 200, 50, 101, false},
	{QA_DONE, 100, 50, 1000, false},	 /* awaits HQ */
	{QA_VERIFIED, 100, 50, 1000, false}, /* closed */
};

static void test_overdue(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof overdue_cases / sizeof overdue_cases[0]; i++) {
		bool got = qa_overdue(overdue_cases[i].state, overdue_cases[i].due,
				      overdue_cases[i].plan_due, overdue_cases[i].now);
		if (got != overdue_cases[i].overdue)
			fail_msg("case %zu (%s): overdue %d, want %d", i,
				 qa_state_name(overdue_cases[i].state), got,
				 overdue_cases[i].overdue);
	}
	assert_true(qa_state_is_open(QA_REOPENED));
	assert_false(qa_state_is_open(QA_VERIFIED));
}

/*---- Ids and dates ------------------------------------------------------*/

static void test_ids(void **state)
{
	(void)state;
	char id[80], finding[96], back[80];
	const uint8_t random[2] = {0xab, 0x05};
	assert_int_equal(
	    qa_inspection_id_make("SH001", INT64_C(1767225600000), random, id, sizeof id), 0);
	assert_string_equal(id, "QA-SH001-20260101-ab05");
	assert_true(qa_inspection_id_valid(id));
	assert_false(qa_inspection_id_valid("QB-SH001"));
	assert_false(qa_inspection_id_valid("QA-"));
	assert_false(qa_inspection_id_valid("QA-a b"));
	assert_false(qa_inspection_id_valid("QA-a/b"));
	assert_int_equal(qa_finding_id_make(id, 12, finding, sizeof finding), 0);
	assert_string_equal(finding, "QA-SH001-20260101-ab05-F12");
	size_t n = 0;
	assert_int_equal(qa_finding_id_split(finding, back, sizeof back, &n), 0);
	assert_string_equal(back, id);
	assert_int_equal(n, 12);
	/* a site whose id holds an F */
	assert_int_equal(qa_finding_id_split("QA-SF-F1-20260101-0000-F3", back, sizeof back, &n),
			 0);
	assert_string_equal(back, "QA-SF-F1-20260101-0000");
	assert_int_equal(n, 3);
	static const char *const bad[] = {"QA-X-F",  "QA-X-F0", "QA-X-F1a",    "QA-X",
					  "QX-A-F1", "-F1",	"QA-X-F12345", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (qa_finding_id_split(bad[i], back, sizeof back, &n) == 0)
			fail_msg("\"%s\" accepted as a finding id", bad[i]);
	char small[8];
	assert_int_equal(qa_finding_id_split(finding, small, sizeof small, &n), -1);
}

static void test_dates(void **state)
{
	(void)state;
	int64_t ms = 0;
	assert_int_equal(qa_date_parse("2026-01-01", &ms), 0);
	assert_true(ms == INT64_C(1767225600000));
	assert_int_equal(qa_date_parse("1970-01-01", &ms), 0);
	assert_true(ms == 0);
	assert_int_equal(qa_date_parse("2024-02-29", &ms), 0);
	static const char *const bad[] = {
	    "2025-02-29", "2026-13-01",	   "2026-00-10", "2026-04-31", "2026-1-01", "26-01-01",
	    "2026/01/01", "2026-01-01T00", "abcd-ef-gh", "1900-02-29", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (qa_date_parse(bad[i], &ms) == 0)
			fail_msg("\"%s\" accepted as a date", bad[i]);
}

/*---- Checklists ---------------------------------------------------------*/

#define ITEM(code, cat, w)                                                                         \
	"{\"code\": \"" code "\", \"category\": \"" cat "\", \"text\": \"t\", \"weight\": " #w "}"

static const struct {
	const char *label;
	const char *json;
	const char *error; /* NULL: valid */
} checklist_cases[] = {
	{"valid",
	 "{\"name\": \"2026\", \"items\": [" ITEM("HY-01", "hygiene", 2) ", " ITEM("SV-01", "service",
									       1) "]}",
	 NULL},
	{"not json", "{", "not valid JSON"},
	{"not object", "[]", "want a JSON object"},
	{"no name", "{\"items\": [" ITEM("A", "hygiene", 1) "]}", "name: missing"},
	{"blank name", "{\"name\": \"  \", \"items\": [" ITEM("A", "hygiene", 1) "]}",
	 "name: must not be empty"},
	{"no items", "{\"name\": \"x\", \"items\": []}", "items: want a list"},
	{"unknown key", "{\"name\": \"x\", \"itmes\": []}", "itmes: unknown field"},
	{"unknown item key",
	 "{\"name\": \"x\", \"items\": [{\"code\": \"A\", \"category\": "
	 "\"hygiene\", \"text\": \"t\", \"weight\": 1, \"wieght\": 2}]}",
	 "items[0].wieght: unknown field"},
	{"bad category", "{\"name\": \"x\", \"items\": [" ITEM("A", "cleanliness", 1) "]}",
	 "items[0].category: \"cleanliness\" is not a category"},
	{"weight 0", "{\"name\": \"x\", \"items\": [" ITEM("A", "hygiene", 0) "]}", "items[0].weight"},
	{"weight 101", "{\"name\": \"x\", \"items\": [" ITEM("A", "hygiene", 101) "]}",
	 "items[0].weight"},
	{"weight text",
	 "{\"name\": \"x\", \"items\": [{\"code\": \"A\", \"category\": "
	 "\"hygiene\", \"text\": \"t\", \"weight\": \"2\"}]}",
	 "items[0].weight"},
	{"duplicate code",
	 "{\"name\": \"x\", \"items\": [" ITEM("A", "hygiene", 1) ", " ITEM("A", "safety", 1) "]}",
	 "items[1].code: \"A\" appears twice"},
	{"bad code", "{\"name\": \"x\", \"items\": [" ITEM("A B", "hygiene", 1) "]}", "items[0].code"},
	{"missing text",
	 "{\"name\": \"x\", \"items\": [{\"code\": \"A\", \"category\": "
	 "\"hygiene\", \"weight\": 1}]}",
	 "items[0].text: missing"},
	{"duplicate key", "{\"name\": \"x\", \"name\": \"y\", \"items\": []}", "not valid JSON"},
};

static void test_checklist_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof checklist_cases / sizeof checklist_cases[0]; i++) {
		Innsync__Checklist *checklist = (Innsync__Checklist *)1;
		char err[512] = "";
		int rc =
		    qa_checklist_from_json(checklist_cases[i].json, strlen(checklist_cases[i].json),
					   &checklist, err, sizeof err);
		expect_result(checklist_cases[i].label, rc, err, checklist_cases[i].error);
		if (rc == 0) {
			assert_int_equal(checklist->n_items, 2);
			assert_string_equal(checklist->items[0]->code, "HY-01");
			innsync__checklist__free_unpacked(checklist, NULL);
		} else {
			assert_null(checklist);
		}
	}
}

static Innsync__Checklist *sample_checklist(void)
{
	static const char json[] =
	    "{\"name\": \"Standard 2026\", \"items\": [" ITEM("HY-01", "hygiene", 2) ", " ITEM(
		"HY-02", "hygiene", 3) ", " ITEM("SV-01", "service", 1) ", " ITEM("SF-01", "safety",
										  4) "]}";
	Innsync__Checklist *checklist = NULL;
	char err[256];
	if (qa_checklist_from_json(json, strlen(json), &checklist, err, sizeof err) != 0)
		fail_msg("sample checklist: %s", err);
	checklist->version = 3;
	return checklist;
}

static void test_weights(void **state)
{
	(void)state;
	Innsync__Checklist *checklist = sample_checklist();
	uint32_t w[QA_CATEGORY_COUNT];
	qa_checklist_weights(checklist, w);
	assert_int_equal(w[QA_HYGIENE], 5);
	assert_int_equal(w[QA_SERVICE], 1);
	assert_int_equal(w[QA_SAFETY], 4);
	assert_int_equal(w[QA_HARDWARE], 0);
	assert_int_equal(w[QA_CONDUCT], 0);
	assert_non_null(qa_checklist_item(checklist, "SF-01"));
	assert_null(qa_checklist_item(checklist, "SF-02"));
	qa_checklist_weights(NULL, w);
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		assert_int_equal(w[c], 1);
	innsync__checklist__free_unpacked(checklist, NULL);
}

/*---- The overall score --------------------------------------------------*/

static const struct {
	const char *label;
	int score[QA_CATEGORY_COUNT]; /* -1: not scored */
	uint32_t weight[QA_CATEGORY_COUNT];
	double overall; /* < 0: none */
} score_cases[] = {
	/* service, hygiene, safety, hardware, conduct */
	{"weighted", {100, 80, -1, -1, -1}, {1, 5, 4, 0, 0}, 83.3}, /* (100+400)/6 */
	{"unscored is not zero", {-1, 80, -1, -1, -1}, {1, 5, 4, 0, 0}, 80.0},
	{"zero counts", {0, 80, -1, -1, -1}, {1, 5, 4, 0, 0}, 66.7}, /* 400/6 */
	{"weight 0 excluded", {100, 80, -1, 0, -1}, {1, 5, 4, 0, 0}, 83.3},
	{"all", {90, 80, 70, 60, 50}, {1, 1, 1, 1, 1}, 70.0},
	{"half up", {100, 85, -1, -1, -1}, {1, 1, 0, 0, 0}, 92.5},
	{"half up tenths", {81, 80, -1, -1, -1}, {1, 3, 0, 0, 0}, 80.3}, /* 80.25 */
	{"rounding", {100, 0, 0, -1, -1}, {1, 1, 1, 0, 0}, 33.3},
	{"rounding up", {100, 100, 0, -1, -1}, {1, 1, 1, 0, 0}, 66.7},
	{"none scored", {-1, -1, -1, -1, -1}, {1, 5, 4, 0, 0}, -1},
	{"only weight 0", {-1, -1, -1, 70, -1}, {1, 5, 4, 0, 0}, -1},
};

static void test_overall_score(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof score_cases / sizeof score_cases[0]; i++) {
		struct qa_scores scores;
		memset(&scores, 0, sizeof scores);
		for (int c = 0; c < QA_CATEGORY_COUNT; c++) {
			scores.scored[c] = score_cases[i].score[c] >= 0;
			scores.score[c] =
			    score_cases[i].score[c] >= 0 ? (uint32_t)score_cases[i].score[c] : 0;
			scores.weight[c] = score_cases[i].weight[c];
		}
		double overall = -5;
		int rc = qa_overall_score(&scores, &overall);
		if (score_cases[i].overall < 0) {
			if (rc == 0)
				fail_msg("%s: overall %.1f, want none", score_cases[i].label,
					 overall);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: no overall, want %.1f", score_cases[i].label,
				 score_cases[i].overall);
		if (overall < score_cases[i].overall - 1e-9 ||
		    overall > score_cases[i].overall + 1e-9)
			fail_msg("%s: overall %.4f, want %.1f", score_cases[i].label, overall,
				 score_cases[i].overall);
	}
}

/*---- Inspections --------------------------------------------------------*/

/* A valid inspection against sample_checklist (v3), built on the stack:
 * the test mutates one field, checks, and restores it. */
struct sample {
	Innsync__QaInspection inspection;
	Innsync__QaFinding findings[2];
	Innsync__QaFinding *finding_ptrs[2];
	Innsync__PhotoRef photo;
	Innsync__PhotoRef *photo_ptrs[1];
	uint8_t sha[32];
	Innsync__CategoryScore scores[2];
	Innsync__CategoryScore *score_ptrs[2];
	Innsync__CategoryWeight weights[QA_CATEGORY_COUNT];
	Innsync__CategoryWeight *weight_ptrs[QA_CATEGORY_COUNT];
};

static void sample_init(struct sample *s)
{
	static const uint32_t weights[QA_CATEGORY_COUNT] = {1, 5, 4, 0, 0};
	memset(s, 0, sizeof *s);
	innsync__qa_inspection__init(&s->inspection);
	s->inspection.id = "QA-SH001-20260101-ab05";
	s->inspection.site = "SH001";
	s->inspection.type = "announced";
	s->inspection.inspector = "Zhang Min";
	s->inspection.checklist_version = 3;
	s->inspection.checklist_name = "Standard 2026";
	innsync__photo_ref__init(&s->photo);
	memset(s->sha, 7, sizeof s->sha);
	s->photo.sha256.data = s->sha;
	s->photo.sha256.len = 32;
	s->photo.size = 1000;
	s->photo.mime = "image/png";
	s->photo_ptrs[0] = &s->photo;
	static const char *const ids[2] = {"QA-SH001-20260101-ab05-F1",
					   "QA-SH001-20260101-ab05-F2"};
	for (int i = 0; i < 2; i++) {
		innsync__qa_finding__init(&s->findings[i]);
		s->findings[i].id = (char *)ids[i];
		s->findings[i].category = "hygiene";
		s->findings[i].severity = i ? "critical" : "minor";
		s->findings[i].text = "Bathroom floor wet";
		s->finding_ptrs[i] = &s->findings[i];
	}
	s->findings[0].item = "HY-01";
	s->findings[1].photos = s->photo_ptrs;
	s->findings[1].n_photos = 1;
	s->inspection.findings = s->finding_ptrs;
	s->inspection.n_findings = 2;
	static const char *const scored[2] = {"hygiene", "service"};
	for (int i = 0; i < 2; i++) {
		innsync__category_score__init(&s->scores[i]);
		s->scores[i].category = (char *)scored[i];
		s->scores[i].score = 80 + (uint32_t)i * 20;
		s->score_ptrs[i] = &s->scores[i];
	}
	s->inspection.scores = s->score_ptrs;
	s->inspection.n_scores = 2;
	for (int c = 0; c < QA_CATEGORY_COUNT; c++) {
		innsync__category_weight__init(&s->weights[c]);
		s->weights[c].category = (char *)qa_category_name(c);
		s->weights[c].weight = weights[c];
		s->weight_ptrs[c] = &s->weights[c];
	}
	s->inspection.weights = s->weight_ptrs;
	s->inspection.n_weights = QA_CATEGORY_COUNT;
}

enum mutation {
	M_NONE,
	M_BAD_ID,
	M_BAD_TYPE,
	M_NO_INSPECTOR,
	M_FINDING_ID,
	M_CATEGORY,
	M_SEVERITY,
	M_EMPTY_TEXT,
	M_UNKNOWN_ITEM,
	M_ITEM_OTHER_CATEGORY,
	M_PHOTO_SHA,
	M_PHOTO_SIZE,
	M_PHOTO_MIME,
	M_SCORE_101,
	M_SCORE_TWICE,
	M_WEIGHT,
	M_VERSION,
	M_EMPTY,
	M_CONTROL_CHAR,
	M_NO_CHECKLIST,
};

static const struct {
	enum mutation mutation;
	const char *error;
} inspection_cases[] = {
	{M_NONE, NULL},
	{M_BAD_ID, "id: \"inspection 1\" is not an inspection id"},
	{M_BAD_TYPE, "type: \"surprise\" is not announced or mystery"},
	{M_NO_INSPECTOR, "inspector: must not be empty"},
	{M_FINDING_ID, "findings[1].id: \"QA-SH001-20260101-ab05-F7\", want "
		   "\"QA-SH001-20260101-ab05-F2\""},
	{M_CATEGORY, "findings[0].category: \"cleanliness\" is not a category"},
	{M_SEVERITY, "findings[1].severity: \"severe\" is not minor, major or critical"},
	{M_EMPTY_TEXT, "findings[0].text: must not be empty"},
	{M_UNKNOWN_ITEM, "findings[0].item: \"HY-99\" is not an item of checklist"},
	{M_ITEM_OTHER_CATEGORY, "findings[0].item: item SF-01 is in category safety, not hygiene"},
	{M_PHOTO_SHA, "findings[1].photos[0].sha256: want 32 bytes"},
	{M_PHOTO_SIZE, "findings[1].photos[0].size: 2000000 bytes"},
	{M_PHOTO_MIME, "findings[1].photos[0].mime: \"image/gif\""},
	{M_SCORE_101, "scores[0].score: 101, want 0 to 100"},
	{M_SCORE_TWICE, "scores[1].category: hygiene is scored twice"},
	{M_WEIGHT, "weights: hygiene weighs 5 in checklist v3, the inspection says 6"},
	{M_VERSION, "checklist_version: 2, the checklist given is v3"},
	{M_EMPTY, "findings: an inspection needs at least one finding or score"},
	{M_CONTROL_CHAR, "accompanied_by: control characters are not allowed"},
	{M_NO_CHECKLIST, "checklist_version: 3 is not a checklist HQ published"},
};

static void mutate(struct sample *s, enum mutation m)
{
	switch (m) {
	case M_NONE:
		break;
	case M_BAD_ID:
		s->inspection.id = "inspection 1";
		break;
	case M_BAD_TYPE:
		s->inspection.type = "surprise";
		break;
	case M_NO_INSPECTOR:
		s->inspection.inspector = "";
		break;
	case M_FINDING_ID:
		s->findings[1].id = "QA-SH001-20260101-ab05-F7";
		break;
	case M_CATEGORY:
		s->findings[0].category = "cleanliness";
		break;
	case M_SEVERITY:
		s->findings[1].severity = "severe";
		break;
	case M_EMPTY_TEXT:
		s->findings[0].text = " \n";
		break;
	case M_UNKNOWN_ITEM:
		s->findings[0].item = "HY-99";
		break;
	case M_ITEM_OTHER_CATEGORY:
		s->findings[0].item = "SF-01";
		break;
	case M_PHOTO_SHA:
		s->photo.sha256.len = 31;
		break;
	case M_PHOTO_SIZE:
		s->photo.size = 2000000;
		break;
	case M_PHOTO_MIME:
		s->photo.mime = "image/gif";
		break;
	case M_SCORE_101:
		s->scores[0].score = 101;
		break;
	case M_SCORE_TWICE:
		s->scores[1].category = "hygiene";
		break;
	case M_WEIGHT:
		s->weights[QA_HYGIENE].weight = 6;
		break;
	case M_VERSION:
		s->inspection.checklist_version = 2;
		break;
	case M_EMPTY:
		s->inspection.n_findings = 0;
		s->inspection.n_scores = 0;
		break;
	case M_CONTROL_CHAR:
		s->inspection.accompanied_by = "Li\x01";
		break;
	case M_NO_CHECKLIST:
		break; /* checked with checklist NULL */
	}
}

static void test_inspection_check(void **state)
{
	(void)state;
	Innsync__Checklist *checklist = sample_checklist();
	for (size_t i = 0; i < sizeof inspection_cases / sizeof inspection_cases[0]; i++) {
		struct sample s;
		sample_init(&s);
		mutate(&s, inspection_cases[i].mutation);
		char err[512] = "", label[32];
		snprintf(label, sizeof label, "inspection case %zu", i);
		const Innsync__Checklist *given =
		    inspection_cases[i].mutation == M_NO_CHECKLIST ? NULL : checklist;
		int rc = qa_inspection_check(&s.inspection, given, 1024 * 1024, err, sizeof err);
		expect_result(label, rc, err, inspection_cases[i].error);
	}
	/* no checklist at all: version 0, every category weighs 1, any item code */
	struct sample s;
	sample_init(&s);
	s.inspection.checklist_version = 0;
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		s.weights[c].weight = 1;
	s.findings[0].item = "ANY-1";
	char err[512] = "";
	expect_result("no checklist",
		      qa_inspection_check(&s.inspection, NULL, 1024 * 1024, err, sizeof err), err,
		      NULL);
	struct qa_scores scores;
	double overall = 0;
	qa_scores_of(&s.inspection, &scores);
	assert_int_equal(qa_overall_score(&scores, &overall), 0);
	assert_true(overall > 89.99 && overall < 90.01); /* (80 + 100) / 2 */
	sample_init(&s);
	qa_scores_of(&s.inspection, &scores);
	assert_int_equal(qa_overall_score(&scores, &overall), 0);
	assert_true(overall > 83.29 && overall < 83.31); /* (80*5 + 100*1) / 6 */
	innsync__checklist__free_unpacked(checklist, NULL);
}

static void test_plan_and_done(void **state)
{
	(void)state;
	Innsync__RectificationPlan plan = INNSYNC__RECTIFICATION_PLAN__INIT;
	plan.finding = "QA-SH001-20260101-ab05-F2";
	plan.inspection = "QA-SH001-20260101-ab05";
	plan.action = "Replace the mat";
	plan.owner = "Li Wei";
	plan.due_date = "2026-01-20";
	char err[512] = "";
	expect_result("plan", qa_plan_check(&plan, err, sizeof err), err, NULL);
	plan.due_date = "2026-02-30";
	expect_result("plan date", qa_plan_check(&plan, err, sizeof err), err,
		      "due_date: \"2026-02-30\" is not a date");
	plan.due_date = "2026-01-20";
	plan.owner = "";
	expect_result("plan owner", qa_plan_check(&plan, err, sizeof err), err,
		      "owner: must not be empty");
	plan.owner = "Li Wei";
	plan.inspection = "QA-SH002-20260101-ab05";
	expect_result("plan inspection", qa_plan_check(&plan, err, sizeof err), err,
		      "inspection: \"QA-SH002-20260101-ab05\", finding");
	plan.finding = "HY-01";
	expect_result("plan finding", qa_plan_check(&plan, err, sizeof err), err,
		      "finding: \"HY-01\" is not a finding id");

	Innsync__RectificationDone done = INNSYNC__RECTIFICATION_DONE__INIT;
	done.finding = "QA-SH001-20260101-ab05-F2";
	done.inspection = "QA-SH001-20260101-ab05";
	done.note = "Mat replaced";
	expect_result("done", qa_done_check(&done, 100, err, sizeof err), err, NULL);
	Innsync__PhotoRef photo = INNSYNC__PHOTO_REF__INIT;
	uint8_t sha[32] = {1};
	photo.sha256.data = sha;
	photo.sha256.len = 32;
	photo.size = 101;
	photo.mime = "image/jpeg";
	Innsync__PhotoRef *photos[1] = {&photo};
	done.photos = photos;
	done.n_photos = 1;
	expect_result("done photo size", qa_done_check(&done, 100, err, sizeof err), err,
		      "evidence.photos[0].size: 101 bytes, want 1 to 100");
	done.note = "";
	expect_result("done note", qa_done_check(&done, 1000, err, sizeof err), err,
		      "note: must not be empty");
}

/*---- The import file ----------------------------------------------------*/

static const struct {
	const char *label;
	const char *json;
	const char *error;
} import_cases[] = {
	{"valid",
	 "{\"site\": \"SH001\", \"type\": \"mystery\", \"accompanied_by\": \"Li\","
	 " \"scores\": {\"hygiene\": 78, \"service\": 0}, \"findings\": [{\"category\":"
	 " \"hygiene\", \"severity\": \"major\", \"item\": \"HY-01\", \"text\": \"wet\","
	 " \"photos\": [\"a.png\", \"b.jpg\"]}, {\"category\": \"safety\", \"severity\":"
	 " \"critical\", \"text\": \"exit blocked\"}]}",
	 NULL},
	{"scores only", "{\"site\": \"SH001\", \"scores\": {\"conduct\": 100}}", NULL},
	{"empty", "{\"site\": \"SH001\"}", "findings: an inspection needs at least one"},
	{"no site", "{\"scores\": {\"conduct\": 100}}", "site: missing"},
	{"bad type", "{\"site\": \"S\", \"type\": \"secret\", \"scores\": {\"conduct\": 1}}",
	 "type: \"secret\" is not announced or mystery"},
	{"bad score", "{\"site\": \"S\", \"scores\": {\"conduct\": 101}}",
	 "scores.conduct: want a whole number from 0 to 100"},
	{"bad score category", "{\"site\": \"S\", \"scores\": {\"food\": 1}}",
	 "scores.food: not a category"},
	{"unknown key", "{\"site\": \"S\", \"inspectr\": \"x\", \"scores\": {\"conduct\": 1}}",
	 "inspectr: unknown field"},
	{"finding key",
	 "{\"site\": \"S\", \"findings\": [{\"category\": \"hygiene\", "
	 "\"severity\": \"minor\", \"text\": \"t\", \"photo\": \"a.png\"}]}",
	 "findings[0].photo: unknown field"},
	{"finding severity",
	 "{\"site\": \"S\", \"findings\": [{\"category\": \"hygiene\", "
	 "\"severity\": \"low\", \"text\": \"t\"}]}",
	 "findings[0].severity: want minor, major or critical"},
	{"finding text",
	 "{\"site\": \"S\", \"findings\": [{\"category\": \"hygiene\", "
	 "\"severity\": \"minor\", \"text\": \"\"}]}",
	 "findings[0].text: must not be empty"},
	{"photos not list",
	 "{\"site\": \"S\", \"findings\": [{\"category\": \"hygiene\", "
	 "\"severity\": \"minor\", \"text\": \"t\", \"photos\": \"a.png\"}]}",
	 "findings[0].photos: want a list"},
	{"not json", "{\"site\": ", "not valid JSON"},
};

static void test_import(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof import_cases / sizeof import_cases[0]; i++) {
		struct qa_import *import = (struct qa_import *)1;
		char err[512] = "";
		int rc = qa_import_parse(import_cases[i].json, strlen(import_cases[i].json),
					 &import, err, sizeof err);
		expect_result(import_cases[i].label, rc, err, import_cases[i].error);
		if (rc != 0) {
			assert_null(import);
			continue;
		}
		if (i == 0) {
			assert_string_equal(import->site, "SH001");
			assert_string_equal(import->type, "mystery");
			assert_string_equal(import->accompanied_by, "Li");
			assert_int_equal(import->score[QA_HYGIENE], 78);
			assert_int_equal(import->score[QA_SERVICE], 0);
			assert_int_equal(import->score[QA_SAFETY], -1);
			assert_int_equal(import->n_findings, 2);
			assert_int_equal(import->findings[0].severity, QA_MAJOR);
			assert_string_equal(import->findings[0].item, "HY-01");
			assert_int_equal(import->findings[0].n_photos, 2);
			assert_string_equal(import->findings[0].photos[1], "b.jpg");
			assert_string_equal(import->findings[1].item, "");
			assert_int_equal(import->findings[1].n_photos, 0);
		} else {
			assert_string_equal(import->type, "announced");
		}
		qa_import_free(&import);
		assert_null(import);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_transitions),
	    cmocka_unit_test(test_deadlines),
	    cmocka_unit_test(test_overdue),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_checklist_files),
	    cmocka_unit_test(test_weights),
	    cmocka_unit_test(test_overall_score),
	    cmocka_unit_test(test_inspection_check),
	    cmocka_unit_test(test_plan_and_done),
	    cmocka_unit_test(test_import),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
