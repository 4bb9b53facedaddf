/* qa: placeholder until the QA module lands (issue 3). */
#include "cli.h"
#include "hq.h"

int hq_qa_migrate(sqlite3 *db, char *err, size_t errlen)
{
	(void)db;
	(void)err;
	(void)errlen;
	return 0;
}

void hq_qa_check(struct hq_daemon *hq, struct hq_agent *agent, const struct hq_site_head *site,
		 const Innsync__RecordBody *body, struct verdict *v)
{
	(void)hq;
	(void)agent;
	(void)site;
	(void)body;
	verdict_set(v, INNSYNC__REFUSAL_CODE__REFUSAL_INVALID, "QA records are not supported yet");
}

int hq_qa_apply(struct hq_daemon *hq, struct hq_agent *agent, uint64_t seq,
		const Innsync__RecordBody *body)
{
	(void)hq;
	(void)agent;
	(void)seq;
	(void)body;
	return -1;
}

int hq_cmd_qa(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("qa: not available yet");
}

int hq_cmd_rectification(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("rectification: not available yet");
}
