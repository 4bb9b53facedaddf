/* wire: owns the limits on untrusted bytes (the budget allocator for
 * protobuf-c) and the ZeroMQ socket options that keep CURVE closed and the
 * daemons responsive (ARCHITECTURE.md, "Facts checked"). */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Draft in zmq.h 4.3.4 but accepted by the stable build (ARCHITECTURE.md):
 * without it a missing ZAP handler would let any CURVE client in. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

/* Each block carries a header with its size so that frees need no state. */
struct budget {
	size_t used;
	size_t limit;
};

typedef union {
	size_t size;
	max_align_t align;
} block_header;

static void *budget_alloc(void *data, size_t size)
{
	struct budget *budget = data;
	/* used never exceeds limit: count the header before allocating */
	size_t left = budget->limit - budget->used;
	if (size > left || sizeof(block_header) > left - size)
		return NULL;
	block_header *header = malloc(sizeof *header + size);
	if (header == NULL)
		return NULL;
	header->size = size;
	budget->used += size + sizeof *header;
	return header + 1;
}

static void budget_free(void *data, void *pointer)
{
	(void)data;
	if (pointer == NULL)
		return;
	block_header *header = (block_header *)pointer - 1;
	free(header);
}

static ProtobufCAllocator free_allocator = {
	.alloc = NULL,
	.free = budget_free,
	.allocator_data = NULL,
};

ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
			      size_t len)
{
	/* A record or downstream body (at most 128/256 KiB) may legitimately be
	 * thousands of tiny items (2,000 training results): protobuf-c spends
	 * far more than 4x on those, so bodies get a larger factor. */
	size_t factor = (desc == &innsync__record_body__descriptor ||
			 desc == &innsync__down_body__descriptor)
				? 32
				: 4;
	struct budget budget = { .used = 0, .limit = factor * len + 64 * 1024 };
	ProtobufCAllocator allocator = {
		.alloc = budget_alloc,
		.free = budget_free,
		.allocator_data = &budget,
	};
	return protobuf_c_message_unpack(desc, &allocator, len, data);
}

void wire_free(ProtobufCMessage *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, &free_allocator);
}

int wire_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	size_t size = protobuf_c_message_get_packed_size(msg);
	uint8_t *buffer = malloc(size > 0 ? size : 1);
	if (buffer == NULL)
		return -1;
	protobuf_c_message_pack(msg, buffer);
	*out = buffer;
	*len = size;
	return 0;
}

static void free_packed(void *data, void *hint)
{
	(void)hint;
	free(data);
}

int wire_send(void *socket, const ProtobufCMessage *msg, int flags)
{
	uint8_t *buffer = NULL;
	size_t len = 0;
	if (wire_pack(msg, &buffer, &len) != 0) {
		errno = ENOMEM;
		return -1;
	}
	zmq_msg_t frame;
	if (zmq_msg_init_data(&frame, buffer, len, free_packed, NULL) != 0) {
		free(buffer);
		return -1;
	}
	if (zmq_msg_send(&frame, socket, flags) < 0) {
		int saved = errno;
		zmq_msg_close(&frame);
		errno = saved;
		return -1;
	}
	return 0;
}

static int set_int(void *socket, int option, int value)
{
	return zmq_setsockopt(socket, option, &value, sizeof value);
}

int wire_setup_server(void *socket, const char *secret_z85, const char *zap_domain,
		      int64_t max_message)
{
	if (set_int(socket, ZMQ_CURVE_SERVER, 1) != 0 ||
	    zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret_z85, strlen(secret_z85)) != 0 ||
	    zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, zap_domain, strlen(zap_domain)) != 0 ||
	    set_int(socket, ZMQ_ZAP_ENFORCE_DOMAIN, 1) != 0 ||
	    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message) != 0 ||
	    set_int(socket, ZMQ_LINGER, 0) != 0 || set_int(socket, ZMQ_BACKLOG, 4096) != 0 ||
	    set_int(socket, ZMQ_HEARTBEAT_IVL, 10000) != 0 ||
	    set_int(socket, ZMQ_HEARTBEAT_TTL, 60000) != 0 ||
	    set_int(socket, ZMQ_HEARTBEAT_TIMEOUT, 30000) != 0 ||
	    set_int(socket, ZMQ_SNDHWM, 10000) != 0 || set_int(socket, ZMQ_RCVHWM, 10000) != 0)
		return -1;
	return 0;
}

int wire_setup_client(void *socket, const char *server_public_z85, const char *public_z85,
		      const char *secret_z85, int64_t max_message)
{
	if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_public_z85,
			   strlen(server_public_z85)) != 0 ||
	    zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, public_z85, strlen(public_z85)) != 0 ||
	    zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret_z85, strlen(secret_z85)) != 0 ||
	    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message) != 0 ||
	    set_int(socket, ZMQ_LINGER, 0) != 0 || set_int(socket, ZMQ_IMMEDIATE, 1) != 0 ||
	    set_int(socket, ZMQ_RECONNECT_IVL, 2000) != 0 ||
	    set_int(socket, ZMQ_RECONNECT_IVL_MAX, 60000) != 0 ||
	    set_int(socket, ZMQ_HEARTBEAT_IVL, 10000) != 0 ||
	    set_int(socket, ZMQ_HEARTBEAT_TTL, 60000) != 0 ||
	    set_int(socket, ZMQ_HEARTBEAT_TIMEOUT, 30000) != 0)
		return -1;
	return 0;
}
