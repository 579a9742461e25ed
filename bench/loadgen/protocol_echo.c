/**
 * Echo mode: every request is payload_size bytes cut from a deterministic byte
 * stream (one per connection, different start offsets), and the reply must be
 * the same bytes in the same order. Because the stream is a pure function of
 * its offset, verification needs no copy of what was sent: byte i received on
 * a connection must equal pattern[(start + i) % PATTERN_PERIOD].
 */
#include "protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A prime period so request boundaries drift through the pattern and a
 * shifted or duplicated chunk does not line up with the expected bytes. */
#define PATTERN_PERIOD 65521u
/* Longest contiguous compare/copy done against the pattern in one step. */
#define PATTERN_SPAN 65536u

static uint8_t pattern[PATTERN_PERIOD + PATTERN_SPAN];
static int pattern_ready;

struct echo_conn {
	uint32_t size;
	uint64_t start;    /* this connection's offset into the pattern */
	uint64_t received; /* stream bytes verified so far */
};

static void pattern_init(void)
{
	uint32_t x = 0x9e3779b9u;
	for (uint32_t i = 0; i < PATTERN_PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)x;
	}
	for (uint32_t i = 0; i < PATTERN_SPAN; i++)
		pattern[PATTERN_PERIOD + i] = pattern[i];
	pattern_ready = 1;
}

static void *echo_conn_new(const struct protocol_options *opt, uint32_t conn_index)
{
	if (!pattern_ready)
		pattern_init();
	if (opt->payload_size == 0 || opt->payload_size > PATTERN_SPAN)
		return NULL;
	struct echo_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->size = opt->payload_size;
	c->start = ((uint64_t)conn_index * 7919u) % PATTERN_PERIOD;
	return c;
}

static void echo_conn_free(void *state)
{
	free(state);
}

static size_t echo_encode(void *state, uint64_t seq, uint8_t *out, size_t cap)
{
	struct echo_conn *c = state;
	if (cap < c->size)
		return 0;
	uint64_t off = (c->start + seq * c->size) % PATTERN_PERIOD;
	memcpy(out, pattern + off, c->size);
	return c->size;
}

static long echo_decode(void *state, const uint8_t *in, size_t len, uint64_t *done, uint32_t max_done,
			uint32_t *ndone, char *err, size_t errlen)
{
	struct echo_conn *c = state;
	*ndone = 0;
	/* Never consume past the reply that would overflow done[]: the caller re-calls with the rest. */
	uint64_t next_boundary = (c->received / c->size + 1) * c->size;
	uint64_t limit = c->received + len;
	uint64_t max_end = (c->received / c->size + max_done) * c->size;
	if (limit > max_end)
		limit = max_end;
	size_t pos = 0;
	while (c->received < limit) {
		size_t n = (size_t)(limit - c->received);
		if (n > PATTERN_SPAN)
			n = PATTERN_SPAN;
		uint64_t off = (c->start + c->received) % PATTERN_PERIOD;
		if (memcmp(in + pos, pattern + off, n) != 0) {
			size_t i = 0;
			while (in[pos + i] == pattern[off + i])
				i++;
			snprintf(err, errlen,
				 "echo mismatch at stream byte %llu (request %llu, byte %llu of %u): got 0x%02x, sent 0x%02x; "
				 "the server returned bytes it was not sent or reordered them",
				 (unsigned long long)(c->received + i), (unsigned long long)((c->received + i) / c->size),
				 (unsigned long long)((c->received + i) % c->size), c->size, in[pos + i], pattern[off + i]);
			return -1;
		}
		pos += n;
		c->received += n;
	}
	while (next_boundary <= c->received) {
		done[(*ndone)++] = next_boundary / c->size - 1;
		next_boundary += c->size;
	}
	return (long)pos;
}

const struct protocol protocol_echo = {
	.name = "echo",
	.conn_new = echo_conn_new,
	.conn_free = echo_conn_free,
	.encode = echo_encode,
	.decode = echo_decode,
};
