/* evaluation: the GM's answer to HQ's evaluation rounds (issue 4, seed
 * part 7):
 *   - `evaluation list` / `evaluation show ROUND`: rounds received, their
 *     due dates, items, and whether the site answered;
 *   - `evaluation answer ROUND FILE.json` (or, on a terminal without a
 *     file, item by item at prompts): one answer per site and round, queued
 *     as evaluation/<site>/<ROUND>; answering again before the round closes
 *     replaces the first answer (a new revision), after it is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "feedback.h"
#include "util.h"
#include "wire.h"

struct evaluation_args {
	const char *data;
	const char *author;
	const char *positional[2];
	size_t n_positional;
	bool json;
};

static int parse_args(int argc, char **argv, const char *usage, struct evaluation_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct evaluation_args, data),
		CLI_STRING("author", struct evaluation_args, author),
		CLI_FLAG("json", struct evaluation_args, json),
	};
	int rc = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args, usage,
			   args->positional, 2, &args->n_positional);
	if (rc != 0)
		return rc;
	return fb_check_reason_author(NULL, args->author);
}

/* The latest copy of round id HQ sent, or NULL. */
static const Innsync__EvaluationRound *find_round(const struct fb_inbox *inbox, const char *id)
{
	const Innsync__EvaluationRound *found = NULL;
	for (size_t i = 0; i < inbox->n; i++) {
		const Innsync__EvaluationRound *round = inbox->items[i].body->evaluation_round;
		if (round != NULL && strcmp(round->id, id) == 0)
			found = round;
	}
	return found;
}

static json_t *round_json(struct fb_agent *agent, const Innsync__EvaluationRound *round,
			  bool with_items)
{
	char record_id[160];
	struct fb_outbox_record answer;
	snprintf(record_id, sizeof record_id, "evaluation/%s/%s", agent->id.first_site, round->id);
	fb_outbox_latest(agent->db, record_id, &answer, NULL);
	json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:i, s:o}", "round", round->id, "name",
				round->name, "due", round->due, "open", now_ms() < round->due_at_ms,
				"items_count", (int)round->n_items, "answer", fb_outbox_json(&answer));
	if (out == NULL || !with_items)
		return out;
	json_t *items = json_array();
	for (size_t i = 0; i < round->n_items; i++)
		json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "code",
						       round->items[i]->code, "department",
						       round->items[i]->department, "text",
						       round->items[i]->text));
	json_object_set_new(out, "items", items);
	return out;
}

static void print_round(json_t *round)
{
	json_t *answer = json_object_get(round, "answer");
	printf("%-12s due %s (%s)  %lld items  %s\n", json_string_value(json_object_get(round, "round")),
	       json_string_value(json_object_get(round, "due")),
	       json_is_true(json_object_get(round, "open")) ? "open" : "closed",
	       (long long)json_integer_value(json_object_get(round, "items_count")),
	       json_is_object(answer) ? json_string_value(json_object_get(answer, "state"))
				      : "not answered");
	size_t index;
	json_t *item;
	json_array_foreach(json_object_get(round, "items"), index, item)
		printf("  %-8s %-16s %s\n", json_string_value(json_object_get(item, "code")),
		       json_string_value(json_object_get(item, "department")),
		       json_string_value(json_object_get(item, "text")));
}

/* list (round NULL) or show ROUND. */
static int list_or_show(const struct evaluation_args *args, const char *round_id)
{
	struct fb_agent agent;
	int rc = fb_agent_open(args->data, false, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox = { 0 };
	json_t *list = json_array();
	rc = fb_agent_inbox(&agent, INNSYNC__DOWN_KIND__DOWN_KIND_EVALUATION_ROUND, &inbox);
	for (size_t i = 0; rc == CLI_OK && i < inbox.n; i++) {
		const Innsync__EvaluationRound *round = inbox.items[i].body->evaluation_round;
		if (round == NULL || find_round(&inbox, round->id) != round ||
		    (round_id && strcmp(round->id, round_id) != 0))
			continue;
		json_array_append_new(list, round_json(&agent, round, round_id != NULL));
	}
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	if (rc == CLI_OK && round_id && json_array_size(list) == 0)
		rc = cli_fail("round: %s has not been received from HQ", round_id);
	if (rc != CLI_OK) {
		json_decref(list);
		return rc;
	}
	if (args->json) {
		json_t *out = round_id ? json_incref(json_array_get(list, 0)) : json_incref(list);
		json_decref(list);
		return cli_print_json(out);
	}
	return fb_print_list(list, print_round, "no evaluation rounds received from HQ");
}

static int cmd_list(int argc, char **argv, bool show)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(argc, argv,
				show ? "usage: innsync-branch evaluation show --data DIR ROUND [--json]\n"
				       "Shows the round's items (what an answer file rates).\n"
				     : "usage: innsync-branch evaluation list --data DIR [--json]\n"
				       "Evaluation rounds HQ sent, due dates and whether the site answered.\n",
				&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (show && args.n_positional != 1)
		return cli_usage("evaluation show needs the ROUND id");
	return list_or_show(&args, show ? args.positional[0] : NULL);
}

/* Reads one line from stdin without its line end; -1 at end of input. */
static int read_line(char *out, size_t outlen)
{
	if (fgets(out, (int)outlen, stdin) == NULL)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int prompt_rating(const Innsync__EvaluationItem *item, Innsync__EvaluationRating *rating)
{
	char line[FEEDBACK_MAX_COMMENT + 2], err[256];
	printf("\n[%s] %s\n%s\n", item->code, item->department, item->text);
	for (;;) {
		uint64_t value = 0;
		printf("  rating 1-5: ");
		fflush(stdout);
		if (read_line(line, sizeof line) != 0)
			return cli_fail("answer cancelled: nothing was stored");
		if (parse_u64(line, 1, 5, &value) == 0) {
			rating->rating = (uint32_t)value;
			break;
		}
		printf("  please type a whole number from 1 (poor) to 5 (excellent)\n");
	}
	for (;;) {
		printf("  comment (optional, Enter to skip): ");
		fflush(stdout);
		if (read_line(line, sizeof line) != 0)
			return cli_fail("answer cancelled: nothing was stored");
		if (feedback_text_check("comment", line, FEEDBACK_MAX_COMMENT, false, err,
					sizeof err) == 0)
			break;
		printf("  %s\n", err);
	}
	rating->code = strdup(item->code);
	rating->comment = strdup(line);
	return rating->code && rating->comment ? CLI_OK : cli_fail("out of memory");
}

static int prompt_answer(const Innsync__EvaluationRound *round, Innsync__EvaluationAnswer **out)
{
	Innsync__EvaluationAnswer *answer = malloc(sizeof *answer);
	if (answer == NULL)
		return cli_fail("out of memory");
	innsync__evaluation_answer__init(answer);
	answer->round = strdup(round->id);
	answer->answers = calloc(round->n_items ? round->n_items : 1, sizeof *answer->answers);
	int rc = answer->round && answer->answers ? CLI_OK : cli_fail("out of memory");
	printf("%s: %s, due %s. Rate each item from 1 (poor) to 5 (excellent).\n", round->id,
	       round->name, round->due);
	for (size_t i = 0; rc == CLI_OK && i < round->n_items; i++) {
		Innsync__EvaluationRating *rating = malloc(sizeof *rating);
		if (rating == NULL) {
			rc = cli_fail("out of memory");
			break;
		}
		innsync__evaluation_rating__init(rating);
		answer->answers[answer->n_answers++] = rating;
		rc = prompt_rating(round->items[i], rating);
	}
	if (rc == CLI_OK)
		*out = answer;
	else
		innsync__evaluation_answer__free_unpacked(answer, NULL);
	return rc;
}

static int load_answer(const char *path, const Innsync__EvaluationRound *round,
		       Innsync__EvaluationAnswer **answer)
{
	char *text = NULL, err[512];
	size_t len = 0;
	int rc = fb_read_file(path, &text, &len);
	if (rc != CLI_OK)
		return rc;
	rc = evaluation_answer_from_json(text, len, round, answer, err, sizeof err);
	free(text);
	if (rc != 0)
		return cli_fail("%s: %s (nothing was stored)", path, err);
	return CLI_OK;
}

static int queue_answer(struct fb_agent *agent, const struct evaluation_args *args,
			Innsync__EvaluationAnswer *answer)
{
	char record_id[160], reason[96] = "", when[32];
	struct fb_outbox_record previous;
	uint64_t seq = 0;
	unsigned revision = 0;
	snprintf(record_id, sizeof record_id, "evaluation/%s/%s", agent->id.first_site,
		 answer->round);
	fb_outbox_latest(agent->db, record_id, &previous, NULL);
	if (previous.revision > 0) {
		format_iso8601(previous.created_at, when, sizeof when);
		snprintf(reason, sizeof reason, "replaces the answer of %s", when);
	}
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_EVALUATION_ANSWER;
	body.evaluation_answer = answer;
	int rc = fb_append(agent, record_id, INNSYNC__RECORD_KIND__RECORD_KIND_EVALUATION_ANSWER,
			   args->author, reason, &body, &seq, &revision);
	if (rc == CLI_OK && args->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:i, s:b, s:I}", "round", answer->round,
					      "record", record_id, "revision", (int)revision,
					      "replaces", previous.revision > 0, "seq",
					      (json_int_t)seq));
	else if (rc == CLI_OK)
		printf("queued the answer to %s (revision %u%s, record %llu)\n", answer->round,
		       revision, previous.revision > 0 ? ", replaces the earlier answer" : "",
		       (unsigned long long)seq);
	return rc;
}

static int cmd_answer(int argc, char **argv)
{
	struct evaluation_args args = { 0 };
	int parsed = parse_args(
		argc, argv,
		"usage: innsync-branch evaluation answer --data DIR ROUND [FILE.json] [--json]\n"
		"Queues the GM's answer to an evaluation round: FILE.json as\n"
		"{\"answers\": [{\"code\": \"CS-1\", \"rating\": 1-5, \"comment\": \"...\"}]} rating every\n"
		"item, or, run on a terminal without FILE, item by item at prompts. Answering\n"
		"again before the round closes replaces the first answer.\n",
		&args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	if (args.n_positional < 1)
		return cli_usage("evaluation answer needs the ROUND id");
	if (args.n_positional < 2 && !isatty(STDIN_FILENO))
		return cli_usage("evaluation answer needs FILE.json (or a terminal to answer at prompts)");
	struct fb_agent agent;
	int rc = fb_agent_open(args.data, true, &agent);
	if (rc != CLI_OK)
		return rc;
	struct fb_inbox inbox = { 0 };
	Innsync__EvaluationAnswer *answer = NULL;
	const Innsync__EvaluationRound *round = NULL;
	char err[512];
	rc = fb_agent_inbox(&agent, INNSYNC__DOWN_KIND__DOWN_KIND_EVALUATION_ROUND, &inbox);
	if (rc == CLI_OK) {
		round = find_round(&inbox, args.positional[0]);
		if (round == NULL)
			rc = cli_fail("round: %s has not been received from HQ (see innsync-branch "
				      "evaluation list)",
				      args.positional[0]);
	}
	if (rc == CLI_OK && now_ms() >= round->due_at_ms)
		rc = cli_fail("round: %s closed at the end of %s (UTC); answers are no longer "
			      "accepted (nothing was stored)",
			      round->id, round->due);
	if (rc == CLI_OK)
		rc = args.n_positional == 2 ? load_answer(args.positional[1], round, &answer)
					    : prompt_answer(round, &answer);
	if (rc == CLI_OK && evaluation_answer_check(answer, round, now_ms(), err, sizeof err) != 0)
		rc = cli_fail("%s: %s (nothing was stored)",
			      args.n_positional == 2 ? args.positional[1] : "answer", err);
	if (rc == CLI_OK)
		rc = queue_answer(&agent, &args, answer);
	if (answer)
		innsync__evaluation_answer__free_unpacked(answer, NULL);
	fb_inbox_free(&inbox);
	fb_agent_close(&agent);
	return rc;
}

int branch_cmd_evaluation(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1, false);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return cmd_list(argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "answer") == 0)
		return cmd_answer(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: innsync-branch evaluation COMMAND --data DIR ...\n"
		       "  list                       rounds from HQ, due dates, answered or not\n"
		       "  show ROUND                 the round's items\n"
		       "  answer ROUND [FILE.json]   the GM's ratings (prompts on a terminal)\n"
		       "Each takes --json; `innsync-branch evaluation COMMAND --help` for details.\n");
		return CLI_OK;
	}
	return cli_usage("evaluation: want list, show or answer");
}
