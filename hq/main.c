/* main: innsync-hq's entry point: dispatches sub-commands and prints help. */
#include <getopt.h>
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
	static const struct option options[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "enroll", required_argument, NULL, 'e' },
		{ "advertise", required_argument, NULL, 'a' },
		{ "max-attachment-mib", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t max_attachment_mib = HQ_ATTACHMENT_MAX_DEFAULT / (1024 * 1024);
	const char *data = NULL, *listen = HQ_DEFAULT_LISTEN, *enroll = HQ_DEFAULT_ENROLL;
	const char *advertise = NULL;
	enum log_level level = LOG_LEVEL_INFO;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd': data = optarg; break;
		case 'l': listen = optarg; break;
		case 'e': enroll = optarg; break;
		case 'a': advertise = optarg; break;
		case 'v': level = LOG_LEVEL_DEBUG; break;
		case 'm':
			if (parse_u64(optarg, 1, 1024, &max_attachment_mib) != 0)
				return cli_usage("--max-attachment-mib must be from 1 to 1024");
			break;
		case 'h':
			printf("usage: innsync-hq run --data DIR [--listen ENDPOINT] [--enroll ENDPOINT]\n"
			       "                      [--advertise ENDPOINT] [--verbose]\n"
			       "Runs the HQ daemon in the foreground until SIGTERM or SIGINT.\n"
			       "  --listen     sync endpoint (default %s)\n"
			       "  --enroll     enrolment endpoint (default %s)\n"
			       "  --advertise  sync endpoint told to enrolling agents (default: --listen)\n"
			       "  --max-attachment-mib  largest photo accepted (default 20)\n",
			       HQ_DEFAULT_LISTEN, HQ_DEFAULT_ENROLL);
			return CLI_OK;
		default: return CLI_USAGE;
		}
	}
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
