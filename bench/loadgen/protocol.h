/**
 * The wire protocol the load generator speaks, behind one small interface so
 * loadgen.c owns only sockets, timing and statistics. Each mode (raw echo, the
 * ringrpc framed protocol of docs/PROTOCOL.md) is one protocol_<mode>.c that fills a
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
	const char *method;    /* --method (rpc mode: echo|text|add|order) */
};

/* Largest reply frame (prefix included) the generator buffers; rpc mode
 * advertises the body part of it as its HELLO maxFrameBytes. */
#define PROTOCOL_MAX_REPLY_FRAME (65536u + 4096u)

/*
 * Slots per connection for per-request state (send times, in-flight ids),
 * indexed by seq & (slots - 1). Replies may come out of order, so a request
 * may stay in flight while many newer ones complete: keep slack over depth.
 */
static inline uint64_t protocol_slots(uint32_t depth)
{
	uint64_t slots = 64;
	while (slots < (uint64_t)depth * 16)
		slots <<= 1;
	return slots;
}

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
	/*
	 * Optional connection preface (rpc mode: HELLO). hello writes this side's
	 * preface into out and returns its length (0 if cap is too small).
	 * hello_reply checks the peer's preface: returns the bytes it used once
	 * complete, 0 while incomplete, -1 (message in err) when it is wrong.
	 * The caller finishes this exchange before the first encode.
	 */
	size_t (*hello)(void *state, uint8_t *out, size_t cap);
	long (*hello_reply)(void *state, const uint8_t *in, size_t len, char *err, size_t errlen);
	long (*decode)(void *state, const uint8_t *in, size_t len, uint64_t *done, uint32_t max_done,
		       uint32_t *ndone, char *err, size_t errlen);
};

extern const struct protocol protocol_echo;
extern const struct protocol protocol_rpc;

#endif
