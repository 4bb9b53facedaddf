/* kinds: the table of record kinds HQ accepts: who may write each kind and
 * which file holds its rules. Adding a kind means one row here. */
#include <stddef.h>

#include "hq.h"

#define BRANCH (1u << ROLE_BRANCH)
#define INSPECTOR (1u << ROLE_INSPECTOR)

static const struct hq_record_kind record_kinds[] = {
	{
		.kind = INNSYNC__RECORD_KIND__RECORD_KIND_SALES_REPORT,
		.name = "sales-report",
		.roles = BRANCH,
		.check = hq_sales_check,
		.apply = hq_sales_apply,
		.notify_acceptance = true,
	},
	{ INNSYNC__RECORD_KIND__RECORD_KIND_QA_INSPECTION, "QA inspection", INSPECTOR,
	  hq_qa_check, hq_qa_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_PLAN, "rectification plan", BRANCH,
	  hq_qa_check, hq_qa_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_RECTIFICATION_DONE, "rectification", BRANCH,
	  hq_qa_check, hq_qa_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_ACK, "training acknowledgement", BRANCH,
	  hq_feedback_check, hq_feedback_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_TRAINING_RESULTS, "training results", BRANCH,
	  hq_feedback_check, hq_feedback_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_SATISFACTION, "guest satisfaction", BRANCH,
	  hq_feedback_check, hq_feedback_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_COMPLAINT_RESPONSE, "complaint response", BRANCH,
	  hq_feedback_check, hq_feedback_apply, false },
	{ INNSYNC__RECORD_KIND__RECORD_KIND_EVALUATION_ANSWER, "evaluation answer", BRANCH,
	  hq_feedback_check, hq_feedback_apply, false },
};

const struct hq_record_kind *hq_record_kind_find(Innsync__RecordKind kind)
{
	for (size_t i = 0; i < sizeof record_kinds / sizeof record_kinds[0]; i++)
		if (record_kinds[i].kind == kind)
			return &record_kinds[i];
	return NULL;
}
