/* The workload objects' parsing and checks, and the controllers' pure
 * arithmetic: the pod-template-hash, int-or-percent scaling, the rolling
 * update's steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "manifest/manifest.h"
#include "manifest/workload.h"

static const char *const deployment = "apiVersion: apps/v1\n"
				      "kind: Deployment\n"
				      "metadata: {name: web}\n"
				      "spec:\n"
				      "  replicas: 3\n"
				      "  selector: {matchLabels: {app: web}}\n"
				      "  template:\n"
				      "    metadata: {labels: {app: web, tier: fe}}\n"
				      "    spec:\n"
				      "      containers: [{name: c, image: busybox}]\n";

static struct pp_workload *parse_ok(const char *text)
{
	struct pp_manifest_set set = {0};
	struct pp_error *err = NULL;
	if (pp_manifest_set_parse("w.yaml", text, strlen(text), &set, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(set.n, 1);
	assert_non_null(set.items[0].workload);
	struct pp_workload *w = set.items[0].workload;
	set.items[0].workload = NULL;
	pp_manifest_set_free(&set);
	return w;
}

static void expect_error(const char *text, const char *want)
{
	struct pp_manifest_set set = {0};
	struct pp_error *err = NULL;
	if (pp_manifest_set_parse("w.yaml", text, strlen(text), &set, &err) == 0)
		fail_msg("parsed, want an error with %s", want);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err->msg, want);
	assert_int_equal(set.n, 0);
	pp_error_free(&err);
}

static char *with(const char *from, const char *to)
{
	const char *at = strstr(deployment, from);
	assert_non_null(at);
	size_t a = (size_t)(at - deployment);
	char *s = malloc(strlen(deployment) + strlen(to) + 1);
	memcpy(s, deployment, a);
	strcpy(s + a, to);
	strcat(s, at + strlen(from));
	return s;
}

static void test_parse(void **state)
{
	(void)state;
	struct pp_workload *w = parse_ok(deployment);
	assert_int_equal(w->kind, PP_WL_DEPLOYMENT);
	assert_string_equal(w->name, "web");
	assert_string_equal(w->namespace_, "default");
	assert_int_equal(w->replicas, 3);
	assert_int_equal(w->revision_history_limit, 10);
	assert_true(w->max_surge.percent && w->max_surge.value == 25);
	assert_true(w->max_unavailable.percent && w->max_unavailable.value == 25);
	assert_int_equal(w->n_tmpl_labels, 2);
	assert_non_null(w->tmpl);
	assert_string_equal(w->tmpl->containers[0].image, "busybox");
	assert_non_null(strstr(w->tmpl_json, "\"busybox\""));
	pp_workload_free(w);
	assert_int_equal(pp_workload_kind_lookup("deploy"), PP_WL_DEPLOYMENT);
	assert_int_equal(pp_workload_kind_lookup("replicasets.apps"), PP_WL_REPLICASET);
	assert_int_equal(pp_workload_kind_lookup("ds"), PP_WL_DAEMONSET);
	assert_int_equal(pp_workload_kind_lookup("pods"), -1);
}

static void test_checks(void **state)
{
	(void)state;
	char *s = with("{matchLabels: {app: web}}", "{matchLabels: {app: x}}");
	expect_error(s, "w.yaml:8:24: spec.template.metadata.labels: Invalid value: "
			"map[string]string{\"app\":\"web\", \"tier\":\"fe\"}: `selector` does not "
			"match template `labels`");
	free(s);
	s = with("replicas: 3", "replicas: -1");
	expect_error(s, "w.yaml:5:13: spec.replicas");
	free(s);
	s = with("  selector: {matchLabels: {app: web}}\n", "");
	expect_error(s, "spec.selector: Required value");
	free(s);
	s = with("{matchLabels: {app: web}}", "{}");
	expect_error(s,
		     "spec.selector: Invalid value: {}: empty selector is invalid for deployment");
	free(s);
	s = with("apps/v1", "extensions/v1beta1");
	expect_error(s, "w.yaml:1:13: apiVersion");
	free(s);
	s = with("image: busybox", "image: ''");
	expect_error(s, "spec.template.spec.containers[0].image");
	free(s);
	s = with("  replicas: 3\n",
		 "  replicas: 3\n  strategy: {type: Recreate, rollingUpdate: {}}\n");
	expect_error(s, "spec.strategy.rollingUpdate: Forbidden");
	free(s);
	s = with("  replicas: 3\n", "  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 5x}}\n");
	expect_error(s, "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"5x\"");
	free(s);
	s = with("      containers", "      restartPolicy: OnFailure\n      containers");
	expect_error(s, "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\"");
	free(s);
	s = with("{matchLabels: {app: web}}",
		 "{matchExpressions: [{key: app, operator: Exists, values: [a]}]}");
	expect_error(s, "values: Forbidden");
	free(s);
	/* found by make fuzz-long: a template's second spec was stored (the
	 * JSON keeps the last key) but the first was validated */
	s = with("      containers: [{name: c, image: busybox}]\n",
		 "      containers: [{name: c, image: busybox}]\n"
		 "    spec:\n      containers: [{name: c, image: 'bus{box'}]\n");
	expect_error(s, "w.yaml:11:5: spec.template.spec: duplicate field \"spec\"");
	free(s);
}

static void test_hash(void **state)
{
	(void)state;
	/* FNV-32a's reference values */
	assert_int_equal(pp_fnv32a("", 0, PP_FNV32_OFFSET), 0x811c9dc5u);
	assert_int_equal(pp_fnv32a("a", 1, PP_FNV32_OFFSET), 0xe40c292cu);
	assert_int_equal(pp_fnv32a("foobar", 6, PP_FNV32_OFFSET), 0xbf9cf968u);
	char *h = pp_template_hash("{\"spec\":{}}", 0);
	char *h2 = pp_template_hash("{\"spec\":{}}", 0);
	char *h3 = pp_template_hash("{\"spec\":{}}", 1);
	assert_string_equal(h, h2);
	assert_string_not_equal(h, h3);
	for (const char *p = h; *p; p++)
		assert_non_null(strchr(PP_SAFE_ALPHABET, *p));
	free(h);
	free(h2);
	free(h3);
	char *n = pp_ctrl_pod_name("web-abc");
	assert_int_equal(strlen(n), strlen("web-abc-") + 5);
	for (const char *p = n + strlen("web-abc-"); *p; p++)
		assert_non_null(strchr(PP_SAFE_ALPHABET, *p));
	free(n);
}

static void test_percent(void **state)
{
	(void)state;
	struct pp_int_or_percent p25 = {true, true, 25}, i2 = {true, false, 2};
	assert_int_equal(pp_int_or_percent_scaled(&p25, 3, true), 1);  /* 0.75 up */
	assert_int_equal(pp_int_or_percent_scaled(&p25, 3, false), 0); /* down */
	assert_int_equal(pp_int_or_percent_scaled(&p25, 10, true), 3);
	assert_int_equal(pp_int_or_percent_scaled(&p25, 10, false), 2);
	assert_int_equal(pp_int_or_percent_scaled(&i2, 10, true), 2);
	int32_t surge, unavail;
	/* 25%/25% of 3: surge 1, unavailable 0 */
	pp_rolling_resolve(&p25, &p25, 3, &surge, &unavail);
	assert_int_equal(surge, 1);
	assert_int_equal(unavail, 0);
	/* both 0 (25% of 1 rounded down, 0 surge): unavailable 1 */
	struct pp_int_or_percent zero = {true, false, 0};
	pp_rolling_resolve(&zero, &p25, 1, &surge, &unavail);
	assert_int_equal(surge, 0);
	assert_int_equal(unavail, 1);
}

static void test_rolling(void **state)
{
	(void)state;
	/* 3 replicas, maxSurge 0, maxUnavailable 1: the new RS may not grow
	 * until an old pod goes; one old pod may go */
	struct pp_rolling_in in = {.replicas = 3,
				   .max_surge = 0,
				   .max_unavail = 1,
				   .new_replicas = 0,
				   .old_replicas = 3,
				   .all_available = 3};
	assert_int_equal(pp_rolling_new_replicas(&in), 0);
	assert_int_equal(pp_rolling_old_scale_down(&in), 1);
	/* the old one at 2: the new one to 1, and no more old pods go while
	 * the new pod is not available */
	in.old_replicas = 2;
	in.all_available = 2;
	assert_int_equal(pp_rolling_new_replicas(&in), 1);
	in.new_replicas = 1;
	assert_int_equal(pp_rolling_old_scale_down(&in), 0);
	/* available now: one more old pod may go */
	in.new_available = 1;
	in.all_available = 3;
	assert_int_equal(pp_rolling_old_scale_down(&in), 1);
	/* surge 1, unavailable 0: up first, down once available */
	struct pp_rolling_in s = {
	    .replicas = 3, .max_surge = 1, .max_unavail = 0, .old_replicas = 3, .all_available = 3};
	assert_int_equal(pp_rolling_new_replicas(&s), 1);
	s.new_replicas = 1;
	assert_int_equal(pp_rolling_old_scale_down(&s), 0);
	s.new_available = 1;
	s.all_available = 4;
	assert_int_equal(pp_rolling_old_scale_down(&s), 1);
	/* unhealthy old pods go first, whatever the availability */
	struct pp_rolling_in u = {.replicas = 3,
				  .max_surge = 1,
				  .max_unavail = 0,
				  .new_replicas = 1,
				  .new_available = 1,
				  .old_replicas = 3,
				  .old_unhealthy = 2,
				  .all_available = 2};
	assert_int_equal(pp_rolling_old_scale_down(&u), 1);
	/* a new RS above the count comes down to it */
	struct pp_rolling_in d = {.replicas = 2, .max_surge = 1, .new_replicas = 5};
	assert_int_equal(pp_rolling_new_replicas(&d), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),   cmocka_unit_test(test_checks),
	    cmocka_unit_test(test_hash),    cmocka_unit_test(test_percent),
	    cmocka_unit_test(test_rolling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
