/* qa_rules: owns the QA domain rules (see qa_rules.h): names, the finding
 * state machine, deadlines, the weighted score, record and file checks.
 * No sockets, no SQL: both programs and the unit tests call these. */
#include "qa_rules.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

static const char *const category_names[QA_CATEGORY_COUNT] = {
	"service", "hygiene", "safety", "hardware", "conduct",
};
static const char *const severity_names[QA_SEVERITY_COUNT] = {"minor", "major", "critical"};
static const char *const state_names[QA_STATE_COUNT] = {
	"open", "planned", "done", "verified", "reopened",
};

static int index_of(const char *const *names, int count, const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int qa_category_parse(const char *name)
{
	return index_of(category_names, QA_CATEGORY_COUNT, name);
}

int qa_severity_parse(const char *name)
{
	return index_of(severity_names, QA_SEVERITY_COUNT, name);
}

int qa_state_parse(const char *name)
{
	return index_of(state_names, QA_STATE_COUNT, name);
}

const char *qa_category_name(int category)
{
	return (category >= 0 && category < QA_CATEGORY_COUNT) ? category_names[category] : "?";
}

const char *qa_severity_name(int severity)
{
	return (severity >= 0 && severity < QA_SEVERITY_COUNT) ? severity_names[severity] : "?";
}

const char *qa_state_name(int state)
{
	return (state >= 0 && state < QA_STATE_COUNT) ? state_names[state] : "?";
}

/*---- Finding states --------------------------------------------------------*/

/* The state machine as one table: next[from][event], -1 where refused. */
/* clang-format off */
static const int state_table[QA_STATE_COUNT][4] = {
	/*                PLAN        DONE     ACCEPT       REJECT      */
	[QA_OPEN]     = { QA_PLANNED, -1,      -1,          -1          },
	[QA_PLANNED]  = { QA_PLANNED, QA_DONE, -1,          -1          },
	[QA_DONE]     = { -1,         -1,      QA_VERIFIED, QA_REOPENED },
	[QA_VERIFIED] = { -1,         -1,      -1,          QA_REOPENED },
	[QA_REOPENED] = { QA_PLANNED, QA_DONE, -1,          -1          },
};
/* clang-format on */

static const char *refusal_text(enum qa_state from, enum qa_event event)
{
	switch (event) {
	case QA_EVENT_PLAN:
		return from == QA_DONE ? "finding is done and awaits HQ's verification: no new plan"
				       : "finding is verified (closed): it takes no new plan";
	case QA_EVENT_DONE:
		if (from == QA_OPEN)
			return "finding has no rectification plan yet: record the plan first";
		return from == QA_DONE ? "finding is already done and awaits HQ's verification"
				       : "finding is verified (closed)";
	case QA_EVENT_ACCEPT:
		return from == QA_VERIFIED
			   ? "finding is already verified"
			   : "only a finding the site reported done can be accepted";
	case QA_EVENT_REJECT:
		return "only a done or verified finding can be reopened";
	}
	return "not allowed";
}

int qa_state_next(enum qa_state from, enum qa_event event, enum qa_state *to, char *err,
		  size_t errlen)
{
	if ((int)from < 0 || from >= QA_STATE_COUNT || (int)event < 0 || event > QA_EVENT_REJECT) {
		snprintf(err, errlen, "unknown finding state or event");
		return -1;
	}
	int next = state_table[from][event];
	if (next < 0) {
		snprintf(err, errlen, "%s (state %s)", refusal_text(from, event),
			 state_names[from]);
		return -1;
	}
	*to = (enum qa_state)next;
	return 0;
}

void qa_deadlines_default(struct qa_deadlines *out)
{
	out->plan_days = QA_PLAN_DAYS_DEFAULT;
	out->severity_days[QA_MINOR] = QA_MINOR_DAYS_DEFAULT;
	out->severity_days[QA_MAJOR] = QA_MAJOR_DAYS_DEFAULT;
	out->severity_days[QA_CRITICAL] = QA_CRITICAL_DAYS_DEFAULT;
}

int64_t qa_due_after(int64_t from_ms, uint32_t days)
{
	return from_ms + (int64_t)days * QA_DAY_MS;
}

int64_t qa_finding_due(const struct qa_deadlines *deadlines, int severity, int64_t from_ms)
{
	if (severity < 0 || severity >= QA_SEVERITY_COUNT)
		severity = QA_CRITICAL; /* unknown: the strictest */
	return qa_due_after(from_ms, deadlines->severity_days[severity]);
}

bool qa_overdue(enum qa_state state, int64_t due_ms, int64_t plan_due_ms, int64_t now_ms)
{
	switch (state) {
	case QA_OPEN:
		return (due_ms > 0 && now_ms > due_ms) || (plan_due_ms > 0 && now_ms > plan_due_ms);
	case QA_PLANNED:
	case QA_REOPENED:
		return due_ms > 0 && now_ms > due_ms;
	default:
		return false;
	}
}

bool qa_state_is_open(enum qa_state state)
{
	return state != QA_VERIFIED;
}

/*---- Identifiers and dates -------------------------------------------------*/

static bool id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int qa_inspection_id_make(const char *site, int64_t now_ms, const uint8_t random[2], char *out,
			  size_t outlen)
{
	time_t seconds = (time_t)(now_ms / 1000);
	struct tm tm;
	char day[16];
	gmtime_r(&seconds, &tm);
	strftime(day, sizeof day, "%Y%m%d", &tm);
	int n = snprintf(out, outlen, "QA-%s-%s-%02x%02x", site, day, random[0], random[1]);
	if (n < 0 || (size_t)n >= outlen || (size_t)n > QA_MAX_ID || !qa_inspection_id_valid(out))
		return -1;
	return 0;
}

bool qa_inspection_id_valid(const char *id)
{
	size_t len = id ? strlen(id) : 0;
	if (len <= 3 || len > QA_MAX_ID || strncmp(id, "QA-", 3) != 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!id_char(id[i]))
			return false;
	return true;
}

int qa_finding_id_make(const char *inspection, size_t n, char *out, size_t outlen)
{
	int written = snprintf(out, outlen, "%s-F%zu", inspection, n);
	return (written < 0 || (size_t)written >= outlen) ? -1 : 0;
}

int qa_finding_id_split(const char *finding, char *inspection, size_t inslen, size_t *n)
{
	const char *mark = finding ? strrchr(finding, 'F') : NULL;
	if (mark == NULL || mark - finding < 2 || mark[-1] != '-' || mark[1] == '\0' ||
	    mark[1] == '0' || strlen(mark + 1) > 4)
		return -1;
	size_t number = 0;
	for (const char *p = mark + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		number = number * 10 + (size_t)(*p - '0');
	}
	size_t len = (size_t)(mark - 1 - finding);
	if (len >= inslen)
		return -1;
	memcpy(inspection, finding, len);
	inspection[len] = '\0';
	if (!qa_inspection_id_valid(inspection))
		return -1;
	*n = number;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int qa_date_parse(const char *text, int64_t *out_ms)
{
	static const unsigned month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
		return -1;
	unsigned parts[3] = {0, 0, 0};
	static const int starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < lengths[i]; j++) {
			char c = text[starts[i] + j];
			if (c < '0' || c > '9')
				return -1;
			parts[i] = parts[i] * 10 + (unsigned)(c - '0');
		}
	}
	unsigned year = parts[0], month = parts[1], day = parts[2];
	if (year < 1970 || month < 1 || month > 12 || day < 1)
		return -1;
	unsigned limit = month_days[month - 1] + (month == 2 && leap_year(year) ? 1 : 0);
	if (day > limit)
		return -1;
	*out_ms = days_from_civil(year, month, day) * QA_DAY_MS;
	return 0;
}

/*---- Text ------------------------------------------------------------------*/

/* A required (or optional) text of at most max bytes; names (multiline
 * false) are one line. 0 or -1 with "label: reason". */
static int check_text(const char *label, const char *text, size_t max, bool required,
		      bool multiline, char *err, size_t errlen)
{
	size_t len = text ? strlen(text) : 0;
	bool blank = true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) {
			snprintf(err, errlen, "%s: control characters are not allowed", label);
			return -1;
		}
		if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
			blank = false;
	}
	if (len > 0 && !utf8_valid(text)) {
		snprintf(err, errlen, "%s: not valid UTF-8", label);
		return -1;
	}
	if (required && blank) {
		snprintf(err, errlen, "%s: must not be empty", label);
		return -1;
	}
	if (len > max) {
		snprintf(err, errlen, "%s: %zu bytes, at most %zu allowed", label, len, max);
		return -1;
	}
	return 0;
}

static int check_code(const char *label, const char *code, char *err, size_t errlen)
{
	size_t len = strlen(code);
	if (len == 0 || len > QA_MAX_CODE) {
		snprintf(err, errlen, "%s: an item code has 1 to %d characters", label,
			 QA_MAX_CODE);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!id_char(code[i]) && code[i] != '.') {
			snprintf(err, errlen, "%s: \"%.32s\": use letters, digits, '-', '_' or '.'",
				 label, code);
			return -1;
		}
	}
	return 0;
}

static int check_category(const char *label, const char *name, char *err, size_t errlen)
{
	if (qa_category_parse(name) >= 0)
		return 0;
	snprintf(err, errlen,
		 "%s: \"%.32s\" is not a category (service, hygiene, safety, hardware, conduct)",
		 label, name ? name : "");
	return -1;
}

/*---- Checklists and scores -------------------------------------------------*/

int qa_checklist_check(const Innsync__Checklist *checklist, char *err, size_t errlen)
{
	if (check_text("name", checklist->name, QA_MAX_NAME, true, false, err, errlen) != 0)
		return -1;
	if (checklist->n_items == 0 || checklist->n_items > QA_MAX_CHECKLIST_ITEMS) {
		snprintf(err, errlen, "items: a checklist has 1 to %d items (got %zu)",
			 QA_MAX_CHECKLIST_ITEMS, checklist->n_items);
		return -1;
	}
	char label[64];
	for (size_t i = 0; i < checklist->n_items; i++) {
		const Innsync__ChecklistItem *item = checklist->items[i];
		snprintf(label, sizeof label, "items[%zu].code", i);
		if (check_code(label, item->code, err, errlen) != 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(checklist->items[j]->code, item->code) == 0) {
				snprintf(err, errlen, "%s: \"%s\" appears twice (also items[%zu])",
					 label, item->code, j);
				return -1;
			}
		}
		snprintf(label, sizeof label, "items[%zu].category", i);
		if (check_category(label, item->category, err, errlen) != 0)
			return -1;
		snprintf(label, sizeof label, "items[%zu].text", i);
		if (check_text(label, item->text, QA_MAX_TEXT, true, false, err, errlen) != 0)
			return -1;
		if (item->weight < 1 || item->weight > QA_MAX_WEIGHT) {
			snprintf(err, errlen,
				 "items[%zu].weight: %u, want a whole number from 1 to %d", i,
				 item->weight, QA_MAX_WEIGHT);
			return -1;
		}
	}
	return 0;
}

/* Refuses keys other than those listed (typos would be silently lost). */
static int only_keys(json_t *object, const char *where, const char *const *keys, size_t n,
		     char *err, size_t errlen)
{
	const char *key;
	json_t *value;
	json_object_foreach(object, key, value)
	{
		bool known = false;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(keys[i], key) == 0;
		if (!known) {
			snprintf(err, errlen, "%s%s%.40s: unknown field", where, *where ? "." : "",
				 key);
			return -1;
		}
	}
	return 0;
}

/* A JSON string member as a new malloc'd copy (NULL: missing, with err). */
static char *string_member(json_t *object, const char *key, const char *label, bool required,
			   char *err, size_t errlen)
{
	json_t *value = json_object_get(object, key);
	if (value == NULL && !required)
		return strdup("");
	if (!json_is_string(value)) {
		snprintf(err, errlen, "%s: %s", label, value ? "want a string" : "missing");
		return NULL;
	}
	char *copy = strdup(json_string_value(value));
	if (copy == NULL)
		snprintf(err, errlen, "out of memory");
	return copy;
}

static Innsync__ChecklistItem *item_from_json(json_t *value, size_t index, char *err, size_t errlen)
{
	static const char *const keys[] = {"code", "category", "text", "weight"};
	char where[32], label[64];
	snprintf(where, sizeof where, "items[%zu]", index);
	if (!json_is_object(value)) {
		snprintf(err, errlen, "%s: want an object", where);
		return NULL;
	}
	if (only_keys(value, where, keys, 4, err, errlen) != 0)
		return NULL;
	Innsync__ChecklistItem *item = malloc(sizeof *item);
	if (item == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	innsync__checklist_item__init(item);
	const char *names[3] = {"code", "category", "text"};
	char **fields[3] = {&item->code, &item->category, &item->text};
	for (int i = 0; i < 3; i++) {
		snprintf(label, sizeof label, "%s.%s", where, names[i]);
		char *text = string_member(value, names[i], label, true, err, errlen);
		if (text == NULL) {
			innsync__checklist_item__free_unpacked(item, NULL);
			return NULL;
		}
		*fields[i] = text;
	}
	json_t *weight = json_object_get(value, "weight");
	if (!json_is_integer(weight) || json_integer_value(weight) < 1 ||
	    json_integer_value(weight) > QA_MAX_WEIGHT) {
		snprintf(err, errlen, "%s.weight: want a whole number from 1 to %d", where,
			 QA_MAX_WEIGHT);
		innsync__checklist_item__free_unpacked(item, NULL);
		return NULL;
	}
	item->weight = (uint32_t)json_integer_value(weight);
	return item;
}

static int checklist_fill(json_t *root, Innsync__Checklist *checklist, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "items"};
	if (only_keys(root, "", keys, 2, err, errlen) != 0)
		return -1;
	checklist->name = string_member(root, "name", "name", true, err, errlen);
	if (checklist->name == NULL) {
		checklist->name = (char *)protobuf_c_empty_string;
		return -1;
	}
	json_t *items = json_object_get(root, "items");
	if (!json_is_array(items) || json_array_size(items) == 0 ||
	    json_array_size(items) > QA_MAX_CHECKLIST_ITEMS) {
		snprintf(err, errlen, "items: want a list of 1 to %d items",
			 QA_MAX_CHECKLIST_ITEMS);
		return -1;
	}
	checklist->items = calloc(json_array_size(items), sizeof *checklist->items);
	if (checklist->items == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t index;
	json_t *value;
	json_array_foreach(items, index, value)
	{
		Innsync__ChecklistItem *item = item_from_json(value, index, err, errlen);
		if (item == NULL)
			return -1;
		checklist->items[checklist->n_items++] = item;
	}
	return qa_checklist_check(checklist, err, errlen);
}

int qa_checklist_from_json(const char *text, size_t len, Innsync__Checklist **out, char *err,
			   size_t errlen)
{
	*out = NULL;
	if (len > QA_MAX_FILE_BYTES) {
		snprintf(err, errlen, "larger than %d bytes", QA_MAX_FILE_BYTES);
		return -1;
	}
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	if (!json_is_object(root)) {
		if (root == NULL)
			snprintf(err, errlen, "not valid JSON (line %d: %s)", error.line,
				 error.text);
		else
			snprintf(err, errlen,
				 "want a JSON object {\"name\": ..., \"items\": [...]}");
		json_decref(root);
		return -1;
	}
	Innsync__Checklist *checklist = malloc(sizeof *checklist);
	if (checklist == NULL) {
		json_decref(root);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	innsync__checklist__init(checklist);
	int rc = checklist_fill(root, checklist, err, errlen);
	json_decref(root);
	if (rc != 0) {
		innsync__checklist__free_unpacked(checklist, NULL);
		return -1;
	}
	*out = checklist;
	return 0;
}

const Innsync__ChecklistItem *qa_checklist_item(const Innsync__Checklist *checklist,
						const char *code)
{
	for (size_t i = 0; checklist != NULL && i < checklist->n_items; i++)
		if (strcmp(checklist->items[i]->code, code) == 0)
			return checklist->items[i];
	return NULL;
}

void qa_checklist_weights(const Innsync__Checklist *checklist, uint32_t weights[QA_CATEGORY_COUNT])
{
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		weights[c] = checklist == NULL ? 1 : 0;
	for (size_t i = 0; checklist != NULL && i < checklist->n_items; i++) {
		int c = qa_category_parse(checklist->items[i]->category);
		if (c >= 0)
			weights[c] += checklist->items[i]->weight;
	}
}

void qa_scores_of(const Innsync__QaInspection *inspection, struct qa_scores *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < inspection->n_scores; i++) {
		int c = qa_category_parse(inspection->scores[i]->category);
		if (c >= 0) {
			out->scored[c] = true;
			out->score[c] = inspection->scores[i]->score;
		}
	}
	for (size_t i = 0; i < inspection->n_weights; i++) {
		int c = qa_category_parse(inspection->weights[i]->category);
		if (c >= 0)
			out->weight[c] = inspection->weights[i]->weight;
	}
}

int qa_overall_score(const struct qa_scores *scores, double *out)
{
	uint64_t sum = 0, total = 0;
	for (int c = 0; c < QA_CATEGORY_COUNT; c++) {
		if (!scores->scored[c] || scores->weight[c] == 0)
			continue;
		sum += (uint64_t)scores->score[c] * scores->weight[c];
		total += scores->weight[c];
	}
	if (total == 0)
		return -1;
	/* tenths, rounded half-up: (10 * sum / total) + 1/2 */
	uint64_t tenths = (20 * sum + total) / (2 * total);
	*out = (double)tenths / 10.0;
	return 0;
}

/*---- Records ---------------------------------------------------------------*/

int qa_photo_ref_check(const Innsync__PhotoRef *photo, uint64_t max_bytes, char *err, size_t errlen)
{
	if (photo->sha256.len != SHA256_LEN) {
		snprintf(err, errlen, "sha256: want 32 bytes, got %zu", photo->sha256.len);
		return -1;
	}
	if (photo->size == 0 || photo->size > max_bytes) {
		snprintf(err, errlen, "size: %llu bytes, want 1 to %llu (the photo size limit)",
			 (unsigned long long)photo->size, (unsigned long long)max_bytes);
		return -1;
	}
	if (strcmp(photo->mime, "image/jpeg") != 0 && strcmp(photo->mime, "image/png") != 0) {
		snprintf(err, errlen, "mime: \"%.32s\": a photo is image/jpeg or image/png",
			 photo->mime);
		return -1;
	}
	return 0;
}

/* Prefixes err (which holds "field: reason") with "where.". */
static int prefixed(const char *where, char *err, size_t errlen)
{
	char inner[512];
	snprintf(inner, sizeof inner, "%s", err);
	snprintf(err, errlen, "%s.%s", where, inner);
	return -1;
}

static int check_photos(const char *where, Innsync__PhotoRef *const *photos, size_t n,
			uint64_t max_bytes, char *err, size_t errlen)
{
	if (n > QA_MAX_PHOTOS) {
		snprintf(err, errlen, "%s.photos: %zu photos, at most %d", where, n, QA_MAX_PHOTOS);
		return -1;
	}
	char label[96];
	for (size_t i = 0; i < n; i++) {
		if (qa_photo_ref_check(photos[i], max_bytes, err, errlen) != 0) {
			snprintf(label, sizeof label, "%s.photos[%zu]", where, i);
			return prefixed(label, err, errlen);
		}
	}
	return 0;
}

static int check_finding(const Innsync__QaInspection *inspection, size_t index,
			 const Innsync__Checklist *checklist, uint64_t max_photo_bytes, char *err,
			 size_t errlen)
{
	const Innsync__QaFinding *finding = inspection->findings[index];
	char where[32], label[64], expected[QA_MAX_FINDING_ID + 1];
	snprintf(where, sizeof where, "findings[%zu]", index);
	if (qa_finding_id_make(inspection->id, index + 1, expected, sizeof expected) != 0 ||
	    strcmp(finding->id, expected) != 0) {
		snprintf(err, errlen, "%s.id: \"%.80s\", want \"%s\"", where, finding->id,
			 expected);
		return -1;
	}
	snprintf(label, sizeof label, "%s.category", where);
	if (check_category(label, finding->category, err, errlen) != 0)
		return -1;
	if (qa_severity_parse(finding->severity) < 0) {
		snprintf(err, errlen, "%s.severity: \"%.32s\" is not minor, major or critical",
			 where, finding->severity);
		return -1;
	}
	snprintf(label, sizeof label, "%s.text", where);
	if (check_text(label, finding->text, QA_MAX_TEXT, true, true, err, errlen) != 0)
		return -1;
	if (finding->item[0] != '\0') {
		snprintf(label, sizeof label, "%s.item", where);
		if (check_code(label, finding->item, err, errlen) != 0)
			return -1;
		const Innsync__ChecklistItem *item = qa_checklist_item(checklist, finding->item);
		if (checklist != NULL && item == NULL) {
			snprintf(err, errlen, "%s: \"%s\" is not an item of checklist \"%s\" v%u",
				 label, finding->item, checklist->name, checklist->version);
			return -1;
		}
		if (item != NULL && strcmp(item->category, finding->category) != 0) {
			snprintf(err, errlen, "%s: item %s is in category %s, not %s", label,
				 item->code, item->category, finding->category);
			return -1;
		}
	}
	return check_photos(where, finding->photos, finding->n_photos, max_photo_bytes, err,
			    errlen);
}

static int check_scores(const Innsync__QaInspection *inspection, char *err, size_t errlen)
{
	bool seen[QA_CATEGORY_COUNT] = {false};
	char label[64];
	for (size_t i = 0; i < inspection->n_scores; i++) {
		const Innsync__CategoryScore *score = inspection->scores[i];
		snprintf(label, sizeof label, "scores[%zu].category", i);
		if (check_category(label, score->category, err, errlen) != 0)
			return -1;
		int c = qa_category_parse(score->category);
		if (seen[c]) {
			snprintf(err, errlen, "%s: %s is scored twice", label, score->category);
			return -1;
		}
		seen[c] = true;
		if (score->score > 100) {
			snprintf(err, errlen, "scores[%zu].score: %u, want 0 to 100", i,
				 score->score);
			return -1;
		}
	}
	return 0;
}

static int check_weights(const Innsync__QaInspection *inspection,
			 const Innsync__Checklist *checklist, char *err, size_t errlen)
{
	uint32_t expected[QA_CATEGORY_COUNT], got[QA_CATEGORY_COUNT] = {0};
	bool seen[QA_CATEGORY_COUNT] = {false};
	qa_checklist_weights(checklist, expected);
	char label[64];
	for (size_t i = 0; i < inspection->n_weights; i++) {
		snprintf(label, sizeof label, "weights[%zu].category", i);
		if (check_category(label, inspection->weights[i]->category, err, errlen) != 0)
			return -1;
		int c = qa_category_parse(inspection->weights[i]->category);
		if (seen[c]) {
			snprintf(err, errlen, "%s: %s is listed twice", label, qa_category_name(c));
			return -1;
		}
		seen[c] = true;
		got[c] = inspection->weights[i]->weight;
	}
	for (int c = 0; c < QA_CATEGORY_COUNT; c++) {
		if (got[c] != expected[c]) {
			snprintf(err, errlen,
				 "weights: %s weighs %u in checklist v%u, the inspection says %u",
				 qa_category_name(c), expected[c], inspection->checklist_version,
				 got[c]);
			return -1;
		}
	}
	return 0;
}

static int check_header(const Innsync__QaInspection *inspection, char *err, size_t errlen)
{
	if (!qa_inspection_id_valid(inspection->id)) {
		snprintf(err, errlen,
			 "id: \"%.80s\" is not an inspection id (QA-<site>-<date>-<hex>)",
			 inspection->id);
		return -1;
	}
	if (check_text("site", inspection->site, 64, true, false, err, errlen) != 0 ||
	    check_text("inspector", inspection->inspector, QA_MAX_NAME, true, false, err, errlen) !=
		0 ||
	    check_text("accompanied_by", inspection->accompanied_by, QA_MAX_NAME, false, false, err,
		       errlen) != 0 ||
	    check_text("checklist_name", inspection->checklist_name, QA_MAX_NAME, false, false, err,
		       errlen) != 0)
		return -1;
	if (strcmp(inspection->type, "announced") != 0 &&
	    strcmp(inspection->type, "mystery") != 0) {
		snprintf(err, errlen, "type: \"%.32s\" is not announced or mystery",
			 inspection->type);
		return -1;
	}
	if (inspection->n_findings > QA_MAX_FINDINGS) {
		snprintf(err, errlen, "findings: %zu, at most %d per inspection",
			 inspection->n_findings, QA_MAX_FINDINGS);
		return -1;
	}
	if (inspection->n_findings == 0 && inspection->n_scores == 0) {
		snprintf(err, errlen,
			 "findings: an inspection needs at least one finding or score");
		return -1;
	}
	return 0;
}

int qa_inspection_check(const Innsync__QaInspection *inspection,
			const Innsync__Checklist *checklist, uint64_t max_photo_bytes, char *err,
			size_t errlen)
{
	if (check_header(inspection, err, errlen) != 0)
		return -1;
	if (checklist == NULL && inspection->checklist_version != 0) {
		snprintf(err, errlen, "checklist_version: %u is not a checklist HQ published",
			 inspection->checklist_version);
		return -1;
	}
	if (checklist != NULL && checklist->version != inspection->checklist_version) {
		snprintf(err, errlen, "checklist_version: %u, the checklist given is v%u",
			 inspection->checklist_version, checklist->version);
		return -1;
	}
	for (size_t i = 0; i < inspection->n_findings; i++)
		if (check_finding(inspection, i, checklist, max_photo_bytes, err, errlen) != 0)
			return -1;
	if (check_scores(inspection, err, errlen) != 0)
		return -1;
	return check_weights(inspection, checklist, err, errlen);
}

static int check_finding_ref(const char *finding, const char *inspection, char *err, size_t errlen)
{
	char expected[QA_MAX_ID + 1];
	size_t n = 0;
	if (qa_finding_id_split(finding, expected, sizeof expected, &n) != 0) {
		snprintf(err, errlen, "finding: \"%.80s\" is not a finding id (<inspection>-F<n>)",
			 finding);
		return -1;
	}
	if (strcmp(inspection, expected) != 0) {
		snprintf(err, errlen, "inspection: \"%.64s\", finding %s belongs to %s", inspection,
			 finding, expected);
		return -1;
	}
	return 0;
}

int qa_plan_check(const Innsync__RectificationPlan *plan, char *err, size_t errlen)
{
	int64_t due = 0;
	if (check_finding_ref(plan->finding, plan->inspection, err, errlen) != 0 ||
	    check_text("action", plan->action, QA_MAX_TEXT, true, true, err, errlen) != 0 ||
	    check_text("owner", plan->owner, QA_MAX_NAME, true, false, err, errlen) != 0)
		return -1;
	if (qa_date_parse(plan->due_date, &due) != 0) {
		snprintf(err, errlen, "due_date: \"%.32s\" is not a date (want YYYY-MM-DD)",
			 plan->due_date);
		return -1;
	}
	return 0;
}

int qa_done_check(const Innsync__RectificationDone *done, uint64_t max_photo_bytes, char *err,
		  size_t errlen)
{
	if (check_finding_ref(done->finding, done->inspection, err, errlen) != 0 ||
	    check_text("note", done->note, QA_MAX_TEXT, true, true, err, errlen) != 0)
		return -1;
	return check_photos("evidence", done->photos, done->n_photos, max_photo_bytes, err, errlen);
}

/*---- The import file -------------------------------------------------------*/

static int import_scores(json_t *scores, struct qa_import *import, char *err, size_t errlen)
{
	if (scores == NULL)
		return 0;
	if (!json_is_object(scores)) {
		snprintf(err, errlen, "scores: want an object {\"hygiene\": 80, ...}");
		return -1;
	}
	const char *key;
	json_t *value;
	json_object_foreach(scores, key, value)
	{
		int c = qa_category_parse(key);
		if (c < 0) {
			snprintf(err, errlen,
				 "scores.%.32s: not a category (service, hygiene, safety,"
				 " hardware, conduct)",
				 key);
			return -1;
		}
		if (!json_is_integer(value) || json_integer_value(value) < 0 ||
		    json_integer_value(value) > 100) {
			snprintf(err, errlen, "scores.%s: want a whole number from 0 to 100", key);
			return -1;
		}
		import->score[c] = (int)json_integer_value(value);
	}
	return 0;
}

static int import_photos(json_t *photos, const char *where, struct qa_import_finding *finding,
			 char *err, size_t errlen)
{
	if (photos == NULL)
		return 0;
	if (!json_is_array(photos) || json_array_size(photos) > QA_MAX_PHOTOS) {
		snprintf(err, errlen, "%s.photos: want a list of at most %d file paths", where,
			 QA_MAX_PHOTOS);
		return -1;
	}
	finding->photos = calloc(json_array_size(photos) + 1, sizeof *finding->photos);
	if (finding->photos == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t index;
	json_t *value;
	json_array_foreach(photos, index, value)
	{
		const char *path = json_string_value(value);
		if (path == NULL || path[0] == '\0' || strlen(path) > 1024) {
			snprintf(err, errlen, "%s.photos[%zu]: want a file path", where, index);
			return -1;
		}
		finding->photos[finding->n_photos] = strdup(path);
		if (finding->photos[finding->n_photos] == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		finding->n_photos++;
	}
	return 0;
}

static int import_finding(json_t *value, size_t index, struct qa_import_finding *finding, char *err,
			  size_t errlen)
{
	static const char *const keys[] = {"category", "severity", "item", "text", "photos"};
	char where[32], label[64];
	snprintf(where, sizeof where, "findings[%zu]", index);
	if (!json_is_object(value)) {
		snprintf(err, errlen, "%s: want an object", where);
		return -1;
	}
	if (only_keys(value, where, keys, 5, err, errlen) != 0)
		return -1;
	const char *category = json_string_value(json_object_get(value, "category"));
	const char *severity = json_string_value(json_object_get(value, "severity"));
	finding->category = qa_category_parse(category);
	finding->severity = qa_severity_parse(severity);
	snprintf(label, sizeof label, "%s.category", where);
	if (check_category(label, category, err, errlen) != 0)
		return -1;
	if (finding->severity < 0) {
		snprintf(err, errlen, "%s.severity: want minor, major or critical", where);
		return -1;
	}
	snprintf(label, sizeof label, "%s.text", where);
	finding->text = string_member(value, "text", label, true, err, errlen);
	if (finding->text == NULL ||
	    check_text(label, finding->text, QA_MAX_TEXT, true, true, err, errlen) != 0)
		return -1;
	snprintf(label, sizeof label, "%s.item", where);
	finding->item = string_member(value, "item", label, false, err, errlen);
	if (finding->item == NULL ||
	    (finding->item[0] != '\0' && check_code(label, finding->item, err, errlen) != 0))
		return -1;
	return import_photos(json_object_get(value, "photos"), where, finding, err, errlen);
}

static int import_fill(json_t *root, struct qa_import *import, char *err, size_t errlen)
{
	static const char *const keys[] = {"site", "type", "accompanied_by", "scores", "findings"};
	if (only_keys(root, "", keys, 5, err, errlen) != 0)
		return -1;
	import->site = string_member(root, "site", "site", true, err, errlen);
	if (json_object_get(root, "type") != NULL)
		import->type = string_member(root, "type", "type", true, err, errlen);
	else
		import->type = strdup("announced");
	import->accompanied_by =
	    string_member(root, "accompanied_by", "accompanied_by", false, err, errlen);
	if (import->site == NULL || import->type == NULL || import->accompanied_by == NULL)
		return -1;
	if (check_text("site", import->site, 64, true, false, err, errlen) != 0 ||
	    check_text("accompanied_by", import->accompanied_by, QA_MAX_NAME, false, false, err,
		       errlen) != 0)
		return -1;
	if (strcmp(import->type, "announced") != 0 && strcmp(import->type, "mystery") != 0) {
		snprintf(err, errlen, "type: \"%.32s\" is not announced or mystery", import->type);
		return -1;
	}
	if (import_scores(json_object_get(root, "scores"), import, err, errlen) != 0)
		return -1;
	json_t *findings = json_object_get(root, "findings");
	if (findings != NULL &&
	    (!json_is_array(findings) || json_array_size(findings) > QA_MAX_FINDINGS)) {
		snprintf(err, errlen, "findings: want a list of at most %d findings",
			 QA_MAX_FINDINGS);
		return -1;
	}
	size_t count = findings ? json_array_size(findings) : 0;
	import->findings = calloc(count + 1, sizeof *import->findings);
	if (import->findings == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		import->n_findings = i + 1; /* owned from here, even half-filled */
		if (import_finding(json_array_get(findings, i), i, &import->findings[i], err,
				   errlen) != 0)
			return -1;
	}
	bool scored = false;
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		scored = scored || import->score[c] >= 0;
	if (count == 0 && !scored) {
		snprintf(err, errlen,
			 "findings: an inspection needs at least one finding or score");
		return -1;
	}
	return 0;
}

int qa_import_parse(const char *text, size_t len, struct qa_import **out, char *err, size_t errlen)
{
	*out = NULL;
	if (len > QA_MAX_FILE_BYTES) {
		snprintf(err, errlen, "larger than %d bytes", QA_MAX_FILE_BYTES);
		return -1;
	}
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	if (!json_is_object(root)) {
		if (root == NULL)
			snprintf(err, errlen, "not valid JSON (line %d: %s)", error.line,
				 error.text);
		else
			snprintf(err, errlen,
				 "want a JSON object {\"site\": ..., \"findings\": [...]}");
		json_decref(root);
		return -1;
	}
	struct qa_import *import = calloc(1, sizeof *import);
	if (import == NULL) {
		json_decref(root);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int c = 0; c < QA_CATEGORY_COUNT; c++)
		import->score[c] = -1;
	int rc = import_fill(root, import, err, errlen);
	json_decref(root);
	if (rc != 0) {
		qa_import_free(&import);
		return -1;
	}
	*out = import;
	return 0;
}

void qa_import_free(struct qa_import **import_p)
{
	struct qa_import *import = import_p ? *import_p : NULL;
	if (import == NULL)
		return;
	for (size_t i = 0; i < import->n_findings; i++) {
		struct qa_import_finding *finding = &import->findings[i];
		for (size_t j = 0; j < finding->n_photos; j++)
			free(finding->photos[j]);
		free(finding->photos);
		free(finding->item);
		free(finding->text);
	}
	free(import->findings);
	free(import->site);
	free(import->type);
	free(import->accompanied_by);
	free(import);
	*import_p = NULL;
}
