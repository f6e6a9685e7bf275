/* RuntimeService's RPCs that need no sandbox: Version, Status,
 * UpdateRuntimeConfig; and the packing shared by every handler. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cri/cri_internal.h"
#include "net/fastpath.h"
#include "net/netconf.h"
#include "util/cleanup.h"
#include "util/settings.h"

/* From the build (Makefile: the version and git commit). */
#ifndef PP_VERSION
#define PP_VERSION "0.0.0"
#endif
#define CRI_RUNTIME_NAME "peapod"
#define CRI_API_VERSION "v1"
/* kubelet's condition types and the reason containerd gives when the
 * network is not usable. */
#define CRI_RUNTIME_READY "RuntimeReady"
#define CRI_NETWORK_READY "NetworkReady"
#define CRI_NETWORK_NOT_READY_REASON "NetworkPluginNotReady"

void cri_reply_message(struct pp_grpc_reply *reply, const ProtobufCMessage *msg)
{
	reply->code = PP_GRPC_OK;
	reply->len = protobuf_c_message_get_packed_size(msg);
	reply->body = xmalloc(reply->len ? reply->len : 1);
	protobuf_c_message_pack(msg, reply->body);
}

void *cri_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
		 const char *method, struct pp_grpc_reply *reply)
{
	void *m = protobuf_c_message_unpack(d, NULL, len, data);
	if (m == NULL)
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "%s: the request is not a valid %s message", method, d->name);
	return m;
}

void cri_version(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__VersionRequest *req =
	    cri_unpack(&runtime__v1__version_request__descriptor, msg, len, "Version", reply);
	if (req == NULL)
		return;
	Runtime__V1__VersionResponse resp = RUNTIME__V1__VERSION_RESPONSE__INIT;
	resp.version = (char *)"0.1.0"; /* kubelet's runtime API version of the reply */
	resp.runtime_name = (char *)CRI_RUNTIME_NAME;
	resp.runtime_version = (char *)PP_VERSION;
	resp.runtime_api_version = (char *)CRI_API_VERSION;
	cri_reply_message(reply, &resp.base);
	runtime__v1__version_request__free_unpacked(req, NULL);
}

/* Whether the plugin type is an executable in one of cni_path's dirs. */
static bool plugin_present(const char *type)
{
	cleanup_free char *dirs = xstrdup(pp_net_plugin_dir());
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		cleanup_free char *p = xasprintf("%s/%s", d, type);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

/* NetworkReady: the network a pod joins by default can be set up (its
 * configuration loads, the default one written on first use as a pod's
 * start would; it is usable, and the fast path takes it or its
 * plugins are installed). *message says why not (a new string). */
static bool network_ready(char **message)
{
	const char *name = pp_settings()->network ? pp_settings()->network : PP_NET_DEFAULT_NAME;
	*message = NULL;
	if (strcmp(name, PP_NET_NONE) == 0)
		return true; /* loopback only, by choice */
	cleanup_error struct pp_error *err = NULL;
	struct json_object *list = NULL;
	bool is_default = false;
	if (pp_net_load(name, &list, &is_default, &err) < 0 ||
	    pp_net_conflist_check(list, name, &err) < 0) {
		*message = xasprintf("network \"%s\": %s", name, err ? err->msg : "not usable");
		json_object_put(list);
		return false;
	}
	bool ok = true;
	if (!(is_default && pp_fastpath_enabled())) {
		struct json_object *plugins = json_object_object_get(list, "plugins");
		for (size_t k = 0; ok && k < json_object_array_length(plugins); k++) {
			struct json_object *type =
			    json_object_object_get(json_object_array_get_idx(plugins, k), "type");
			const char *t = json_object_get_string(type);
			if (!plugin_present(t)) {
				*message =
				    xasprintf("network \"%s\": CNI plugin \"%s\" not found in %s",
					      name, t, pp_net_plugin_dir());
				ok = false;
			}
		}
	}
	json_object_put(list);
	return ok;
}

/* StatusResponse.info["config"] (verbose): where the server works. */
static char *status_info(const struct pp_cri_service *svc)
{
	const struct pp_settings *s = pp_settings();
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "socket", json_object_new_string(svc->socket_path));
	json_object_object_add(o, "root", json_object_new_string(s->root));
	json_object_object_add(o, "runDir", json_object_new_string(s->run_dir));
	json_object_object_add(o, "cniConfDir", json_object_new_string(pp_net_conf_dir()));
	json_object_object_add(o, "cniPath", json_object_new_string(pp_net_plugin_dir()));
	json_object_object_add(
	    o, "network", json_object_new_string(s->network ? s->network : PP_NET_DEFAULT_NAME));
	json_object_object_add(o, "netFastPath", json_object_new_boolean(pp_fastpath_enabled()));
	json_object_object_add(o, "podCIDR",
			       svc->pod_cidr ? json_object_new_string(svc->pod_cidr) : NULL);
	json_object_object_add(o, "version", json_object_new_string(PP_VERSION));
	char *text = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

void cri_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	const struct pp_cri_service *svc = ctx;
	Runtime__V1__StatusRequest *req =
	    cri_unpack(&runtime__v1__status_request__descriptor, msg, len, "Status", reply);
	if (req == NULL)
		return;
	cleanup_free char *net_message = NULL;
	Runtime__V1__RuntimeCondition runtime = RUNTIME__V1__RUNTIME_CONDITION__INIT;
	runtime.type = (char *)CRI_RUNTIME_READY;
	runtime.status = true;
	Runtime__V1__RuntimeCondition net = RUNTIME__V1__RUNTIME_CONDITION__INIT;
	net.type = (char *)CRI_NETWORK_READY;
	net.status = network_ready(&net_message);
	if (!net.status) {
		net.reason = (char *)CRI_NETWORK_NOT_READY_REASON;
		net.message = net_message;
	}
	Runtime__V1__RuntimeCondition *conds[] = {&runtime, &net};
	Runtime__V1__RuntimeStatus status = RUNTIME__V1__RUNTIME_STATUS__INIT;
	status.n_conditions = 2;
	status.conditions = conds;

	Runtime__V1__RuntimeHandlerFeatures features = RUNTIME__V1__RUNTIME_HANDLER_FEATURES__INIT;
	Runtime__V1__RuntimeHandler handler = RUNTIME__V1__RUNTIME_HANDLER__INIT;
	/* the default handler "": pods with a user namespace of their own
	 * (kubelet 1.30+ asks before it runs a hostUsers: false pod) */
	features.user_namespaces = true;
	handler.features = &features;
	Runtime__V1__RuntimeHandler *handlers[] = {&handler};

	Runtime__V1__StatusResponse resp = RUNTIME__V1__STATUS_RESPONSE__INIT;
	resp.status = &status;
	resp.n_runtime_handlers = 1;
	resp.runtime_handlers = handlers;
	cleanup_free char *info = NULL;
	Runtime__V1__StatusResponse__InfoEntry entry =
	    RUNTIME__V1__STATUS_RESPONSE__INFO_ENTRY__INIT;
	Runtime__V1__StatusResponse__InfoEntry *entries[] = {&entry};
	if (req->verbose) {
		info = status_info(svc);
		entry.key = (char *)"config";
		entry.value = info;
		resp.n_info = 1;
		resp.info = entries;
	}
	cri_reply_message(reply, &resp.base);
	runtime__v1__status_request__free_unpacked(req, NULL);
}

void cri_update_runtime_config(void *ctx, const uint8_t *msg, size_t len,
			       struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__UpdateRuntimeConfigRequest *req =
	    cri_unpack(&runtime__v1__update_runtime_config_request__descriptor, msg, len,
		       "UpdateRuntimeConfig", reply);
	if (req == NULL)
		return;
	/* The pod CIDR kubelet was given: noted (Status shows it); the
	 * network's own configuration keeps its subnet. */
	if (req->runtime_config && req->runtime_config->network_config &&
	    req->runtime_config->network_config->pod_cidr[0]) {
		free(svc->pod_cidr);
		svc->pod_cidr = xstrdup(req->runtime_config->network_config->pod_cidr);
	}
	Runtime__V1__UpdateRuntimeConfigResponse resp =
	    RUNTIME__V1__UPDATE_RUNTIME_CONFIG_RESPONSE__INIT;
	cri_reply_message(reply, &resp.base);
	runtime__v1__update_runtime_config_request__free_unpacked(req, NULL);
}

/* kubelet 1.31's KubeletCgroupDriverFromCRI asks which driver makes the
 * cgroups: peapod writes cgroupfs directly (no systemd). */
void cri_runtime_config(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__RuntimeConfigRequest *req = cri_unpack(
	    &runtime__v1__runtime_config_request__descriptor, msg, len, "RuntimeConfig", reply);
	if (req == NULL)
		return;
	Runtime__V1__LinuxRuntimeConfiguration lx = RUNTIME__V1__LINUX_RUNTIME_CONFIGURATION__INIT;
	lx.cgroup_driver = RUNTIME__V1__CGROUP_DRIVER__CGROUPFS;
	Runtime__V1__RuntimeConfigResponse resp = RUNTIME__V1__RUNTIME_CONFIG_RESPONSE__INIT;
	resp.linux = &lx;
	cri_reply_message(reply, &resp.base);
	runtime__v1__runtime_config_request__free_unpacked(req, NULL);
}
