/* CNI network configuration: the directory, the default network, lookup by name. */
#include "net/netconf.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

#define CONF_DIR_MODE 0755
#define CONF_FILE_MODE 0644
#define MAX_CONF_FILE (1024 * 1024)

const char *pp_net_conf_dir(void)
{
	return pp_settings()->cni_conf_dir;
}

const char *pp_net_plugin_dir(void)
{
	return pp_settings()->cni_path;
}

char *pp_net_default_data_dir(void)
{
	return xasprintf("%s/cni/networks", pp_run_dir());
}

const char *pp_net_name_for(const struct pp_pod *pod)
{
	if (pod->host_network)
		return NULL;
	const char *name = NULL;
	for (size_t i = 0; i < pod->n_annotations; i++)
		if (strcmp(pod->annotations[i].key, PP_NET_ANNOTATION) == 0)
			name = pod->annotations[i].value;
	if (name == NULL || *name == '\0')
		name = pp_settings()->network;
	if (name == NULL || *name == '\0')
		name = PP_NET_DEFAULT_NAME;
	return strcmp(name, PP_NET_NONE) == 0 ? NULL : name;
}

void pp_net_set_network(struct pp_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_annotations; i++)
		if (strcmp(pod->annotations[i].key, PP_NET_ANNOTATION) == 0) {
			free(pod->annotations[i].value);
			pod->annotations[i].value = xstrdup(name);
			return;
		}
	pod->annotations =
	    xrealloc(pod->annotations, sizeof(*pod->annotations) * (pod->n_annotations + 1));
	pod->annotations[pod->n_annotations++] =
	    (struct pp_kv){xstrdup(PP_NET_ANNOTATION), xstrdup(name)};
}

/* The bridge is the pods' gateway (the host reaches them through it) and
 * masquerades what pods send beyond their subnet (ipMasq, as podman's
 * default network: egress works wherever the host's does); portmap serves
 * hostPort, bandwidth the kubernetes.io/{ingress,egress}-bandwidth
 * annotations. No firewall plugin. The built-in fast path (fastpath.h) does
 * what bridge and host-local do, masquerade chain included (ipmasq.h). The
 * infra process brings up loopback itself, so there is no loopback plugin. */
char *pp_net_default_conflist(void)
{
	cleanup_free char *data_dir = pp_net_default_data_dir();
	return xasprintf(
	    "{\n"
	    "  \"cniVersion\": \"1.0.0\",\n"
	    "  \"name\": \"%s\",\n"
	    "  \"plugins\": [\n"
	    "    {\n"
	    "      \"type\": \"bridge\",\n"
	    "      \"bridge\": \"%s\",\n"
	    "      \"isGateway\": true,\n"
	    "      \"ipMasq\": true,\n"
	    "      \"hairpinMode\": true,\n"
	    "      \"ipam\": {\n"
	    "        \"type\": \"host-local\",\n"
	    "        \"dataDir\": \"%s\",\n"
	    "        \"ranges\": [[{\"subnet\": \"%s\", \"gateway\": \"%s\"}]],\n"
	    "        \"routes\": [{\"dst\": \"0.0.0.0/0\"}]\n"
	    "      }\n"
	    "    },\n"
	    "    {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}},\n"
	    "    {\"type\": \"bandwidth\", \"capabilities\": {\"bandwidth\": true}}\n"
	    "  ]\n"
	    "}\n",
	    PP_NET_DEFAULT_NAME, PP_NET_DEFAULT_BRIDGE, data_dir, PP_NET_DEFAULT_SUBNET,
	    PP_NET_DEFAULT_GATEWAY);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A .conf (one plugin) as a conflist of one, as libcni's ConfListFromConf. */
static struct json_object *conf_to_list(struct json_object *conf)
{
	struct json_object *list = json_object_new_object(), *v = NULL;
	if (json_object_object_get_ex(conf, "cniVersion", &v))
		json_object_object_add(list, "cniVersion", json_object_get(v));
	if (json_object_object_get_ex(conf, "name", &v))
		json_object_object_add(list, "name", json_object_get(v));
	struct json_object *plugins = json_object_new_array();
	json_object_array_add(plugins, json_object_get(conf));
	json_object_object_add(list, "plugins", plugins);
	return list;
}

/* The file of network name in dir, or NULL. Files in name order, as libcni
 * picks the first. */
static int find_conf(const char *dir, const char *name, char **path, char **text,
		     struct pp_error **err)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "read %s", dir);
	for (int i = 0; i < n; i++) {
		const char *f = ents[i]->d_name;
		if (*path == NULL && (has_suffix(f, ".conflist") || has_suffix(f, ".conf"))) {
			cleanup_free char *p = xasprintf("%s/%s", dir, f);
			cleanup_free char *t = NULL;
			struct json_object *o = NULL, *nm = NULL;
			if (pp_read_file(p, MAX_CONF_FILE, &t, NULL, NULL) == 0 &&
			    (o = json_tokener_parse(t)) != NULL &&
			    json_object_object_get_ex(o, "name", &nm) &&
			    strcmp(json_object_get_string(nm), name) == 0) {
				*path = steal_ptr(&p);
				*text = steal_ptr(&t);
			}
			if (o)
				json_object_put(o);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

/* Written once, with O_EXCL: of two first pods at once, one writes it. */
static int write_default(const char *dir, struct pp_error **err)
{
	if (pp_mkdir_p(dir, CONF_DIR_MODE, err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/%s", dir, PP_NET_DEFAULT_FILE);
	cleanup_free char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	cleanup_free char *text = pp_net_default_conflist();
	if (pp_write_file_atomic(tmp, text, strlen(text), CONF_FILE_MODE, err) < 0)
		return -1;
	if (link(tmp, path) < 0 && errno != EEXIST) {
		int e = errno;
		unlink(tmp);
		return pp_error_set(err, e, "write %s", path);
	}
	unlink(tmp);
	return 0;
}

int pp_net_conflist_check(struct json_object *list, const char *what, struct pp_error **err)
{
	struct json_object *plugins = NULL, *v = NULL;
	if (!json_object_is_type(list, json_type_object) ||
	    !json_object_object_get_ex(list, "plugins", &plugins) ||
	    !json_object_is_type(plugins, json_type_array))
		return pp_error_set(err, EINVAL, "%s: not a CNI network configuration list", what);
	for (size_t i = 0; i < json_object_array_length(plugins); i++) {
		struct json_object *p = json_object_array_get_idx(plugins, i), *t = NULL;
		if (!json_object_is_type(p, json_type_object) ||
		    !json_object_object_get_ex(p, "type", &t) ||
		    !json_object_is_type(t, json_type_string))
			return pp_error_set(err, EINVAL,
					    "%s: plugins[%zu]: an object with a \"type\"", what, i);
		if (json_object_object_get_ex(p, "capabilities", &v) &&
		    !json_object_is_type(v, json_type_object))
			return pp_error_set(
			    err, EINVAL, "%s: plugins[%zu].capabilities: not an object", what, i);
	}
	return 0;
}

int pp_net_load(const char *name, struct json_object **conflist, bool *is_default,
		struct pp_error **err)
{
	const char *dir = pp_net_conf_dir();
	cleanup_free char *path = NULL;
	cleanup_free char *text = NULL;
	if (find_conf(dir, name, &path, &text, err) < 0)
		return -1;
	if (path == NULL && strcmp(name, PP_NET_DEFAULT_NAME) == 0) {
		if (write_default(dir, err) < 0 || find_conf(dir, name, &path, &text, err) < 0)
			return -1;
	}
	if (path == NULL)
		return pp_error_set(err, ENOENT, "network \"%s\": no CNI configuration in %s", name,
				    dir);
	struct json_object *o = json_tokener_parse(text);
	struct json_object *plugins = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		return pp_error_set(err, EINVAL, "%s: not a JSON object", path);
	}
	if (!json_object_object_get_ex(o, "plugins", &plugins)) {
		struct json_object *list = conf_to_list(o);
		json_object_put(o);
		o = list;
	} else if (!json_object_is_type(plugins, json_type_array) ||
		   json_object_array_length(plugins) == 0) {
		json_object_put(o);
		return pp_error_set(err, EINVAL, "%s: plugins: not a list of plugins", path);
	}
	if (pp_net_conflist_check(o, path, err) < 0) {
		json_object_put(o);
		return -1;
	}
	cleanup_free char *def = pp_net_default_conflist();
	*is_default = strcmp(def, text) == 0;
	*conflist = o;
	return 0;
}
