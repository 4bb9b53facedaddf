/* main: innsync-branch's entry point: dispatches sub-commands and prints help. */
#include <stdio.h>
#include <string.h>

#include "branch.h"
#include "cli.h"
#include "log.h"

static void print_help(void)
{
	printf("innsync-branch %s: a hotel's (or a QA inspector's) side of innsync.\n\n"
	       "usage: innsync-branch COMMAND --data DIR [options]\n\n"
	       "commands:\n"
	       "  enroll        enrol this agent with HQ (--hq, --hq-key, --token)\n"
	       "  run           run the sync agent in the foreground\n"
	       "  submit sales  queue a monthly sales report FILE.json for HQ\n"
	       "  status        records pending, acknowledged, refused; last contact\n"
	       "  qa            inspectors: start, finding, score, submit, import, photo\n"
	       "  inbox         inspections received and findings awaiting a plan\n"
	       "  rectify       record a rectification plan or its completion\n"
	       "  training      training plans: list, ack, results\n"
	       "  satisfaction  submit monthly guest-survey results\n"
	       "  complaint     guest complaints from HQ: list, respond\n"
	       "  evaluation    answer HQ's evaluation round\n\n"
	       "Every command takes --data DIR; `innsync-branch COMMAND --help` shows\n"
	       "its options. Commands other than run work offline.\n",
	       INNSYNC_VERSION);
}

static int cmd_run(int argc, char **argv)
{
	struct run_args {
		const char *data;
		bool verbose;
	} args = { 0 };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct run_args, data),
		CLI_FLAG("verbose", struct run_args, verbose),
	};
	int parsed = cli_parse(argc, argv, options, 2, &args,
			       "usage: innsync-branch run --data DIR [--verbose]\n"
			       "Runs the sync agent in the foreground: uploads the outbox, stores\n"
			       "what HQ sends, reconnects forever with backoff. SIGTERM stops it.\n"
			       "Exit status 3: HQ revoked this agent.\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	const char *data = args.data;
	enum log_level level = args.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	if (data == NULL)
		return cli_usage("--data DIR is required");
	log_init("innsync-branch", level);
	return branch_run(data);
}

int main(int argc, char **argv)
{
	cli_progname = "innsync-branch";
	log_init("innsync-branch", LOG_LEVEL_INFO);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_help();
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("innsync-branch %s\n", INNSYNC_VERSION);
		return CLI_OK;
	}
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "enroll", branch_cmd_enroll }, { "run", cmd_run },
		{ "submit", branch_cmd_submit }, { "status", branch_cmd_status },
		{ "debug", branch_cmd_debug },
		{ "qa", branch_cmd_qa },         { "inbox", branch_cmd_inbox },
		{ "rectify", branch_cmd_rectify }, { "training", branch_cmd_training },
		{ "satisfaction", branch_cmd_satisfaction }, { "complaint", branch_cmd_complaint },
		{ "evaluation", branch_cmd_evaluation },
	};
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	return cli_usage("unknown command \"%s\"", argv[1]);
}
