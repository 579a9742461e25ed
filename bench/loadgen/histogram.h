/**
 * Latency histogram for the load generator: HDR-style log-linear buckets over
 * nanoseconds (128 linear sub-buckets per power of two, under 1% error), a
 * fixed-size array so recording is one index computation and one increment.
 * It owns no timing and no I/O.
 */
#ifndef LOADGEN_HISTOGRAM_H
#define LOADGEN_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB_COUNT)

struct histogram {
	uint64_t count;
	uint64_t max_ns;
	uint64_t sum_ns;
	uint64_t buckets[HIST_BUCKETS];
};

void histogram_reset(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t ns);
/* Value (ns, bucket midpoint, capped by the exact max) at quantile q in [0,1]. */
uint64_t histogram_quantile(const struct histogram *h, double q);

#endif
