/* loadavg.h - benchmarks run on shared machines: each prints how busy the
 * machine was when it started, so that its figures can be read in context. */
#ifndef HW_BENCH_LOADAVG_H
#define HW_BENCH_LOADAVG_H

#include <stdio.h>

static inline void bench_print_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	char la[128];

	if (f && fgets(la, sizeof(la), f))
		printf("load average at start: %s", la);
	if (f)
		fclose(f);
}

#endif
