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
	char *dir; /* the manifest directory, absolute */
	const char *store_root;
	char *host; /* the node name: the host name, lowercase */
	pp_node_log_fn log;
	void *log_ctx;
	struct node_said said;
};

/* static_file.c: one Pod of a file as the node creates it. */
struct wanted {
	char *file, *ns, *name, *hash;
	char *text; /* the pod as created: JSON, with the node's name and annotations */
	size_t len;
	struct pp_pod *pod;
};

/* kubelet's rule for the directory's entries: *.yaml, *.yml, *.json, no
 * dotfiles (editors' swap files, a config map's ..data). */
bool node_manifest_name(const char *name);

/* The Pods of file's text (buf, len) as the node creates them, on host,
 * first seen at seen (RFC 3339). All or nothing: -1 with "FILE:LINE:COL:
 * field: message" for the first bad document, or a kind other than Pod. */
int node_file_parse(const char *file, const char *buf, size_t len, const char *host,
		    const char *seen, struct wanted **out, size_t *n, struct pp_error **err);
void node_wanted_free(struct wanted *w);

/* One pass: the directory read, the pods made, replaced, made again or
 * deleted to match it. *failed: some pod could not be made (retry later). */
void node_sync_pass(struct node_sync *s, bool *acted, bool *failed);
void node_sync_free(struct node_sync *s);

/* Whether the pod's supervisor holds its lock (opened read-only: no
 * IN_CLOSE_WRITE on the records the node watches). */
bool node_pod_alive(const char *uid);

#endif
