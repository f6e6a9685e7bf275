/* A pod joining and leaving its CNI network, with the record that makes the
 * leaving possible after a crash. */
#include "net/podnet.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "net/cni.h"
#include "net/fastpath.h"
#include "net/ipmasq.h"
#include "net/netconf.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define RECORD_MODE 0600
#define MAX_RECORD (4 * 1024 * 1024)
/* kubelet's burst for the bandwidth annotations: math.MaxInt32 bits, "in
 * practice no limit". */
#define BANDWIDTH_BURST INT32_MAX

static const char *annotation(const struct pp_pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->n_annotations; i++)
		if (strcmp(pod->annotations[i].key, key) == 0)
			return pod->annotations[i].value;
	return NULL;
}

/* portMappings for portmap: every container port with a hostPort (a CRI
 * sandbox's port_mappings count as its only container's). */
static struct json_object *port_mappings(const struct pp_pod *pod)
{
	static const char *const proto[] = {"tcp", "udp", "sctp"};
	struct json_object *a = json_object_new_array();
	for (size_t c = 0; c <= pod->n_containers; c++)
		for (size_t i = 0;
		     i < (c < pod->n_containers ? pod->containers[c].n_ports : pod->n_cri_ports);
		     i++) {
			const struct pp_port *p = c < pod->n_containers
						      ? &pod->containers[c].ports[i]
						      : &pod->cri_ports[i];
			if (p->host_port == 0)
				continue;
			struct json_object *m = json_object_new_object();
			json_object_object_add(m, "hostPort", json_object_new_int(p->host_port));
			json_object_object_add(m, "containerPort",
					       json_object_new_int(p->container_port));
			json_object_object_add(m, "protocol",
					       json_object_new_string(proto[p->protocol]));
			if (p->host_ip && *p->host_ip)
				json_object_object_add(m, "hostIP",
						       json_object_new_string(p->host_ip));
			json_object_array_add(a, m);
		}
	return a;
}

static int bandwidth_value(const struct pp_pod *pod, const char *key, int64_t *bits,
			   struct pp_error **err)
{
	const char *text = annotation(pod, key);
	*bits = 0;
	if (text == NULL)
		return 0;
	/* Checked at parse time; again here for a pod whose annotations were
	 * changed since (peapod.io/network is the only one peapod sets). */
	if (pp_bandwidth_parse(text, bits, err) < 0)
		return pp_error_wrap(err, "metadata.annotations[%s]", key);
	return 0;
}

/* runtimeConfig as kubelet gives it: portMappings, bandwidth. */
static int runtime_config(const struct pp_pod *pod, struct json_object **out, struct pp_error **err)
{
	int64_t in = 0, eg = 0;
	if (bandwidth_value(pod, PP_NET_INGRESS_ANNOTATION, &in, err) < 0 ||
	    bandwidth_value(pod, PP_NET_EGRESS_ANNOTATION, &eg, err) < 0)
		return -1;
	struct json_object *rc = json_object_new_object();
	struct json_object *pm = port_mappings(pod);
	if (json_object_array_length(pm) > 0)
		json_object_object_add(rc, "portMappings", pm);
	else
		json_object_put(pm);
	if (in > 0 || eg > 0) {
		struct json_object *bw = json_object_new_object();
		if (in > 0) {
			json_object_object_add(bw, "ingressRate", json_object_new_int64(in));
			json_object_object_add(bw, "ingressBurst",
					       json_object_new_int64(BANDWIDTH_BURST));
		}
		if (eg > 0) {
			json_object_object_add(bw, "egressRate", json_object_new_int64(eg));
			json_object_object_add(bw, "egressBurst",
					       json_object_new_int64(BANDWIDTH_BURST));
		}
		json_object_object_add(rc, "bandwidth", bw);
	}
	*out = rc;
	return 0;
}

static int write_record(const char *path, struct json_object *rec, struct pp_error **err)
{
	const char *s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PRETTY);
	return pp_write_file_atomic(path, s, strlen(s), RECORD_MODE, err);
}

/* What the bridge plugin's DEL leaves of its masquerade when it cannot see
 * the pod's interface (namespace gone, ADD failed before the interface had
 * its address): the pod's chain and its jump (ipmasq.h). v6 too when the
 * pod had an IPv6 address, or nobody knows (no result). */
static int masq_cleanup(struct json_object *conf, const char *container_id,
			struct json_object *result, bool fast, struct pp_error **err)
{
	if (!pp_ipmasq_wanted(conf))
		return 0;
	struct json_object *v = NULL;
	const char *name =
	    json_object_object_get_ex(conf, "name", &v) ? json_object_get_string(v) : "";
	/* The fast path's own rules: deleted as added, in one exec. */
	const char *address = NULL;
	if (fast && result && json_object_object_get_ex(result, "ips", &v) &&
	    json_object_array_length(v) == 1 &&
	    json_object_object_get_ex(json_object_array_get_idx(v, 0), "address", &v))
		address = json_object_get_string(v);
	if (address != NULL)
		return pp_ipmasq_del(name, container_id, address, err);
	bool v6 = result == NULL;
	cleanup_strv char **ips = result ? pp_cni_result_ips(result) : NULL;
	for (size_t i = 0; ips && ips[i]; i++)
		v6 = v6 || strchr(ips[i], ':') != NULL;
	return pp_ipmasq_remove(name, container_id, v6, err);
}

static char *netns_path(pid_t pid)
{
	return pid > 0 ? xasprintf("/proc/%d/ns/net", (int)pid) : xstrdup("");
}

int pp_pod_net_attach(const struct pp_pod_net_req *req, char ***ips, struct pp_error **err)
{
	*ips = xmalloc(sizeof(char *));
	const char *name = pp_net_name_for(req->pod);
	if (name == NULL)
		return 0;
	struct json_object *conf = NULL, *rc = NULL, *result = NULL;
	bool is_default = false;
	if (pp_net_load(name, &conf, &is_default, err) < 0)
		return -1;
	if (runtime_config(req->pod, &rc, err) < 0) {
		json_object_put(conf);
		return -1;
	}
	cleanup_free char *args =
	    xasprintf("IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
		      "K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s",
		      req->pod->namespace_, req->pod->name, req->uid, req->uid);
	cleanup_free char *netns = netns_path(req->infra_pid);
	cleanup_free char *path = xasprintf("%s/%s", req->state_dir, PP_NET_RECORD);
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "network", json_object_new_string(name));
	json_object_object_add(rec, "containerID", json_object_new_string(req->uid));
	json_object_object_add(rec, "ifName", json_object_new_string(PP_NET_IFNAME));
	json_object_object_add(rec, "args", json_object_new_string(args));
	json_object_object_add(rec, "config", conf);
	json_object_object_add(rec, "runtimeConfig", rc);
	struct pp_cni_rt rt = {.container_id = req->uid,
			       .netns = netns,
			       .ifname = PP_NET_IFNAME,
			       .args = args,
			       .runtime_config = rc};
	/* The default network without hostPort or bandwidth limits: the
	 * built-in equivalent of its plugins (fastpath.h). */
	bool fast = is_default && json_object_object_length(rc) == 0 && pp_fastpath_enabled();
	json_object_object_add(rec, "fastPath", json_object_new_boolean(fast));
	int ret = -1;
	/* The record first: a supervisor killed during ADD leaves its DEL. */
	if (write_record(path, rec, err) < 0)
		goto out;
	if ((fast ? pp_fastpath_add(req->uid, req->infra_pid, &result, err)
		  : pp_cni_add(conf, &rt, &result, err)) < 0) {
		pp_error_wrap(err, "network \"%s\"", name);
		masq_cleanup(conf, req->uid, NULL, false, NULL);
		unlink(path);
		goto out;
	}
	json_object_object_add(rec, "result", result);
	if (write_record(path, rec, err) < 0) {
		if (fast)
			pp_fastpath_del(req->uid, NULL);
		else
			pp_cni_del(conf, &rt, result, NULL);
		masq_cleanup(conf, req->uid, result, fast, NULL);
		unlink(path);
		goto out;
	}
	free(*ips);
	*ips = pp_cni_result_ips(result);
	ret = 0;
out:
	json_object_put(rec);
	return ret;
}

static int load_record(const char *state_dir, struct json_object **rec, char **path,
		       struct pp_error **err)
{
	*rec = NULL;
	*path = xasprintf("%s/%s", state_dir, PP_NET_RECORD);
	cleanup_free char *text = NULL;
	cleanup_error struct pp_error *e = NULL;
	if (pp_read_file(*path, MAX_RECORD, &text, NULL, &e) < 0)
		return e->status == ENOENT ? 0 : pp_error_set(err, e->status, "%s", e->msg);
	*rec = json_tokener_parse(text);
	struct json_object *conf = NULL;
	if (*rec == NULL || !json_object_object_get_ex(*rec, "config", &conf) ||
	    pp_net_conflist_check(conf, *path, err) < 0) {
		if (*rec)
			json_object_put(*rec);
		*rec = NULL;
		return pp_error_set(err, EINVAL, "%s: not a network record", *path);
	}
	return 0;
}

static const char *rec_str(struct json_object *rec, const char *key)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(rec, key, &v) ? json_object_get_string(v) : "";
}

/* Runs DEL or CHECK from the record. */
static int from_record(const char *state_dir, pid_t infra_pid, bool check, struct pp_error **err)
{
	struct json_object *rec = NULL;
	cleanup_free char *path = NULL;
	if (load_record(state_dir, &rec, &path, err) < 0)
		return -1;
	if (rec == NULL)
		return check ? pp_error_set(err, ENOENT, "the pod has no network") : 0;
	cleanup_free char *netns = netns_path(infra_pid);
	struct json_object *conf = json_object_object_get(rec, "config");
	struct json_object *result = json_object_object_get(rec, "result");
	struct pp_cni_rt rt = {.container_id = rec_str(rec, "containerID"),
			       .netns = netns,
			       .ifname = rec_str(rec, "ifName"),
			       .args = rec_str(rec, "args"),
			       .runtime_config = json_object_object_get(rec, "runtimeConfig")};
	struct json_object *fp = NULL;
	bool fast = json_object_object_get_ex(rec, "fastPath", &fp) && json_object_get_boolean(fp);
	cleanup_strv char **ips = pp_cni_result_ips(result);
	const char *ip = ips[0] ? ips[0] : "";
	int ret;
	if (check) {
		ret = fast ? pp_fastpath_check(rt.container_id, ip, infra_pid, err)
			   : pp_cni_check(conf, &rt, result, err);
	} else {
		ret = fast ? pp_fastpath_del(rt.container_id, err)
			   : pp_cni_del(conf, &rt, result, err);
		if (ret == 0)
			ret = masq_cleanup(conf, rt.container_id, result, fast, err);
		/* Kept when DEL failed: gc tries again. */
		if (ret == 0)
			unlink(path);
	}
	json_object_put(rec);
	return ret;
}

int pp_pod_net_detach(const char *state_dir, pid_t infra_pid, struct pp_error **err)
{
	return from_record(state_dir, infra_pid, false, err);
}

int pp_pod_net_check(const char *state_dir, pid_t infra_pid, struct pp_error **err)
{
	return from_record(state_dir, infra_pid, true, err);
}

/* The first IPv4 address of an interface that is up and not loopback, from
 * SIOCGIFCONF (one ioctl, and one per candidate's flags: a fifth of
 * getifaddrs' two netlink dumps, which every pod's start paid). false when
 * none is among the first HOST_IP_IFREQS, or the ioctl fails. */
#define HOST_IP_IFREQS 64
static bool host_ip_ifconf(char buf[INET_ADDRSTRLEN])
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq reqs[HOST_IP_IFREQS];
	memset(reqs, 0, sizeof(reqs));
	struct ifconf conf = {.ifc_len = sizeof(reqs), .ifc_req = reqs};
	if (s < 0 || ioctl(s, SIOCGIFCONF, &conf) < 0)
		return false;
	for (size_t i = 0; i < (size_t)conf.ifc_len / sizeof(reqs[0]); i++) {
		struct ifreq flags = reqs[i];
		if (reqs[i].ifr_addr.sa_family != AF_INET || ioctl(s, SIOCGIFFLAGS, &flags) < 0 ||
		    (flags.ifr_flags & IFF_LOOPBACK) || !(flags.ifr_flags & IFF_UP))
			continue;
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)(void *)&reqs[i].ifr_addr;
		return inet_ntop(AF_INET, &sin->sin_addr, buf, INET_ADDRSTRLEN) != NULL;
	}
	return false;
}

char *pp_net_host_ip(void)
{
	struct ifaddrs *ifa = NULL;
	char buf[INET_ADDRSTRLEN] = "127.0.0.1";
	if (host_ip_ifconf(buf))
		return xstrdup(buf);
	if (getifaddrs(&ifa) < 0)
		return xstrdup(buf);
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(void *)i->ifa_addr;
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		break;
	}
	freeifaddrs(ifa);
	return xstrdup(buf);
}
