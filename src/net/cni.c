/* Exec'ing CNI plugins. */
#include "net/cni.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "net/netconf.h"
#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/settings.h"

#define MAX_PLUGIN_OUTPUT (1024 * 1024)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The plugin binary of type in CNI_PATH (a colon-separated list). */
static char *find_plugin(const char *type, struct pp_error **err)
{
	if (strchr(type, '/') != NULL || *type == '\0') {
		pp_error_set(err, EINVAL, "CNI plugin type \"%s\": not a plugin name", type);
		return NULL;
	}
	cleanup_free char *dirs = xstrdup(pp_net_plugin_dir());
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", d, type);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	pp_error_set(err, ENOENT, "CNI plugin \"%s\" not found in %s", type, pp_net_plugin_dir());
	return NULL;
}

static int memfd_with(const char *name, const char *data, struct pp_error **err)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "memfd_create");
	size_t len = data ? strlen(data) : 0;
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return pp_error_set(err, errno, "write plugin input");
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The child: a failure before the plugin runs goes back through report
 * (CLOEXEC: EOF once the plugin runs). */
static void __attribute__((noreturn))
exec_plugin(const char *path, char **envp, int in, int out, int errfd, int report)
{
	pp_reset_signals();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		pp_child_report_errno(report, errno, "stdio");
	pp_close_fds_except(report);
	char *argv[] = {(char *)path, NULL};
	execve(path, argv, envp);
	pp_child_report_errno(report, errno, "exec");
}

/* The error a plugin reported: {"code", "msg", "details"} on stdout, else its stderr. */
static int plugin_error(const char *type, const char *cmd, int status, const char *out,
			const char *errtext, struct pp_error **err)
{
	struct json_object *o = out && *out ? json_tokener_parse(out) : NULL;
	struct json_object *msg = NULL, *det = NULL;
	int ret;
	if (o && json_object_object_get_ex(o, "msg", &msg)) {
		json_object_object_get_ex(o, "details", &det);
		ret = pp_error_set(err, 0, "CNI %s %s: %s%s%s", type, cmd,
				   json_object_get_string(msg), det ? ": " : "",
				   det ? json_object_get_string(det) : "");
	} else {
		/* The first line (a Go panic goes on for pages). */
		size_t n = errtext ? strcspn(errtext, "\n") : 0;
		ret = pp_error_set(err, 0, "CNI %s %s: exit status %d%s%.*s", type, cmd, status,
				   n ? ": " : "", (int)n, n ? errtext : "");
	}
	if (o)
		json_object_put(o);
	return ret;
}

/* Waits for the plugin to exit, for at most PEAPOD_CNI_TIMEOUT_MS: a plugin
 * that hangs must not hang the pod's supervisor. False when it had to be
 * killed (it is then reaped by the caller like any other exit). */
static bool wait_bounded(pid_t pid)
{
	cleanup_close int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return true; /* no pidfd: wait without a bound */
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	int n;
	while ((n = poll(&p, 1, pp_settings()->cni_timeout_ms)) < 0 && errno == EINTR)
		;
	if (n > 0)
		return true;
	pp_pidfd_send_signal(pfd, SIGKILL);
	return false;
}

/* Runs one plugin; *out (may be NULL) receives its parsed stdout. */
static int run_plugin(const char *cmd, const char *type, const char *stdin_json,
		      const struct pp_cni_rt *rt, struct json_object **out, struct pp_error **err)
{
	cleanup_free char *path = find_plugin(type, err);
	if (path == NULL)
		return -1;
	const char *p = getenv("PATH");
	char *envp[] = {
	    xasprintf("CNI_COMMAND=%s", cmd),
	    xasprintf("CNI_CONTAINERID=%s", rt->container_id),
	    xasprintf("CNI_NETNS=%s", rt->netns ? rt->netns : ""),
	    xasprintf("CNI_IFNAME=%s", rt->ifname),
	    xasprintf("CNI_PATH=%s", pp_net_plugin_dir()),
	    xasprintf("CNI_ARGS=%s", rt->args ? rt->args : ""),
	    xasprintf("PATH=%s", p && *p ? p : DEFAULT_PATH),
	    NULL,
	};
	cleanup_close int in = memfd_with("cni-stdin", stdin_json, err);
	cleanup_close int o = memfd_with("cni-stdout", NULL, err);
	cleanup_close int e = memfd_with("cni-stderr", NULL, err);
	cleanup_free char *otext = NULL;
	cleanup_free char *etext = NULL;
	int ret = -1;
	int report[2] = {-1, -1};
	if (in < 0 || o < 0 || e < 0)
		goto out;
	if (pipe2(report, O_CLOEXEC) < 0) {
		pp_error_set(err, errno, "pipe");
		goto out;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_plugin(path, envp, in, o, e, report[1]);
	cleanup_closep(&report[1]);
	if (pid < 0) {
		pp_error_set(err, errno, "fork for CNI plugin %s", type);
		goto out;
	}
	int status = 0;
	if (pp_child_report_read(report[0], false, err) < 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		pp_error_wrap(err, "CNI plugin %s", path);
		goto out;
	}
	bool timed_out = !wait_bounded(pid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		pp_error_set(err, ETIMEDOUT, "CNI %s %s: no answer in %d ms, killed", type, cmd,
			     pp_settings()->cni_timeout_ms);
		goto out;
	}
	lseek(o, 0, SEEK_SET);
	lseek(e, 0, SEEK_SET);
	if (pp_read_fd(o, MAX_PLUGIN_OUTPUT, &otext, NULL, err) < 0 ||
	    pp_read_fd(e, MAX_PLUGIN_OUTPUT, &etext, NULL, err) < 0)
		goto out;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (code != 0) {
		plugin_error(type, cmd, code, otext, etext, err);
		goto out;
	}
	if (out != NULL) {
		*out = *otext ? json_tokener_parse(otext) : NULL;
		if (*out == NULL) {
			pp_error_set(err, EINVAL, "CNI %s %s: no JSON result", type, cmd);
			goto out;
		}
	}
	ret = 0;
out:
	cleanup_closep(&report[0]);
	cleanup_closep(&report[1]);
	for (char **v = envp; *v; v++)
		free(*v);
	return ret;
}

/* The plugin's configuration: its object with the list's name and
 * cniVersion, prevResult, and runtimeConfig for its capabilities only. */
static char *plugin_stdin(struct json_object *list, struct json_object *plugin,
			  struct json_object *prev, const struct pp_cni_rt *rt)
{
	struct json_object *c = NULL, *v = NULL, *caps = NULL;
	json_object_deep_copy(plugin, &c, NULL);
	if (json_object_object_get_ex(list, "name", &v))
		json_object_object_add(c, "name", json_object_get(v));
	if (json_object_object_get_ex(list, "cniVersion", &v))
		json_object_object_add(c, "cniVersion", json_object_get(v));
	if (prev != NULL)
		json_object_object_add(c, "prevResult", json_object_get(prev));
	if (rt->runtime_config && json_object_object_get_ex(plugin, "capabilities", &caps)) {
		struct json_object *rc = json_object_new_object();
		json_object_object_foreach(caps, cap, on)
		{
			if (json_object_get_boolean(on) &&
			    json_object_object_get_ex(rt->runtime_config, cap, &v))
				json_object_object_add(rc, cap, json_object_get(v));
		}
		if (json_object_object_length(rc) > 0)
			json_object_object_add(c, "runtimeConfig", rc);
		else
			json_object_put(rc);
	}
	char *s = xstrdup(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
	json_object_put(c);
	return s;
}

static const char *plugin_type(struct json_object *plugin)
{
	struct json_object *t = NULL;
	if (!json_object_object_get_ex(plugin, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return "";
	return json_object_get_string(t);
}

int pp_cni_add(struct json_object *conflist, const struct pp_cni_rt *rt,
	       struct json_object **result, struct pp_error **err)
{
	struct json_object *plugins = json_object_object_get(conflist, "plugins");
	struct json_object *prev = NULL;
	size_t n = json_object_array_length(plugins);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pl = json_object_array_get_idx(plugins, i);
		cleanup_free char *in = plugin_stdin(conflist, pl, prev, rt);
		struct json_object *res = NULL;
		if (run_plugin("ADD", plugin_type(pl), in, rt, &res, err) < 0) {
			/* Half-way: DEL what the plugins so far did (CNI: a DEL
			 * of what was never added succeeds), then the error. */
			pp_cni_del(conflist, rt, prev, NULL);
			if (prev)
				json_object_put(prev);
			return -1;
		}
		if (prev)
			json_object_put(prev);
		prev = res;
	}
	*result = prev;
	return 0;
}

int pp_cni_del(struct json_object *conflist, const struct pp_cni_rt *rt,
	       struct json_object *prev_result, struct pp_error **err)
{
	struct json_object *plugins = json_object_object_get(conflist, "plugins");
	int ret = 0;
	for (size_t i = json_object_array_length(plugins); i-- > 0;) {
		struct json_object *pl = json_object_array_get_idx(plugins, i);
		cleanup_free char *in = plugin_stdin(conflist, pl, prev_result, rt);
		if (run_plugin("DEL", plugin_type(pl), in, rt, NULL, ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	return ret;
}

/* The bandwidth plugin of containernetworking-plugins 1.1.1 dereferences
 * its runtimeConfig on CHECK without looking: without limits it crashes,
 * and with none it has nothing to check either. */
static bool check_would_crash(struct json_object *plugin, const struct pp_cni_rt *rt)
{
	return strcmp(plugin_type(plugin), "bandwidth") == 0 &&
	       !(rt->runtime_config &&
		 json_object_object_get_ex(rt->runtime_config, "bandwidth", NULL));
}

int pp_cni_check(struct json_object *conflist, const struct pp_cni_rt *rt,
		 struct json_object *prev_result, struct pp_error **err)
{
	struct json_object *plugins = json_object_object_get(conflist, "plugins");
	for (size_t i = 0; i < json_object_array_length(plugins); i++) {
		struct json_object *pl = json_object_array_get_idx(plugins, i);
		if (check_would_crash(pl, rt))
			continue;
		cleanup_free char *in = plugin_stdin(conflist, pl, prev_result, rt);
		if (run_plugin("CHECK", plugin_type(pl), in, rt, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* An address is the pod's when its "interface" is one with a "sandbox"
 * (inside the pod's namespace), or when the result names no interface. */
static bool ip_in_pod(struct json_object *result, struct json_object *ip)
{
	struct json_object *idx = NULL, *ifs = NULL, *sb = NULL;
	if (!json_object_object_get_ex(ip, "interface", &idx) ||
	    !json_object_object_get_ex(result, "interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array))
		return true;
	int i = json_object_get_int(idx);
	if (i < 0 || (size_t)i >= json_object_array_length(ifs))
		return false;
	struct json_object *itf = json_object_array_get_idx(ifs, (size_t)i);
	return json_object_object_get_ex(itf, "sandbox", &sb) &&
	       json_object_is_type(sb, json_type_string) && *json_object_get_string(sb) != '\0';
}

char **pp_cni_result_ips(struct json_object *result)
{
	struct json_object *ips = NULL;
	size_t n = 0;
	if (result && (!json_object_object_get_ex(result, "ips", &ips) ||
		       !json_object_is_type(ips, json_type_array)))
		ips = NULL;
	size_t cap = ips ? json_object_array_length(ips) : 0;
	char **v = xmalloc(sizeof(*v) * (cap + 1));
	/* Two passes: IPv4 addresses first, as kubelet lists podIPs. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < cap; i++) {
			struct json_object *ip = json_object_array_get_idx(ips, i), *a = NULL;
			if (!json_object_object_get_ex(ip, "address", &a) ||
			    !json_object_is_type(a, json_type_string) || !ip_in_pod(result, ip))
				continue;
			const char *addr = json_object_get_string(a);
			bool v6 = strchr(addr, ':') != NULL;
			if (v6 != (pass == 1))
				continue;
			const char *slash = strchr(addr, '/');
			v[n++] = slash ? strndup(addr, (size_t)(slash - addr)) : xstrdup(addr);
		}
	v[n] = NULL;
	return v;
}
