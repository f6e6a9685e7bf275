/* libFuzzer entry for the files a pull reads from the user's host: the
 * TOML reader and registries.conf v2 over it (every input, then where a few
 * references would be pulled from), and the credentials files (auth.json,
 * ~/.docker/config.json). None may crash, hang or leak; what they accept
 * must hold together. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pull/registries_conf.h"
#include "util/cleanup.h"
#include "util/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string of the tree is a C string as long as its bytes say. */
static void walk(const struct pp_toml_value *v, int depth)
{
	if (depth > PP_TOML_DEPTH_MAX + 20)
		abort();
	if (v->type == PP_TOML_STRING && v->str == NULL)
		abort();
	if (v->line < 1 || v->col < 1)
		abort();
	for (size_t i = 0; i < v->n; i++) {
		if (v->type == PP_TOML_TABLE && v->keys[i] == NULL)
			abort();
		walk(v->items[i], depth + 1);
	}
}

static void fuzz_toml(const char *s, size_t len)
{
	struct pp_toml_value *root = NULL;
	struct pp_error *err = NULL;
	if (pp_toml_parse(s, len, "f.toml", &root, &err) < 0) {
		if (err == NULL || root != NULL || strncmp(err->msg, "f.toml:", 7) != 0)
			abort();
		pp_error_free(&err);
		return;
	}
	walk(root, 0);
	pp_toml_free(root);
}

static void fuzz_registries_conf(const char *s, size_t len)
{
	static const char *refs[] = {
	    "busybox:1.36",
	    "docker.io/library/busybox@sha256:"
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    "a.io/x/y:1",
	    "reg.corp.example:5000/team/app:v1",
	};
	struct pp_registries_conf conf = {0};
	struct pp_error *err = NULL;
	if (pp_registries_conf_parse(s, len, "r.conf", &conf, &err) < 0) {
		if (err == NULL || conf.n != 0)
			abort();
		pp_error_free(&err);
		return;
	}
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		struct pp_image_ref ref = {0};
		if (pp_image_ref_parse(refs[i], &ref, &err) < 0)
			abort();
		struct pp_pull_endpoint *e = NULL;
		size_t n = 0;
		if (pp_registries_conf_endpoints(&conf, &ref, &e, &n, &err) == 0) {
			if (n == 0 || e[n - 1].mirror)
				abort(); /* the registry itself comes last */
			for (size_t j = 0; j < n; j++)
				if (e[j].host[0] == '\0' || e[j].repo[0] == '\0')
					abort();
			pp_pull_endpoints_free(e, n);
		} else
			pp_error_free(&err);
		pp_image_ref_free(&ref);
	}
	pp_registries_conf_clear(&conf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *s = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 2) {
	case 0:
		fuzz_toml(s, len);
		break;
	case 1:
		fuzz_registries_conf(s, len);
		break;
	default:
		break;
	}
	return 0;
}
