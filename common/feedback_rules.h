/* feedback_rules: what valid training plans and results, guest-survey
 * results, complaint responses and evaluation forms and answers are, their
 * file formats (docs/FEEDBACK.md), and the figures derived from them (means,
 * NPS, rating distributions, deadlines). Shared by HQ, which checks every
 * record it receives, and the sites, which check a file before storing it.
 * No sockets, no SQL.
 *
 * Every refusal is one line that names where the problem is: a CSV line
 * ("line 7: score: \"105\" is not a whole number from 0 to 100"), or a JSON
 * field ("courses[2].end: 2027-01-09 is before start 2027-01-10"). Messages
 * built by from_json/from_csv functions are owned by the caller and freed with
 * the matching innsync__*__free_unpacked(msg, NULL). */
#ifndef INNSYNC_FEEDBACK_RULES_H
#define INNSYNC_FEEDBACK_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "innsync.pb-c.h"

#define FEEDBACK_MAX_FILE_BYTES (2 * 1024 * 1024) /* any input file */
#define FEEDBACK_MAX_ID 64          /* plan, course, item, employee ids */
#define FEEDBACK_MAX_NAME 200       /* titles, names, roles, trainers */
#define FEEDBACK_MAX_TEXT 2000      /* complaint text, responses */
#define FEEDBACK_MAX_COMMENT 1000   /* survey and evaluation comments */
#define TRAINING_MAX_COURSES 100
#define TRAINING_MAX_RESULTS 2000
#define TRAINING_MAX_HOURS 1000
#define SURVEY_MAX_RESPONSES 1000   /* per month and file; more: send an aggregate */
#define SURVEY_MAX_AGGREGATE 1000000
#define EVALUATION_MAX_ITEMS 100

/* The site's trainer certification course: a course with this role. */
#define TRAINING_TRAINER_ROLE "trainer"

/*---- Dates and names -------------------------------------------------------*/

/* "YYYY-MM-DD" (a real calendar day, years 1970-9999) -> days since
 * 1970-01-01. 0 or -1. */
int feedback_parse_date(const char *text, int64_t *days);
/* "YYYY-MM" -> 0 or -1. */
int feedback_parse_period(const char *text);
/* The first instant (Unix ms) after the UTC day `date`. 0 or -1. */
int feedback_day_end_ms(const char *date, int64_t *ms);
/* Unix ms -> "YYYY-MM-DD" (UTC). out: at least 11 bytes. */
void feedback_format_date(int64_t unix_ms, char *out, size_t outlen);
/* "2027-01-10T08:30:00Z", "2027-01-10 08:30+08:00", "2027-01-10T08:30"
 * (no zone: UTC) -> Unix ms. 0, or -1 with a reason. */
int feedback_parse_time(const char *text, int64_t *unix_ms, char *err, size_t errlen);
/* 1 if id is 1-64 letters, digits, '.', '_' or '-'. */
int feedback_valid_id(const char *id);
/* "4.27": sum / count rounded half-up to two decimals; "" when count is 0.
 * sum and count are non-negative. out: at least 32 bytes. */
void feedback_mean_text(int64_t sum, int64_t count, char *out, size_t outlen);

/*---- Training --------------------------------------------------------------*/

/* Parses a plan file (JSON, see docs/FEEDBACK.md). On success *plan (with
 * revision 0) and *audience_json (the "audience" value as compact JSON,
 * malloc'd) belong to the caller. The audience's shape is checked by HQ. */
int training_plan_from_json(const char *text, size_t len, Innsync__TrainingPlan **plan,
			    char **audience_json, char *err, size_t errlen);
/* The rules on the structured form. 0 or -1 with "courses[i].field: ...". */
int training_plan_check(const Innsync__TrainingPlan *plan, char *err, size_t errlen);
/* The course with this code, or NULL. */
const Innsync__TrainingCourse *training_plan_course(const Innsync__TrainingPlan *plan,
						    const char *code);
/* For a revision: every course of previous that next no longer lists is
 * appended to next as cancelled (a revision never silently drops a course).
 * 0 or -1 (out of memory). */
int training_plan_keep_dropped(Innsync__TrainingPlan *next,
			       const Innsync__TrainingPlan *previous);
/* What changed from previous to next, for the sites: a JSON array of
 * {"course", "change": "cancelled"|"added"|"dates"|"details", "text"}.
 * New reference. */
json_t *training_plan_changes(const Innsync__TrainingPlan *previous,
			      const Innsync__TrainingPlan *next);
/* The plan in its file's shape (plus revision, cancelled flags). */
json_t *training_plan_to_json(const Innsync__TrainingPlan *plan);

/* Parses a results file, CSV (header employee_id,name,role,course,
 * attended,score) or JSON ({"results": [...]}), against the plan it
 * reports on. On success *out belongs to the caller. */
int training_results_from_csv(const char *text, size_t len, const Innsync__TrainingPlan *plan,
			      Innsync__TrainingResults **out, char *err, size_t errlen);
int training_results_from_json(const char *text, size_t len, const Innsync__TrainingPlan *plan,
			       Innsync__TrainingResults **out, char *err, size_t errlen);
/* The rules on the structured form, against the plan. */
int training_results_check(const Innsync__TrainingResults *results,
			   const Innsync__TrainingPlan *plan, char *err, size_t errlen);

enum training_outcome {
	TRAINING_ABSENT,   /* did not attend */
	TRAINING_PASSED,   /* attended, score >= pass mark */
	TRAINING_FAILED,   /* attended, score < pass mark */
};
enum training_outcome training_result_outcome(const Innsync__TrainingResult *result,
					      uint32_t pass_mark);

/*---- Guest satisfaction ----------------------------------------------------*/

#define SURVEY_DIMENSIONS 6
/* cleanliness, service, value, location, facilities, overall */
extern const char *const survey_dimensions[SURVEY_DIMENSIONS];
#define SURVEY_CHANNELS 4
/* questionnaire, phone, onsite, online_review */
extern const char *const survey_channels[SURVEY_CHANNELS];

/* Parses survey results: a CSV of responses (header date,channel,
 * cleanliness,service,value,location,facilities,overall,recommend,comment)
 * or JSON ({"period", "responses": [...]} or {"period", "aggregate": {...}}).
 * period: the month the file must hold, or NULL to take it from the file
 * (CSV: the first response's month). */
int satisfaction_from_csv(const char *text, size_t len, const char *period,
			  Innsync__SatisfactionReport **out, char *err, size_t errlen);
int satisfaction_from_json(const char *text, size_t len, const char *period,
			   Innsync__SatisfactionReport **out, char *err, size_t errlen);
int satisfaction_check(const Innsync__SatisfactionReport *report, char *err, size_t errlen);

struct satisfaction_summary {
	int64_t responses;
	int64_t sums[SURVEY_DIMENSIONS];   /* sum of scores per dimension */
	int64_t promoters;                 /* recommend 9-10 */
	int64_t passives;                  /* 7-8 */
	int64_t detractors;                /* 0-6 */
	int64_t channels[SURVEY_CHANNELS];
};
/* Totals of a valid report (responses or aggregate alike). */
void satisfaction_summarise(const Innsync__SatisfactionReport *report,
			    struct satisfaction_summary *out);
/* 100 x (promoters - detractors) / responses, rounded half away from zero;
 * 0 without responses. */
int64_t satisfaction_nps(int64_t promoters, int64_t detractors, int64_t responses);

/*---- Complaints ------------------------------------------------------------*/

#define COMPLAINT_DEFAULT_HOME_REGION "east"
#define COMPLAINT_DEFAULT_HOME_HOURS 12
#define COMPLAINT_DEFAULT_OTHER_HOURS 24
#define COMPLAINT_MAX_HOURS 720

struct complaint_settings {
	char home_region[64];   /* HQ's home region (sites.region) */
	unsigned home_hours;    /* first-response deadline there */
	unsigned other_hours;   /* and everywhere else */
};

void complaint_settings_default(struct complaint_settings *settings);
/* The first-response deadline in hours for a site in site_region. */
unsigned complaint_deadline_hours(const struct complaint_settings *settings,
				  const char *site_region);
int64_t complaint_due_ms(int64_t received_ms, unsigned hours);
/* A complaint is late when its first response came after the due time, or
 * when it has none (first_response_ms 0) and now is past it. */
bool complaint_is_late(int64_t due_ms, int64_t first_response_ms, int64_t now_ms);
/* Rules of a response (text 1..FEEDBACK_MAX_TEXT bytes of UTF-8). */
int complaint_response_check(const Innsync__ComplaintResponse *response, char *err,
			     size_t errlen);
/* A free-text value given on a command line: UTF-8, at most max bytes,
 * not empty when required. The reason starts with name. */
int feedback_text_check(const char *name, const char *text, size_t max, bool required,
			char *err, size_t errlen);

/*---- The GMs' evaluation of HQ ---------------------------------------------*/

#define EVALUATION_DEPARTMENTS 5
/* customer_service, qa, training, sales, systems */
extern const char *const evaluation_departments[EVALUATION_DEPARTMENTS];

/* Parses a form file ({"name", "items": [...]}) into a round without id and
 * due date. */
int evaluation_form_from_json(const char *text, size_t len, Innsync__EvaluationRound **form,
			      char *err, size_t errlen);
/* The form's rules (name, 1..EVALUATION_MAX_ITEMS items, unique codes,
 * known departments). */
int evaluation_form_check(const Innsync__EvaluationRound *form, char *err, size_t errlen);
const Innsync__EvaluationItem *evaluation_round_item(const Innsync__EvaluationRound *round,
						     const char *code);
/* Parses an answer file ({"answers": [...]}) for the round: shape and types
 * only; the caller applies evaluation_answer_check with the time the answer
 * is written. */
int evaluation_answer_from_json(const char *text, size_t len,
				const Innsync__EvaluationRound *round,
				Innsync__EvaluationAnswer **out, char *err, size_t errlen);
/* The rules of an answer written at written_ms: every item of the round
 * rated 1-5 once, no other items, comments bounded, and written before the
 * round closed (written_ms < round->due_at_ms). */
int evaluation_answer_check(const Innsync__EvaluationAnswer *answer,
			    const Innsync__EvaluationRound *round, int64_t written_ms,
			    char *err, size_t errlen);

/* Ratings of one item or department. */
struct rating_stats {
	int64_t count;
	int64_t sum;
	int64_t distribution[5];  /* [r - 1]: answers rating r */
};
void rating_stats_add(struct rating_stats *stats, uint32_t rating);
/* {"count", "mean" (decimal string, null when count is 0), "distribution"
 * {"1": n, ..., "5": n}} merged into object. */
void rating_stats_to_json(const struct rating_stats *stats, json_t *object);

#endif
