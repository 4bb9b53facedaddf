/* batch: how an agent puts consecutive signed records on the wire: one
 * RecordBatch whose Manifest (each body's SHA-256) carries one Ed25519
 * signature, so HQ verifies one signature per batch. Used by the agent and
 * the benchmark alike. */
#ifndef INNSYNC_BATCH_H
#define INNSYNC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "innsync.pb-c.h"

/* Signs a Manifest of hashes[0..n-1] (records first_seq .. first_seq+n-1 of
 * agent_id) and sends records as one AgentMessage.batch with ZMQ_DONTWAIT.
 * 0 if sent; -1 with errno (EAGAIN: the socket is full, try later). */
int batch_send_signed(void *socket, const char *agent_id, const signing_key *key,
		      uint64_t first_seq, Innsync__SignedRecord **records,
		      ProtobufCBinaryData *hashes, size_t n);

#endif
