/* The crash-loop back-off's arithmetic (see backoff.h). */

#include "supervisor/backoff.h"

#define NS_PER_S 1000000000LL

void pp_backoff_init(struct pp_backoff *b, double scale)
{
	/* !(<=) also takes NaN to 1 */
	double f = scale > 0 && scale <= 1 ? scale : 1;
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
