/* verify: placeholder until `innsync-hq verify` lands (issue 3). */
#include "cli.h"
#include "hq.h"

int hq_cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("verify: not available yet");
}
