/* feedback: placeholder until training, satisfaction, complaints and
 * evaluations land (issue 4). */
#include "branch.h"
#include "cli.h"

int branch_feedback_migrate(sqlite3 *db, char *err, size_t errlen)
{
	(void)db;
	(void)err;
	(void)errlen;
	return 0;
}

static int not_yet(void)
{
	return cli_fail("not available yet");
}

int branch_cmd_training(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}

int branch_cmd_satisfaction(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}

int branch_cmd_complaint(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}

int branch_cmd_evaluation(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}
