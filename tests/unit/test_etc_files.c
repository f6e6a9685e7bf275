/* /etc/hosts and /etc/resolv.conf contents as kubelet writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "util/cleanup.h"

static struct pp_pod base_pod(void)
{
	struct pp_pod p = {0};
	p.name = "web";
	p.namespace_ = "default";
	return p;
}

static void test_hosts_default(void **state)
{
	struct pp_pod p = base_pod();
	cleanup_free char *h = pp_sandbox_hosts_content(&p, "127.0.0.1");
	assert_non_null(strstr(h, "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(h, "::1\tlocalhost ip6-localhost ip6-loopback\n"));
	assert_non_null(strstr(h, "fe00::2\tip6-allrouters\n"));
	assert_non_null(strstr(h, "\n127.0.0.1\tweb\n"));
	assert_null(strstr(h, "HostAliases"));
}

static void test_hosts_hostname_subdomain_aliases(void **state)
{
	struct pp_pod p = base_pod();
	p.hostname = "box";
	p.subdomain = "sub";
	char *names[] = {"foo.local", "bar.local", NULL};
	struct pp_host_alias alias = {.ip = "10.1.2.3", .hostnames = names};
	p.host_aliases = &alias;
	p.n_host_aliases = 1;
	cleanup_free char *h = pp_sandbox_hosts_content(&p, "10.0.0.5");
	assert_non_null(strstr(h, "10.0.0.5\tbox.sub.default.svc.cluster.local\tbox\n"));
	assert_non_null(
	    strstr(h, "# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n"));
}

static char *write_tmp(const char *content)
{
	char *path = xstrdup("/tmp/peapod-resolv-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void test_resolv_merge(void **state)
{
	cleanup_free char *host = write_tmp(
	    "# comment\nnameserver 1.1.1.1\nsearch a.example b.example\noptions ndots:2 edns0\n");
	struct pp_pod p = base_pod();
	char *ns[] = {"8.8.8.8", "1.1.1.1", NULL};
	char *search[] = {"c.example", "a.example", NULL};
	struct pp_kv opts[] = {{"ndots", "5"}, {"rotate", NULL}};
	p.dns_config.nameservers = ns;
	p.dns_config.searches = search;
	p.dns_config.options = opts;
	p.dns_config.n_options = 2;
	cleanup_free char *out = NULL;
	assert_int_equal(pp_sandbox_resolv_content(&p, host, &out, NULL), 0);
	assert_string_equal(out, "nameserver 1.1.1.1\nnameserver 8.8.8.8\n"
				 "search a.example b.example c.example\n"
				 "options ndots:5 edns0 rotate\n");
	unlink(host);
}

static void test_resolv_policy_none(void **state)
{
	struct pp_pod p = base_pod();
	p.dns_policy = "None";
	char *ns[] = {"9.9.9.9", NULL};
	p.dns_config.nameservers = ns;
	cleanup_free char *out = NULL;
	assert_int_equal(pp_sandbox_resolv_content(&p, "/nonexistent", &out, NULL), 0);
	assert_string_equal(out, "nameserver 9.9.9.9\n");
}

static void test_resolv_missing_host_file(void **state)
{
	struct pp_pod p = base_pod();
	char *out = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_sandbox_resolv_content(&p, "/nonexistent/resolv.conf", &out, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "/nonexistent/resolv.conf"));
	pp_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts_default),
	    cmocka_unit_test(test_hosts_hostname_subdomain_aliases),
	    cmocka_unit_test(test_resolv_merge),
	    cmocka_unit_test(test_resolv_policy_none),
	    cmocka_unit_test(test_resolv_missing_host_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
