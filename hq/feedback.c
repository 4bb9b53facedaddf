/* feedback: placeholder until training, satisfaction, complaints and
 * evaluations land (issue 4). */
#include "cli.h"
#include "hq.h"

int hq_feedback_migrate(sqlite3 *db, char *err, size_t errlen)
{
	(void)db;
	(void)err;
	(void)errlen;
	return 0;
}

void hq_feedback_check(struct hq_daemon *hq, struct hq_agent *agent,
		       const struct hq_site_head *site, const Innsync__RecordBody *body,
		       struct verdict *v)
{
	(void)hq;
	(void)agent;
	(void)site;
	(void)body;
	verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "not supported yet");
}

int hq_feedback_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		      const Innsync__RecordBody *body)
{
	(void)hq;
	(void)agent;
	(void)seq;
	(void)body;
	return -1;
}

static int not_yet(void)
{
	return cli_fail("not available yet");
}

int hq_cmd_training(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}

int hq_cmd_satisfaction(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}

int hq_cmd_complaint(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}

int hq_cmd_evaluation(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_yet();
}
