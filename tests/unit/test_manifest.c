/* Valid manifests parse into the expected structs, with the API server's defaults. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"
#include "util/cleanup.h"

#define VALID_DIR "tests/manifests/valid"

static struct pp_pod *parse_ok(const char *yaml)
{
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("t.yaml", yaml, strlen(yaml), &pod, &err) < 0)
		fail_msg("unexpected error: %s", err->msg);
	return pod;
}

static char *parse_err(const char *yaml)
{
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_spec_parse_buffer("-", yaml, strlen(yaml), &pod, &err), -1);
	assert_null(pod);
	char *msg = xstrdup(err->msg);
	pp_error_free(&err);
	return msg;
}

#define HEAD "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"

static void test_defaults(void **state)
{
	(void)state;
	struct pp_pod *pod = parse_ok(HEAD "  containers:\n  - name: c\n    image: busybox\n");
	assert_string_equal(pod->name, "p");
	assert_string_equal(pod->namespace_, "default");
	assert_null(pod->uid);
	assert_int_equal(pod->restart_policy, PP_RESTART_ALWAYS);
	assert_int_equal(pod->termination_grace_period_seconds, 30);
	assert_int_equal(pod->active_deadline_seconds, -1);
	assert_string_equal(pod->dns_policy, "ClusterFirst");
	assert_string_equal(pp_pod_hostname(pod), "p");
	assert_null(pod->ignored_fields);
	assert_int_equal(pod->n_containers, 1);
	const struct pp_container *c = &pod->containers[0];
	assert_string_equal(c->name, "c");
	assert_string_equal(c->image, "busybox");
	assert_null(c->command);
	assert_int_equal(c->pull_policy, PP_PULL_DEFAULT);
	assert_string_equal(c->termination_message_path, "/dev/termination-log");
	assert_string_equal(c->termination_message_policy, "File");
	assert_false(c->liveness.set);
	assert_false(c->is_init);
	assert_int_equal(c->pos.line, 7);
	assert_int_equal(c->pos.col, 5);
	assert_int_equal(c->name_pos.line, 7);
	assert_int_equal(c->name_pos.col, 11);
	pp_pod_free(pod);
}

static void test_hostname(void **state)
{
	(void)state;
	const char *yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: "
			   "a123456789b123456789c123456789d123456789e123456789f123456789g12-x\n"
			   "spec:\n  containers:\n  - {name: c, image: i}\n";
	struct pp_pod *pod = parse_ok(yaml);
	/* cut to 63 characters, then the trailing '-' goes */
	assert_string_equal(pp_pod_hostname(pod),
			    "a123456789b123456789c123456789d123456789e123456789f123456789g12");
	pp_pod_free(pod);
	pod = parse_ok(HEAD
		       "  hostname: h\n  subdomain: s\n  containers:\n  - {name: c, image: i}\n");
	assert_string_equal(pp_pod_hostname(pod), "h");
	assert_string_equal(pod->subdomain, "s");
	pp_pod_free(pod);
}

static void test_env_and_ports(void **state)
{
	(void)state;
	struct pp_pod *pod = parse_ok(
	    HEAD
	    "  containers:\n  - name: c\n    image: i\n    command: [sh, -c]\n"
	    "    args: ['$(A)']\n    env:\n    - {name: A, value: '1'}\n"
	    "    - name: NAME\n      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
	    "    - name: M\n      valueFrom:\n        resourceFieldRef: {resource: "
	    "limits.memory, divisor: 1Mi}\n    - name: E\n"
	    "    ports:\n    - {containerPort: 80, name: http, protocol: UDP, hostPort: 8080}\n");
	const struct pp_container *c = &pod->containers[0];
	assert_string_equal(c->command[0], "sh");
	assert_string_equal(c->command[1], "-c");
	assert_null(c->command[2]);
	assert_string_equal(c->args[0], "$(A)");
	assert_int_equal(c->n_env, 4);
	assert_int_equal(c->env[0].source, PP_ENV_VALUE);
	assert_string_equal(c->env[0].value, "1");
	assert_int_equal(c->env[1].source, PP_ENV_FIELD_REF);
	assert_string_equal(c->env[1].field_path, "metadata.name");
	assert_int_equal(c->env[2].source, PP_ENV_RESOURCE_FIELD_REF);
	assert_string_equal(c->env[2].resource, "limits.memory");
	assert_int_equal(c->env[2].divisor.value, 1024 * 1024);
	assert_null(c->env[3].value);
	assert_int_equal(c->n_ports, 1);
	assert_int_equal(c->ports[0].container_port, 80);
	assert_int_equal(c->ports[0].host_port, 8080);
	assert_int_equal(c->ports[0].protocol, PP_PROTO_UDP);
	assert_string_equal(c->ports[0].name, "http");
	pp_pod_free(pod);
}

static void test_volumes_and_mounts(void **state)
{
	(void)state;
	struct pp_pod *pod = parse_ok(
	    HEAD "  volumes:\n  - name: a\n    emptyDir: {medium: Memory, sizeLimit: 64Mi}\n"
		 "  - name: b\n    hostPath: {path: /srv, type: Directory}\n  - name: e\n"
		 "    emptyDir: {}\n  containers:\n  - name: c\n    image: i\n"
		 "    securityContext: {privileged: true}\n"
		 "    volumeMounts:\n    - {name: a, mountPath: /a, readOnly: true}\n"
		 "    - {name: b, mountPath: /b, subPath: x/y, mountPropagation: "
		 "Bidirectional}\n");
	assert_int_equal(pod->n_volumes, 3);
	assert_int_equal(pod->volumes[0].kind, PP_VOLUME_EMPTY_DIR);
	assert_true(pod->volumes[0].medium_memory);
	assert_int_equal(pod->volumes[0].size_limit.value, 64 * 1024 * 1024);
	assert_int_equal(pod->volumes[1].kind, PP_VOLUME_HOST_PATH);
	assert_string_equal(pod->volumes[1].host_path, "/srv");
	assert_int_equal(pod->volumes[1].host_path_type, PP_HOSTPATH_DIRECTORY);
	assert_false(pod->volumes[2].medium_memory);
	assert_false(pod->volumes[2].size_limit.set);
	const struct pp_container *c = &pod->containers[0];
	assert_int_equal(c->n_volume_mounts, 2);
	assert_true(c->volume_mounts[0].read_only);
	assert_null(c->volume_mounts[0].sub_path);
	assert_string_equal(c->volume_mounts[1].sub_path, "x/y");
	assert_int_equal(c->volume_mounts[1].propagation, PP_PROPAGATION_BIDIRECTIONAL);
	pp_pod_free(pod);
}

static void test_probes_and_lifecycle(void **state)
{
	(void)state;
	struct pp_pod *pod = parse_ok(
	    HEAD
	    "  containers:\n  - name: c\n    image: i\n    ports: [{containerPort: 80, name: "
	    "web}]\n    livenessProbe:\n      httpGet: {path: /h, port: web, httpHeaders: "
	    "[{name: X, value: yes-please}]}\n      periodSeconds: 0\n      failureThreshold: 5\n"
	    "    readinessProbe:\n      tcpSocket: {port: 80}\n      successThreshold: 3\n"
	    "    startupProbe:\n      exec: {command: [cat, /f]}\n"
	    "    lifecycle:\n      preStop: {sleep: {seconds: 3}}\n"
	    "      postStart: {exec: {command: [touch, /x]}}\n      stopSignal: SIGINT\n");
	const struct pp_container *c = &pod->containers[0];
	assert_true(c->liveness.set);
	assert_int_equal(c->liveness.handler.kind, PP_HANDLER_HTTP_GET);
	assert_string_equal(c->liveness.handler.http_path, "/h");
	assert_string_equal(c->liveness.handler.port_name, "web");
	assert_int_equal(c->liveness.handler.n_http_headers, 1);
	assert_int_equal(c->liveness.period_seconds, 10); /* 0 means the default */
	assert_int_equal(c->liveness.timeout_seconds, 1);
	assert_int_equal(c->liveness.failure_threshold, 5);
	assert_int_equal(c->liveness.termination_grace_period_seconds, -1);
	assert_int_equal(c->readiness.handler.kind, PP_HANDLER_TCP_SOCKET);
	assert_int_equal(c->readiness.handler.port, 80);
	assert_int_equal(c->readiness.success_threshold, 3);
	assert_int_equal(c->startup.handler.kind, PP_HANDLER_EXEC);
	assert_string_equal(c->startup.handler.exec_command[1], "/f");
	assert_int_equal(c->lifecycle.pre_stop.kind, PP_HANDLER_SLEEP);
	assert_int_equal(c->lifecycle.pre_stop.sleep_seconds, 3);
	assert_int_equal(c->lifecycle.post_start.kind, PP_HANDLER_EXEC);
	assert_string_equal(c->lifecycle.stop_signal, "SIGINT");
	pp_pod_free(pod);
}

static void test_resources_and_security(void **state)
{
	(void)state;
	struct pp_pod *pod = parse_ok(
	    HEAD "  securityContext: {runAsUser: 1000, fsGroup: 5, supplementalGroups: [7], "
		 "sysctls: [{name: net.core.somaxconn, value: '1024'}]}\n"
		 "  containers:\n  - name: c\n    image: i\n    resources:\n"
		 "      limits: {cpu: 1, memory: 1Gi, hugepages-2Mi: 2Mi}\n"
		 "      requests: {cpu: 0.5, memory: 512Mi}\n"
		 "    securityContext:\n      capabilities: {add: [NET_ADMIN], drop: [ALL]}\n"
		 "      readOnlyRootFilesystem: true\n      allowPrivilegeEscalation: false\n");
	assert_true(pod->security.has_run_as_user);
	assert_int_equal(pod->security.run_as_user, 1000);
	assert_false(pod->security.has_run_as_group);
	assert_int_equal(pod->security.n_supplemental_groups, 1);
	assert_string_equal(pod->security.sysctls[0].key, "net.core.somaxconn");
	const struct pp_container *c = &pod->containers[0];
	assert_int_equal(c->resources.limits_cpu.milli, 1000);
	assert_int_equal(c->resources.requests_cpu.milli, 500);
	assert_int_equal(c->resources.limits_memory.value, 1024LL * 1024 * 1024);
	assert_false(c->resources.limits_ephemeral_storage.set);
	assert_int_equal(c->resources.n_limits_other, 1);
	assert_string_equal(c->resources.limits_other[0].key, "hugepages-2Mi");
	assert_string_equal(c->resources.limits_other[0].value, "2Mi");
	assert_string_equal(c->security.caps_add[0], "NET_ADMIN");
	assert_true(c->security.has_read_only_root_filesystem);
	assert_true(c->security.read_only_root_filesystem);
	assert_true(c->security.has_allow_privilege_escalation);
	assert_false(c->security.allow_privilege_escalation);
	assert_false(c->security.has_privileged);
	pp_pod_free(pod);
}

static void test_init_and_sidecar(void **state)
{
	(void)state;
	struct pp_pod *pod =
	    parse_ok(HEAD "  restartPolicy: Never\n  initContainers:\n  - {name: i, image: x}\n"
			  "  - {name: s, image: x, restartPolicy: Always}\n  containers:\n"
			  "  - {name: c, image: x}\n");
	assert_int_equal(pod->restart_policy, PP_RESTART_NEVER);
	assert_int_equal(pod->n_init_containers, 2);
	assert_true(pod->init_containers[0].is_init);
	assert_false(pod->init_containers[0].has_restart_policy);
	assert_true(pod->init_containers[1].has_restart_policy);
	assert_int_equal(pod->init_containers[1].restart_policy, PP_RESTART_ALWAYS);
	pp_pod_free(pod);
}

static void test_image_pull_secrets(void **state)
{
	(void)state;
	struct pp_pod *pod = parse_ok(HEAD "  imagePullSecrets: [{name: regcred}, {}, {name: b}]\n"
					   "  containers:\n  - {name: c, image: i}\n");
	assert_int_equal(pod->n_image_pull_secrets, 3);
	assert_string_equal(pod->image_pull_secrets[0].name, "regcred");
	assert_null(pod->image_pull_secrets[1].name);
	assert_string_equal(pod->image_pull_secrets[2].name, "b");
	assert_null(pod->ignored_fields);
	pp_pod_free(pod);
	char *m = parse_err(HEAD "  imagePullSecrets: [regcred]\n"
				 "  containers:\n  - {name: c, image: i}\n");
	if (strstr(m, "spec.imagePullSecrets[0]") == NULL || strncmp(m, "<stdin>:6:", 10) != 0)
		fail_msg("%s", m);
	free(m);
	m = parse_err(HEAD "  imagePullSecrets: [{nam: x}]\n"
			   "  containers:\n  - {name: c, image: i}\n");
	assert_non_null(strstr(m, "spec.imagePullSecrets[0].nam"));
	free(m);
}

static void test_errors(void **state)
{
	(void)state;
	char *m = parse_err(HEAD "  containers:\n  - name: c\n    image: 42\n");
	assert_string_equal(m, "<stdin>:8:12: spec.containers[0].image: expected string, got "
			       "number 42 (quote it: \"42\")");
	free(m);
	m = parse_err("");
	assert_string_equal(m, "<stdin>:1:1: empty manifest");
	free(m);
	m = parse_err("- a\n- b\n");
	assert_non_null(strstr(m, "<stdin>:1:1: a Pod manifest must be a map"));
	free(m);
	m = parse_err(HEAD "  containers:\n  - {name: c, image: i, tty: \"true\"}\n");
	assert_non_null(strstr(m, "spec.containers[0].tty: expected boolean, got string"));
	free(m);
	m = parse_err(HEAD
		      "  containers:\n  - {name: c, image: i, ports: [{containerPort: \"80\"}]}\n");
	assert_non_null(strstr(m, "containerPort: expected integer, got string"));
	free(m);
}

static void test_hostile_yaml(void **state)
{
	(void)state;
	size_t depth = 200;
	char *deep = xmalloc(2 * depth + 1);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	char *m = parse_err(deep);
	assert_non_null(strstr(m, "nesting deeper than 64"));
	free(m);
	free(deep);
	m = parse_err("a: *nowhere\n");
	assert_non_null(strstr(m, "unknown YAML anchor"));
	free(m);
	m = parse_err("a: \"x\\0y\"\n");
	assert_non_null(strstr(m, "NUL"));
	free(m);
}

static void test_valid_manifests(void **state)
{
	(void)state;
	const char *dir =
	    getenv("PEAPOD_VALID_MANIFESTS") ? getenv("PEAPOD_VALID_MANIFESTS") : VALID_DIR;
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (d == NULL)
		fail_msg("cannot open %s (run from the repository root)", dir);
	while ((e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".yaml") == NULL)
			continue;
		cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
		struct pp_pod *pod = NULL;
		struct pp_error *err = NULL;
		if (pp_spec_parse_file(path, &pod, &err) < 0)
			fail_msg("%s", err->msg);
		pp_pod_free(pod);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_hostname),
	    cmocka_unit_test(test_image_pull_secrets),
	    cmocka_unit_test(test_env_and_ports),
	    cmocka_unit_test(test_volumes_and_mounts),
	    cmocka_unit_test(test_probes_and_lifecycle),
	    cmocka_unit_test(test_resources_and_security),
	    cmocka_unit_test(test_init_and_sidecar),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_hostile_yaml),
	    cmocka_unit_test(test_valid_manifests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
