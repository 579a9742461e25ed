/**
 * rpc mode: a docs/PROTOCOL.md client for bench.v1.Bench (bench/bench.ridl).
 * HELLO first, then unary REQUESTs (inline message, END_STREAM) with ids
 * 1, 2, 3, ... per connection. Each connection builds its request frame once;
 * per request only the id and a small per-call tag (in the payload, the
 * customer name or the add operands) change, so no allocation per request.
 * Replies are matched by id (any order) and every one is checked: RESPONSE
 * (or MESSAGE + STATUS OK), a known id, and the right body for the method:
 * the same bytes/text for echo/text, a+b for add, the total and count for order.
 */
#include "msgpack_read.h"
#include "protocol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum method { M_ECHO, M_TEXT, M_ADD, M_ORDER };

static const char *const method_names[] = { "echo", "text", "add", "order" };
static const char *const method_paths[] = { "bench.v1.Bench/echo", "bench.v1.Bench/echoText", "bench.v1.Bench/add",
					    "bench.v1.Bench/order" };

#define ORDER_ITEMS 3
static const double item_price[ORDER_ITEMS] = { 9.99, 19.5, 0.25 };
#define TAG_MAX 8u /* per-call tag bytes at the start of an echo/text payload */
#define CUSTOMER_PREFIX "customer-"
#define CUSTOMER_LEN (sizeof(CUSTOMER_PREFIX) - 1 + 8)

struct rpc_conn {
	enum method method;
	uint32_t size;
	uint32_t depth;
	uint8_t *tail; /* request frame bytes after the id: path .. message (add: .. flags) */
	size_t tail_len;
	size_t payload_off;                 /* echo/text: payload start in tail; order: customer hex digits */
	size_t quantity_off[ORDER_ITEMS];   /* order: quantity fixints in tail */
	uint32_t tag_len;
	uint32_t *slot_id; /* in-flight call id by seq & mask, 0 = free */
	uint8_t *slot_msg; /* a MESSAGE already arrived for this call (MESSAGE + STATUS form) */
	uint64_t mask;
	uint32_t overrun; /* first id whose slot was reused while it was still in flight */
};

/* ---- writing ---------------------------------------------------------- */

static uint8_t *put_uint(uint8_t *o, uint64_t v)
{
	if (v < 0x80) {
		*o++ = (uint8_t)v;
	} else if (v <= 0xff) {
		*o++ = 0xcc;
		*o++ = (uint8_t)v;
	} else if (v <= 0xffff) {
		*o++ = 0xcd;
		*o++ = (uint8_t)(v >> 8);
		*o++ = (uint8_t)v;
	} else {
		*o++ = 0xce;
		for (int s = 24; s >= 0; s -= 8)
			*o++ = (uint8_t)(v >> s);
	}
	return o;
}

static uint8_t *put_int(uint8_t *o, int64_t v)
{
	if (v >= 0)
		return put_uint(o, (uint64_t)v);
	if (v >= -32) {
		*o++ = (uint8_t)(int8_t)v;
	} else if (v >= INT8_MIN) {
		*o++ = 0xd0;
		*o++ = (uint8_t)(int8_t)v;
	} else if (v >= INT16_MIN) {
		*o++ = 0xd1;
		*o++ = (uint8_t)((uint16_t)v >> 8);
		*o++ = (uint8_t)v;
	} else {
		*o++ = 0xd2;
		for (int s = 24; s >= 0; s -= 8)
			*o++ = (uint8_t)((uint32_t)v >> s);
	}
	return o;
}

/* str (bin = 0) or bin (bin = 1) header, smallest form. */
static uint8_t *put_header(uint8_t *o, uint32_t n, int bin)
{
	if (!bin && n < 32) {
		*o++ = (uint8_t)(0xa0 | n);
	} else if (n <= 0xff) {
		*o++ = bin ? 0xc4 : 0xd9;
		*o++ = (uint8_t)n;
	} else if (n <= 0xffff) {
		*o++ = bin ? 0xc5 : 0xda;
		*o++ = (uint8_t)(n >> 8);
		*o++ = (uint8_t)n;
	} else {
		*o++ = bin ? 0xc6 : 0xdb;
		for (int s = 24; s >= 0; s -= 8)
			*o++ = (uint8_t)(n >> s);
	}
	return o;
}

static uint8_t *put_str(uint8_t *o, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	o = put_header(o, n, 0);
	memcpy(o, s, n);
	return o + n;
}

static uint8_t *put_f64(uint8_t *o, double d)
{
	union { double d; uint64_t u; } x = { .d = d };
	*o++ = 0xcb;
	for (int s = 56; s >= 0; s -= 8)
		*o++ = (uint8_t)(x.u >> s);
	return o;
}

/* ---- per-call values, all pure functions of the call id -------------- */

static void text_tag(uint32_t id, char hex[8])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++)
		hex[i] = digits[(id >> (28 - 4 * i)) & 0xf];
}

static uint8_t echo_tag_byte(uint32_t id, uint32_t k)
{
	return (uint8_t)(id >> (8 * (3 - k % 4))) ^ (uint8_t)(k * 0x5b);
}

/* The fixed part of an echo/text payload: byte i of the payload (i >= tag). */
static uint8_t payload_byte(enum method m, uint32_t i)
{
	return m == M_TEXT ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 131u + 7u);
}

static int32_t add_a(uint32_t id) { return (int32_t)(id * 2654435761u); }
static int32_t add_b(uint32_t id) { return (int32_t)((id ^ 0x9e3779b9u) * 40503u); }
static uint32_t item_quantity(uint32_t id, int i) { return 1 + (id + (uint32_t)i * 3u) % 7u; }

static double order_total(uint32_t id)
{
	double total = 0;
	for (int i = 0; i < ORDER_ITEMS; i++)
		total += item_price[i] * (double)item_quantity(id, i);
	return total;
}

/* ---- connection setup --------------------------------------------------- */

static int parse_method(const char *name, enum method *m)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, method_names[i]) == 0) {
			*m = (enum method)i;
			return 0;
		}
	return -1;
}

static void build_tail(struct rpc_conn *c)
{
	uint8_t *o = c->tail;
	o = put_str(o, method_paths[c->method]);
	*o++ = 0xc0; /* timeoutMs: no deadline */
	*o++ = 0xc0; /* metadata: none */
	*o++ = 0x01; /* flags: END_STREAM */
	switch (c->method) {
	case M_ECHO:
	case M_TEXT:
		*o++ = 0x81;
		*o++ = 0x01;
		o = put_header(o, c->size, c->method == M_ECHO);
		c->payload_off = (size_t)(o - c->tail);
		for (uint32_t i = 0; i < c->size; i++)
			*o++ = payload_byte(c->method, i);
		c->tag_len = c->size < TAG_MAX ? c->size : TAG_MAX;
		break;
	case M_ADD:
		break; /* operands are written per call */
	case M_ORDER:
		*o++ = 0x83;
		*o++ = 0x01;
		o = put_header(o, CUSTOMER_LEN, 0);
		memcpy(o, CUSTOMER_PREFIX, sizeof(CUSTOMER_PREFIX) - 1);
		c->payload_off = (size_t)(o - c->tail) + sizeof(CUSTOMER_PREFIX) - 1;
		o += CUSTOMER_LEN;
		*o++ = 0x02;
		*o++ = 0x90 | ORDER_ITEMS;
		for (int i = 0; i < ORDER_ITEMS; i++) {
			static const char *const names[ORDER_ITEMS] = { "widget", "gadget with a longer name", "bolt" };
			*o++ = 0x86;
			*o++ = 0x01;
			o = put_uint(o, 1000u + (uint32_t)i);
			*o++ = 0x02;
			o = put_str(o, names[i]);
			*o++ = 0x03;
			o = put_f64(o, item_price[i]);
			*o++ = 0x04;
			c->quantity_off[i] = (size_t)(o - c->tail);
			*o++ = 0x01; /* patched per call: 1..7 */
			*o++ = 0x05;
			*o++ = 0x92;
			o = put_str(o, "red");
			o = put_str(o, i == 1 ? "fragile" : "blue");
			*o++ = 0x06;
			*o++ = 0x82;
			o = put_str(o, "color");
			o = put_str(o, "red");
			o = put_str(o, "warehouse");
			o = put_str(o, "north-7");
		}
		*o++ = 0x03;
		o = put_str(o, "leave at the door");
		break;
	}
	c->tail_len = (size_t)(o - c->tail);
}

static void rpc_conn_free(void *state)
{
	struct rpc_conn *c = state;
	if (!c)
		return;
	free(c->tail);
	free(c->slot_id);
	free(c->slot_msg);
	free(c);
}

static void *rpc_conn_new(const struct protocol_options *opt, uint32_t conn_index)
{
	enum method m;
	if (parse_method(opt->method ? opt->method : "echo", &m) < 0)
		return NULL;
	struct rpc_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->method = m;
	c->size = opt->payload_size;
	c->depth = opt->depth;
	uint64_t slots = protocol_slots(opt->depth);
	c->mask = slots - 1;
	c->tail = malloc((size_t)opt->payload_size + 1024);
	c->slot_id = calloc(slots, sizeof(uint32_t));
	c->slot_msg = calloc(slots, 1);
	if (!c->tail || !c->slot_id || !c->slot_msg) {
		rpc_conn_free(c);
		return NULL;
	}
	build_tail(c);
	return c;
}

/* ---- HELLO -------------------------------------------------------------- */

static size_t rpc_hello(void *state, uint8_t *out, size_t cap)
{
	uint8_t body[32], *o = body;
	*o++ = 0x97;
	*o++ = 0x01; /* HELLO */
	*o++ = 0x00;
	*o++ = 0x01; /* version */
	o = put_uint(o, PROTOCOL_MAX_REPLY_FRAME - 4);
	o = put_uint(o, 1000);
	o = put_uint(o, 64);
	o = put_uint(o, 8192);
	size_t n = (size_t)(o - body);
	if (cap < n + 4)
		return 0;
	out[0] = out[1] = out[2] = 0;
	out[3] = (uint8_t)n;
	memcpy(out + 4, body, n);
	return n + 4;
}

static long rpc_hello_reply(void *state, const uint8_t *in, size_t len, char *err, size_t errlen)
{
	struct rpc_conn *c = state;
	if (len < 4)
		return 0;
	uint32_t flen = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	if (flen > 4096) {
		snprintf(err, errlen, "server's first frame is %u bytes: not a HELLO (is this a ringrpc server?)", flen);
		return -1;
	}
	if (len - 4 < flen)
		return 0;
	const uint8_t *p = in + 4, *end = p + flen;
	uint32_t n;
	int64_t f[7];
	if (mp_array(&p, end, &n) || n < 7) {
		snprintf(err, errlen, "server's first frame is not a 7-element HELLO array");
		return -1;
	}
	for (int i = 0; i < 7; i++)
		if (mp_int(&p, end, &f[i])) {
			snprintf(err, errlen, "server's HELLO element %d is not an int", i);
			return -1;
		}
	if (f[0] != 1) {
		snprintf(err, errlen, "server's first frame has type %lld, expected HELLO (1)", (long long)f[0]);
		return -1;
	}
	if (f[2] != 1) {
		snprintf(err, errlen, "server speaks protocol version %lld; the loadgen speaks 1", (long long)f[2]);
		return -1;
	}
	size_t request = c->tail_len + 32;
	if ((uint64_t)f[3] < request) {
		snprintf(err, errlen, "server's maxFrameBytes %lld is below the request frame size %zu: lower --size",
			 (long long)f[3], request);
		return -1;
	}
	if ((uint64_t)f[4] < c->depth) {
		snprintf(err, errlen, "--depth %u is over the server's maxConcurrentCalls %lld", c->depth, (long long)f[4]);
		return -1;
	}
	return (long)(flen + 4);
}

/* ---- requests ----------------------------------------------------------- */

static size_t rpc_encode(void *state, uint64_t seq, uint8_t *out, size_t cap)
{
	struct rpc_conn *c = state;
	if (cap < c->tail_len + 32)
		return 0;
	uint32_t id = (uint32_t)(seq + 1);
	uint64_t slot = seq & c->mask;
	if (c->slot_id[slot] && !c->overrun)
		c->overrun = c->slot_id[slot];
	c->slot_id[slot] = id;
	c->slot_msg[slot] = 0;

	uint8_t *o = out + 4;
	*o++ = 0x97;
	*o++ = 0x02; /* REQUEST */
	o = put_uint(o, id);
	uint8_t *tail = o;
	memcpy(o, c->tail, c->tail_len);
	o += c->tail_len;
	switch (c->method) {
	case M_ECHO:
		for (uint32_t k = 0; k < c->tag_len; k++)
			tail[c->payload_off + k] = echo_tag_byte(id, k);
		break;
	case M_TEXT: {
		char hex[8];
		text_tag(id, hex);
		memcpy(tail + c->payload_off, hex, c->tag_len);
		break;
	}
	case M_ADD:
		*o++ = 0x82;
		*o++ = 0x01;
		o = put_int(o, add_a(id));
		*o++ = 0x02;
		o = put_int(o, add_b(id));
		break;
	case M_ORDER: {
		char hex[8];
		text_tag(id, hex);
		memcpy(tail + c->payload_off, hex, 8);
		for (int i = 0; i < ORDER_ITEMS; i++)
			tail[c->quantity_off[i]] = (uint8_t)item_quantity(id, i);
		break;
	}
	}
	uint32_t body = (uint32_t)(o - out - 4);
	out[0] = (uint8_t)(body >> 24);
	out[1] = (uint8_t)(body >> 16);
	out[2] = (uint8_t)(body >> 8);
	out[3] = (uint8_t)body;
	return (size_t)(o - out);
}

/* ---- replies ------------------------------------------------------------ */

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Checks a reply struct for call `id`; the reader is at the message. */
static int check_reply(const struct rpc_conn *c, uint32_t id, const uint8_t **p, const uint8_t *end, char *err,
		       size_t errlen)
{
	const char *mname = method_names[c->method];
	uint32_t n;
	if (mp_map(p, end, &n))
		FAIL("call %u (%s): reply message is not a struct map", id, mname);
	int seen[5] = { 0 };
	for (uint32_t e = 0; e < n; e++) {
		int64_t key;
		if (mp_int(p, end, &key))
			FAIL("call %u (%s): reply field id is not an int", id, mname);
		const uint8_t *data;
		uint32_t len;
		int64_t v;
		double d;
		if (key >= 1 && key <= 4)
			seen[key] = 1;
		if (c->method == M_ECHO && key == 1) {
			if (mp_bytes(p, end, 1, &data, &len))
				FAIL("call %u (echo): reply data is not bin", id);
			if (len != c->size)
				FAIL("call %u (echo): reply has %u bytes, sent %u", id, len, c->size);
			for (uint32_t k = 0; k < c->tag_len; k++)
				if (data[k] != echo_tag_byte(id, k))
					FAIL("call %u (echo): reply byte %u is not this call's (answer for another id?)", id, k);
			if (memcmp(data + c->tag_len, c->tail + c->payload_off + c->tag_len, c->size - c->tag_len))
				FAIL("call %u (echo): reply payload differs from the request", id);
		} else if (c->method == M_TEXT && key == 1) {
			char hex[8];
			text_tag(id, hex);
			if (mp_bytes(p, end, 0, &data, &len))
				FAIL("call %u (text): reply text is not a str", id);
			if (len != c->size || memcmp(data, hex, c->tag_len) ||
			    memcmp(data + c->tag_len, c->tail + c->payload_off + c->tag_len, c->size - c->tag_len))
				FAIL("call %u (text): reply text (%u bytes) differs from the request (%u bytes)", id, len, c->size);
		} else if (c->method == M_ADD && key == 1) {
			int64_t want = (int64_t)add_a(id) + add_b(id);
			if (mp_int(p, end, &v))
				FAIL("call %u (add): reply sum is not an int", id);
			if (v != want)
				FAIL("call %u (add): sum %lld, expected %lld", id, (long long)v, (long long)want);
		} else if (c->method == M_ORDER && key == 1) {
			char hex[8];
			text_tag(id, hex);
			if (mp_bytes(p, end, 0, &data, &len))
				FAIL("call %u (order): reply customer is not a str", id);
			if (len != CUSTOMER_LEN || memcmp(data, CUSTOMER_PREFIX, sizeof(CUSTOMER_PREFIX) - 1) ||
			    memcmp(data + sizeof(CUSTOMER_PREFIX) - 1, hex, 8))
				FAIL("call %u (order): reply customer '%.*s' is not this call's", id, (int)(len > 64 ? 64 : len),
				     (const char *)data);
		} else if (c->method == M_ORDER && key == 2) {
			double want = order_total(id);
			if (mp_f64(p, end, &d))
				FAIL("call %u (order): reply total is not a number", id);
			if (!(fabs(d - want) <= 1e-9 * fabs(want)))
				FAIL("call %u (order): total %.17g, expected %.17g", id, d, want);
		} else if (c->method == M_ORDER && key == 3) {
			if (mp_int(p, end, &v) || v != ORDER_ITEMS)
				FAIL("call %u (order): reply count is not %d", id, ORDER_ITEMS);
		} else if (c->method == M_ORDER && key == 4) {
			uint32_t items;
			const uint8_t *q = *p;
			if (mp_array(&q, end, &items) || items != ORDER_ITEMS)
				FAIL("call %u (order): reply items is not a list of %d", id, ORDER_ITEMS);
			if (mp_skip(p, end, 0))
				FAIL("call %u (order): reply items are not well-formed msgpack", id);
		} else if (mp_skip(p, end, 0)) {
			FAIL("call %u (%s): reply field %lld is not well-formed msgpack", id, mname, (long long)key);
		}
	}
	int need = c->method == M_ORDER ? 4 : 1;
	for (int k = 1; k <= need; k++)
		if (!seen[k])
			FAIL("call %u (%s): reply lacks required field %d", id, mname, k);
	return 0;
}

static long rpc_decode(void *state, const uint8_t *in, size_t len, uint64_t *done, uint32_t max_done,
		       uint32_t *ndone, char *err, size_t errlen)
{
	struct rpc_conn *c = state;
	*ndone = 0;
	if (c->overrun)
		FAIL("call %u got no reply while %llu newer calls were issued on its connection", c->overrun,
		     (unsigned long long)c->mask);
	size_t pos = 0;
	while (len - pos >= 4 && *ndone < max_done) {
		const uint8_t *f = in + pos;
		uint32_t flen = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
		if (flen == 0 || flen > PROTOCOL_MAX_REPLY_FRAME - 4)
			FAIL("server sent a frame of %u bytes (limit %u, 0 is malformed)", flen, PROTOCOL_MAX_REPLY_FRAME - 4);
		if (len - pos - 4 < flen)
			break;
		const uint8_t *p = f + 4, *end = p + flen;
		uint32_t n;
		int64_t type, id64;
		if (mp_array(&p, end, &n) || n < 2 || mp_int(&p, end, &type) || mp_int(&p, end, &id64))
			FAIL("server sent a malformed frame (not an array with int type and id)");
		uint32_t id = (uint32_t)id64;
		uint32_t used = 2;
		if (type == 12) { /* GOAWAY */
			int64_t last = 0, reason = -1;
			const uint8_t *msg = (const uint8_t *)"";
			uint32_t mlen = 0;
			if (n >= 5 && !mp_int(&p, end, &last) && !mp_int(&p, end, &reason))
				mp_bytes(&p, end, 0, &msg, &mlen);
			FAIL("server sent GOAWAY reason %lld (lastId %lld): %.*s", (long long)reason, (long long)last,
			     (int)(mlen > 200 ? 200 : mlen), (const char *)msg);
		}
		if (type == 9 || type == 11) { /* WINDOW, PONG: nothing to do */
			pos += 4 + flen;
			continue;
		}
		if (type != 5 && type != 3 && type != 6 && type != 7)
			FAIL("server sent frame type %lld, which a unary client never expects", (long long)type);
		uint64_t seq = (uint64_t)id - 1;
		uint64_t slot = seq & c->mask;
		if (id64 <= 0 || id64 > UINT32_MAX || c->slot_id[slot] != id)
			FAIL("server sent frame type %lld for call id %lld, which is not in flight", (long long)type,
			     (long long)id64);
		int complete = 0;
		if (type == 5 || type == 3) { /* RESPONSE [5, id, msg] or MESSAGE [3, id, flags, msg] */
			int64_t flags;
			if (type == 3 && (n < 4 || mp_int(&p, end, &flags)))
				FAIL("call %u: malformed MESSAGE frame", id);
			if (n < (type == 3 ? 4u : 3u))
				FAIL("call %u: RESPONSE without a message", id);
			if (type == 3 && c->slot_msg[slot])
				FAIL("call %u: a second MESSAGE on a unary call", id);
			if (check_reply(c, id, &p, end, err, errlen))
				return -1;
			used = type == 3 ? 4 : 3;
			complete = type == 5;
			c->slot_msg[slot] = 1;
		} else if (type == 7) { /* STATUS */
			int64_t code;
			const uint8_t *msg = (const uint8_t *)"";
			uint32_t mlen = 0;
			if (n < 4 || mp_int(&p, end, &code) || mp_bytes(&p, end, 0, &msg, &mlen))
				FAIL("call %u: malformed STATUS frame", id);
			if (code != 0)
				FAIL("call %u (%s) failed with status %lld: %.*s", id, method_names[c->method], (long long)code,
				     (int)(mlen > 200 ? 200 : mlen), (const char *)msg);
			if (!c->slot_msg[slot])
				FAIL("call %u: STATUS OK without a response message", id);
			used = 4;
			complete = 1;
		}
		for (uint32_t k = used; k < n; k++)
			if (mp_skip(&p, end, 0))
				FAIL("call %u: malformed element %u in frame type %lld", id, k, (long long)type);
		if (p != end)
			FAIL("call %u: %zu bytes after the frame array", id, (size_t)(end - p));
		if (complete) {
			c->slot_id[slot] = 0;
			done[(*ndone)++] = seq;
		}
		pos += 4 + flen;
	}
	return (long)pos;
}

const struct protocol protocol_rpc = {
	.name = "rpc",
	.conn_new = rpc_conn_new,
	.conn_free = rpc_conn_free,
	.encode = rpc_encode,
	.hello = rpc_hello,
	.hello_reply = rpc_hello_reply,
	.decode = rpc_decode,
};
