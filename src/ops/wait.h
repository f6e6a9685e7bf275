/* `peapod wait` (kubectl wait) over a pod's status: a condition, a field's
 * value, or the pod's deletion. */
#ifndef PEAPOD_OPS_WAIT_H
#define PEAPOD_OPS_WAIT_H

#include <stdint.h>

#include "util/error.h"

enum pp_wait_kind { PP_WAIT_CONDITION, PP_WAIT_DELETE, PP_WAIT_JSONPATH };

struct pp_wait_for {
	enum pp_wait_kind kind;
	const char *what;  /* condition type, or a jsonpath without braces (.a.b[0].c) */
	const char *value; /* the wanted value ("True" for conditions) */
};

/* Returns 0 once w holds for the pod (case-insensitively for conditions),
 * else -1 when the pod is gone while waiting for something of it (ENOENT)
 * or timeout_ms passed. */
int pp_pod_wait(const char *ns, const char *name, const struct pp_wait_for *w, int64_t timeout_ms,
		struct pp_error **err);

#endif
