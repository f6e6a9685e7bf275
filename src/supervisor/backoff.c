/* The crash-loop back-off's arithmetic (see backoff.h). */
#include <stdlib.h>

#include "supervisor/backoff.h"

#define NS_PER_S 1000000000LL

void pp_backoff_init(struct pp_backoff *b, const char *scale)
{
	double f = 1;
	if (scale && scale[0]) {
		char *end;
		double v = strtod(scale, &end);
		if (*end == '\0' && v > 0 && v <= 1)
			f = v;
	}
	b->initial_ns = (int64_t)(PP_BACKOFF_INITIAL_S * NS_PER_S * f);
	b->max_ns = (int64_t)(PP_BACKOFF_MAX_S * NS_PER_S * f);
	b->reset_ns = (int64_t)(PP_BACKOFF_RESET_S * NS_PER_S * f);
}

int64_t pp_backoff_next(const struct pp_backoff *b, int64_t *next_ns, int64_t ran_ns)
{
	if (ran_ns >= b->reset_ns)
		*next_ns = 0; /* healthy long enough: from scratch */
	int64_t delay = *next_ns;
	*next_ns = *next_ns ? *next_ns * 2 : b->initial_ns;
	if (*next_ns > b->max_ns)
		*next_ns = b->max_ns;
	return delay;
}
