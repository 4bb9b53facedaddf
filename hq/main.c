/* main: innsync-hq's entry point: dispatches sub-commands and prints help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hq.h"
#include "log.h"
#include "util.h"

static void print_help(void)
{
	printf("innsync-hq %s: the head office's side of innsync.\n\n"
	       "usage: innsync-hq COMMAND --data DIR [options]\n\n"
	       "commands:\n"
	       "  init     create HQ's store and keys; prints hq-key\n"
	       "  run      run the daemon in the foreground (--listen, --enroll)\n"
	       "  site add register a site (hotel)\n"
	       "  sites    list sites, last contact, backlog, latest report\n"
	       "  token    one-time enrolment token for a site's or inspector's agent\n"
	       "  agents   list enrolled agents\n"
	       "  revoke   revoke an agent (--agent AGENT)\n"
	       "  reports  monthly sales reports with occupancy, ADR, RevPAR\n"
	       "  alarms   alarms raised by the daemon (sequence forks)\n"
	       "  qa       QA checklists and inspections (qa checklist set, qa list, qa show, qa photo)\n"
	       "  rectification verify   accept or reject a site's rectification of a finding\n"
	       "  verify   re-check every stored signature and photo hash\n"
	       "  training training plans: publish, revise, close, list, status, certification\n"
	       "  satisfaction   guest satisfaction per site and month\n"
	       "  complaint      guest complaints sent to sites: add, list\n"
	       "  evaluation     the GMs' evaluation of HQ: form set, round open, report\n\n"
	       "Every command takes --data DIR and --json; `innsync-hq COMMAND --help`\n"
	       "shows its options.\n",
	       INNSYNC_VERSION);
}

static int cmd_run(int argc, char **argv)
{
	struct run_args {
		const char *data, *listen, *enroll, *advertise, *max_attachment_mib;
		bool verbose;
	} args = { .listen = HQ_DEFAULT_LISTEN, .enroll = HQ_DEFAULT_ENROLL };
	static const struct cli_option options[] = {
		CLI_STRING("data", struct run_args, data),
		CLI_STRING("listen", struct run_args, listen),
		CLI_STRING("enroll", struct run_args, enroll),
		CLI_STRING("advertise", struct run_args, advertise),
		CLI_STRING("max-attachment-mib", struct run_args, max_attachment_mib),
		CLI_FLAG("verbose", struct run_args, verbose),
	};
	int parsed = cli_parse(
		argc, argv, options, sizeof options / sizeof options[0], &args,
		"usage: innsync-hq run --data DIR [--listen ENDPOINT] [--enroll ENDPOINT]\n"
		"                      [--advertise ENDPOINT] [--verbose]\n"
		"Runs the HQ daemon in the foreground until SIGTERM or SIGINT.\n"
		"  --listen     sync endpoint (default " HQ_DEFAULT_LISTEN ")\n"
		"  --enroll     enrolment endpoint (default " HQ_DEFAULT_ENROLL ")\n"
		"  --advertise  sync endpoint told to enrolling agents (default: --listen)\n"
		"  --max-attachment-mib  largest photo accepted (default 20)\n",
		NULL, 0, NULL);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	uint64_t max_attachment_mib = HQ_ATTACHMENT_MAX_DEFAULT / (1024 * 1024);
	if (args.max_attachment_mib != NULL &&
	    parse_u64(args.max_attachment_mib, 1, 1024, &max_attachment_mib) != 0)
		return cli_usage("--max-attachment-mib must be from 1 to 1024");
	const char *data = args.data, *listen = args.listen, *enroll = args.enroll;
	const char *advertise = args.advertise;
	enum log_level level = args.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	if (data == NULL)
		return cli_usage("--data DIR is required");
	log_init("innsync-hq", level);
	return hq_run(data, listen, enroll, advertise, max_attachment_mib * 1024 * 1024) == 0
		       ? CLI_OK
		       : CLI_FAIL;
}

int main(int argc, char **argv)
{
	cli_progname = "innsync-hq";
	log_init("innsync-hq", LOG_LEVEL_INFO);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_help();
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("innsync-hq %s\n", INNSYNC_VERSION);
		return CLI_OK;
	}
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "init", hq_cmd_init },     { "run", cmd_run },         { "site", hq_cmd_site },
		{ "sites", hq_cmd_sites },   { "token", hq_cmd_token },  { "agents", hq_cmd_agents },
		{ "revoke", hq_cmd_revoke }, { "reports", hq_cmd_reports }, { "alarms", hq_cmd_alarms },
		{ "qa", hq_cmd_qa },         { "rectification", hq_cmd_rectification },
		{ "verify", hq_cmd_verify }, { "training", hq_cmd_training },
		{ "satisfaction", hq_cmd_satisfaction }, { "complaint", hq_cmd_complaint },
		{ "evaluation", hq_cmd_evaluation },
	};
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	return cli_usage("unknown command \"%s\"", argv[1]);
}
