/* qa: placeholder until the QA module lands (issue 3). */
#include "branch.h"
#include "cli.h"

int branch_qa_migrate(sqlite3 *db, char *err, size_t errlen)
{
	(void)db;
	(void)err;
	(void)errlen;
	return 0;
}

int branch_cmd_qa(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("qa: not available yet");
}

int branch_cmd_inbox(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("inbox: not available yet");
}

int branch_cmd_rectify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("rectify: not available yet");
}
