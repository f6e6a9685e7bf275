/* The container process as Kubernetes composes it: command/args against the
 * image's Entrypoint/Cmd, env layering and $(VAR) expansion, fieldRef. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pod/pod.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

struct fixture {
	struct pp_pod_instance pod;
	struct pp_pod_container ctr;
	struct pp_image image;
};

static char *entrypoint[] = {"/bin/entry", NULL};
static char *cmd[] = {"default", "cmd", NULL};
static char *image_env[] = {"PATH=/image/bin", "FROM_IMAGE=1", "OVERRIDE=image", NULL};

/* Parses a pod whose only container has the given YAML lines. */
static void setup_pod(struct fixture *f, const char *container_yaml)
{
	cleanup_free char *doc =
	    xasprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team\n"
		      "  labels: {tier: front}\nspec:\n  containers:\n  - name: c\n"
		      "    image: busybox\n%s",
		      container_yaml);
	struct pp_pod *spec = NULL;
	struct pp_error *err = NULL;
	int r = pp_spec_parse_buffer("test.yaml", doc, strlen(doc), &spec, &err);
	if (r < 0)
		fail_msg("parse: %s", err->msg);
	memset(f, 0, sizeof(*f));
	f->pod.spec = spec;
	f->pod.uid = "1234";
	f->image.config.entrypoint = entrypoint;
	f->image.config.cmd = cmd;
	f->image.config.env = image_env;
	f->ctr.spec = &spec->containers[0];
	f->ctr.image = &f->image;
}

static void argv_is(struct fixture *f, const char *const *want)
{
	char **argv = NULL;
	assert_int_equal(pp_pod_container_argv(&f->pod, &f->ctr, &argv, NULL), 0);
	size_t i = 0;
	for (; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	strv_free(argv);
	pp_pod_free(f->pod.spec);
}

static void test_image_defaults(void **state)
{
	struct fixture f;
	setup_pod(&f, "");
	argv_is(&f, (const char *[]){"/bin/entry", "default", "cmd", NULL});
}

static void test_command_drops_image_cmd(void **state)
{
	struct fixture f;
	setup_pod(&f, "    command: [\"/bin/sh\"]\n");
	argv_is(&f, (const char *[]){"/bin/sh", NULL});
}

static void test_args_keep_entrypoint(void **state)
{
	struct fixture f;
	setup_pod(&f, "    args: [\"x\", \"y\"]\n");
	argv_is(&f, (const char *[]){"/bin/entry", "x", "y", NULL});
}

static void test_expansion(void **state)
{
	struct fixture f;
	setup_pod(
	    &f,
	    "    command: [\"echo\", \"$(A)-$(B)\", \"$$(A)\", \"$(MISSING)\", \"$(FROM_IMAGE)\"]\n"
	    "    env:\n    - {name: A, value: one}\n    - {name: B, value: \"$(A)two\"}\n");
	argv_is(&f, (const char *[]){"echo", "one-onetwo", "$(A)", "$(MISSING)", "$(FROM_IMAGE)",
				     NULL});
}

static const char *env_get(char **env, const char *name)
{
	size_t len = strlen(name);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static void test_env_layers(void **state)
{
	struct fixture f;
	setup_pod(&f,
		  "    env:\n    - {name: OVERRIDE, value: manifest}\n"
		  "    - {name: LATER, value: \"$(OVERRIDE)/$(FROM_IMAGE)\"}\n"
		  "    - name: POD\n      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
		  "    - name: NS\n      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}\n"
		  "    - name: TIER\n      valueFrom: {fieldRef: {fieldPath: "
		  "\"metadata.labels['tier']\"}}\n"
		  "    - name: UID\n      valueFrom: {fieldRef: {fieldPath: metadata.uid}}\n");
	char **env = NULL;
	assert_int_equal(pp_pod_container_env(&f.pod, &f.ctr, &env, NULL), 0);
	assert_string_equal(env_get(env, "PATH"), "/image/bin");
	assert_string_equal(env_get(env, "FROM_IMAGE"), "1");
	assert_string_equal(env_get(env, "OVERRIDE"), "manifest");
	/* kubelet expands against the manifest's earlier vars only, not the image's. */
	assert_string_equal(env_get(env, "LATER"), "manifest/$(FROM_IMAGE)");
	assert_string_equal(env_get(env, "HOSTNAME"), "web");
	assert_string_equal(env_get(env, "POD"), "web");
	assert_string_equal(env_get(env, "NS"), "team");
	assert_string_equal(env_get(env, "TIER"), "front");
	assert_string_equal(env_get(env, "UID"), "1234");
	strv_free(env);
	pp_pod_free(f.pod.spec);
}

static void test_default_path(void **state)
{
	struct fixture f;
	setup_pod(&f, "");
	f.image.config.env = NULL;
	char **env = NULL;
	assert_int_equal(pp_pod_container_env(&f.pod, &f.ctr, &env, NULL), 0);
	assert_string_equal(env_get(env, "PATH"),
			    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	strv_free(env);
	pp_pod_free(f.pod.spec);
}

static void test_no_command_at_all(void **state)
{
	struct fixture f;
	setup_pod(&f, "");
	f.image.config.entrypoint = NULL;
	f.image.config.cmd = NULL;
	char **argv = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_pod_container_argv(&f.pod, &f.ctr, &argv, &err), -1);
	assert_non_null(strstr(err->msg, "container \"c\": no command specified"));
	pp_error_free(&err);
	pp_pod_free(f.pod.spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_defaults),
	    cmocka_unit_test(test_command_drops_image_cmd),
	    cmocka_unit_test(test_args_keep_entrypoint),
	    cmocka_unit_test(test_expansion),
	    cmocka_unit_test(test_env_layers),
	    cmocka_unit_test(test_default_path),
	    cmocka_unit_test(test_no_command_at_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
