/**
 * Log-linear latency buckets: values below HIST_SUB_COUNT are exact; above,
 * each power of two is split into HIST_SUB_COUNT equal buckets, keeping the top
 * HIST_SUB_BITS+1 significant bits of the value.
 */
#include "histogram.h"

#include <string.h>

static unsigned bucket_of(uint64_t v)
{
	if (v < HIST_SUB_COUNT)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	uint64_t mantissa = v >> (msb - HIST_SUB_BITS); /* in [SUB, 2*SUB) */
	return (msb - HIST_SUB_BITS + 1) * HIST_SUB_COUNT + (unsigned)(mantissa - HIST_SUB_COUNT);
}

static uint64_t bucket_low(unsigned b)
{
	if (b < HIST_SUB_COUNT)
		return b;
	unsigned group = b / HIST_SUB_COUNT; /* >= 1 */
	uint64_t mantissa = (b % HIST_SUB_COUNT) + HIST_SUB_COUNT;
	return mantissa << (group - 1);
}

static uint64_t bucket_width(unsigned b)
{
	if (b < 2 * HIST_SUB_COUNT)
		return 1;
	return 1ull << (b / HIST_SUB_COUNT - 1);
}

void histogram_reset(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
}

void histogram_record(struct histogram *h, uint64_t ns)
{
	h->buckets[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
	if (h->count == 0)
		return 0;
	/* rank of the sample we want, 1-based: the smallest value with at least q of samples at or below it */
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank) {
			uint64_t mid = bucket_low(b) + bucket_width(b) / 2;
			return mid > h->max_ns ? h->max_ns : mid;
		}
	}
	return h->max_ns;
}
