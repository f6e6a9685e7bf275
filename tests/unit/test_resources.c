/* Kubernetes' resource conversions with kubelet's own numbers (pkg/kubelet/cm
 * helpers_linux_test.go, pkg/kubelet/qos policy_test.go), runc's cpu.weight
 * mapping, QoS classes, API server defaulting and the sysctl rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pod/resources.h"
#include "manifest/manifest.h"

#define GIB (1024LL * 1024 * 1024)
#define MIB (1024LL * 1024)

static struct pp_pod *parse(const char *yaml)
{
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("t.yaml", yaml, strlen(yaml), &pod, &err) < 0)
		fail_msg("parse failed: %s", err->msg);
	return pod;
}

static void expect_error(const char *yaml, const char *want)
{
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_spec_parse_buffer("t.yaml", yaml, strlen(yaml), &pod, &err), -1);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
	pp_error_free(&err);
}

static void test_shares(void **state)
{
	(void)state;
	/* MilliCPUToShares: 0 -> MinShares, then milli*1024/1000, at least 2. */
	assert_int_equal(pp_cpu_milli_to_shares(0), 2);
	assert_int_equal(pp_cpu_milli_to_shares(1), 2);
	assert_int_equal(pp_cpu_milli_to_shares(2), 2);
	assert_int_equal(pp_cpu_milli_to_shares(10), 10);
	assert_int_equal(pp_cpu_milli_to_shares(100), 102);
	assert_int_equal(pp_cpu_milli_to_shares(250), 256);
	assert_int_equal(pp_cpu_milli_to_shares(500), 512);
	assert_int_equal(pp_cpu_milli_to_shares(1000), 1024);
	assert_int_equal(pp_cpu_milli_to_shares(1500), 1536);
	assert_int_equal(pp_cpu_milli_to_shares(256000), 262144);
	assert_int_equal(pp_cpu_milli_to_shares(1000000), 262144); /* MaxShares */
}

static void test_weight(void **state)
{
	(void)state;
	/* runc 1.3.2+ / crun 1.23+: 1 CPU (1024 shares) -> 100, the v2 default. */
	assert_int_equal(pp_cgroup_shares_to_weight(0), 0);
	assert_int_equal(pp_cgroup_shares_to_weight(2), 1);
	assert_int_equal(pp_cgroup_shares_to_weight(3), 2);
	assert_int_equal(pp_cgroup_shares_to_weight(256), 35);
	assert_int_equal(pp_cgroup_shares_to_weight(512), 59);
	assert_int_equal(pp_cgroup_shares_to_weight(1024), 100);
	assert_int_equal(pp_cgroup_shares_to_weight(2048), 174);
	assert_int_equal(pp_cgroup_shares_to_weight(262144), 10000);
	assert_int_equal(pp_cgroup_shares_to_weight(1000000), 10000);
	/* every share value against the formula with libm's log2 and pow
	 * (which the conversion does without, not to load libm) */
	for (uint64_t s = 3; s < 262144; s++) {
		double l = log2((double)s);
		uint64_t want = (uint64_t)ceil(pow(10, (l * l + 125 * l) / 612.0 - 7.0 / 34.0));
		if (pp_cgroup_shares_to_weight(s) != want)
			fail_msg("shares %lu: weight %lu, libm's %lu", (unsigned long)s,
				 (unsigned long)pp_cgroup_shares_to_weight(s), (unsigned long)want);
	}
}

static void test_quota(void **state)
{
	(void)state;
	/* MilliCPUToQuota over a 100000 us period; at least MinQuotaPeriod 1000. */
	assert_int_equal(pp_cpu_milli_to_quota(0), 0);
	assert_int_equal(pp_cpu_milli_to_quota(5), 1000);
	assert_int_equal(pp_cpu_milli_to_quota(9), 1000);
	assert_int_equal(pp_cpu_milli_to_quota(10), 1000);
	assert_int_equal(pp_cpu_milli_to_quota(200), 20000);
	assert_int_equal(pp_cpu_milli_to_quota(500), 50000);
	assert_int_equal(pp_cpu_milli_to_quota(1000), 100000);
	assert_int_equal(pp_cpu_milli_to_quota(1500), 150000);
}

static void test_oom_score_adj(void **state)
{
	(void)state;
	const int64_t cap = 4000000000LL; /* policy_test.go's standardMemoryAmount */
	assert_int_equal(pp_oom_score_adj(PP_QOS_GUARANTEED, cap, cap), -997);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BESTEFFORT, 0, cap), 1000);
	/* Burstable: 1000 - 1000*request/capacity, within [3, 999]. */
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, cap / 2, cap), 500);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, cap / 4, cap), 750);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, 0, cap), 999);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, 1, cap), 999);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, cap - 1, cap), 3);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, cap * 2, cap), 3);
	assert_int_equal(pp_oom_score_adj(PP_QOS_BURSTABLE, INT64_MAX, cap), 3);
}

static void test_hugepage_names(void **state)
{
	(void)state;
	char buf[16];
	assert_true(pp_hugepage_size_name("hugepages-2Mi", buf, sizeof(buf)));
	assert_string_equal(buf, "2MB");
	assert_true(pp_hugepage_size_name("hugepages-1Gi", buf, sizeof(buf)));
	assert_string_equal(buf, "1GB");
	assert_true(pp_hugepage_size_name("hugepages-64Ki", buf, sizeof(buf)));
	assert_string_equal(buf, "64KB");
	assert_false(pp_hugepage_size_name("memory", buf, sizeof(buf)));
	assert_false(pp_hugepage_size_name("hugepages-x", buf, sizeof(buf)));
}

#define POD_HEAD "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
#define CTR(name, res) "    - name: " name "\n      image: i\n      resources: " res "\n"

static enum pp_qos_class qos_of(const char *yaml)
{
	struct pp_pod *pod = parse(yaml);
	enum pp_qos_class q = pp_pod_qos_class(pod);
	pp_pod_free(pod);
	return q;
}

static void test_qos(void **state)
{
	(void)state;
	assert_int_equal(qos_of(POD_HEAD "  containers:\n" CTR("a", "{}")), PP_QOS_BESTEFFORT);
	/* limits only: requests default to them -> Guaranteed */
	assert_int_equal(
	    qos_of(POD_HEAD "  containers:\n" CTR("a", "{limits: {cpu: 100m, memory: 1Gi}}")),
	    PP_QOS_GUARANTEED);
	assert_int_equal(qos_of(POD_HEAD "  containers:\n" CTR(
			     "a", "{limits: {cpu: 100m, memory: 1Gi}, requests: {cpu: 100m}}")),
			 PP_QOS_GUARANTEED);
	assert_int_equal(qos_of(POD_HEAD "  containers:\n" CTR(
			     "a", "{limits: {cpu: 100m, memory: 1Gi}, requests: {cpu: 50m}}")),
			 PP_QOS_BURSTABLE);
	assert_int_equal(qos_of(POD_HEAD "  containers:\n" CTR("a", "{limits: {memory: 1Gi}}")),
			 PP_QOS_BURSTABLE);
	assert_int_equal(qos_of(POD_HEAD "  containers:\n" CTR("a", "{requests: {cpu: 10m}}")),
			 PP_QOS_BURSTABLE);
	/* one container without limits makes the pod Burstable */
	assert_int_equal(qos_of(POD_HEAD
				"  containers:\n" CTR("a", "{limits: {cpu: 1, memory: 1Gi}}")
				    CTR("b", "{requests: {memory: 1}}")),
			 PP_QOS_BURSTABLE);
	/* init containers count */
	assert_int_equal(qos_of(POD_HEAD "  initContainers:\n" CTR(
			     "i", "{requests: {cpu: 1}}") "  containers:\n" CTR("a", "{}")),
			 PP_QOS_BURSTABLE);
	/* zero quantities do not count */
	assert_int_equal(qos_of(POD_HEAD "  containers:\n" CTR("a", "{requests: {cpu: 0}}")),
			 PP_QOS_BESTEFFORT);
	/* other resources do not count */
	assert_int_equal(
	    qos_of(POD_HEAD "  containers:\n" CTR("a", "{limits: {ephemeral-storage: 1Gi}}")),
	    PP_QOS_BESTEFFORT);
}

static void test_defaulting_and_sums(void **state)
{
	(void)state;
	struct pp_pod *pod =
	    parse(POD_HEAD "  initContainers:\n" CTR(
		"i", "{limits: {cpu: 2, memory: "
		     "300Mi}}") "  containers:\n" CTR("a", "{requests: {cpu: 250m, memory: 32Mi}, "
							   "limits: {cpu: 500m, "
							   "memory: 64Mi, hugepages-2Mi: 4Mi}}")
		      CTR("b", "{limits: {cpu: '1', memory: 128Mi, hugepages-2Mi: 2Mi}}"));
	const struct pp_resources *b = &pod->containers[1].resources;
	/* API server defaulting: request = limit */
	assert_true(b->requests_cpu.set);
	assert_int_equal(b->requests_cpu.milli, 1000);
	assert_int_equal(b->requests_memory.value, 128 * MIB);
	assert_int_equal(b->n_requests_other, 1);
	assert_string_equal(b->requests_other[0].key, "hugepages-2Mi");
	assert_string_equal(b->requests_other[0].value, "2Mi");

	struct pp_cgroup_resources r;
	pp_container_cgroup_resources(&pod->containers[0], &r);
	assert_int_equal(r.cpu_shares, 256);
	assert_int_equal(r.cpu_quota_us, 50000);
	assert_int_equal(r.memory_limit, 64 * MIB);
	assert_int_equal(r.n_hugetlb, 1);
	assert_string_equal(r.hugetlb[0].size, "2MB");
	assert_int_equal(r.hugetlb[0].limit, 4 * MIB);

	/* the pod: max(init, sum of apps) per resource */
	pp_pod_cgroup_resources(pod, 64, &r);
	assert_int_equal(r.cpu_shares, pp_cpu_milli_to_shares(2000)); /* init 2 > 1.25 */
	assert_int_equal(r.cpu_quota_us, 200000);
	assert_int_equal(r.memory_limit, 300 * MIB); /* init 300Mi > 192Mi */
	assert_int_equal(r.pids_max, 64);
	assert_int_equal(r.n_hugetlb, 1);
	assert_int_equal(r.hugetlb[0].limit, 6 * MIB);
	pp_pod_free(pod);

	/* one container without a memory limit: no pod memory limit */
	pod = parse(POD_HEAD "  containers:\n" CTR("a", "{limits: {cpu: 1, memory: 1Gi}}")
			CTR("b", "{requests: {cpu: 100m}}"));
	pp_pod_cgroup_resources(pod, 0, &r);
	assert_int_equal(r.memory_limit, 0);
	assert_int_equal(r.cpu_quota_us, 0);
	assert_int_equal(r.cpu_shares, 1126); /* 1.1 CPU */
	pp_container_cgroup_resources(&pod->containers[1], &r);
	assert_int_equal(r.cpu_shares, 102);
	assert_int_equal(r.memory_limit, 0);
	pp_pod_free(pod);

	/* BestEffort: kubelet's minimum shares on pod and container */
	pod = parse(POD_HEAD "  containers:\n" CTR("a", "{}"));
	pp_pod_cgroup_resources(pod, 0, &r);
	assert_int_equal(r.cpu_shares, 2);
	assert_int_equal(r.memory_limit, 0);
	pp_pod_free(pod);
	(void)GIB;
}

static void test_refused(void **state)
{
	(void)state;
	expect_error(POD_HEAD
		     "  containers:\n" CTR("a", "{requests: {memory: 2Gi}, limits: {memory: 1Gi}}"),
		     "t.yaml:9:38: spec.containers[0].resources.requests.memory: must be less than "
		     "or equal to memory limit of 1Gi");
	expect_error(POD_HEAD "  containers:\n" CTR("a", "{limits: {cpu: 1x}}"),
		     "spec.containers[0].resources.limits.cpu: quantity \"1x\" is not valid");
	expect_error(POD_HEAD "  containers:\n" CTR("a", "{limits: {cpu: -1}}"),
		     "must be greater than or equal to 0");
}

#define SYSCTL_POD(name, extra)                                                                    \
	POD_HEAD extra "  securityContext:\n    sysctls:\n      - name: " name                     \
		       "\n        value: '1'\n  containers:\n    - name: a\n      image: i\n"

static void test_sysctls(void **state)
{
	(void)state;
	static const char *const ok[] = {
	    "net.ipv4.ip_forward", "kernel.shm_rmid_forced", "kernel.msgmax",
	    "kernel.sem",	   "fs.mqueue.msg_max",	     "net/ipv4/conf/eth0.100/forwarding"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), SYSCTL_POD("%s", ""), ok[i]);
		pp_pod_free(parse(yaml));
	}
	expect_error(
	    SYSCTL_POD("vm.swappiness", ""),
	    "t.yaml:8:15: spec.securityContext.sysctls[0].name: sysctl \"vm.swappiness\" is "
	    "not namespaced");
	expect_error(SYSCTL_POD("kernel.hostname", ""), "is not namespaced");
	expect_error(SYSCTL_POD("kernel.semx", ""), "is not namespaced");
	expect_error(SYSCTL_POD("Net.ipv4", ""), "is not namespaced");
	expect_error(SYSCTL_POD("net..ipv4", ""), "is not namespaced");
	expect_error(SYSCTL_POD("net.ipv4.ip_forward", "  hostNetwork: true\n"),
		     "t.yaml:9:15: spec.securityContext.sysctls[0].name: may not be specified when "
		     "'hostNetwork' is true");
	expect_error(SYSCTL_POD("kernel.shmmax", "  hostIPC: true\n"),
		     "may not be specified when 'hostIPC' is true");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shares),
	    cmocka_unit_test(test_weight),
	    cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_oom_score_adj),
	    cmocka_unit_test(test_hugepage_names),
	    cmocka_unit_test(test_qos),
	    cmocka_unit_test(test_defaulting_and_sums),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_sysctls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
