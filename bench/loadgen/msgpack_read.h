/**
 * A tiny bounds-checked msgpack reader for the rpc mode's response checks:
 * every int form, str/bin headers, array/map headers and a nesting-limited
 * skip. Each function advances *p on success and returns 0, or returns -1
 * (truncated or another type) and leaves *p alone.
 */
#ifndef LOADGEN_MSGPACK_READ_H
#define LOADGEN_MSGPACK_READ_H

#include <stddef.h>
#include <stdint.h>

int mp_int(const uint8_t **p, const uint8_t *end, int64_t *v);
int mp_f64(const uint8_t **p, const uint8_t *end, double *v);
/* str or bin by `bin`; sets *data to the bytes and *len to their count. */
int mp_bytes(const uint8_t **p, const uint8_t *end, int bin, const uint8_t **data, uint32_t *len);
int mp_array(const uint8_t **p, const uint8_t *end, uint32_t *n);
int mp_map(const uint8_t **p, const uint8_t *end, uint32_t *n);
int mp_skip(const uint8_t **p, const uint8_t *end, int depth);

#endif
