/* The registry client object and its authentication: credentials (a
 * callback, or static ones for one host), Bearer tokens got from the
 * challenge's realm and cached per host and repository until they expire,
 * and Basic credentials for hosts that ask for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image/auth_challenge.h"
#include "registry/internal.h"
#include "registry/response.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/settings.h"

/* A token is dropped this long before the server's expiry, so that it does
 * not expire on the way. */
#define TOKEN_EXPIRY_MARGIN_MS 5000

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A default time limit, shortened by the test builds' PEAPOD_TEST_TIME_SCALE
 * (1 in peapod) down to 5 s at least: a stalled registry's test waits
 * seconds, not a minute, and a loaded machine's local pulls still fit. */
static unsigned scaled(unsigned s)
{
	unsigned v = (unsigned)(s * pp_settings()->test_time_scale);
	return v >= 5 || v >= s ? v : 5;
}

int pp_registry_client_new(const struct pp_registry_options *opts, struct pp_registry_client **out,
			   struct pp_error **err)
{
	static const struct pp_registry_options none;
	const struct pp_registry_options *o = opts ? opts : &none;
	if ((o->username != NULL) != (o->password != NULL) ||
	    (o->username != NULL && o->static_host == NULL))
		return pp_error_set(err, EINVAL,
				    "registry client: a username needs a password and a host");
	struct pp_registry_client *c = xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->user_agent = xstrdup(o->user_agent ? o->user_agent : PP_REGISTRY_USER_AGENT);
	size_t n = 0;
	while (o->insecure_hosts && o->insecure_hosts[n])
		n++;
	c->insecure_hosts = xmalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		c->insecure_hosts[i] = xstrdup(o->insecure_hosts[i]);
	c->insecure_hosts[n] = NULL;
	c->ca_file = dup_or_null(o->ca_file);
	c->ca_dir = dup_or_null(o->ca_dir);
	if (o->ca_pem) {
		c->ca_pem = xmalloc(o->ca_pem_len + 1);
		memcpy(c->ca_pem, o->ca_pem, o->ca_pem_len);
		c->ca_pem_len = o->ca_pem_len;
	}
	c->credentials = o->credentials;
	c->credentials_ctx = o->credentials_ctx;
	c->static_host = dup_or_null(o->static_host);
	c->username = dup_or_null(o->username);
	c->password = dup_or_null(o->password);
	c->connect_timeout_s = o->connect_timeout_s ?: PP_REGISTRY_CONNECT_TIMEOUT_S;
	c->stall_timeout_s = o->stall_timeout_s ?: scaled(PP_REGISTRY_STALL_TIMEOUT_S);
	c->request_timeout_s = o->request_timeout_s ?: scaled(PP_REGISTRY_REQUEST_TIMEOUT_S);
	c->retry_time_limit_s = o->retry_time_limit_s ?: scaled(PP_REGISTRY_RETRY_TIME_LIMIT_S);
	c->backoff_initial_ms = o->backoff_initial_ms ?: PP_REGISTRY_BACKOFF_INITIAL_MS;
	*out = c;
	return 0;
}

struct pp_registry_client *pp_registry_client_clone(const struct pp_registry_client *c)
{
	struct pp_registry_client *n = xmalloc(sizeof(*n));
	*n = *c;
	n->api = NULL;
	n->curl = NULL;
	n->user_agent = xstrdup(c->user_agent);
	size_t k = 0;
	while (c->insecure_hosts[k])
		k++;
	n->insecure_hosts = xmalloc((k + 1) * sizeof(char *));
	for (size_t i = 0; i <= k; i++)
		n->insecure_hosts[i] = c->insecure_hosts[i] ? xstrdup(c->insecure_hosts[i]) : NULL;
	n->ca_file = dup_or_null(c->ca_file);
	n->ca_dir = dup_or_null(c->ca_dir);
	if (c->ca_pem) {
		n->ca_pem = xmalloc(c->ca_pem_len + 1);
		memcpy(n->ca_pem, c->ca_pem, c->ca_pem_len);
	}
	n->static_host = dup_or_null(c->static_host);
	n->username = dup_or_null(c->username);
	n->password = dup_or_null(c->password);
	n->tokens = NULL;
	for (struct pp_registry_token **tail = &n->tokens, *t = c->tokens; t; t = t->next) {
		struct pp_registry_token *copy = xmalloc(sizeof(*copy));
		*copy = (struct pp_registry_token){NULL, xstrdup(t->host), xstrdup(t->repo),
						   xstrdup(t->token), t->expires_ms};
		*tail = copy;
		tail = &copy->next;
	}
	n->basic_hosts = NULL;
	for (struct pp_registry_basic_host **tail = &n->basic_hosts, *b = c->basic_hosts; b;
	     b = b->next) {
		struct pp_registry_basic_host *copy = xmalloc(sizeof(*copy));
		*copy = (struct pp_registry_basic_host){NULL, xstrdup(b->host)};
		*tail = copy;
		tail = &copy->next;
	}
	return n;
}

static void free_tokens(struct pp_registry_token *t)
{
	while (t) {
		struct pp_registry_token *next = t->next;
		free(t->host);
		free(t->repo);
		free(t->token);
		free(t);
		t = next;
	}
}

void pp_registry_client_free(struct pp_registry_client *c)
{
	if (c == NULL)
		return;
	if (c->curl)
		c->api->curl_easy_cleanup(c->curl);
	free(c->user_agent);
	strv_free(c->insecure_hosts);
	free(c->ca_file);
	free(c->ca_dir);
	free(c->ca_pem);
	free(c->static_host);
	free(c->username);
	free(c->password);
	free_tokens(c->tokens);
	for (struct pp_registry_basic_host *b = c->basic_hosts, *next; b; b = next) {
		next = b->next;
		free(b->host);
		free(b);
	}
	free(c);
}

/* "Basic <base64 user:password>" for host, or NULL when there are none. */
static int basic_header(struct pp_registry_op *op, char **out, struct pp_error **err)
{
	struct pp_registry_client *c = op->c;
	*out = NULL;
	cleanup_free char *user = NULL, *password = NULL;
	if (c->credentials) {
		struct pp_error *e = NULL;
		int r = c->credentials(c->credentials_ctx, op->host, &user, &password, &e);
		if (r < 0) {
			r = pp_registry_op_error(op, err, e ? e->status : 0, "credentials: %s",
						 e ? e->msg : "lookup failed");
			pp_error_free(&e);
			return r;
		}
		if (r == 0) {
			free(user);
			free(password);
			user = password = NULL;
		}
	}
	if (user == NULL && c->username && strcasecmp(c->static_host, op->host) == 0) {
		user = xstrdup(c->username);
		password = xstrdup(c->password);
	}
	if (user == NULL || password == NULL)
		return 0;
	if (strlen(user) + strlen(password) > PP_REGISTRY_SECRET_MAX || strchr(user, ':'))
		return pp_registry_op_error(op, err, EINVAL,
					    "credentials: a username with ':' or too long");
	cleanup_free char *pair = xasprintf("%s:%s", user, password);
	cleanup_free char *b64 = pp_registry_base64(pair, strlen(pair));
	*out = xasprintf("Basic %s", b64);
	return 0;
}

static struct pp_registry_token *find_token(struct pp_registry_client *c, const char *host,
					    const char *repo)
{
	int64_t now = pp_monotonic_ms();
	for (struct pp_registry_token **p = &c->tokens; *p;) {
		struct pp_registry_token *t = *p;
		if (t->expires_ms <= now) { /* expired: dropped on the way */
			*p = t->next;
			t->next = NULL;
			free_tokens(t);
			continue;
		}
		if (strcasecmp(t->host, host) == 0 && strcmp(t->repo, repo) == 0)
			return t;
		p = &t->next;
	}
	return NULL;
}

static bool basic_host(const struct pp_registry_client *c, const char *host)
{
	for (const struct pp_registry_basic_host *b = c->basic_hosts; b; b = b->next)
		if (strcasecmp(b->host, host) == 0)
			return true;
	return false;
}

int pp_registry_auth_header(struct pp_registry_op *op, char **out, struct pp_error **err)
{
	*out = NULL;
	struct pp_registry_token *t = find_token(op->c, op->host, op->repo);
	if (t) {
		*out = xasprintf("Bearer %s", t->token);
		return 0;
	}
	if (basic_host(op->c, op->host))
		return basic_header(op, out, err);
	return 0;
}

struct token_body {
	char *data;
	size_t len;
};

static int token_body(void *ctx, const struct pp_registry_response *resp, const void *data,
		      size_t len, struct pp_error **err)
{
	struct token_body *b = ctx;
	if (resp->body_bytes == 0)
		b->len = 0;
	if (b->len + len > PP_REGISTRY_SMALL_BODY_MAX)
		return pp_error_set(err, EFBIG, "token server's answer over %u bytes",
				    PP_REGISTRY_SMALL_BODY_MAX);
	b->data = xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/* realm?service=S&scope=A&scope=B, each value escaped. */
static char *token_url(const struct pp_curl_api *api, const struct pp_auth_bearer *b,
		       const char *default_scope)
{
	char *url = xstrdup(b->realm);
	char sep = strchr(url, '?') ? '&' : '?';
	const char *names[PP_AUTH_SCOPES_MAX + 2], *values[PP_AUTH_SCOPES_MAX + 2];
	size_t n = 0;
	if (b->service) {
		names[n] = "service";
		values[n++] = b->service;
	}
	for (size_t i = 0; i < b->n_scopes && n < PP_AUTH_SCOPES_MAX + 1; i++) {
		names[n] = "scope";
		values[n++] = b->scopes[i];
	}
	if (b->n_scopes == 0) {
		names[n] = "scope";
		values[n++] = default_scope;
	}
	for (size_t i = 0; i < n; i++) {
		char *e = api->curl_easy_escape(NULL, values[i], 0);
		if (e == NULL)
			abort();
		char *next = xasprintf("%s%c%s=%s", url, sep, names[i], e);
		api->curl_free(e);
		free(url);
		url = next;
		sep = '&';
	}
	return url;
}

/* Gets a token from the Bearer challenge's realm and caches it. */
static int bearer(struct pp_registry_op *op, const struct pp_auth_challenges *ch,
		  struct pp_error **err)
{
	struct pp_registry_client *c = op->c;
	struct pp_auth_bearer b;
	struct pp_error *e = NULL;
	if (pp_auth_bearer_get(ch, &b, &e) < 0) {
		int r = pp_registry_op_error(op, err, EACCES, "unauthorized: %s", e->msg);
		pp_error_free(&e);
		return r;
	}
	char origin[PP_REGISTRY_ORIGIN_MAX];
	if (pp_registry_url_origin(b.realm, origin) < 0) {
		pp_auth_bearer_free(&b);
		return pp_registry_op_error(op, err, EACCES,
					    "unauthorized: the token realm is no http(s) URL");
	}
	cleanup_free char *scope = xasprintf("repository:%s:pull", op->repo);
	cleanup_free char *url = token_url(c->api, &b, scope);
	pp_auth_bearer_free(&b);
	cleanup_free char *basic = NULL;
	if (basic_header(op, &basic, err) < 0)
		return -1;
	struct token_body body = {0};
	struct pp_registry_request req = {
	    .url = url,
	    .authorization = basic,
	    .timeout_s = c->request_timeout_s,
	    .body = token_body,
	    .ctx = &body,
	};
	struct pp_registry_response resp = {0};
	/* the same operation (its time limit), its errors naming the realm */
	cleanup_free char *what = xasprintf("%s: token from %s", op->what, origin);
	struct pp_registry_op token_op = *op;
	token_op.what = what;
	int r = pp_registry_perform(&token_op, &req, &resp, err);
	pp_registry_response_clear(&resp);
	if (r < 0) {
		free(body.data);
		return -1;
	}
	char *token;
	int64_t ttl;
	r = pp_registry_token_parse(body.data, body.len, &token, &ttl, &e);
	free(body.data);
	if (r < 0) {
		r = pp_registry_op_error(&token_op, err, EACCES, "unauthorized: %s", e->msg);
		pp_error_free(&e);
		return r;
	}
	struct pp_registry_token *t = find_token(c, op->host, op->repo);
	if (t == NULL) {
		t = xmalloc(sizeof(*t));
		t->host = xstrdup(op->host);
		t->repo = xstrdup(op->repo);
		t->next = c->tokens;
		c->tokens = t;
	} else
		free(t->token);
	t->token = token;
	int64_t life_ms = (ttl ? ttl : PP_REGISTRY_TOKEN_DEFAULT_TTL_S) * 1000;
	t->expires_ms =
	    pp_monotonic_ms() +
	    (life_ms > TOKEN_EXPIRY_MARGIN_MS * 2 ? life_ms - TOKEN_EXPIRY_MARGIN_MS : life_ms / 2);
	return 0;
}

int pp_registry_authenticate(struct pp_registry_op *op, const struct pp_registry_response *resp,
			     struct pp_error **err)
{
	if (resp->www_authenticate == NULL)
		return pp_registry_op_error(op, err, EACCES,
					    "unauthorized: HTTP 401 without a challenge");
	struct pp_auth_challenges ch;
	struct pp_error *e = NULL;
	if (pp_auth_challenges_parse(resp->www_authenticate, strlen(resp->www_authenticate), &ch,
				     &e) < 0) {
		int r = pp_registry_op_error(op, err, EACCES, "unauthorized: %s", e->msg);
		pp_error_free(&e);
		return r;
	}
	int r;
	if (pp_auth_challenge_find(&ch, "Bearer"))
		r = bearer(op, &ch, err);
	else if (pp_auth_challenge_find(&ch, "Basic")) {
		cleanup_free char *basic = NULL;
		r = basic_header(op, &basic, err);
		if (r == 0 && basic == NULL)
			r = pp_registry_op_error(op, err, EACCES,
						 "unauthorized: the registry asks for credentials, "
						 "and there are none for %s",
						 op->host);
		else if (r == 0 && !basic_host(op->c, op->host)) {
			struct pp_registry_basic_host *b = xmalloc(sizeof(*b));
			b->host = xstrdup(op->host);
			b->next = op->c->basic_hosts;
			op->c->basic_hosts = b;
		}
	} else
		r = pp_registry_op_error(op, err, EACCES,
					 "unauthorized: no Bearer or Basic challenge");
	pp_auth_challenges_free(&ch);
	return r;
}
