/* The CNI protocol (spec 1.0.0), as a runtime speaks it: each plugin of a
 * conflist exec'd in turn with CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME, CNI_PATH and CNI_ARGS in its environment and its configuration
 * on stdin (the plugin's object with the list's name and cniVersion, the
 * previous plugin's result as prevResult, and runtimeConfig for the
 * capabilities it declares); its result or error is the JSON on its stdout. */
#ifndef PEAPOD_CNI_H
#define PEAPOD_CNI_H

#include <json-c/json.h>

#include "util/error.h"

struct pp_cni_rt {
	const char *container_id;
	const char *netns; /* a path, or "" when the namespace is gone (DEL) */
	const char *ifname;
	const char *args;		    /* CNI_ARGS, NULL: none */
	struct json_object *runtime_config; /* capability -> value, NULL: none */
};

/* ADD through the list in order; *result: the last plugin's result. When a
 * plugin fails, DEL runs through the whole list (plugins tolerate a DEL of
 * what they never added) and the error is returned: nothing is left. */
int pp_cni_add(struct json_object *conflist, const struct pp_cni_rt *rt,
	       struct json_object **result, struct pp_error **err);

/* DEL through the list in reverse order, with prev_result (the cached result
 * of ADD, or NULL) as every plugin's prevResult. Every plugin runs even when
 * one fails; the first error is returned. */
int pp_cni_del(struct json_object *conflist, const struct pp_cni_rt *rt,
	       struct json_object *prev_result, struct pp_error **err);

/* CHECK through the list in order, with the cached result. */
int pp_cni_check(struct json_object *conflist, const struct pp_cni_rt *rt,
		 struct json_object *prev_result, struct pp_error **err);

/* The pod's addresses in a result ("ips" on the pod's interfaces, without
 * the prefix length), IPv4 first; a NULL-terminated array. */
char **pp_cni_result_ips(struct json_object *result);

#endif
