/* batch: owns the agent side of rule "one signature per batch": building the
 * Manifest, signing its exact bytes and sending the RecordBatch. */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <zmq.h>

#include "util.h"
#include "wire.h"

int batch_send_signed(void *socket, const char *agent_id, const signing_key *key,
		      uint64_t first_seq, Innsync__SignedRecord **records,
		      ProtobufCBinaryData *hashes, size_t n)
{
	Innsync__Manifest manifest = INNSYNC__MANIFEST__INIT;
	manifest.agent = (char *)agent_id;
	manifest.first_seq = first_seq;
	manifest.sha256 = hashes;
	manifest.n_sha256 = n;
	manifest.signed_at_ms = now_ms();
	uint8_t *manifest_bytes = NULL;
	size_t manifest_len = 0;
	uint8_t sig[SIGNATURE_LEN];
	if (wire_pack(&manifest.base, &manifest_bytes, &manifest_len) != 0 ||
	    signing_key_sign(key, manifest_bytes, manifest_len, sig) != 0) {
		free(manifest_bytes);
		errno = EINVAL;
		return -1;
	}
	Innsync__RecordBatch batch = INNSYNC__RECORD_BATCH__INIT;
	batch.manifest.data = manifest_bytes;
	batch.manifest.len = manifest_len;
	batch.manifest_signature.data = sig;
	batch.manifest_signature.len = SIGNATURE_LEN;
	batch.records = records;
	batch.n_records = n;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_BATCH;
	msg.batch = &batch;
	int rc = wire_send(socket, &msg.base, ZMQ_DONTWAIT);
	int saved = errno;
	free(manifest_bytes);
	errno = saved;
	return rc;
}
