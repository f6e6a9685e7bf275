/* Which CNI network a pod joins, and where its configuration lives.
 *
 *   $PEAPOD_CNI_CONF_DIR (/etc/peapod/cni)   *.conflist (and single-plugin
 *       *.conf) files, one network each, found by their "name". The default
 *       network "peapod" is written there on first use when no file names it.
 *   $PEAPOD_CNI_PATH (/usr/lib/cni)          the plugin binaries.
 *   $PEAPOD_RUN/cni/networks                 host-local's leases (dataDir of
 *       the default network): on the tmpfs like the network namespaces, so a
 *       reboot that ends every pod's namespace also ends its lease.
 *
 * A pod's network: the annotation peapod.io/network (which `--network` sets),
 * else $PEAPOD_NETWORK, else "peapod". "none": loopback only, as before
 * networking. hostNetwork pods join no network. */
#ifndef PEAPOD_NETCONF_H
#define PEAPOD_NETCONF_H

#include <stdbool.h>

#include <json-c/json.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

#define PP_NET_ANNOTATION "peapod.io/network"
#define PP_NET_DEFAULT_NAME "peapod"
#define PP_NET_NONE "none"
#define PP_NET_DEFAULT_BRIDGE "peapod0"
#define PP_NET_DEFAULT_SUBNET "10.89.0.0/16"
#define PP_NET_DEFAULT_GATEWAY "10.89.0.1"
#define PP_NET_DEFAULT_FILE "10-peapod.conflist"

const char *pp_net_conf_dir(void);
const char *pp_net_plugin_dir(void);
/* host-local's leases of the default network (a new string). */
char *pp_net_default_data_dir(void);

/* The network the pod asks for: a name, or NULL for loopback only (none,
 * hostNetwork). */
const char *pp_net_name_for(const struct pp_pod *pod);

/* `--network NAME`: sets the pod's peapod.io/network annotation. */
void pp_net_set_network(struct pp_pod *pod, const char *name);

/* The default conflist's text (a new string), as written on first use. */
char *pp_net_default_conflist(void);

/* Loads the conflist named name from the configuration directory (writing
 * the default one first when name is the default and no file has it). A
 * single-plugin .conf comes back as a conflist of one. *is_default: the
 * file is exactly the default configuration (the fast path may take it). */
int pp_net_load(const char *name, struct json_object **conflist, bool *is_default,
		struct pp_error **err);

/* A conflist peapod can hand to its plugins: an object whose "plugins" is a
 * list of objects, each with a string "type". what names it in the error. */
int pp_net_conflist_check(struct json_object *list, const char *what, struct pp_error **err);

#endif
