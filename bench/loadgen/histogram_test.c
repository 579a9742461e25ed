/**
 * Self-check for histogram.c (`make -C bench/loadgen check`): records random
 * latencies spread over six decades and compares every reported quantile with
 * the exact value from the sorted samples; fails if any is off by more than
 * 1% (the bucket precision) or if the max is not exact.
 */
#include "histogram.h"

#include <stdio.h>
#include <stdlib.h>

#define SAMPLES 200000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	static struct histogram h;
	static uint64_t v[SAMPLES];
	histogram_reset(&h);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < SAMPLES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* log-uniform-ish: 1 ns .. ~1 s */
		v[i] = 1 + ((x >> 20) % 1000) * (1ull << (x % 20));
		histogram_record(&h, v[i]);
	}
	qsort(v, SAMPLES, sizeof(v[0]), cmp_u64);
	const double qs[] = { 0.0, 0.5, 0.9, 0.99, 0.999, 1.0 };
	int failures = 0;
	for (unsigned i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t rank = (uint64_t)(qs[i] * SAMPLES + 0.5);
		uint64_t exact = v[rank < 1 ? 0 : rank - 1];
		uint64_t got = histogram_quantile(&h, qs[i]);
		double err = exact ? ((double)got - (double)exact) / (double)exact : (double)got;
		if (err > 0.01 || err < -0.01) {
			fprintf(stderr, "histogram_test: q=%.3f exact %llu got %llu (error %.2f%%)\n", qs[i],
				(unsigned long long)exact, (unsigned long long)got, err * 100);
			failures++;
		}
	}
	if (h.max_ns != v[SAMPLES - 1] || h.count != SAMPLES) {
		fprintf(stderr, "histogram_test: max %llu (want %llu), count %llu (want %d)\n",
			(unsigned long long)h.max_ns, (unsigned long long)v[SAMPLES - 1], (unsigned long long)h.count, SAMPLES);
		failures++;
	}
	histogram_reset(&h);
	if (histogram_quantile(&h, 0.5) != 0) {
		fprintf(stderr, "histogram_test: an empty histogram must report 0\n");
		failures++;
	}
	if (failures == 0)
		printf("histogram_test: ok\n");
	return failures ? 1 : 0;
}
