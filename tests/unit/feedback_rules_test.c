/* feedback_rules_test: unit tests of common/feedback_rules.c: dates and
 * times, rounding of means and NPS, training plans and results (CSV and
 * JSON), survey results (CSV, JSON responses and aggregates), complaint
 * deadlines, evaluation forms and answers. Refusals are compared as whole
 * messages: they are what a site's staff reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback_rules.h"

/*---- Dates, times, rounding ----------------------------------------------*/

static void test_dates(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int ok;
		int64_t days;
	} cases[] = {
		{ "1970-01-01", 1, 0 },      { "2027-01-10", 1, 20828 }, { "2028-02-29", 1, 21243 },
		{ "2027-02-29", 0, 0 },      { "2027-13-01", 0, 0 },     { "2027-00-10", 0, 0 },
		{ "2027-1-10", 0, 0 },       { "2027-01-10x", 0, 0 },    { "", 0, 0 },
		{ "2027/01/10", 0, 0 },      { "1969-12-31", 0, 0 },     { "2027-04-31", 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t days = -1;
		int rc = feedback_parse_date(cases[i].text, &days);
		if (cases[i].ok && (rc != 0 || days != cases[i].days))
			fail_msg("%s: rc %d days %lld, want %lld", cases[i].text, rc, (long long)days,
				 (long long)cases[i].days);
		if (!cases[i].ok && rc == 0)
			fail_msg("%s: accepted as a date", cases[i].text);
	}
	int64_t ms = 0;
	assert_int_equal(feedback_day_end_ms("2027-01-10", &ms), 0);
	assert_int_equal(ms, (int64_t)20829 * 86400 * 1000);
	char text[16];
	feedback_format_date(ms - 1, text, sizeof text);
	assert_string_equal(text, "2027-01-10");
	assert_int_equal(feedback_parse_period("2027-01"), 0);
	assert_int_equal(feedback_parse_period("2027-13"), -1);
	assert_int_equal(feedback_parse_period("2027-1"), -1);
}

static void test_times(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t ms; /* -1: refused */
	} cases[] = {
		{ "2027-01-10T08:30:00Z", 1799569800000 },
		{ "2027-01-10T16:30:00+08:00", 1799569800000 },
		{ "2027-01-10 16:30+0800", 1799569800000 },
		{ "2027-01-10T08:30", 1799569800000 },
		{ "2027-01-10T03:00:00-05:30", 1799569800000 },
		{ "2027-01-10T24:00:00Z", -1 },
		{ "2027-01-10", -1 },
		{ "2027-01-10T08:30:00+8", -1 },
		{ "yesterday", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t ms = 0;
		char err[256];
		int rc = feedback_parse_time(cases[i].text, &ms, err, sizeof err);
		if (cases[i].ms >= 0 && (rc != 0 || ms != cases[i].ms))
			fail_msg("%s: rc %d ms %lld, want %lld", cases[i].text, rc, (long long)ms,
				 (long long)cases[i].ms);
		if (cases[i].ms < 0 && rc == 0)
			fail_msg("%s: accepted", cases[i].text);
	}
	int64_t ms = 0;
	char err[256];
	assert_int_equal(feedback_parse_time("noon", &ms, err, sizeof err), -1);
	assert_string_equal(err, "\"noon\" is not a time (want e.g. 2027-01-10T08:30:00+08:00, or "
				 "...Z for UTC)");
}

static void test_mean_and_nps(void **state)
{
	(void)state;
	static const struct {
		int64_t sum, count;
		const char *mean;
	} means[] = {
		{ 427, 100, "4.27" }, { 2, 3, "0.67" },  { 1, 8, "0.13" },  /* 0.125 half-up */
		{ 9, 8, "1.13" },     { 5, 1, "5.00" },  { 0, 0, "" },      { 4, 3, "1.33" },
		{ 841, 200, "4.21" }, /* 4.205 half-up */
	};
	for (size_t i = 0; i < sizeof means / sizeof means[0]; i++) {
		char text[32];
		feedback_mean_text(means[i].sum, means[i].count, text, sizeof text);
		if (strcmp(text, means[i].mean) != 0)
			fail_msg("mean %lld/%lld: got %s, want %s", (long long)means[i].sum,
				 (long long)means[i].count, text, means[i].mean);
	}
	static const struct {
		int64_t promoters, detractors, responses, nps;
	} nps[] = {
		{ 1, 2, 4, -25 },   { 1, 0, 8, 13 },   /* 12.5 away from zero */
		{ 0, 1, 8, -13 },   /* -12.5 away from zero */
		{ 1, 0, 3, 33 },    { 2, 0, 3, 67 },   { 0, 2, 3, -67 },
		{ 5, 5, 10, 0 },    { 10, 0, 10, 100 }, { 0, 10, 10, -100 },
		{ 0, 0, 0, 0 },     { 101, 49, 200, 26 }, /* 26.0 */
		{ 3, 0, 200, 2 },   /* 1.5 -> 2 */
		{ 0, 3, 200, -2 },  /* -1.5 -> -2 */
	};
	for (size_t i = 0; i < sizeof nps / sizeof nps[0]; i++) {
		int64_t got = satisfaction_nps(nps[i].promoters, nps[i].detractors, nps[i].responses);
		if (got != nps[i].nps)
			fail_msg("nps(%lld, %lld, %lld): got %lld, want %lld",
				 (long long)nps[i].promoters, (long long)nps[i].detractors,
				 (long long)nps[i].responses, (long long)got, (long long)nps[i].nps);
	}
}

/*---- Training plans ------------------------------------------------------*/

static const char plan_json[] =
	"{\"id\": \"TP-2027-Q1\", \"title\": \"Q1\", \"audience\": {\"kinds\": [\"franchise\"]},"
	" \"courses\": ["
	"  {\"code\": \"FD-101\", \"title\": \"Front desk\", \"role\": \"front_desk\","
	"   \"level\": \"basic\", \"mode\": \"onsite\", \"start\": \"2027-01-10\","
	"   \"end\": \"2027-01-12\", \"hours\": 16, \"trainer\": \"Li Na\", \"pass_mark\": 60},"
	"  {\"code\": \"TR-201\", \"title\": \"Trainer\", \"role\": \"trainer\", \"mode\": \"hq\","
	"   \"start\": \"2027-02-01\", \"end\": \"2027-02-02\", \"hours\": 12, \"pass_mark\": 70},"
	"  {\"code\": \"HK-101\", \"title\": \"Housekeeping\", \"role\": \"housekeeping\","
	"   \"mode\": \"online\", \"start\": \"2027-03-01\", \"end\": \"2027-03-01\", \"hours\": 4,"
	"   \"pass_mark\": 50, \"cancelled\": true}]}";

static Innsync__TrainingPlan *load_plan(void)
{
	Innsync__TrainingPlan *plan = NULL;
	char *audience = NULL, err[256];
	if (training_plan_from_json(plan_json, strlen(plan_json), &plan, &audience, err,
				    sizeof err) != 0)
		fail_msg("the test plan is refused: %s", err);
	assert_string_equal(audience, "{\"kinds\":[\"franchise\"]}");
	free(audience);
	plan->revision = 2;
	return plan;
}

static void test_plan_valid(void **state)
{
	(void)state;
	Innsync__TrainingPlan *plan = load_plan();
	assert_string_equal(plan->id, "TP-2027-Q1");
	assert_int_equal(plan->n_courses, 3);
	assert_string_equal(plan->courses[0]->trainer, "Li Na");
	assert_int_equal(plan->courses[1]->pass_mark, 70);
	assert_string_equal(plan->courses[1]->level, "");
	assert_true(plan->courses[2]->cancelled);
	assert_ptr_equal(training_plan_course(plan, "TR-201"), plan->courses[1]);
	assert_null(training_plan_course(plan, "XX-1"));
	innsync__training_plan__free_unpacked(plan, NULL);
}

/* plan_json with `from` replaced by `to` (once). */
static char *edited_plan(const char *from, const char *to)
{
	const char *at = strstr(plan_json, from);
	if (at == NULL)
		fail_msg("test bug: %s not in the plan", from);
	size_t len = strlen(plan_json) - strlen(from) + strlen(to) + 1;
	char *text = malloc(len);
	snprintf(text, len, "%.*s%s%s", (int)(at - plan_json), plan_json, to, at + strlen(from));
	return text;
}

static void test_plan_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to, *error;
	} cases[] = {
		{ "\"mode\": \"onsite\"", "\"mode\": \"classroom\"",
		  "courses[0].mode: \"classroom\" is not onsite, online or hq" },
		{ "\"end\": \"2027-01-12\"", "\"end\": \"2027-01-09\"",
		  "courses[0].end: 2027-01-09 is before start 2027-01-10" },
		{ "\"start\": \"2027-02-01\"", "\"start\": \"2027-02-30\"",
		  "courses[1].start: \"2027-02-30\" is not a date (want YYYY-MM-DD)" },
		{ "\"pass_mark\": 70", "\"pass_mark\": 101", "courses[1].pass_mark: 101 is not from 0 to 100" },
		{ "\"hours\": 16", "\"hours\": \"16\"", "courses[0].hours: want a whole number from 1 to 1000" },
		{ "\"hours\": 16", "\"hours\": 0", "courses[0].hours: 0 is not from 1 to 1000" },
		{ "\"code\": \"HK-101\"", "\"code\": \"FD-101\"",
		  "courses[2].code: FD-101 is also the code of courses[0]" },
		{ "\"code\": \"TR-201\"", "\"code\": \"TR 201\"",
		  "courses[1].code: \"TR 201\" is not an id (use 1-64 letters, digits, '.', '_' or '-')" },
		{ "\"trainer\": \"Li Na\"", "\"teacher\": \"Li Na\"",
		  "courses[0].\"teacher\": unknown field (known: code, title, role, level, mode, start, "
		  "end, hours, trainer, pass_mark, cancelled)" },
		{ "\"audience\": {\"kinds\": [\"franchise\"]},", "",
		  "audience: missing or not an object (want e.g. {\"all\": true} or {\"kinds\": "
		  "[\"franchise\"]})" },
		{ "\"title\": \"Q1\"", "\"title\": \"  \"", "title: missing (it must not be empty)" },
		{ "\"id\": \"TP-2027-Q1\", ", "", "id: missing" },
		{ "\"role\": \"trainer\", ", "", "courses[1].role: missing" },
		{ "{\"id\"", "[{\"id\"", "line 1, column 1: not valid JSON: '[' or '{' expected near '['" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = edited_plan(cases[i].from, cases[i].to);
		Innsync__TrainingPlan *plan = NULL;
		char *audience = NULL, err[512] = "";
		int rc = training_plan_from_json(text, strlen(text), &plan, &audience, err, sizeof err);
		if (rc == 0)
			fail_msg("case %zu accepted", i);
		if (plan != NULL || audience != NULL)
			fail_msg("case %zu: refused but returned a plan", i);
		if (strcmp(err, cases[i].error) != 0 && strstr(cases[i].error, "not valid JSON") == NULL)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, cases[i].error);
		if (strstr(cases[i].error, "not valid JSON") && strncmp(err, "line 1, column", 14) != 0)
			fail_msg("case %zu: \"%s\"", i, err);
		free(text);
	}
}

/* Revision 2 of plan_json: FD-101 ends a day later, TR-201 is left out,
 * HK-101 is no longer cancelled. */
static const char revised_json[] =
	"{\"id\": \"TP-2027-Q1\", \"title\": \"Q1\", \"audience\": {\"kinds\": [\"franchise\"]},"
	" \"courses\": ["
	"  {\"code\": \"FD-101\", \"title\": \"Front desk\", \"role\": \"front_desk\","
	"   \"level\": \"basic\", \"mode\": \"onsite\", \"start\": \"2027-01-10\","
	"   \"end\": \"2027-01-13\", \"hours\": 16, \"trainer\": \"Li Na\", \"pass_mark\": 60},"
	"  {\"code\": \"HK-101\", \"title\": \"Housekeeping\", \"role\": \"housekeeping\","
	"   \"mode\": \"online\", \"start\": \"2027-03-01\", \"end\": \"2027-03-01\", \"hours\": 4,"
	"   \"pass_mark\": 50}]}";

static void test_plan_revision(void **state)
{
	(void)state;
	Innsync__TrainingPlan *previous = load_plan();
	Innsync__TrainingPlan *next = NULL;
	char *audience = NULL, err[256];
	if (training_plan_from_json(revised_json, strlen(revised_json), &next, &audience, err,
				    sizeof err) != 0)
		fail_msg("revision refused: %s", err);
	free(audience);
	assert_int_equal(next->n_courses, 2);
	assert_int_equal(training_plan_keep_dropped(next, previous), 0);
	assert_int_equal(next->n_courses, 3);
	assert_string_equal(next->courses[2]->code, "TR-201");
	assert_string_equal(next->courses[2]->title, "Trainer");
	assert_true(next->courses[2]->cancelled);
	json_t *changes = training_plan_changes(previous, next);
	char *dumped = json_dumps(changes, JSON_COMPACT);
	assert_string_equal(
		dumped,
		"[{\"course\":\"FD-101\",\"change\":\"dates\",\"text\":\"FD-101 moved from "
		"2027-01-10..2027-01-12 to 2027-01-10..2027-01-13\"},"
		"{\"course\":\"HK-101\",\"change\":\"details\",\"text\":\"HK-101 (Housekeeping) is back "
		"on the plan\"},"
		"{\"course\":\"TR-201\",\"change\":\"cancelled\",\"text\":\"TR-201 (Trainer) is "
		"cancelled\"}]");
	free(dumped);
	json_decref(changes);
	/* the stored plan keeps every course a site has seen */
	assert_int_equal(training_plan_check(next, err, sizeof err), 0);
	innsync__training_plan__free_unpacked(next, NULL);
	innsync__training_plan__free_unpacked(previous, NULL);
}

/*---- Training results ----------------------------------------------------*/

static void test_results_csv_valid(void **state)
{
	(void)state;
	Innsync__TrainingPlan *plan = load_plan();
	static const char csv[] =
		"\xef\xbb\xbf" "Employee_ID , Name,role,course,attended,score,,\r\n"
		"E001,\"Zhang, San\",front_desk,FD-101,yes,85\r\n"
		"E002,Li Si,front_desk,FD-101,Yes,59\r\n"
		"E003,Wang Wu,trainer,TR-201,yes,70\r\n"
		"E004,Zhao Liu,front_desk,FD-101,no,,,\r\n"
		",,,,,\r\n";
	Innsync__TrainingResults *results = NULL;
	char err[256];
	if (training_results_from_csv(csv, strlen(csv), plan, &results, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(results->plan, "TP-2027-Q1");
	assert_int_equal(results->plan_revision, 2);
	assert_int_equal(results->n_results, 4);
	assert_string_equal(results->results[0]->name, "Zhang, San");
	const Innsync__TrainingCourse *fd = training_plan_course(plan, "FD-101");
	const Innsync__TrainingCourse *tr = training_plan_course(plan, "TR-201");
	assert_int_equal(training_result_outcome(results->results[0], fd->pass_mark), TRAINING_PASSED);
	assert_int_equal(training_result_outcome(results->results[1], fd->pass_mark), TRAINING_FAILED);
	assert_int_equal(training_result_outcome(results->results[2], tr->pass_mark), TRAINING_PASSED);
	assert_int_equal(training_result_outcome(results->results[3], fd->pass_mark), TRAINING_ABSENT);
	assert_false(results->results[3]->scored);
	assert_int_equal(training_results_check(results, plan, err, sizeof err), 0);
	innsync__training_results__free_unpacked(results, NULL);
	innsync__training_plan__free_unpacked(plan, NULL);
}

static void test_results_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *csv, *error;
	} cases[] = {
		{ "employee_id,name,role,course,attended\nE1,A,r,FD-101,yes\n",
		  "line 1: the header has 5 columns, want 6: employee_id,name,role,course,attended,score" },
		{ "employee_id,name,role,course,present,score\n",
		  "line 1: column 5 is \"present\", want \"attended\" (header: "
		  "employee_id,name,role,course,attended,score)" },
		{ "", "line 1: the file is empty (want the header "
		      "employee_id,name,role,course,attended,score)" },
		{ "employee_id,name,role,course,attended,score\n",
		  "line 2: the file has a header but no rows" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,yes,85,extra\n",
		  "line 2: 7 fields, want 6 (employee_id,name,role,course,attended,score)" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,yes,85\nE2,B,r,XX-9,yes,85\n",
		  "line 3: course: \"XX-9\" is not a course of plan TP-2027-Q1 (courses: FD-101, TR-201)" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,HK-101,yes,85\n",
		  "line 2: course: HK-101 was cancelled in revision 2 of plan TP-2027-Q1; remove its rows" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,yes,101\n",
		  "line 2: score: 101 is not from 0 to 100" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,yes,-5\n",
		  "line 2: score: \"-5\" is not a whole number from 0 to 100" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,yes,85.5\n",
		  "line 2: score: \"85.5\" is not a whole number from 0 to 100" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,yes,\n",
		  "line 2: score: missing (the employee attended: give a score from 0 to 100)" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,no,40\n",
		  "line 2: score: must be empty when attended is no" },
		{ "employee_id,name,role,course,attended,score\nE1,A,r,FD-101,maybe,40\n",
		  "line 2: attended: \"maybe\" is not yes or no" },
		{ "employee_id,name,role,course,attended,score\n\nE1,A,r,FD-101,yes,40\nE1,A,r,FD-101,no,\n",
		  "line 4: employee E1 already has a result for FD-101 on line 3" },
		{ "employee_id,name,role,course,attended,score\nE1,,r,FD-101,yes,40\n",
		  "line 2: name: missing (it must not be empty)" },
		{ "employee_id,name,role,course,attended,score\nE1,\"A\nB\",r,FD-101,yes,\"40\n",
		  "line 3: unterminated quoted field (its quote opens on this line)" },
	};
	Innsync__TrainingPlan *plan = load_plan();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Innsync__TrainingResults *results = NULL;
		char err[512] = "";
		int rc = training_results_from_csv(cases[i].csv, strlen(cases[i].csv), plan, &results,
						   err, sizeof err);
		if (rc == 0 || results != NULL)
			fail_msg("case %zu accepted", i);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, cases[i].error);
	}
	innsync__training_plan__free_unpacked(plan, NULL);
}

static void test_results_json(void **state)
{
	(void)state;
	Innsync__TrainingPlan *plan = load_plan();
	static const char ok[] =
		"{\"plan\": \"TP-2027-Q1\", \"results\": ["
		" {\"employee_id\": \"E1\", \"name\": \"A\", \"role\": \"r\", \"course\": \"FD-101\","
		"  \"attended\": true, \"score\": 60},"
		" {\"employee_id\": \"E2\", \"name\": \"B\", \"role\": \"r\", \"course\": \"FD-101\","
		"  \"attended\": \"no\", \"score\": null}]}";
	Innsync__TrainingResults *results = NULL;
	char err[512];
	if (training_results_from_json(ok, strlen(ok), plan, &results, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(results->n_results, 2);
	assert_true(results->results[0]->scored);
	assert_false(results->results[1]->attended);
	/* the structured check HQ applies names results[i] */
	free(results->results[1]->course);
	results->results[1]->course = strdup("TR-999");
	assert_int_equal(training_results_check(results, plan, err, sizeof err), -1);
	assert_string_equal(err, "results[1].course: \"TR-999\" is not a course of plan TP-2027-Q1 "
				 "(courses: FD-101, TR-201)");
	innsync__training_results__free_unpacked(results, NULL);

	static const char bad[] =
		"{\"results\": [{\"employee_id\": \"E1\", \"name\": \"A\", \"role\": \"r\","
		" \"course\": \"FD-101\", \"attended\": true, \"score\": 120}]}";
	assert_int_equal(training_results_from_json(bad, strlen(bad), plan, &results, err, sizeof err),
			 -1);
	assert_string_equal(err, "results[0].score: 120 is not from 0 to 100");
	static const char empty[] = "{\"plan\": \"TP-2027-Q1\", \"results\": []}";
	assert_int_equal(
		training_results_from_json(empty, strlen(empty), plan, &results, err, sizeof err), -1);
	assert_string_equal(err, "results: the list is empty");
	static const char other[] =
		"{\"plan\": \"TP-OTHER\", \"results\": [{\"employee_id\": \"E1\", \"name\": \"A\","
		" \"role\": \"r\", \"course\": \"FD-101\", \"attended\": false}]}";
	assert_int_equal(
		training_results_from_json(other, strlen(other), plan, &results, err, sizeof err), -1);
	assert_string_equal(err, "plan: the file is for \"TP-OTHER\", not TP-2027-Q1");
	innsync__training_plan__free_unpacked(plan, NULL);
}

/*---- Guest satisfaction --------------------------------------------------*/

static const char survey_header[] =
	"date,channel,cleanliness,service,value,location,facilities,overall,recommend,comment\r\n";

static void test_survey_csv(void **state)
{
	(void)state;
	char csv[2048];
	snprintf(csv, sizeof csv,
		 "\xef\xbb\xbf%s"
		 "2027-01-03,questionnaire,5,4,3,5,4,4,9,\"Great, \"\"clean\"\" room\"\r\n"
		 "2027-01-04,On-site,3,3,3,3,3,3,6,\r\n"
		 "2027-01-31,Online Review,4,5,4,4,4,5,10,\"two\r\nlines \xe5\xbe\x88\xe5\xa5\xbd\"\r\n"
		 "2027-01-05,phone,1,2,2,1,1,1,0,\r\n",
		 survey_header);
	Innsync__SatisfactionReport *report = NULL;
	char err[512];
	if (satisfaction_from_csv(csv, strlen(csv), NULL, &report, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(report->period, "2027-01");
	assert_int_equal(report->n_responses, 4);
	assert_string_equal(report->responses[1]->channel, "onsite");
	assert_string_equal(report->responses[2]->channel, "online_review");
	assert_string_equal(report->responses[0]->comment, "Great, \"clean\" room");
	assert_string_equal(report->responses[2]->comment, "two\nlines \xe5\xbe\x88\xe5\xa5\xbd");
	struct satisfaction_summary s;
	satisfaction_summarise(report, &s);
	assert_int_equal(s.responses, 4);
	assert_int_equal(s.sums[0], 13);  /* cleanliness 5+3+4+1 */
	assert_int_equal(s.sums[5], 13);  /* overall 4+3+5+1 */
	assert_int_equal(s.promoters, 2);
	assert_int_equal(s.detractors, 2);
	assert_int_equal(s.channels[2], 1);
	assert_int_equal(satisfaction_nps(s.promoters, s.detractors, s.responses), 0);
	innsync__satisfaction_report__free_unpacked(report, NULL);
}

static void test_survey_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *rows, *period, *error;
	} cases[] = {
		{ "2027-01-03,phone,6,4,3,5,4,4,9,\n", NULL,
		  "line 2: cleanliness: \"6\" is not a whole number from 1 to 5" },
		{ "2027-01-03,phone,5,0,3,5,4,4,9,\n", NULL,
		  "line 2: service: \"0\" is not a whole number from 1 to 5" },
		{ "2027-01-03,phone,5,4,3,5,4,4,11,\n", NULL,
		  "line 2: recommend: \"11\" is not a whole number from 0 to 10" },
		{ "2027-01-03,fax,5,4,3,5,4,4,9,\n", NULL,
		  "line 2: channel: \"fax\" is not questionnaire, phone, on-site or online review" },
		{ "2027-01-03,phone,5,4,3,5,4,4,9\n", NULL,
		  "line 2: 9 fields, want 10 (date,channel,cleanliness,service,value,location,"
		  "facilities,overall,recommend,comment; a comma inside a comment needs the comment "
		  "quoted)" },
		{ "2027-01-03,phone,5,4,3,5,4,4,9,fine\n2027-02-01,phone,5,4,3,5,4,4,9,\n", NULL,
		  "line 3: date: 2027-02-01 is not in 2027-01 (one report holds one month)" },
		{ "03/01/2027,phone,5,4,3,5,4,4,9,\n", NULL,
		  "line 2: date: \"03/01/2027\" is not a date (want YYYY-MM-DD)" },
		{ "2027-01-03,phone,5,4,3,5,4,4,9,\n", "2027-02",
		  "line 2: date: 2027-01-03 is not in 2027-02 (one report holds one month)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char csv[1024];
		snprintf(csv, sizeof csv, "%s%s", survey_header, cases[i].rows);
		Innsync__SatisfactionReport *report = NULL;
		char err[512] = "";
		int rc = satisfaction_from_csv(csv, strlen(csv), cases[i].period, &report, err,
					       sizeof err);
		if (rc == 0 || report != NULL)
			fail_msg("case %zu accepted", i);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, cases[i].error);
	}
	Innsync__SatisfactionReport *report = NULL;
	char err[512];
	static const char wrong_header[] = "date,channel,clean,service,value,location,facilities,"
					   "overall,recommend,comment\n2027-01-03,phone,5,4,3,5,4,4,9,\n";
	assert_int_equal(satisfaction_from_csv(wrong_header, strlen(wrong_header), NULL, &report, err,
					       sizeof err),
			 -1);
	assert_string_equal(err, "line 1: column 3 is \"clean\", want \"cleanliness\" (header: "
				 "date,channel,cleanliness,service,value,location,facilities,overall,"
				 "recommend,comment)");
}

static void test_survey_json(void **state)
{
	(void)state;
	static const char responses[] =
		"{\"period\": \"2027-01\", \"responses\": [{\"date\": \"2027-01-02\","
		" \"channel\": \"phone\", \"cleanliness\": 4, \"service\": 4, \"value\": 4,"
		" \"location\": 4, \"facilities\": 4, \"overall\": 4, \"recommend\": 8}]}";
	Innsync__SatisfactionReport *report = NULL;
	char err[512];
	if (satisfaction_from_json(responses, strlen(responses), NULL, &report, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(report->n_responses, 1);
	assert_null(report->aggregate);
	innsync__satisfaction_report__free_unpacked(report, NULL);

	static const char aggregate[] =
		"{\"period\": \"2027-01\", \"aggregate\": {\"responses\": 4,"
		" \"channels\": {\"phone\": 1, \"questionnaire\": 3},"
		" \"scores\": {\"cleanliness\": {\"5\": 4}, \"service\": {\"4\": 2, \"5\": 2},"
		"  \"value\": {\"3\": 4}, \"location\": {\"1\": 1, \"5\": 3},"
		"  \"facilities\": {\"2\": 4}, \"overall\": {\"4\": 3, \"5\": 1}},"
		" \"recommend\": {\"10\": 1, \"8\": 1, \"6\": 2}}}";
	if (satisfaction_from_json(aggregate, strlen(aggregate), NULL, &report, err, sizeof err) != 0)
		fail_msg("aggregate refused: %s", err);
	struct satisfaction_summary s;
	satisfaction_summarise(report, &s);
	assert_int_equal(s.responses, 4);
	assert_int_equal(s.sums[0], 20);
	assert_int_equal(s.sums[1], 18);
	assert_int_equal(s.sums[3], 16);
	assert_int_equal(s.promoters, 1);
	assert_int_equal(s.passives, 1);
	assert_int_equal(s.detractors, 2);
	assert_int_equal(s.channels[0], 3);
	assert_int_equal(s.channels[1], 1);
	char mean[32];
	feedback_mean_text(s.sums[5], s.responses, mean, sizeof mean);
	assert_string_equal(mean, "4.25");
	assert_int_equal(satisfaction_check(report, err, sizeof err), 0);
	innsync__satisfaction_report__free_unpacked(report, NULL);

	static const struct {
		const char *from, *to, *error;
	} cases[] = {
		{ "\"service\": {\"4\": 2, \"5\": 2}", "\"service\": {\"4\": 2, \"5\": 1}",
		  "aggregate.scores.service: the counts add up to 3, not responses (4)" },
		{ "\"value\": {\"3\": 4}", "\"value\": {\"6\": 4}",
		  "aggregate.scores.value: \"6\" is not a score from 1 to 5" },
		{ "\"facilities\": {\"2\": 4}, ", "", "aggregate.scores.facilities: missing" },
		{ "\"phone\": 1", "\"phone\": 2",
		  "aggregate.channels: the counts add up to 5, not responses (4)" },
		{ "\"period\": \"2027-01\", ", "", "period: missing" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *at = strstr(aggregate, cases[i].from);
		assert_non_null(at);
		char text[2048];
		snprintf(text, sizeof text, "%.*s%s%s", (int)(at - aggregate), aggregate, cases[i].to,
			 at + strlen(cases[i].from));
		report = NULL;
		err[0] = '\0';
		if (satisfaction_from_json(text, strlen(text), NULL, &report, err, sizeof err) == 0)
			fail_msg("case %zu accepted", i);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, cases[i].error);
	}
}

/*---- Complaints ----------------------------------------------------------*/

static void test_complaint_deadlines(void **state)
{
	(void)state;
	struct complaint_settings settings;
	complaint_settings_default(&settings);
	assert_string_equal(settings.home_region, "east");
	assert_int_equal(complaint_deadline_hours(&settings, "east"), 12);
	assert_int_equal(complaint_deadline_hours(&settings, "East"), 12);
	assert_int_equal(complaint_deadline_hours(&settings, "southwest"), 24);
	assert_int_equal(complaint_deadline_hours(&settings, ""), 24);
	settings.home_hours = 6;
	settings.other_hours = 48;
	assert_int_equal(complaint_deadline_hours(&settings, "east"), 6);
	assert_int_equal(complaint_deadline_hours(&settings, "north"), 48);
	int64_t received = 1799569800000;
	int64_t due = complaint_due_ms(received, 12);
	assert_int_equal(due - received, 12 * 3600 * 1000);
	assert_false(complaint_is_late(due, due, due + 10));       /* at the deadline: on time */
	assert_true(complaint_is_late(due, due + 1, due + 10));    /* a millisecond after */
	assert_false(complaint_is_late(due, 0, due - 1));          /* open, not due yet */
	assert_true(complaint_is_late(due, 0, due + 1));           /* open and overdue */
	assert_false(complaint_is_late(due, received + 1, due + 99999999));

	Innsync__ComplaintResponse response = INNSYNC__COMPLAINT_RESPONSE__INIT;
	char err[256];
	response.complaint = "C-0001";
	response.text = " ";
	assert_int_equal(complaint_response_check(&response, err, sizeof err), -1);
	assert_string_equal(err, "text: missing (it must not be empty)");
	response.text = "Sorry; fixed the AC";
	assert_int_equal(complaint_response_check(&response, err, sizeof err), 0);
	assert_int_equal(feedback_text_check("--text", "bad\x01", 100, true, err, sizeof err), -1);
	assert_string_equal(err, "--text: contains a control character");
	assert_int_equal(feedback_text_check("--text", "\xff", 100, true, err, sizeof err), -1);
	assert_string_equal(err, "--text: not UTF-8 text");
}

/*---- Evaluations ---------------------------------------------------------*/

static const char form_json[] =
	"{\"name\": \"GM evaluation\", \"items\": ["
	" {\"code\": \"CS-1\", \"department\": \"customer_service\", \"text\": \"Visits\"},"
	" {\"code\": \"QA-1\", \"department\": \"qa\", \"text\": \"Fair inspections\"},"
	" {\"code\": \"TR-1\", \"department\": \"training\", \"text\": \"Useful courses\"}]}";

static Innsync__EvaluationRound *load_round(void)
{
	Innsync__EvaluationRound *round = NULL;
	char err[256];
	if (evaluation_form_from_json(form_json, strlen(form_json), &round, err, sizeof err) != 0)
		fail_msg("form refused: %s", err);
	round->id = strdup("EV-2027-01");
	round->due = strdup("2027-01-31");
	assert_int_equal(feedback_day_end_ms(round->due, &round->due_at_ms), 0);
	return round;
}

static void test_evaluation_form(void **state)
{
	(void)state;
	Innsync__EvaluationRound *round = load_round();
	assert_int_equal(round->n_items, 3);
	assert_string_equal(evaluation_round_item(round, "QA-1")->department, "qa");
	innsync__evaluation_round__free_unpacked(round, NULL);
	static const struct {
		const char *from, *to, *error;
	} cases[] = {
		{ "\"department\": \"qa\"", "\"department\": \"hr\"",
		  "items[1].department: \"hr\" is not customer_service, qa, training, sales or systems" },
		{ "\"code\": \"TR-1\"", "\"code\": \"CS-1\"", "items[2].code: CS-1 is also the code of items[0]" },
		{ "\"text\": \"Visits\"", "\"text\": \"\"", "items[0].text: missing (it must not be empty)" },
		{ "\"name\": \"GM evaluation\", ", "", "name: missing" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *at = strstr(form_json, cases[i].from);
		assert_non_null(at);
		char text[2048], err[512] = "";
		snprintf(text, sizeof text, "%.*s%s%s", (int)(at - form_json), form_json, cases[i].to,
			 at + strlen(cases[i].from));
		Innsync__EvaluationRound *form = NULL;
		if (evaluation_form_from_json(text, strlen(text), &form, err, sizeof err) == 0)
			fail_msg("case %zu accepted", i);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, cases[i].error);
	}
}

static void test_evaluation_answers(void **state)
{
	(void)state;
	Innsync__EvaluationRound *round = load_round();
	int64_t before = round->due_at_ms - 1;
	static const struct {
		const char *json, *error; /* error NULL: valid */
	} cases[] = {
		{ "{\"answers\": [{\"code\": \"CS-1\", \"rating\": 5, \"comment\": \"good\"},"
		  " {\"code\": \"QA-1\", \"rating\": 1}, {\"code\": \"TR-1\", \"rating\": 3}]}", NULL },
		{ "{\"round\": \"EV-2027-01\", \"answers\": [{\"code\": \"CS-1\", \"rating\": 5},"
		  " {\"code\": \"QA-1\", \"rating\": 1}, {\"code\": \"TR-1\", \"rating\": 3}]}", NULL },
		{ "{\"answers\": [{\"code\": \"CS-1\", \"rating\": 6}, {\"code\": \"QA-1\", \"rating\": 1},"
		  " {\"code\": \"TR-1\", \"rating\": 3}]}",
		  "answers[0].rating: 6 is not from 1 to 5" },
		{ "{\"answers\": [{\"code\": \"CS-1\", \"rating\": 5}, {\"code\": \"QA-1\", \"rating\": 1}]}",
		  "answers: item TR-1 (training) is not rated" },
		{ "{\"answers\": [{\"code\": \"CS-1\", \"rating\": 5}, {\"code\": \"QA-1\", \"rating\": 1},"
		  " {\"code\": \"TR-1\", \"rating\": 3}, {\"code\": \"SY-9\", \"rating\": 3}]}",
		  "answers[3].code: \"SY-9\" is not an item of round EV-2027-01 (items: CS-1, QA-1, TR-1)" },
		{ "{\"answers\": [{\"code\": \"CS-1\", \"rating\": 5}, {\"code\": \"CS-1\", \"rating\": 1},"
		  " {\"code\": \"TR-1\", \"rating\": 3}]}",
		  "answers[1].code: CS-1 is rated twice (also answers[0])" },
		{ "{\"round\": \"EV-2026-09\", \"answers\": [{\"code\": \"CS-1\", \"rating\": 5}]}",
		  "round: the file answers \"EV-2026-09\", not EV-2027-01" },
		{ "{\"answers\": [{\"code\": \"CS-1\", \"rating\": \"5\"}]}",
		  "answers[0].rating: want a whole number from 1 to 5" },
		{ "{\"answers\": [{\"code\": \"CS-1\", \"score\": 5}]}",
		  "answers[0].\"score\": unknown field (known: code, rating, comment)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Innsync__EvaluationAnswer *answer = NULL;
		char err[512] = "";
		int rc = evaluation_answer_from_json(cases[i].json, strlen(cases[i].json), round, &answer,
						     err, sizeof err);
		if (rc == 0)
			rc = evaluation_answer_check(answer, round, before, err, sizeof err);
		if (cases[i].error == NULL && rc != 0)
			fail_msg("case %zu refused: %s", i, err);
		if (cases[i].error != NULL && (rc == 0 || strcmp(err, cases[i].error) != 0))
			fail_msg("case %zu: rc %d \"%s\", want \"%s\"", i, rc, err, cases[i].error);
		if (answer)
			innsync__evaluation_answer__free_unpacked(answer, NULL);
	}
	/* the same valid answer, written when the round has closed */
	Innsync__EvaluationAnswer *answer = NULL;
	char err[512];
	assert_int_equal(evaluation_answer_from_json(cases[0].json, strlen(cases[0].json), round,
						     &answer, err, sizeof err),
			 0);
	assert_int_equal(evaluation_answer_check(answer, round, round->due_at_ms, err, sizeof err), -1);
	assert_string_equal(err, "round: EV-2027-01 closed at the end of 2027-01-31 (UTC); answers "
				 "are no longer accepted");
	innsync__evaluation_answer__free_unpacked(answer, NULL);
	innsync__evaluation_round__free_unpacked(round, NULL);
}

static void test_rating_stats(void **state)
{
	(void)state;
	struct rating_stats stats = { 0 };
	const uint32_t ratings[] = { 5, 4, 4, 1, 0, 6 }; /* 0 and 6 are ignored */
	for (size_t i = 0; i < sizeof ratings / sizeof ratings[0]; i++)
		rating_stats_add(&stats, ratings[i]);
	json_t *out = json_object();
	rating_stats_to_json(&stats, out);
	char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"count\":4,\"distribution\":{\"1\":1,\"2\":0,\"3\":0,\"4\":2,"
				  "\"5\":1},\"mean\":\"3.50\"}");
	free(text);
	json_decref(out);
	struct rating_stats none = { 0 };
	out = json_object();
	rating_stats_to_json(&none, out);
	assert_true(json_is_null(json_object_get(out, "mean")));
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_mean_and_nps),
		cmocka_unit_test(test_plan_valid),
		cmocka_unit_test(test_plan_refusals),
		cmocka_unit_test(test_plan_revision),
		cmocka_unit_test(test_results_csv_valid),
		cmocka_unit_test(test_results_refusals),
		cmocka_unit_test(test_results_json),
		cmocka_unit_test(test_survey_csv),
		cmocka_unit_test(test_survey_refusals),
		cmocka_unit_test(test_survey_json),
		cmocka_unit_test(test_complaint_deadlines),
		cmocka_unit_test(test_evaluation_form),
		cmocka_unit_test(test_evaluation_answers),
		cmocka_unit_test(test_rating_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
