/* downwardAPI and projected volumes: the parsed structs (modes as YAML 1.1
 * octal, defaults, sources) and the downward API's values (src/pod/downward.c):
 * kubelet's key="value" format with Go's %q, sorted lines, resourceFieldRef
 * rounded up by the divisor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"
#include "pod/pod_internal.h"
#include "util/cleanup.h"

static const char manifest[] =
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web\n"
    "  labels: {zone: z1, a.b: dotted, a: plain}\n"
    "  annotations:\n"
    "    note: \"tab\\there \\\"q\\\" back\\\\slash\\nnl \\u00e9 \\u0085 bell\\a\"\n"
    "spec:\n"
    "  containers:\n"
    "  - name: c\n"
    "    image: busybox\n"
    "    resources:\n"
    "      limits: {cpu: 1500m, memory: 100Mi, hugepages-2Mi: 4Mi}\n"
    "      requests: {cpu: 250m, memory: \"1000\"}\n"
    "  volumes:\n"
    "  - name: info\n"
    "    downwardAPI:\n"
    "      defaultMode: 0440\n"
    "      items:\n"
    "      - {path: labels, fieldRef: {fieldPath: metadata.labels}, mode: 0600}\n"
    "      - {path: ./dir/name, fieldRef: {fieldPath: metadata.name}}\n"
    "  - name: all\n"
    "    projected:\n"
    "      sources:\n"
    "      - downwardAPI: {items: [{path: cpu, resourceFieldRef: {containerName: c, resource: "
    "limits.cpu}}]}\n"
    "      - configMap: {name: cm, optional: true, items: [{key: k.conf, path: k, mode: "
    "0400}]}\n"
    "      - secret: {name: s}\n";

static struct pp_pod *parse(void)
{
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("t.yaml", manifest, strlen(manifest), &pod, &err) < 0)
		fail_msg("%s", err->msg);
	return pod;
}

static void test_parsed(void **state)
{
	(void)state;
	struct pp_pod *pod = parse();
	assert_int_equal(pod->n_volumes, 2);
	const struct pp_volume *info = &pod->volumes[0], *all = &pod->volumes[1];
	assert_int_equal(info->kind, PP_VOLUME_DOWNWARD_API);
	assert_int_equal(info->default_mode, 0440);
	assert_int_equal(info->n_sources, 1);
	assert_int_equal(info->sources[0].n_files, 2);
	assert_true(info->sources[0].files[0].has_mode);
	assert_int_equal(info->sources[0].files[0].mode, 0600);
	assert_false(info->sources[0].files[1].has_mode);
	assert_string_equal(info->sources[0].files[1].field_path, "metadata.name");
	assert_string_equal(info->sources[0].field, "spec.volumes[0].downwardAPI");
	assert_int_equal(all->kind, PP_VOLUME_PROJECTED);
	assert_int_equal(all->default_mode, PP_PROJECTED_DEFAULT_MODE);
	assert_int_equal(all->n_sources, 3);
	assert_int_equal(all->sources[0].kind, PP_PROJECTION_DOWNWARD_API);
	assert_string_equal(all->sources[0].files[0].container_name, "c");
	assert_false(all->sources[0].files[0].divisor.set);
	assert_int_equal(all->sources[1].kind, PP_PROJECTION_CONFIG_MAP);
	assert_string_equal(all->sources[1].name, "cm");
	assert_true(all->sources[1].optional);
	assert_int_equal(all->sources[1].n_items, 1);
	assert_string_equal(all->sources[1].items[0].key, "k.conf");
	assert_int_equal(all->sources[1].items[0].mode, 0400);
	assert_string_equal(all->sources[1].field,
			    "spec.volumes[1].projected.sources[1].configMap");
	assert_int_equal(all->sources[2].kind, PP_PROJECTION_SECRET);
	assert_int_equal(all->sources[2].n_items, 0);
	pp_pod_free(pod);
}

/* Which volumes an object's change rewrites (supervisor/objwatch.c). */
static void test_uses_object(void **state)
{
	(void)state;
	struct pp_pod *pod = parse();
	const struct pp_volume *info = &pod->volumes[0], *all = &pod->volumes[1];
	assert_true(pp_volume_uses_object(all, false, "cm"));
	assert_true(pp_volume_uses_object(all, true, "s"));
	/* the kinds apart: a Secret called cm is not the ConfigMap */
	assert_false(pp_volume_uses_object(all, true, "cm"));
	assert_false(pp_volume_uses_object(all, false, "s"));
	assert_false(pp_volume_uses_object(all, false, "c"));
	assert_false(pp_volume_uses_object(info, false, "cm"));
	pp_pod_free(pod);
}

static char *field(const struct pp_pod_instance *pi, const char *path)
{
	char *out = NULL;
	struct pp_error *err = NULL;
	if (pp_pod_field_ref_value(pi, path, &out, &err) < 0)
		fail_msg("%s", err->msg);
	return out;
}

static void test_field_values(void **state)
{
	(void)state;
	struct pp_pod *pod = parse();
	struct pp_pod_instance pi = {.spec = pod, .uid = "uid-1"};
	cleanup_free char *labels = field(&pi, "metadata.labels");
	/* lines sorted bytewise (kubelet's sortLines): "a.b=" before "a=" */
	assert_string_equal(labels, "a.b=\"dotted\"\na=\"plain\"\nzone=\"z1\"");
	cleanup_free char *ann = field(&pi, "metadata.annotations");
	assert_string_equal(ann, "note=\"tab\\there \\\"q\\\" back\\\\slash\\nnl \xc3\xa9 \\u0085 "
				 "bell\\a\"");
	cleanup_free char *one = field(&pi, "metadata.labels['zone']");
	assert_string_equal(one, "z1");
	cleanup_free char *none = field(&pi, "metadata.labels['missing']");
	assert_string_equal(none, "");
	cleanup_free char *uid = field(&pi, "metadata.uid");
	assert_string_equal(uid, "uid-1");
	cleanup_free char *ns = field(&pi, "metadata.namespace");
	assert_string_equal(ns, "default");
	char *out = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_pod_field_ref_value(&pi, "metadata.labels['x'", &out, &err), -1);
	pp_error_free(&err);
	pp_pod_free(pod);
}

static char *resource(const struct pp_pod_instance *pi, const char *res, const char *divisor)
{
	struct pp_quantity d = {0};
	if (divisor)
		assert_int_equal(pp_quantity_parse(divisor, &d, NULL), 0);
	char *out = NULL;
	struct pp_error *err = NULL;
	if (pp_pod_resource_ref_value(pi, "c", res, divisor ? &d : NULL, &out, &err) < 0)
		fail_msg("%s", err->msg);
	free(d.text);
	return out;
}

static void test_resource_values(void **state)
{
	(void)state;
	struct pp_pod *pod = parse();
	struct pp_pod_instance pi = {.spec = pod, .uid = "u"};
	static const char *const cases[][3] = {
	    {"limits.cpu", NULL, "2"}, /* 1.5 rounded up */
	    {"limits.cpu", "1m", "1500"},
	    {"requests.cpu", "1", "1"},
	    {"requests.cpu", "1m", "250"},
	    {"limits.memory", NULL, "104857600"},
	    {"limits.memory", "1Mi", "100"},
	    {"limits.memory", "1M", "105"},
	    {"requests.memory", "1Ki", "1"},
	    {"requests.memory", "1k", "1"},
	    {"limits.hugepages-2Mi", "1Mi", "4"},
	    {"requests.ephemeral-storage", NULL, "0"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *got = resource(&pi, cases[i][0], cases[i][1]);
		if (strcmp(got, cases[i][2]) != 0)
			fail_msg("%s / %s: got %s, want %s", cases[i][0],
				 cases[i][1] ? cases[i][1] : "(none)", got, cases[i][2]);
	}
	/* no ephemeral-storage limit: the node's capacity */
	cleanup_free char *eph = resource(&pi, "limits.ephemeral-storage", NULL);
	assert_true(strtoll(eph, NULL, 10) > 0);
	char *out = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_pod_resource_ref_value(&pi, "nope", "limits.cpu", NULL, &out, &err),
			 -1);
	assert_non_null(strstr(err->msg, "container \"nope\" not found"));
	pp_error_free(&err);
	pp_pod_free(pod);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parsed),
	    cmocka_unit_test(test_uses_object),
	    cmocka_unit_test(test_field_values),
	    cmocka_unit_test(test_resource_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
