/* kubelet's crash-loop back-off: the first restart at once, then 10 s
 * doubling to 300 s, and from scratch again once an instance ran for 10
 * minutes. Pure code: the supervisor keeps the state, this computes it. */
#ifndef PEAPOD_BACKOFF_H
#define PEAPOD_BACKOFF_H

#include <stdint.h>

#define PP_BACKOFF_INITIAL_S 10
#define PP_BACKOFF_MAX_S 300
#define PP_BACKOFF_RESET_S 600

struct pp_backoff {
	int64_t initial_ns, max_ns, reset_ns;
};

/* kubelet's durations, scaled by scale: 1, or in a test build the test
 * knob PEAPOD_TEST_TIME_SCALE (util/settings.h) so that tests of back-off
 * behaviour take seconds; anything but a number in (0, 1] means 1. */
void pp_backoff_init(struct pp_backoff *b, double scale);

/* An instance that ran for ran_ns ended: the delay before the restart;
 * *next_ns is the container's state (0 at first), the delay after this. */
int64_t pp_backoff_next(const struct pp_backoff *b, int64_t *next_ns, int64_t ran_ns);

#endif
