#include "util/clock.h"

#include <limits.h>
#include <time.h>

int64_t pp_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * PP_NSEC_PER_SEC + ts.tv_nsec;
}

int64_t pp_monotonic_ms(void)
{
	return pp_monotonic_ns() / PP_NSEC_PER_MSEC;
}

int pp_ms_left(int64_t deadline_ms)
{
	int64_t left = deadline_ms - pp_monotonic_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int64_t pp_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * PP_NSEC_PER_SEC + ts.tv_nsec;
}
