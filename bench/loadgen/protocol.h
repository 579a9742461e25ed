/**
 * The wire protocol the load generator speaks, behind one small interface so
 * loadgen.c owns only sockets, timing and statistics. Each mode (echo now, the
 * ringrpc framed protocol later) is one protocol_<mode>.c that fills a
 * struct protocol. A protocol never touches a socket: it writes request bytes
 * into a buffer and checks response bytes handed to it.
 */
#ifndef LOADGEN_PROTOCOL_H
#define LOADGEN_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

struct protocol_options {
	uint32_t payload_size; /* request payload bytes (--size) */
	uint32_t depth;        /* max requests in flight per connection (--depth) */
};

struct protocol {
	const char *name;
	/* Per-connection state; NULL on allocation failure. */
	void *(*conn_new)(const struct protocol_options *opt, uint32_t conn_index);
	void (*conn_free)(void *state);
	/*
	 * Write request number `seq` of this connection into out. Returns the
	 * bytes written, or 0 when cap is too small (the caller flushes and retries).
	 */
	size_t (*encode)(void *state, uint64_t seq, uint8_t *out, size_t cap);
	/*
	 * Check response bytes. Returns the bytes consumed (a partial frame may be
	 * left unconsumed; the caller keeps it and appends the next read), with the
	 * sequence numbers of completed requests in done[0..*ndone). At most
	 * max_done are reported per call; the caller calls again with the rest.
	 * Returns -1 on a protocol or verification error and writes a message a
	 * person can act on into err.
	 */
	long (*decode)(void *state, const uint8_t *in, size_t len, uint64_t *done, uint32_t max_done,
		       uint32_t *ndone, char *err, size_t errlen);
};

extern const struct protocol protocol_echo;

#endif
