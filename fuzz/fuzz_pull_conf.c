/* libFuzzer entry for the files a pull reads from the user's host: the
 * TOML reader and registries.conf v2 over it (every input, then where a few
 * references would be pulled from), and the credentials files (auth.json,
 * ~/.docker/config.json). None may crash, hang or leak; what they accept
 * must hold together. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pull/credentials.h"
#include "pull/registries_conf.h"
#include "util/cleanup.h"
#include "util/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* No credential helper may run: a name the input makes up is looked up in
 * a PATH that has none. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("PATH", "/nonexistent-peapod-fuzz", 1);
	return 0;
}

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

static void fuzz_credentials(const char *s, size_t len)
{
	static const struct pp_credentials_query queries[] = {
	    {.host = "reg.io", .repo = "team/app"},
	    {.host = "docker.io", .repo = "library/busybox"},
	    {.host = "127.0.0.1:5000", .repo = NULL},
	};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		char *user = NULL, *password = NULL;
		struct pp_error *err = NULL;
		int r =
		    pp_credentials_parse(s, len, "auth.json", &queries[i], &user, &password, &err);
		if (r < 0) {
			if (err == NULL || user != NULL || password != NULL)
				abort();
			pp_error_free(&err);
		} else if (r == 1) {
			/* they go into a Basic header: user:password */
			if (user == NULL || password == NULL || user[0] == '\0' ||
			    strchr(user, ':'))
				abort();
		} else if (user != NULL || password != NULL)
			abort();
		free(user);
		free(password);
	}
}

/* A pod's imagePullSecrets: a Secret's .dockerconfigjson or .dockercfg
 * made kubelet's keyring, looked up for a few images. */
static void fuzz_keyring(const char *s, size_t len, bool bare)
{
	static const char *images[] = {"reg.io/team/app", "docker.io/library/busybox",
				       "127.0.0.1:5000/a", "x.y.z/a/b/c"};
	struct pp_keyring kr = {0};
	struct pp_error *err = NULL;
	if (pp_keyring_add(&kr, s, len, bare, "secret", &err) < 0) {
		if (err == NULL || strncmp(err->msg, "secret: ", 8) != 0)
			abort();
		pp_error_free(&err);
	}
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
		const struct pp_credential **c = NULL;
		size_t n = 0;
		pp_keyring_lookup(&kr, images[i], &c, &n);
		if (n > kr.n)
			abort();
		for (size_t j = 0; j < n; j++)
			if (c[j]->user == NULL || c[j]->password == NULL || c[j]->user[0] == '\0' ||
			    strchr(c[j]->user, ':') ||
			    (j > 0 && strcmp(c[j - 1]->key, c[j]->key) < 0))
				abort();
		free(c);
	}
	pp_keyring_clear(&kr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *s = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 5) {
	case 0:
		fuzz_toml(s, len);
		break;
	case 1:
		fuzz_registries_conf(s, len);
		break;
	case 2:
		fuzz_credentials(s, len);
		break;
	case 3:
	case 4:
		fuzz_keyring(s, len, data[0] % 5 == 4);
		break;
	default:
		break;
	}
	return 0;
}
