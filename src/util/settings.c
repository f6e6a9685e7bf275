/* Every PEAPOD_* environment variable, read and checked in one place (see
 * settings.h). getenv and parsing only: no system call, as the CLI's start
 * is measured. */
#include "util/settings.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/quantity.h"

static struct pp_settings settings;
static bool loaded;

/* The variable's value, NULL when unset or empty (which means the default). */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? v : NULL;
}

static void path_setting(const char **out, const char *name, const char *def)
{
	const char *v = env(name);
	*out = v ? v : def;
}

/* Only the first malformed setting becomes the error: one message to fix. */
static void bad(struct pp_error **err, int *ret, const char *name, const char *value,
		const char *want)
{
	if (*ret == 0)
		pp_error_set(err, 0, "%s=\"%s\": %s", name, value, want);
	*ret = -1;
}

static void int_setting(int64_t *out, const char *name, int64_t min, int64_t max,
			struct pp_error **err, int *ret)
{
	const char *v = env(name);
	if (v == NULL)
		return;
	char *end = NULL;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max) {
		char want[96];
		snprintf(want, sizeof(want), "not an integer in [%lld, %lld]", (long long)min,
			 (long long)max);
		bad(err, ret, name, v, want);
		return;
	}
	*out = n;
}

static void bool_setting(bool *out, const char *name, struct pp_error **err, int *ret)
{
	const char *v = env(name);
	if (v == NULL)
		return;
	if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
		*out = v[0] == '1';
	else
		bad(err, ret, name, v, "not 0 or 1");
}

/* A byte count written as a Kubernetes quantity ("10Mi"). */
static void bytes_setting(int64_t *out, const char *name, struct pp_error **err, int *ret)
{
	const char *v = env(name);
	if (v == NULL)
		return;
	struct pp_quantity q = {0};
	cleanup_error struct pp_error *e = NULL;
	if (pp_quantity_parse(v, &q, &e) == 0 && q.milli >= 0)
		*out = q.value;
	else
		bad(err, ret, name, v, "not a quantity of bytes (e.g. 10Mi)");
	free(q.text);
}

static void cgroup_settings(struct pp_settings *s, struct pp_error **err, int *ret)
{
	path_setting(&s->cgroup_parent, "PEAPOD_CGROUP_PARENT", PP_SETTING_CGROUP_PARENT_DEFAULT);
	const char *d = env("PEAPOD_CGROUP_DEVICES");
	s->cgroup_devices_bpf = d != NULL && strcmp(d, "bpf") == 0;
	if (d != NULL && !s->cgroup_devices_bpf)
		bad(err, ret, "PEAPOD_CGROUP_DEVICES", d, "not bpf");
}

static void net_settings(struct pp_settings *s, struct pp_error **err, int *ret)
{
	s->network = env("PEAPOD_NETWORK");
	path_setting(&s->cni_conf_dir, "PEAPOD_CNI_CONF_DIR", PP_SETTING_CNI_CONF_DIR_DEFAULT);
	path_setting(&s->cni_path, "PEAPOD_CNI_PATH", PP_SETTING_CNI_PATH_DEFAULT);
	int64_t t = PP_SETTING_CNI_TIMEOUT_MS_DEFAULT;
	int_setting(&t, "PEAPOD_CNI_TIMEOUT_MS", 1, INT_MAX, err, ret);
	s->cni_timeout_ms = (int)t;
	s->net_fastpath = true;
	bool_setting(&s->net_fastpath, "PEAPOD_NET_FASTPATH", err, ret);
	int64_t port = 0;
	int_setting(&port, "PEAPOD_CRI_STREAM_PORT", 0, 65535, err, ret);
	s->cri_stream_port = (int)port;
}

static void limit_settings(struct pp_settings *s, struct pp_error **err, int *ret)
{
	s->log_max_size = PP_SETTING_LOG_MAX_SIZE_DEFAULT;
	bytes_setting(&s->log_max_size, "PEAPOD_LOG_MAX_SIZE", err, ret);
	int64_t files = PP_SETTING_LOG_MAX_FILES_DEFAULT;
	int_setting(&files, "PEAPOD_LOG_MAX_FILES", PP_SETTING_LOG_MAX_FILES_MIN, INT_MAX, err,
		    ret);
	s->log_max_files = (int)files;
	/* 0 or less: no limit, as kubelet's podPidsLimit -1. */
	s->pod_pids_limit = PP_SETTING_POD_PIDS_LIMIT_DEFAULT;
	int_setting(&s->pod_pids_limit, "PEAPOD_POD_PIDS_LIMIT", INT64_MIN, INT64_MAX, err, ret);
	if (s->pod_pids_limit < 0)
		s->pod_pids_limit = 0;
	s->image_max_bytes = PP_SETTING_IMAGE_MAX_BYTES_DEFAULT;
	int_setting(&s->image_max_bytes, "PEAPOD_IMAGE_MAX_BYTES", 1, INT64_MAX, err, ret);
}

static void test_knobs(struct pp_settings *s, struct pp_error **err, int *ret)
{
	s->test_time_scale = 1;
	s->test_exec_setup_delay_ms = 0;
#ifdef PP_TEST_KNOBS
	s->fault = env("PEAPOD_FAULT");
	s->fault_once = env("PEAPOD_FAULT_ONCE");
	s->fault_steps = env("PEAPOD_FAULT_STEPS");
	int64_t delay = 0;
	int_setting(&delay, "PEAPOD_TEST_EXEC_SETUP_DELAY_MS", 0, 60 * 1000, err, ret);
	s->test_exec_setup_delay_ms = (int)delay;
	const char *v = env("PEAPOD_TEST_TIME_SCALE");
	if (v == NULL)
		return;
	char *end = NULL;
	double f = strtod(v, &end);
	if (*end == '\0' && f > 0 && f <= 1)
		s->test_time_scale = f;
	else
		bad(err, ret, "PEAPOD_TEST_TIME_SCALE", v, "not a number in (0, 1]");
#else
	(void)err, (void)ret;
#endif
}

int pp_settings_load(struct pp_error **err)
{
	struct pp_settings s = {0};
	int ret = 0;
	path_setting(&s.root, "PEAPOD_ROOT", PP_SETTING_ROOT_DEFAULT);
	path_setting(&s.run_dir, "PEAPOD_RUN", PP_SETTING_RUN_DEFAULT);
	path_setting(&s.log_dir, "PEAPOD_LOG_DIR", PP_SETTING_LOG_DIR_DEFAULT);
	path_setting(&s.namespace_, "PEAPOD_NAMESPACE", PP_SETTING_NAMESPACE_DEFAULT);
	s.seccomp_dir = env("PEAPOD_SECCOMP_DIR");
	s.trace = env("PEAPOD_TRACE");
	path_setting(&s.manifest_dir, "PEAPOD_MANIFEST_DIR", PP_SETTING_MANIFEST_DIR_DEFAULT);
	cgroup_settings(&s, err, &ret);
	net_settings(&s, err, &ret);
	limit_settings(&s, err, &ret);
	path_setting(&s.registries_conf, "PEAPOD_REGISTRIES_CONF",
		     PP_SETTING_REGISTRIES_CONF_DEFAULT);
	path_setting(&s.certs_dirs, "PEAPOD_CERTS_DIRS", PP_SETTING_CERTS_DIRS_DEFAULT);
	test_knobs(&s, err, &ret);
	settings = s;
	loaded = true;
	return ret;
}

const struct pp_settings *pp_settings(void)
{
	if (!loaded)
		pp_settings_load(NULL);
	return &settings;
}
