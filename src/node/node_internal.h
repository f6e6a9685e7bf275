/* Between the node process (node.c) and its static pods (static_pods.c). */
#ifndef PEAPOD_NODE_INTERNAL_H
#define PEAPOD_NODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "node/node.h"

/* Messages said once while they stay true: a broken file or a failing
 * pod is not reported again at every pass, only when it is new. */
struct node_said {
	char **prev, **cur;
	size_t n_prev, n_cur;
};

struct node_sync {
	const char *dir; /* the manifest directory */
	const char *store_root;
	char *host; /* the node name: the host name, lowercase */
	pp_node_log_fn log;
	void *log_ctx;
	struct node_said said;
};

/* One pass: the directory read, the pods made, replaced, made again or
 * deleted to match it. *failed: some pod could not be made (retry later). */
void node_sync_pass(struct node_sync *s, bool *acted, bool *failed);
void node_sync_free(struct node_sync *s);

/* Whether the pod's supervisor holds its lock (opened read-only: no
 * IN_CLOSE_WRITE on the records the node watches). */
bool node_pod_alive(const char *uid);

#endif
