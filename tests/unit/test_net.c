/* CNI configuration and results: which network a pod asks for, conflist
 * lookup by name (the default written on first use, a .conf as a list of
 * one), the pod's addresses in a CNI result. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/cni.h"
#include "net/ipmasq.h"
#include "net/netconf.h"
#include "net/podnet.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/netns.h"
#include "util/sha512.h"
#include "util/settings.h"

static char tmpdir[] = "/tmp/peapod-test-net.XXXXXX";

static int setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	setenv("PEAPOD_CNI_CONF_DIR", tmpdir, 1);
	setenv("PEAPOD_RUN", "/run/peapod-test-net", 1);
	unsetenv("PEAPOD_NETWORK");
	pp_settings_load(NULL); /* read once, as at a process start */
	return 0;
}

static int teardown(void **state)
{
	return pp_rm_rf(tmpdir, NULL);
}

static void test_name_for(void **state)
{
	struct pp_kv ann[] = {{"other", "x"}, {PP_NET_ANNOTATION, "blue"}};
	struct pp_pod p = {0};
	assert_string_equal(pp_net_name_for(&p), PP_NET_DEFAULT_NAME);
	setenv("PEAPOD_NETWORK", "none", 1);
	pp_settings_load(NULL);
	assert_null(pp_net_name_for(&p));
	setenv("PEAPOD_NETWORK", "green", 1);
	pp_settings_load(NULL);
	assert_string_equal(pp_net_name_for(&p), "green");
	p.annotations = ann;
	p.n_annotations = 2;
	assert_string_equal(pp_net_name_for(&p), "blue");
	p.host_network = true;
	assert_null(pp_net_name_for(&p));
	unsetenv("PEAPOD_NETWORK");
	pp_settings_load(NULL);
}

static void test_set_network(void **state)
{
	struct pp_pod p = {0};
	pp_net_set_network(&p, "a");
	pp_net_set_network(&p, "b");
	assert_int_equal(p.n_annotations, 1);
	assert_string_equal(pp_net_name_for(&p), "b");
	pp_net_set_network(&p, "none");
	assert_null(pp_net_name_for(&p));
	free(p.annotations[0].key);
	free(p.annotations[0].value);
	free(p.annotations);
}

static void test_default_written_once_and_recognised(void **state)
{
	struct json_object *c = NULL;
	bool is_default = false;
	assert_int_equal(pp_net_load(PP_NET_DEFAULT_NAME, &c, &is_default, NULL), 0);
	assert_true(is_default);
	struct json_object *plugins = json_object_object_get(c, "plugins");
	assert_string_equal(json_object_get_string(json_object_object_get(
				json_object_array_get_idx(plugins, 0), "type")),
			    "bridge");
	json_object_put(c);
	cleanup_free char *path = xasprintf("%s/%s", tmpdir, PP_NET_DEFAULT_FILE);
	assert_int_equal(access(path, F_OK), 0);
	/* Edited by hand: still the network "peapod", no longer the default. */
	cleanup_free char *text = NULL;
	assert_int_equal(pp_read_file(path, 1 << 20, &text, NULL, NULL), 0);
	cleanup_free char *edited = xasprintf(" %s", text);
	assert_int_equal(pp_write_file_atomic(path, edited, strlen(edited), 0644, NULL), 0);
	assert_int_equal(pp_net_load(PP_NET_DEFAULT_NAME, &c, &is_default, NULL), 0);
	assert_false(is_default);
	json_object_put(c);
	unlink(path);
}

static void test_conf_as_list_and_missing(void **state)
{
	cleanup_free char *path = xasprintf("%s/50-one.conf", tmpdir);
	const char *conf = "{\"cniVersion\": \"1.0.0\", \"name\": \"one\", \"type\": \"ptp\"}";
	assert_int_equal(pp_write_file_atomic(path, conf, strlen(conf), 0644, NULL), 0);
	struct json_object *c = NULL;
	bool is_default = true;
	assert_int_equal(pp_net_load("one", &c, &is_default, NULL), 0);
	assert_false(is_default);
	assert_string_equal(json_object_get_string(json_object_object_get(c, "name")), "one");
	struct json_object *plugins = json_object_object_get(c, "plugins");
	assert_int_equal(json_object_array_length(plugins), 1);
	json_object_put(c);

	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_net_load("nope", &c, &is_default, &err), -1);
	assert_non_null(strstr(err->msg, "network \"nope\""));
	unlink(path);
}

/* SHA-512 against Python's hashlib: empty, one block with the length in the
 * next (112 bytes), several blocks. */
static void test_sha512(void **state)
{
	(void)state;
	static const struct {
		size_t n;
		const char *hex32;
	} cases[] = {{0, "cf83e1357eefb8bdf1542850d66d8007"},
		     {112, "c01d080efd492776a1c43bd23dd99d0a"},
		     {200, "4b11459c33f52a22ee8236782714c150"}};
	char in[200];
	memset(in, 'a', sizeof(in));
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t sum[PP_SHA512_LEN];
		pp_sha512(in, cases[c].n, sum);
		char hex[33];
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
		assert_string_equal(hex, cases[c].hex32);
	}
}

/* The chain names' own SHA-512 (util/sha512.h) and libcrypto's agree on
 * every length across the block and padding boundaries. */
static void test_sha512_agrees_with_libcrypto(void **state)
{
	(void)state;
	char in[300];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 26);
	for (size_t n = 0; n <= sizeof(in); n++) {
		uint8_t sum[PP_SHA512_LEN];
		char mine[2 * PP_SHA512_LEN + 1], theirs[2 * PP_SHA512_LEN + 1];
		pp_sha512(in, n, sum);
		pp_hex_encode(sum, sizeof(sum), mine);
		assert_int_equal(pp_digest_hex(PP_DIGEST_SHA512, in, n, theirs, NULL), 0);
		assert_string_equal(mine, theirs);
	}
}

/* The bridge plugin's names: utils.FormatChainName and FormatComment. */
static void test_ipmasq_names(void **state)
{
	(void)state;
	char chain[PP_IPMASQ_CHAIN_LEN + 1];
	pp_ipmasq_chain("peapod", "0f7c2a54-1d2e-4b7a-9c3e-1234567890ab", chain);
	assert_string_equal(chain, "CNI-15fb3806b515ddb51fc6521c");
	cleanup_free char *c = pp_ipmasq_comment("pea\"pod", "u1");
	assert_string_equal(c, "name: \"pea\\\"pod\" id: \"u1\"");
	struct json_object *on = json_tokener_parse(
	    "{\"plugins\": [{\"type\": \"loopback\"}, {\"type\": \"bridge\", \"ipMasq\": true}]}");
	struct json_object *off =
	    json_tokener_parse("{\"plugins\": [{\"type\": \"bridge\", \"ipMasq\": false}]}");
	assert_true(pp_ipmasq_wanted(on));
	assert_false(pp_ipmasq_wanted(off));
	json_object_put(on);
	json_object_put(off);
}

static void test_result_ips(void **state)
{
	struct json_object *r =
	    json_tokener_parse("{\"cniVersion\": \"1.0.0\","
			       " \"interfaces\": [{\"name\": \"br\"}, {\"name\": \"eth0\", "
			       "\"sandbox\": \"/proc/1/ns/net\"}],"
			       " \"ips\": [{\"address\": \"fd00::5/64\", \"interface\": 1},"
			       "          {\"address\": \"10.0.0.9/24\", \"interface\": 0},"
			       "          {\"address\": \"10.89.0.7/16\", \"interface\": 1}]}");
	char **ips = pp_cni_result_ips(r);
	assert_string_equal(ips[0], "10.89.0.7");
	assert_string_equal(ips[1], "fd00::5");
	assert_null(ips[2]);
	strv_free(ips);
	json_object_put(r);
	/* No result, or one without interfaces: every address is the pod's. */
	ips = pp_cni_result_ips(NULL);
	assert_null(ips[0]);
	strv_free(ips);
	r = json_tokener_parse("{\"ips\": [{\"address\": \"192.0.2.1/24\"}, {\"bogus\": 1}]}");
	ips = pp_cni_result_ips(r);
	assert_string_equal(ips[0], "192.0.2.1");
	assert_null(ips[1]);
	strv_free(ips);
	json_object_put(r);
}

static ino_t own_netns_ino(void)
{
	struct stat st;
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	return st.st_ino;
}

/* A visit to a child's new network namespace and back, twice with one
 * home fd; leaving twice is harmless. */
static void test_netns_visit(void **state)
{
	(void)state;
	int ready[2], hold[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(hold[1]);
		char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		(void)!read(hold[0], &c, 1); /* until the parent is done */
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	cleanup_free char *path = xasprintf("/proc/%d/ns/net", (int)pid);
	cleanup_close int target = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(target >= 0);
	ino_t home = own_netns_ino();
	struct pp_error *err = NULL;
	{
		cleanup_netns_visit struct pp_netns_visit v = PP_NETNS_VISIT_INIT;
		for (int round = 0; round < 2; round++) {
			assert_int_equal(pp_netns_enter(&v, target, &err), 0);
			assert_true(own_netns_ino() != home);
			pp_netns_leave(&v);
			pp_netns_leave(&v);
			assert_true(own_netns_ino() == home);
		}
		assert_int_equal(pp_netns_enter(&v, target, &err), 0);
	} /* the cleanup leaves */
	assert_true(own_netns_ino() == home);
	struct pp_netns_visit bad = PP_NETNS_VISIT_INIT;
	assert_int_equal(pp_netns_enter(&bad, ready[0], &err), -1);
	assert_int_equal(err->status, EINVAL);
	pp_netns_visit_end(&bad);
	pp_error_free(&err);
	assert_true(own_netns_ino() == home);
	close(hold[1]);
	waitpid(pid, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	close(hold[0]);
}

/* What getifaddrs says: the first IPv4 address of an interface that is up
 * and not loopback. */
static void host_ip_by_getifaddrs(char buf[INET_ADDRSTRLEN])
{
	struct ifaddrs *ifa = NULL;
	strcpy(buf, "127.0.0.1");
	assert_int_equal(getifaddrs(&ifa), 0);
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, buf,
			  INET_ADDRSTRLEN);
		break;
	}
	freeifaddrs(ifa);
}

/* status.hostIP: the same address getifaddrs gives, here and in a network
 * namespace of loopback only (127.0.0.1, lo up or not). */
static void test_host_ip(void **state)
{
	char want[INET_ADDRSTRLEN];
	host_ip_by_getifaddrs(want);
	cleanup_free char *got = pp_net_host_ip();
	assert_string_equal(got, want);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(2);
		char *none = pp_net_host_ip();
		_exit(strcmp(none, "127.0.0.1") == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_for),
	    cmocka_unit_test(test_set_network),
	    cmocka_unit_test(test_default_written_once_and_recognised),
	    cmocka_unit_test(test_conf_as_list_and_missing),
	    cmocka_unit_test(test_result_ips),
	    cmocka_unit_test(test_sha512),
	    cmocka_unit_test(test_sha512_agrees_with_libcrypto),
	    cmocka_unit_test(test_ipmasq_names),
	    cmocka_unit_test(test_netns_visit),
	    cmocka_unit_test(test_host_ip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
