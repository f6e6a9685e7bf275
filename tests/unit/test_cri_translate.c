/* The CRI's configs as peapod's (src/cri/cri_translate.c): a
 * PodSandboxConfig becomes a pod spec in CRI mode (names with the
 * attempt, DNS, namespaces, sysctls, ports), a ContainerConfig the
 * supervisor's cri-create request, decoded here by the supervisor's own
 * decoder (supervisor/control_cri.c) into the container spec it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cri/cri_internal.h"
#include "manifest/manifest.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

static Runtime__V1__PodSandboxMetadata meta(const char *name, const char *uid, const char *ns,
					    uint32_t attempt)
{
	Runtime__V1__PodSandboxMetadata m = RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
	m.name = (char *)name;
	m.uid = (char *)uid;
	m.namespace_ = (char *)ns;
	m.attempt = attempt;
	return m;
}

static void test_sandbox_spec(void **state)
{
	(void)state;
	Runtime__V1__PodSandboxMetadata m = meta("web", "u1", "prod", 2);
	char *servers[] = {"10.0.0.10"}, *searches[] = {"svc.cluster.local"},
	     *options[] = {"ndots:5", "edns0"};
	Runtime__V1__DNSConfig dns = RUNTIME__V1__DNSCONFIG__INIT;
	dns.n_servers = 1;
	dns.servers = servers;
	dns.n_searches = 1;
	dns.searches = searches;
	dns.n_options = 2;
	dns.options = options;
	Runtime__V1__PortMapping pm = RUNTIME__V1__PORT_MAPPING__INIT;
	pm.protocol = RUNTIME__V1__PROTOCOL__UDP;
	pm.container_port = 53;
	pm.host_port = 5353;
	Runtime__V1__PortMapping *pms[] = {&pm};
	Runtime__V1__NamespaceOption ns = RUNTIME__V1__NAMESPACE_OPTION__INIT;
	ns.ipc = RUNTIME__V1__NAMESPACE_MODE__NODE;
	ns.pid = RUNTIME__V1__NAMESPACE_MODE__POD;
	Runtime__V1__Int64Value uid = RUNTIME__V1__INT64_VALUE__INIT;
	uid.value = 1000;
	Runtime__V1__LinuxSandboxSecurityContext sc =
	    RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
	sc.namespace_options = &ns;
	sc.run_as_user = &uid;
	Runtime__V1__LinuxPodSandboxConfig__SysctlsEntry sysctl =
	    RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__SYSCTLS_ENTRY__INIT;
	sysctl.key = "net.ipv4.ping_group_range";
	sysctl.value = "0 2147483647";
	Runtime__V1__LinuxPodSandboxConfig__SysctlsEntry *sysctls[] = {&sysctl};
	Runtime__V1__LinuxPodSandboxConfig lx = RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
	lx.security_context = &sc;
	lx.n_sysctls = 1;
	lx.sysctls = sysctls;
	Runtime__V1__PodSandboxConfig cfg = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
	cfg.metadata = &m;
	cfg.hostname = "web-host";
	cfg.dns_config = &dns;
	cfg.n_port_mappings = 1;
	cfg.port_mappings = pms;
	cfg.linux = &lx;

	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (cri_sandbox_spec(&cfg, &pod, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(pod->name, "web-2");
	assert_string_equal(pod->uid, "u1-2");
	assert_string_equal(pod->namespace_, "prod");
	assert_true(pod->cri);
	assert_int_equal(pod->n_containers, 0);
	assert_string_equal(pod->hostname, "web-host");
	assert_false(pod->host_network);
	assert_true(pod->host_ipc);
	assert_true(pod->share_process_namespace);
	assert_false(pod->host_pid);
	assert_string_equal(pod->dns_policy, "None");
	assert_string_equal(pod->dns_config.nameservers[0], "10.0.0.10");
	assert_string_equal(pod->dns_config.searches[0], "svc.cluster.local");
	assert_int_equal(pod->dns_config.n_options, 2);
	assert_string_equal(pod->dns_config.options[0].key, "ndots");
	assert_string_equal(pod->dns_config.options[0].value, "5");
	assert_null(pod->dns_config.options[1].value);
	assert_int_equal(pod->n_cri_ports, 1);
	assert_int_equal(pod->cri_ports[0].host_port, 5353);
	assert_int_equal(pod->cri_ports[0].container_port, 53);
	assert_int_equal(pod->cri_ports[0].protocol, PP_PROTO_UDP);
	assert_true(pod->security.has_run_as_user);
	assert_int_equal(pod->security.run_as_user, 1000);
	assert_int_equal(pod->security.n_sysctls, 1);
	assert_string_equal(pod->security.sysctls[0].key, "net.ipv4.ping_group_range");
	pp_pod_free(pod);

	/* the node's network: the parser's own check of sysctls applies */
	ns.network = RUNTIME__V1__NAMESPACE_MODE__NODE;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_non_null(strstr(err->msg, "hostNetwork"));
	pp_error_free(&err);

	/* the names: the attempt makes them unique */
	cleanup_free char *n = cri_container_name("app", 1);
	assert_string_equal(n, "app-1");
}

static void test_sandbox_refused(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	struct pp_pod *pod = NULL;
	Runtime__V1__PodSandboxConfig cfg = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_string_equal(err->msg, "config.metadata is missing");
	pp_error_free(&err);
	Runtime__V1__PodSandboxMetadata m = meta("web", "", "prod", 0);
	cfg.metadata = &m;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_string_equal(err->msg, "config.metadata.uid is missing");
	pp_error_free(&err);
	m.uid = "../../etc";
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_non_null(strstr(err->msg, "only letters, digits"));
	pp_error_free(&err);
	/* a name the manifest refuses: its parser's message */
	m.uid = "u";
	m.name = "Not_A_Name";
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_non_null(strstr(err->msg, "metadata.name"));
	pp_error_free(&err);
	assert_null(pod);
}

static void test_container_request(void **state)
{
	(void)state;
	Runtime__V1__ContainerMetadata m = RUNTIME__V1__CONTAINER_METADATA__INIT;
	m.name = "app";
	m.attempt = 1;
	Runtime__V1__ImageSpec img = RUNTIME__V1__IMAGE_SPEC__INIT;
	img.image = "busybox:1.36";
	char *cmd[] = {"sh", "-c"}, *args[] = {"echo $(HOME) $$"};
	Runtime__V1__KeyValue env = RUNTIME__V1__KEY_VALUE__INIT;
	env.key = "GREETING";
	env.value.data = (uint8_t *)"hi $(USER)";
	env.value.len = strlen("hi $(USER)");
	Runtime__V1__KeyValue *envs[] = {&env};
	Runtime__V1__Mount mount = RUNTIME__V1__MOUNT__INIT;
	mount.host_path = "/srv/data";
	mount.container_path = "/data";
	mount.readonly = true;
	mount.propagation = RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER;
	Runtime__V1__Mount *mounts[] = {&mount};
	Runtime__V1__LinuxContainerResources res = RUNTIME__V1__LINUX_CONTAINER_RESOURCES__INIT;
	res.cpu_period = 100000;
	res.cpu_quota = 50000;
	res.cpu_shares = 256;
	res.memory_limit_in_bytes = 64 << 20;
	char *add[] = {"CAP_NET_ADMIN"}, *drop[] = {"ALL"};
	Runtime__V1__Capability caps = RUNTIME__V1__CAPABILITY__INIT;
	caps.n_add_capabilities = 1;
	caps.add_capabilities = add;
	caps.n_drop_capabilities = 1;
	caps.drop_capabilities = drop;
	Runtime__V1__SecurityProfile sp = RUNTIME__V1__SECURITY_PROFILE__INIT;
	sp.profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault;
	Runtime__V1__Int64Value user = RUNTIME__V1__INT64_VALUE__INIT;
	user.value = 1000;
	Runtime__V1__LinuxContainerSecurityContext sc =
	    RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT;
	sc.capabilities = &caps;
	sc.seccomp = &sp;
	sc.run_as_user = &user;
	sc.readonly_rootfs = true;
	sc.no_new_privs = true;
	Runtime__V1__LinuxContainerConfig lx = RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT;
	lx.resources = &res;
	lx.security_context = &sc;
	Runtime__V1__ContainerConfig cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT;
	cfg.metadata = &m;
	cfg.image = &img;
	cfg.n_command = 2;
	cfg.command = cmd;
	cfg.n_args = 1;
	cfg.args = args;
	cfg.working_dir = "/tmp";
	cfg.n_envs = 1;
	cfg.envs = envs;
	cfg.n_mounts = 1;
	cfg.mounts = mounts;
	cfg.stdin = true;
	cfg.tty = true;
	cfg.linux = &lx;

	struct pp_error *err = NULL;
	assert_int_equal(cri_container_check(&cfg, &err), 0);
	cleanup_free char *name = cri_container_name(m.name, m.attempt);
	cleanup_free char *body =
	    cri_container_request(&cfg, name, "busybox:1.36", "/logs/app.log");
	cleanup_free char *msg = xasprintf(PP_CTL_CRI_CREATE " %s", body);
	struct pp_ctl_cri_create req;
	assert_int_equal(pp_ctl_cri_create_decode(msg, strlen(msg), &req, &err), 0);
	const struct pp_container *c = req.spec;
	assert_string_equal(c->name, "app-1");
	assert_string_equal(c->image, "busybox:1.36");
	assert_int_equal(c->pull_policy, PP_PULL_NEVER);
	assert_string_equal(c->command[1], "-c");
	/* kubelet expanded the variables already: $ escaped, expanded back */
	assert_string_equal(c->args[0], "echo $$(HOME) $$$$");
	cleanup_free char *plain = pp_expand_vars(c->args[0], NULL, NULL);
	assert_string_equal(plain, "echo $(HOME) $$");
	assert_string_equal(c->env[0].name, "GREETING");
	assert_string_equal(c->env[0].value, "hi $$(USER)");
	assert_string_equal(c->working_dir, "/tmp");
	assert_true(c->stdin_open);
	assert_true(c->tty);
	assert_int_equal(c->resources.limits_cpu.milli, 500);
	assert_int_equal(c->resources.requests_cpu.milli, 250);
	assert_int_equal(c->resources.limits_memory.value, 64 << 20);
	assert_string_equal(c->security.caps_add[0], "NET_ADMIN");
	assert_string_equal(c->security.caps_drop[0], "ALL");
	assert_string_equal(c->security.seccomp_type, "RuntimeDefault");
	assert_int_equal(c->security.run_as_user, 1000);
	assert_true(c->security.read_only_root_filesystem);
	assert_true(c->security.has_allow_privilege_escalation);
	assert_false(c->security.allow_privilege_escalation);
	assert_int_equal(c->n_volume_mounts, 1);
	assert_string_equal(c->volume_mounts[0].host_path, "/srv/data");
	assert_string_equal(c->volume_mounts[0].mount_path, "/data");
	assert_true(c->volume_mounts[0].read_only);
	assert_int_equal(c->volume_mounts[0].propagation, PP_PROPAGATION_HOST_TO_CONTAINER);
	assert_string_equal(req.log_path, "/logs/app.log");
	pp_ctl_cri_create_free(&req);

	/* UpdateContainerResources: the limits alone */
	res.memory_limit_in_bytes = 32 << 20;
	cleanup_free char *upd = cri_update_request("app-1", &res);
	cleanup_free char *umsg = xasprintf(PP_CTL_CRI_UPDATE " %s", upd);
	char *uname = NULL;
	struct pp_container *with = NULL;
	assert_int_equal(pp_ctl_cri_update_decode(umsg, strlen(umsg), &uname, &with, &err), 0);
	assert_string_equal(uname, "app-1");
	assert_int_equal(with->resources.limits_memory.value, 32 << 20);
	free(uname);
	pp_container_free(with);
}

static void test_container_refused(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	Runtime__V1__ContainerConfig cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT;
	assert_int_equal(cri_container_check(&cfg, &err), -1);
	assert_string_equal(err->msg, "config.metadata.name is missing");
	pp_error_free(&err);
	Runtime__V1__ContainerMetadata m = RUNTIME__V1__CONTAINER_METADATA__INIT;
	m.name = "app";
	cfg.metadata = &m;
	assert_int_equal(cri_container_check(&cfg, &err), -1);
	assert_string_equal(err->msg, "config.image is missing");
	pp_error_free(&err);
	Runtime__V1__ImageSpec img = RUNTIME__V1__IMAGE_SPEC__INIT;
	img.image = "busybox";
	cfg.image = &img;
	Runtime__V1__Mount mount = RUNTIME__V1__MOUNT__INIT;
	mount.host_path = "relative";
	mount.container_path = "/data";
	Runtime__V1__Mount *mounts[] = {&mount};
	cfg.n_mounts = 1;
	cfg.mounts = mounts;
	assert_int_equal(cri_container_check(&cfg, &err), -1);
	assert_non_null(strstr(err->msg, "config.mounts[0]"));
	pp_error_free(&err);
	cfg.n_mounts = 0;
	/* the supervisor's decoder refuses what the parser refuses, naming it */
	const char *bad = PP_CTL_CRI_CREATE " {\"container\":{\"name\":\"UPPER\",\"image\":\"x\"}}";
	struct pp_ctl_cri_create req;
	assert_int_equal(pp_ctl_cri_create_decode(bad, strlen(bad), &req, &err), -1);
	assert_non_null(strstr(err->msg, "spec.containers[0].name"));
	pp_error_free(&err);
	const char *unknown = PP_CTL_CRI_CREATE " {\"container\":{\"name\":\"a\",\"image\":\"x\"},"
						"\"extra\":1}";
	assert_int_equal(pp_ctl_cri_create_decode(unknown, strlen(unknown), &req, &err), -1);
	assert_string_equal(err->msg, "cri-create request: extra: unknown field");
	pp_error_free(&err);
}

/* kubelet's Linux config: cgroup parent, user namespace mappings. */
static void test_sandbox_linux(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	struct pp_pod *pod = NULL;
	Runtime__V1__PodSandboxConfig cfg = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
	Runtime__V1__PodSandboxMetadata m = meta("web", "u1", "prod", 0);
	Runtime__V1__LinuxPodSandboxConfig lx = RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
	Runtime__V1__LinuxSandboxSecurityContext sc =
	    RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
	Runtime__V1__NamespaceOption ns = RUNTIME__V1__NAMESPACE_OPTION__INIT;
	Runtime__V1__UserNamespace u = RUNTIME__V1__USER_NAMESPACE__INIT;
	Runtime__V1__IDMapping map = RUNTIME__V1__IDMAPPING__INIT;
	Runtime__V1__IDMapping *maps[] = {&map};
	cfg.metadata = &m;
	cfg.linux = &lx;
	lx.cgroup_parent = "/kubepods/besteffort/podu1";
	lx.security_context = &sc;
	sc.namespace_options = &ns;
	ns.userns_options = &u;
	u.mode = RUNTIME__V1__NAMESPACE_MODE__POD;
	map.host_id = 3 * 65536;
	map.length = 65536;
	u.n_uids = u.n_gids = 1;
	u.uids = u.gids = maps;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), 0);
	assert_string_equal(pod->cri_cgroup_parent, "/kubepods/besteffort/podu1");
	assert_true(pod->has_host_users && !pod->host_users);
	assert_true(pod->has_cri_id_base);
	assert_int_equal(pod->cri_id_base, 3 * 65536);
	pp_pod_free(pod);
	pod = NULL;
	/* what peapod cannot map */
	map.length = 1000;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_non_null(strstr(err->msg, "userns_options.uids[0]"));
	pp_error_free(&err);
	map.length = 65536;
	map.host_id = 65536 + 1;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	pp_error_free(&err);
	map.host_id = 65536;
	u.n_gids = 0;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
	assert_non_null(strstr(err->msg, "one uid and one gid mapping"));
	pp_error_free(&err);
	/* no mappings: peapod's allocator */
	u.n_uids = 0;
	assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), 0);
	assert_false(pod->has_cri_id_base);
	pp_pod_free(pod);
	pod = NULL;
	/* systemd's driver and paths that are no cgroup's */
	static const char *const bad[] = {"kubepods-besteffort-podu1.slice",
					  "/kubepods.slice/x",
					  "kubepods",
					  "/",
					  "/a//b",
					  "/a/../b",
					  "/a/b/",
					  "/a/b\nlevel /etc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lx.cgroup_parent = (char *)bad[i];
		assert_int_equal(cri_sandbox_spec(&cfg, &pod, &err), -1);
		assert_non_null(strstr(err->msg, "config.linux.cgroup_parent"));
		pp_error_free(&err);
	}
	lx.cgroup_parent = "kubepods-burstable.slice";
	assert_int_equal(cri_sandbox_check(&cfg, &err), -1);
	assert_non_null(strstr(err->msg, "a systemd slice"));
	pp_error_free(&err);
	assert_null(pod);
}

/* devices and masked paths into the request, and back out of the decoder */
static void test_container_linux(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	Runtime__V1__ContainerConfig cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT;
	Runtime__V1__ContainerMetadata m = RUNTIME__V1__CONTAINER_METADATA__INIT;
	Runtime__V1__ImageSpec img = RUNTIME__V1__IMAGE_SPEC__INIT;
	Runtime__V1__Device dev = RUNTIME__V1__DEVICE__INIT;
	Runtime__V1__Device *devs[] = {&dev};
	Runtime__V1__LinuxContainerConfig lx = RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT;
	Runtime__V1__LinuxContainerSecurityContext sc =
	    RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT;
	char *masked[] = {"/proc/version"};
	m.name = "app";
	img.image = "busybox";
	cfg.metadata = &m;
	cfg.image = &img;
	cfg.n_devices = 1;
	cfg.devices = devs;
	cfg.linux = &lx;
	lx.security_context = &sc;
	sc.n_masked_paths = 1;
	sc.masked_paths = masked;
	dev.host_path = "/dev/null";
	dev.container_path = "/dev/sub/mynull";
	dev.permissions = "rw";
	assert_int_equal(cri_container_check(&cfg, &err), 0);
	cleanup_free char *body = cri_container_request(&cfg, "app-0", "busybox:1.36", NULL);
	cleanup_free char *msg = xasprintf(PP_CTL_CRI_CREATE " %s", body);
	struct pp_ctl_cri_create req;
	assert_int_equal(pp_ctl_cri_create_decode(msg, strlen(msg), &req, &err), 0);
	assert_int_equal(req.spec->n_devices, 1);
	assert_string_equal(req.spec->devices[0].host_path, "/dev/null");
	assert_string_equal(req.spec->devices[0].container_path, "/dev/sub/mynull");
	assert_string_equal(req.spec->devices[0].permissions, "rw");
	assert_true(req.spec->has_cri_paths);
	assert_string_equal(req.spec->masked_paths[0], "/proc/version");
	assert_null(req.spec->masked_paths[1]);
	assert_null(req.spec->readonly_paths); /* given empty: none */
	pp_ctl_cri_create_free(&req);
	/* neither list: the defaults */
	sc.n_masked_paths = 0;
	cleanup_free char *body2 = cri_container_request(&cfg, "app-0", "busybox:1.36", NULL);
	assert_null(strstr(body2, "maskedPaths"));
	/* refused devices */
	dev.host_path = "/etc/passwd";
	assert_int_equal(cri_container_check(&cfg, &err), -1);
	assert_string_equal(err->msg, "config.devices[0]: host_path /etc/passwd is not a "
				      "character or block device");
	pp_error_free(&err);
	dev.host_path = "/dev/null";
	static const char *const paths[] = {"/etc/null", "/dev/",   "/dev/../x", "/dev/a/./b",
					    "/dev//a",	 "/dev/a/", "relative"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		dev.container_path = (char *)paths[i];
		assert_int_equal(cri_container_check(&cfg, &err), -1);
		assert_non_null(strstr(err->msg, "under /dev/ only"));
		pp_error_free(&err);
	}
	dev.container_path = "/dev/x";
	dev.permissions = "rx";
	assert_int_equal(cri_container_check(&cfg, &err), -1);
	assert_non_null(strstr(err->msg, "only the letters r, w and m"));
	pp_error_free(&err);
	/* the decoder's own checks */
	static const char *const bad[] = {
	    "\"devices\":[{\"hostPath\":\"/dev/null\",\"containerPath\":\"/etc/x\"}]",
	    "\"devices\":[{\"hostPath\":\"dev/null\",\"containerPath\":\"/dev/x\"}]",
	    "\"devices\":[{\"hostPath\":\"/a\",\"containerPath\":\"/dev/x\",\"permissions\":1}]",
	    "\"devices\":[{\"hostPath\":\"/\",\"containerPath\":\"/dev/x\",\"permissions\":\"q\"}]",
	    "\"devices\":{}",
	    "\"maskedPaths\":[\"relative\"]",
	    "\"readonlyPaths\":[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_free char *t = xasprintf(
		    PP_CTL_CRI_CREATE " {\"container\":{\"name\":\"a\",\"image\":\"x\"},%s}",
		    bad[i]);
		assert_int_equal(pp_ctl_cri_create_decode(t, strlen(t), &req, &err), -1);
		pp_error_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sandbox_linux),     cmocka_unit_test(test_container_linux),
	    cmocka_unit_test(test_sandbox_spec),      cmocka_unit_test(test_sandbox_refused),
	    cmocka_unit_test(test_container_request), cmocka_unit_test(test_container_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
