/* The settings module: defaults, values read from the environment, a
 * malformed value's error naming its variable, and the test knob, which
 * only a test build (PP_TEST_KNOBS: build/tests/test_settings_knobs) reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/settings.h"

static const char *const all[] = {
    "PEAPOD_ROOT",
    "PEAPOD_RUN",
    "PEAPOD_LOG_DIR",
    "PEAPOD_NAMESPACE",
    "PEAPOD_CGROUP_PARENT",
    "PEAPOD_SECCOMP_DIR",
    "PEAPOD_TRACE",
    "PEAPOD_NETWORK",
    "PEAPOD_CNI_CONF_DIR",
    "PEAPOD_CNI_PATH",
    "PEAPOD_CNI_TIMEOUT_MS",
    "PEAPOD_NET_FASTPATH",
    "PEAPOD_CGROUP_DEVICES",
    "PEAPOD_LOG_MAX_SIZE",
    "PEAPOD_LOG_MAX_FILES",
    "PEAPOD_POD_PIDS_LIMIT",
    "PEAPOD_IMAGE_MAX_BYTES",
    "PEAPOD_REGISTRIES_CONF",
    "PEAPOD_CERTS_DIRS",
    "PEAPOD_TEST_TIME_SCALE",
};

static int clear(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		unsetenv(all[i]);
	return 0;
}

static void test_defaults(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	assert_int_equal(pp_settings_load(&err), 0);
	assert_null(err);
	const struct pp_settings *s = pp_settings();
	assert_string_equal(s->root, "/var/lib/peapod");
	assert_string_equal(s->run_dir, "/run/peapod");
	assert_string_equal(s->log_dir, "/var/log/peapod");
	assert_string_equal(s->namespace_, "default");
	assert_string_equal(s->cgroup_parent, "peapod");
	assert_null(s->seccomp_dir);
	assert_null(s->trace);
	assert_null(s->network);
	assert_string_equal(s->cni_conf_dir, "/etc/peapod/cni");
	assert_string_equal(s->cni_path, "/usr/lib/cni");
	assert_int_equal(s->cni_timeout_ms, 60000);
	assert_true(s->net_fastpath);
	assert_false(s->cgroup_devices_bpf);
	assert_int_equal(s->log_max_size, 10 * 1024 * 1024);
	assert_int_equal(s->log_max_files, 5);
	assert_int_equal(s->pod_pids_limit, 4096);
	assert_int_equal(s->image_max_bytes, 64LL << 30);
	assert_string_equal(s->registries_conf, "/etc/containers/registries.conf");
	assert_string_equal(s->certs_dirs, "/etc/containers/certs.d:/etc/docker/certs.d");
	assert_true(s->test_time_scale == 1);
}

static void test_values(void **state)
{
	(void)state;
	setenv("PEAPOD_ROOT", "/srv/pp", 1);
	setenv("PEAPOD_RUN", "", 1); /* empty: the default */
	setenv("PEAPOD_NETWORK", "none", 1);
	setenv("PEAPOD_REGISTRIES_CONF", "/srv/registries.conf", 1);
	setenv("PEAPOD_CERTS_DIRS", "/srv/certs.d", 1);
	setenv("PEAPOD_CNI_TIMEOUT_MS", "300", 1);
	setenv("PEAPOD_NET_FASTPATH", "0", 1);
	setenv("PEAPOD_CGROUP_DEVICES", "bpf", 1);
	setenv("PEAPOD_LOG_MAX_SIZE", "1Gi", 1);
	setenv("PEAPOD_LOG_MAX_FILES", "3", 1);
	setenv("PEAPOD_POD_PIDS_LIMIT", "-1", 1); /* as kubelet's: none */
	setenv("PEAPOD_IMAGE_MAX_BYTES", "1048576", 1);
	assert_int_equal(pp_settings_load(NULL), 0);
	const struct pp_settings *s = pp_settings();
	assert_string_equal(s->root, "/srv/pp");
	assert_string_equal(s->run_dir, "/run/peapod");
	assert_string_equal(s->network, "none");
	assert_int_equal(s->cni_timeout_ms, 300);
	assert_false(s->net_fastpath);
	assert_true(s->cgroup_devices_bpf);
	assert_int_equal(s->log_max_size, 1LL << 30);
	assert_int_equal(s->log_max_files, 3);
	assert_int_equal(s->pod_pids_limit, 0);
	assert_int_equal(s->image_max_bytes, 1048576);
	assert_string_equal(s->registries_conf, "/srv/registries.conf");
	assert_string_equal(s->certs_dirs, "/srv/certs.d");
	clear(NULL);
}

/* Each malformed value: an error naming the variable, its default kept. */
static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *name, *value;
	} bad[] = {
	    {"PEAPOD_CNI_TIMEOUT_MS", "0"},  {"PEAPOD_CNI_TIMEOUT_MS", "1m"},
	    {"PEAPOD_NET_FASTPATH", "no"},   {"PEAPOD_CGROUP_DEVICES", "v1"},
	    {"PEAPOD_LOG_MAX_SIZE", "lots"}, {"PEAPOD_LOG_MAX_SIZE", "-1Ki"},
	    {"PEAPOD_LOG_MAX_FILES", "1"},   {"PEAPOD_POD_PIDS_LIMIT", "4k"},
	    {"PEAPOD_IMAGE_MAX_BYTES", "0"}, {"PEAPOD_IMAGE_MAX_BYTES", "99999999999999999999"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pp_error *err = NULL;
		setenv(bad[i].name, bad[i].value, 1);
		assert_int_equal(pp_settings_load(&err), -1);
		assert_non_null(err);
		assert_non_null(strstr(err->msg, bad[i].name));
		pp_error_free(&err);
		unsetenv(bad[i].name);
	}
	/* and one bad value leaves the others read */
	setenv("PEAPOD_NET_FASTPATH", "yes", 1);
	setenv("PEAPOD_LOG_MAX_FILES", "7", 1);
	assert_int_equal(pp_settings_load(NULL), -1);
	assert_true(pp_settings()->net_fastpath);
	assert_int_equal(pp_settings()->log_max_files, 7);
	clear(NULL);
}

static void test_time_scale(void **state)
{
	(void)state;
	setenv("PEAPOD_TEST_TIME_SCALE", "0.5", 1);
	assert_int_equal(pp_settings_load(NULL), 0);
#ifdef PP_TEST_KNOBS
	assert_true(pp_settings()->test_time_scale == 0.5);
	setenv("PEAPOD_TEST_TIME_SCALE", "2", 1);
	assert_int_equal(pp_settings_load(NULL), -1);
#else
	/* the user's build does not read it at all */
	assert_true(pp_settings()->test_time_scale == 1);
	setenv("PEAPOD_TEST_TIME_SCALE", "2", 1);
	assert_int_equal(pp_settings_load(NULL), 0);
#endif
	assert_true(pp_settings()->test_time_scale == 1);
	clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, clear),
	    cmocka_unit_test_setup(test_values, clear),
	    cmocka_unit_test_setup(test_malformed, clear),
	    cmocka_unit_test_setup(test_time_scale, clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
