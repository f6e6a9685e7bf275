/* Credentials files (auth.json, docker's config.json) and docker's
 * credential helpers; see credentials.h. */
#include "pull/credentials.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <json.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

extern char **environ;

/* The name of Docker Hub's registry in credentials keys */
#define HUB_KEY_HOST "index.docker.io"

static const char *hub_normalized(const char *host)
{
	return strcmp(host, "docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0
		   ? HUB_KEY_HOST
		   : host;
}

/* A key's registry, as containers-auth.json(5) compares the legacy forms:
 * scheme and path cut, Docker Hub's names as one. */
static char *key_registry(const char *key)
{
	const char *s = key;
	bool scheme = false;
	if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) {
		s = strstr(s, "://") + 3;
		scheme = true;
	}
	char *r = xstrdup(s);
	if (scheme)
		r[strcspn(r, "/")] = '\0';
	char *n = xstrdup(hub_normalized(r));
	free(r);
	return n;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 (padding optional); NULL when malformed. */
static char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s);
	char *out = xmalloc(n / 4 * 3 + 4);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t i = 0;
	for (; i < n && s[i] != '='; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	for (; i < n; i++)
		if (s[i] != '=') {
			free(out);
			return NULL;
		}
	out[o] = '\0';
	*len = o;
	return out;
}

/* A helper's or a file's user and password, checked for what a header can
 * carry. */
static int set_pair(const char *what, const char *u, size_t ul, const char *p, size_t pl,
		    char **user, char **password, struct pp_error **err)
{
	if (ul == 0 || memchr(u, '\0', ul) || memchr(p, '\0', pl) || memchr(u, ':', ul))
		return pp_error_set(err, 0, "%s: not a user name and password", what);
	*user = strndup(u, ul);
	*password = strndup(p, pl);
	if (*user == NULL || *password == NULL)
		abort();
	return 1;
}

/* An "auths" entry: 1 with the pair, 0 when it has none (docker's empty
 * entries beside a credsStore). */
static int auth_entry(const char *file, const char *key, struct json_object *entry, char **user,
		      char **password, struct pp_error **err)
{
	struct json_object *auth = NULL, *token = NULL;
	if (!json_object_is_type(entry, json_type_object))
		return pp_error_set(err, 0, "%s: auths.\"%s\": not an object", file, key);
	json_object_object_get_ex(entry, "identitytoken", &token);
	if (json_object_object_get_ex(entry, "auth", &auth) &&
	    !json_object_is_type(auth, json_type_string))
		return pp_error_set(err, 0, "%s: auths.\"%s\".auth: not a string", file, key);
	const char *a = auth ? json_object_get_string(auth) : "";
	if (*a == '\0' && token && json_object_get_string_len(token) > 0)
		return pp_error_set(err, ENOTSUP,
				    "%s: auths.\"%s\": identity tokens (OAuth2 refresh tokens) are "
				    "not supported: log in with a password or use --creds",
				    file, key);
	if (*a == '\0')
		return 0;
	size_t len;
	cleanup_free char *pair = b64_decode(a, &len);
	char *colon = pair ? memchr(pair, ':', len) : NULL;
	if (colon == NULL)
		return pp_error_set(err, 0, "%s: auths.\"%s\".auth: not base64 of user:password",
				    file, key);
	cleanup_free char *what = xasprintf("%s: auths.\"%s\".auth", file, key);
	return set_pair(what, pair, (size_t)(colon - pair), colon + 1,
			len - (size_t)(colon - pair) - 1, user, password, err);
}

/* Most specific first: host/a/b/repo, host/a/b, host/a, host; then the
 * keys written with a scheme or another name of the same registry. */
static int from_auths(const char *file, struct json_object *auths,
		      const struct pp_credentials_query *q, char **user, char **password,
		      struct pp_error **err)
{
	if (!json_object_is_type(auths, json_type_object))
		return pp_error_set(err, 0, "%s: auths: not an object", file);
	cleanup_free char *key = q->repo ? xasprintf("%s/%s", q->host, q->repo) : xstrdup(q->host);
	for (;;) {
		struct json_object *e;
		if (json_object_object_get_ex(auths, key, &e))
			return auth_entry(file, key, e, user, password, err);
		char *slash = strrchr(key, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
	const char *want = hub_normalized(q->host);
	json_object_object_foreach(auths, k, v)
	{
		cleanup_free char *reg = key_registry(k);
		if (strcasecmp(reg, want) == 0)
			return auth_entry(file, k, v, user, password, err);
	}
	return 0;
}

/* ---- credential helpers ---- */

static int read_all(int fd, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	char buf[4096];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		if (*len + (size_t)r > PP_CREDENTIALS_HELPER_OUTPUT_MAX)
			return -1;
		*out = xrealloc(*out, *len + (size_t)r + 1);
		memcpy(*out + *len, buf, (size_t)r);
		*len += (size_t)r;
		(*out)[*len] = '\0';
	}
}

/* Runs `docker-credential-NAME get` with server on stdin. *out: its stdout;
 * returns its exit status, -1 with err when it could not run. */
static int run_helper(const char *prog, const char *server, char **out, size_t *len,
		      struct pp_error **err)
{
	int in[2], outp[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return pp_error_set(err, errno, "pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {(char *)prog, (char *)"get", NULL};
	pid_t pid;
	int r = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	if (r != 0) {
		close(in[1]);
		close(outp[0]);
		return pp_error_set(err, r, "%s", prog);
	}
	/* a few bytes: the pipe holds them whether the helper reads or not */
	ssize_t w = write(in[1], server, strlen(server));
	(void)w;
	close(in[1]);
	int rr = read_all(outp[0], out, len);
	close(outp[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rr < 0) {
		free(*out);
		*out = NULL;
		return pp_error_set(err, EFBIG, "%s: more than %d bytes of output or a read error",
				    prog, PP_CREDENTIALS_HELPER_OUTPUT_MAX);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int from_helper(const char *file, const char *name, const struct pp_credentials_query *q,
		       char **user, char **password, struct pp_error **err)
{
	if (*name == '\0' || strpbrk(name, "/ \t\n") || name[0] == '.')
		return pp_error_set(err, 0, "%s: credential helper \"%s\": not a name", file, name);
	cleanup_free char *prog = xasprintf("docker-credential-%s", name);
	/* docker keeps Docker Hub under its v1 URL */
	const char *server = strcmp(hub_normalized(q->host), HUB_KEY_HOST) == 0
				 ? PP_CREDENTIALS_DOCKER_HUB_KEY
				 : q->host;
	cleanup_free char *out = NULL;
	size_t len = 0;
	int st = run_helper(prog, server, &out, &len, err);
	if (st < 0)
		return pp_error_wrap(err, "%s: credential helper", file);
	if (st != 0 && out && strstr(out, "credentials not found"))
		return 0;
	if (st != 0)
		return pp_error_set(err, EACCES,
				    "%s: credential helper %s get %s: exit status %d%s%.200s", file,
				    prog, server, st, out ? ": " : "", out ? out : "");
	struct json_object *j = json_tokener_parse(out ? out : "");
	struct json_object *u = NULL, *s = NULL;
	int r;
	if (!json_object_object_get_ex(j, "Username", &u) ||
	    !json_object_object_get_ex(j, "Secret", &s) ||
	    !json_object_is_type(u, json_type_string) || !json_object_is_type(s, json_type_string))
		r = pp_error_set(err, 0, "%s: %s get %s: not {\"Username\", \"Secret\"} JSON", file,
				 prog, server);
	else if (strcmp(json_object_get_string(u), "<token>") == 0)
		r = pp_error_set(err, ENOTSUP,
				 "%s: %s get %s: an identity token, which is not supported", file,
				 prog, server);
	else {
		cleanup_free char *what = xasprintf("%s: %s get %s", file, prog, server);
		r = set_pair(what, json_object_get_string(u), (size_t)json_object_get_string_len(u),
			     json_object_get_string(s), (size_t)json_object_get_string_len(s), user,
			     password, err);
	}
	json_object_put(j);
	return r;
}

/* ---- files ---- */

int pp_credentials_parse(const char *data, size_t len, const char *file,
			 const struct pp_credentials_query *q, char **user, char **password,
			 struct pp_error **err)
{
	*user = *password = NULL;
	struct json_object *root = NULL;
	int r = 0;
	if (len > PP_CREDENTIALS_FILE_MAX)
		return pp_error_set(err, EFBIG, "%s: larger than %d bytes", file,
				    PP_CREDENTIALS_FILE_MAX);
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		abort();
	root = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (used < len && strchr(" \t\r\n", data[used]) && data[used] != '\0')
		used++;
	if (root == NULL || je != json_tokener_success)
		r = pp_error_set(err, 0, "%s: not JSON: %s", file, json_tokener_error_desc(je));
	else if (used != len)
		r = pp_error_set(err, 0, "%s: not JSON: more after the value", file);
	if (r == 0 && !json_object_is_type(root, json_type_object))
		r = pp_error_set(err, 0, "%s: not a JSON object", file);
	struct json_object *helpers = NULL, *auths = NULL, *store = NULL, *h = NULL;
	if (r == 0 && json_object_object_get_ex(root, "credHelpers", &helpers)) {
		if (!json_object_is_type(helpers, json_type_object))
			r = pp_error_set(err, 0, "%s: credHelpers: not an object", file);
		else if (json_object_object_get_ex(helpers, q->host, &h) ||
			 (strcmp(hub_normalized(q->host), HUB_KEY_HOST) == 0 &&
			  json_object_object_get_ex(helpers, PP_CREDENTIALS_DOCKER_HUB_KEY, &h))) {
			r = json_object_is_type(h, json_type_string)
				? from_helper(file, json_object_get_string(h), q, user, password,
					      err)
				: pp_error_set(err, 0, "%s: credHelpers.\"%s\": not a string", file,
					       q->host);
			json_object_put(root);
			return r;
		}
	}
	if (r == 0 && json_object_object_get_ex(root, "auths", &auths))
		r = from_auths(file, auths, q, user, password, err);
	if (r == 0 && json_object_object_get_ex(root, "credsStore", &store)) {
		if (!json_object_is_type(store, json_type_string))
			r = pp_error_set(err, 0, "%s: credsStore: not a string", file);
		else if (json_object_get_string_len(store) > 0)
			r = from_helper(file, json_object_get_string(store), q, user, password,
					err);
	}
	json_object_put(root);
	return r;
}

static int from_file(const char *path, bool must_exist, const struct pp_credentials_query *q,
		     char **user, char **password, struct pp_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (pp_read_file(path, PP_CREDENTIALS_FILE_MAX, &data, &len, err) < 0) {
		if ((*err)->status == ENOENT && !must_exist) {
			pp_error_free(err);
			return 0;
		}
		return -1;
	}
	return pp_credentials_parse(data, len, path, q, user, password, err);
}

static char *env_path(const char *var, const char *rest)
{
	const char *v = getenv(var);
	return v && *v ? xasprintf("%s/%s", v, rest) : NULL;
}

int pp_credentials_lookup(const struct pp_credentials_query *q, char **user, char **password,
			  struct pp_error **err)
{
	*user = *password = NULL;
	if (q->authfile)
		return from_file(q->authfile, true, q, user, password, err);
	const char *env_file = getenv("REGISTRY_AUTH_FILE");
	if (env_file && *env_file)
		return from_file(env_file, true, q, user, password, err);
	char *paths[4] = {0};
	paths[0] = env_path("XDG_RUNTIME_DIR", "containers/auth.json");
	if (paths[0] == NULL)
		paths[0] = xasprintf("/run/containers/%u/auth.json", (unsigned)getuid());
	paths[1] = env_path("HOME", ".config/containers/auth.json");
	paths[2] = env_path("DOCKER_CONFIG", "config.json");
	if (paths[2] == NULL)
		paths[2] = env_path("HOME", ".docker/config.json");
	int r = 0;
	for (size_t i = 0; i < 4; i++) {
		if (r == 0 && paths[i])
			r = from_file(paths[i], false, q, user, password, err);
		free(paths[i]);
	}
	return r;
}

/* ---- kubelet's keyring ---- */

/* "https://host/v1/" -> "host"; "host/a//b/" -> "host/a/b". */
static char *keyring_key(const char *loc)
{
	const char *s = loc;
	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	size_t hl = strcspn(s, "/");
	const char *path = s + hl;
	if (strncmp(path, "/v1/", 4) == 0 || strncmp(path, "/v2/", 4) == 0)
		path += 3;
	/* path.Clean of an absolute path: no empty, "." or ".." parts */
	char *out = xmalloc(hl + strlen(path) + 2);
	memcpy(out, s, hl);
	size_t o = hl;
	cleanup_free char *copy = xstrdup(path);
	char *save = NULL;
	for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			while (o > hl && out[o - 1] != '/')
				o--;
			if (o > hl)
				o--;
			continue;
		}
		out[o++] = '/';
		size_t pl = strlen(part);
		memcpy(out + o, part, pl);
		o += pl;
	}
	out[o] = '\0';
	return out;
}

/* An entry's pair: "auth" wins over "username" and "password" (as
 * kubelet's DockerConfigEntry). 0 when it has none. */
static int keyring_entry(const char *what, const char *key, struct json_object *entry, char **user,
			 char **password, struct pp_error **err)
{
	struct json_object *auth = NULL, *u = NULL, *pw = NULL;
	if (json_object_is_type(entry, json_type_object) &&
	    (!json_object_object_get_ex(entry, "auth", &auth) ||
	     json_object_get_string_len(auth) == 0) &&
	    json_object_object_get_ex(entry, "username", &u)) {
		json_object_object_get_ex(entry, "password", &pw);
		if (!json_object_is_type(u, json_type_string) ||
		    (pw && !json_object_is_type(pw, json_type_string)))
			return pp_error_set(err, 0, "%s: \"%s\": username or password not a string",
					    what, key);
		cleanup_free char *w = xasprintf("%s: \"%s\"", what, key);
		const char *ps = pw ? json_object_get_string(pw) : "";
		return set_pair(w, json_object_get_string(u), (size_t)json_object_get_string_len(u),
				ps, strlen(ps), user, password, err);
	}
	return auth_entry(what, key, entry, user, password, err);
}

int pp_keyring_add(struct pp_keyring *kr, const char *data, size_t len, bool bare, const char *what,
		   struct pp_error **err)
{
	if (len > PP_CREDENTIALS_FILE_MAX)
		return pp_error_set(err, EFBIG, "%s: larger than %d bytes", what,
				    PP_CREDENTIALS_FILE_MAX);
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		abort();
	struct json_object *root = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	struct json_object *auths = root;
	int r = 0;
	if (root == NULL || je != json_tokener_success)
		r = pp_error_set(err, 0, "%s: not JSON: %s", what, json_tokener_error_desc(je));
	else if (!bare && (!json_object_is_type(root, json_type_object) ||
			   !json_object_object_get_ex(root, "auths", &auths)))
		r = pp_error_set(err, 0, "%s: no \"auths\" object", what);
	else if (!json_object_is_type(auths, json_type_object))
		r = pp_error_set(err, 0, "%s: not an object of registries", what);
	if (r < 0) {
		json_object_put(root);
		return -1;
	}
	json_object_object_foreach(auths, k, v)
	{
		char *user = NULL, *password = NULL;
		r = keyring_entry(what, k, v, &user, &password, err);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		kr->creds = xrealloc(kr->creds, (kr->n + 1) * sizeof(*kr->creds));
		kr->creds[kr->n++] = (struct pp_credential){
		    .key = keyring_key(k), .user = user, .password = password};
		r = 0;
	}
	json_object_put(root);
	return r < 0 ? -1 : 0;
}

/* kubelet's URLsMatch of a key against an image, both schemeless. */
static bool keyring_match(const char *key, const char *image)
{
	size_t kh = strcspn(key, "/"), ih = strcspn(image, "/");
	cleanup_free char *khost = strndup(key, kh), *ihost = strndup(image, ih);
	if (khost == NULL || ihost == NULL)
		abort();
	char *kport = strrchr(khost, ':'), *iport = strrchr(ihost, ':');
	if (strcmp(kport ? kport : "", iport ? iport : "") != 0)
		return false;
	if (kport)
		*kport = '\0';
	if (iport)
		*iport = '\0';
	char *ks = NULL, *is = NULL;
	char *kp = strtok_r(khost, ".", &ks), *ip = strtok_r(ihost, ".", &is);
	for (; kp && ip; kp = strtok_r(NULL, ".", &ks), ip = strtok_r(NULL, ".", &is))
		if (fnmatch(kp, ip, 0) != 0)
			return false;
	if (kp || ip)
		return false;
	return strncmp(image + ih, key + kh, strlen(key + kh)) == 0;
}

/* kubelet's isDefaultRegistryMatch */
static bool keyring_is_hub(const char *image)
{
	size_t h = strcspn(image, "/");
	if (h == 0)
		return false;
	if (image[h] == '\0')
		return true;
	if (strncmp(image, "docker.io/", 10) == 0 || strncmp(image, "index.docker.io/", 16) == 0)
		return true;
	return memchr(image, '.', h) == NULL && memchr(image, ':', h) == NULL;
}

static int keyring_cmp(const void *a, const void *b)
{
	const struct pp_credential *x = *(const struct pp_credential *const *)a;
	const struct pp_credential *y = *(const struct pp_credential *const *)b;
	int c = strcmp(y->key, x->key); /* reverse */
	/* stable: the order added */
	return c ? c : (x < y ? -1 : x > y);
}

void pp_keyring_lookup(const struct pp_keyring *kr, const char *image,
		       const struct pp_credential ***out, size_t *n)
{
	*out = xmalloc((kr->n + 1) * sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < kr->n; i++)
		if (keyring_match(kr->creds[i].key, image))
			(*out)[(*n)++] = &kr->creds[i];
	if (*n == 0 && keyring_is_hub(image))
		for (size_t i = 0; i < kr->n; i++)
			if (strcmp(kr->creds[i].key, HUB_KEY_HOST) == 0)
				(*out)[(*n)++] = &kr->creds[i];
	qsort(*out, *n, sizeof(**out), keyring_cmp);
}

void pp_keyring_clear(struct pp_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++) {
		free(kr->creds[i].key);
		free(kr->creds[i].user);
		if (kr->creds[i].password)
			explicit_bzero(kr->creds[i].password, strlen(kr->creds[i].password));
		free(kr->creds[i].password);
	}
	free(kr->creds);
	*kr = (struct pp_keyring){0};
}
