/**
 * The msgpack reader behind msgpack_read.h (rpc mode response checks).
 * Values above INT64_MAX (uint64 forms) are rejected: nothing the loadgen
 * checks can be that large.
 */
#include "msgpack_read.h"

static uint64_t be(const uint8_t *q, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | q[i];
	return v;
}

int mp_int(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	const uint8_t *q = *p;
	if (q >= end)
		return -1;
	uint8_t m = *q++;
	int n;
	if (m <= 0x7f) {
		*v = m;
		*p = q;
		return 0;
	}
	if (m >= 0xe0) {
		*v = (int8_t)m;
		*p = q;
		return 0;
	}
	switch (m) {
	case 0xcc: case 0xd0: n = 1; break;
	case 0xcd: case 0xd1: n = 2; break;
	case 0xce: case 0xd2: n = 4; break;
	case 0xcf: case 0xd3: n = 8; break;
	default: return -1;
	}
	if (end - q < n)
		return -1;
	uint64_t u = be(q, n);
	if (m >= 0xd0) {
		int shift = 64 - 8 * n;
		*v = (int64_t)(u << shift) >> shift;
	} else {
		if (u > (uint64_t)INT64_MAX)
			return -1;
		*v = (int64_t)u;
	}
	*p = q + n;
	return 0;
}

int mp_f64(const uint8_t **p, const uint8_t *end, double *v)
{
	const uint8_t *q = *p;
	if (q < end && *q == 0xcb && end - q >= 9) {
		union { uint64_t u; double d; } x = { .u = be(q + 1, 8) };
		*v = x.d;
		*p = q + 9;
		return 0;
	}
	if (q < end && *q == 0xca && end - q >= 5) {
		union { uint32_t u; float f; } x = { .u = (uint32_t)be(q + 1, 4) };
		*v = x.f;
		*p = q + 5;
		return 0;
	}
	int64_t i;
	if (mp_int(p, end, &i) < 0)
		return -1;
	*v = (double)i;
	return 0;
}

/* A header with fixed range [fix_lo, fix_lo + fix_n), then 8/16/32-bit length markers (0 = none). */
static int header(const uint8_t **p, const uint8_t *end, uint8_t fix_lo, uint8_t fix_n, uint8_t m8, uint8_t m16,
		  uint8_t m32, uint32_t *n)
{
	const uint8_t *q = *p;
	if (q >= end)
		return -1;
	uint8_t m = *q++;
	int w;
	if (fix_n && m >= fix_lo && m < fix_lo + fix_n) {
		*n = m - fix_lo;
		*p = q;
		return 0;
	}
	if (m8 && m == m8)
		w = 1;
	else if (m == m16)
		w = 2;
	else if (m == m32)
		w = 4;
	else
		return -1;
	if (end - q < w)
		return -1;
	*n = (uint32_t)be(q, w);
	*p = q + w;
	return 0;
}

int mp_bytes(const uint8_t **p, const uint8_t *end, int bin, const uint8_t **data, uint32_t *len)
{
	const uint8_t *q = *p;
	uint32_t n;
	if (bin ? header(&q, end, 0, 0, 0xc4, 0xc5, 0xc6, &n) : header(&q, end, 0xa0, 32, 0xd9, 0xda, 0xdb, &n))
		return -1;
	if ((size_t)(end - q) < n)
		return -1;
	*data = q;
	*len = n;
	*p = q + n;
	return 0;
}

int mp_array(const uint8_t **p, const uint8_t *end, uint32_t *n)
{
	const uint8_t *q = *p;
	if (header(&q, end, 0x90, 16, 0, 0xdc, 0xdd, n) || *n > (size_t)(end - q))
		return -1;
	*p = q;
	return 0;
}

int mp_map(const uint8_t **p, const uint8_t *end, uint32_t *n)
{
	const uint8_t *q = *p;
	if (header(&q, end, 0x80, 16, 0, 0xde, 0xdf, n) || *n > (size_t)(end - q) / 2)
		return -1;
	*p = q;
	return 0;
}

int mp_skip(const uint8_t **p, const uint8_t *end, int depth)
{
	const uint8_t *q = *p;
	if (q >= end || depth > 64)
		return -1;
	uint8_t m = *q;
	const uint8_t *data;
	uint32_t n;
	int64_t i;
	double d;
	if (m <= 0x7f || m >= 0xe0 || m == 0xc0 || m == 0xc2 || m == 0xc3) {
		*p = q + 1;
		return 0;
	}
	if ((m >= 0xcc && m <= 0xcf) || (m >= 0xd0 && m <= 0xd3)) {
		if (m == 0xcf) { /* may exceed INT64_MAX: skip by size */
			if (end - q < 9)
				return -1;
			*p = q + 9;
			return 0;
		}
		return mp_int(p, end, &i);
	}
	if (m == 0xca || m == 0xcb)
		return mp_f64(p, end, &d);
	if ((m >= 0xa0 && m <= 0xbf) || (m >= 0xd9 && m <= 0xdb))
		return mp_bytes(p, end, 0, &data, &n);
	if (m >= 0xc4 && m <= 0xc6)
		return mp_bytes(p, end, 1, &data, &n);
	int is_map = (m >= 0x80 && m <= 0x8f) || m == 0xde || m == 0xdf;
	int is_array = (m >= 0x90 && m <= 0x9f) || m == 0xdc || m == 0xdd;
	if (is_map || is_array) {
		if (is_map ? mp_map(&q, end, &n) : mp_array(&q, end, &n))
			return -1;
		uint64_t items = is_map ? 2ull * n : n;
		for (uint64_t k = 0; k < items; k++)
			if (mp_skip(&q, end, depth + 1))
				return -1;
		*p = q;
		return 0;
	}
	/* Timestamps are the only extension allowed (docs/ENCODING.md). */
	size_t len = m == 0xd6 ? 4 : m == 0xd7 ? 8 : m == 0xc7 && end - q >= 2 ? q[1] : 0;
	size_t hdr = m == 0xc7 ? 3 : 2;
	if (len == 0 || (size_t)(end - q) < hdr + len || q[hdr - 1] != 0xff)
		return -1;
	*p = q + hdr + len;
	return 0;
}
