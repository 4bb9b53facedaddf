/* wire: packing and bounded unpacking of protobuf messages, sending them on
 * ZeroMQ sockets, and the limits every peer must respect. */
#ifndef INNSYNC_WIRE_H
#define INNSYNC_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "innsync.pb-c.h"

#define WIRE_PROTOCOL_VERSION 1
#define WIRE_MAX_SYNC_MESSAGE (4 * 1024 * 1024)   /* ZMQ_MAXMSGSIZE, sync endpoint */
#define WIRE_MAX_ENROLL_MESSAGE (16 * 1024)       /* ZMQ_MAXMSGSIZE, enrolment endpoint */
#define WIRE_MAX_RECORD_BODY (128 * 1024)         /* one serialised RecordBody */
#define WIRE_MAX_BATCH_RECORDS 256                /* records in one RecordBatch */
#define WIRE_MAX_BATCH_BYTES (1024 * 1024)        /* record bytes in one RecordBatch */
#define WIRE_MAX_DOWN_BODY (256 * 1024)

/* Unpacks data as a message of type desc with a memory budget of
 * 4 x len + 64 KiB (32 x len + 64 KiB for RecordBody and DownBody, which are
 * bounded at 128/256 KiB; protobuf-c can amplify hostile input 30-fold). Returns
 * NULL for malformed input or an exceeded budget. Free with wire_free. */
ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
			      size_t len);
void wire_free(ProtobufCMessage *msg);

/* Serialises msg into a new malloc'd buffer (*out, *len). 0 or -1. */
int wire_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len);

/* Sends msg as one frame (flags: ZMQ_DONTWAIT and/or ZMQ_SNDMORE).
 * 0, or -1 with errno from zmq_send (EAGAIN, EHOSTUNREACH...). */
int wire_send(void *socket, const ProtobufCMessage *msg, int flags);

/* Socket set-up. Both return 0 or -1 (errno). */
/* A CURVE server bound at endpoint, with ZAP domain (enforced). */
int wire_setup_server(void *socket, const char *secret_z85, const char *zap_domain,
		      int64_t max_message);
/* A CURVE client of server_public_z85 with this agent's key pair; immediate,
 * linger 0, reconnect 2 s .. 60 s, ZMTP heartbeats. */
int wire_setup_client(void *socket, const char *server_public_z85, const char *public_z85,
		      const char *secret_z85, int64_t max_message);

#endif
