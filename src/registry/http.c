/* The registry client's HTTP exchanges: one request on libcurl's easy
 * handle, redirects followed here (so that the registry's Authorization
 * never reaches another origin, such as the S3 bucket a blob redirects
 * to), a 401 answered once, 429, 5xx and dropped connections retried with
 * back-off within the operation's time limit, and a blob's dropped transfer
 * resumed where it stopped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "registry/internal.h"
#include "registry/response.h"
#include "util/cleanup.h"
#include "util/clock.h"

/* Statuses a registry or its storage may answer while busy or restarting. */
static bool retryable_status(long s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Transfers cut short by the network (not a stall, not a refused connection:
 * those are errors at once). */
static bool dropped(CURLcode code)
{
	return code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
	       code == CURLE_GOT_NOTHING || code == CURLE_HTTP2 || code == CURLE_HTTP2_STREAM;
}

static bool is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

void pp_registry_response_clear(struct pp_registry_response *r)
{
	free(r->content_type);
	free(r->docker_digest);
	free(r->www_authenticate);
	free(r->retry_after);
	free(r->content_range);
	free(r->error_body);
	pp_error_free(&r->body_err);
	memset(r, 0, sizeof(*r));
}

int pp_registry_op_error(const struct pp_registry_op *op, struct pp_error **err, int errnum,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	return pp_error_set(err, errnum, "%s/%s: %s: %s", op->host, op->repo, op->what, msg);
}

const char *pp_registry_scheme(const struct pp_registry_client *c, const char *host)
{
	for (char **h = c->insecure_hosts; h && *h; h++)
		if (strcasecmp(*h, host) == 0)
			return "http";
	return "https";
}

/* ---- one response ---- */

struct hop_state {
	struct pp_registry_request *req;
	struct pp_registry_response *resp;
};

/* Replaces (or, for a repeated header, extends) *field with the value. */
static void keep_header(char **field, const char *value, size_t len, bool join)
{
	if (*field && join) {
		char *v = xasprintf("%s, %.*s", *field, (int)len, value);
		free(*field);
		*field = v;
		return;
	}
	free(*field);
	*field = xasprintf("%.*s", (int)len, value);
}

static size_t on_header(char *line, size_t size, size_t n, void *data)
{
	struct hop_state *st = data;
	struct pp_registry_response *r = st->resp;
	size_t len = size * n, total = len;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= strlen("HTTP/") && strncmp(line, "HTTP/", strlen("HTTP/")) == 0) {
		/* a new response (after a 100 Continue): forget the last one's */
		CURLcode code = r->code;
		pp_registry_response_clear(r);
		r->code = code;
		const char *sp = memchr(line, ' ', len);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return total;
	}
	const char *colon = memchr(line, ':', len);
	if (colon == NULL)
		return total;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	static const struct {
		const char *name;
		size_t off;
		bool join;
	} wanted[] = {
	    {"Content-Type", offsetof(struct pp_registry_response, content_type), false},
	    {"Docker-Content-Digest", offsetof(struct pp_registry_response, docker_digest), false},
	    {"WWW-Authenticate", offsetof(struct pp_registry_response, www_authenticate), true},
	    {"Retry-After", offsetof(struct pp_registry_response, retry_after), false},
	    {"Content-Range", offsetof(struct pp_registry_response, content_range), false},
	};
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (nlen == strlen(wanted[i].name) && strncasecmp(line, wanted[i].name, nlen) == 0)
			keep_header((char **)((char *)r + wanted[i].off), v, vlen, wanted[i].join);
	return total;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct hop_state *st = ctx;
	struct pp_registry_response *r = st->resp;
	size_t len = size * n;
	if (r->status < 200 || r->status > 299) {
		/* an error's or a redirect's body: the first bytes are enough */
		size_t room = PP_REGISTRY_SMALL_BODY_MAX - r->error_len;
		size_t take = len < room ? len : room;
		if (take > 0) {
			r->error_body = xrealloc(r->error_body, r->error_len + take + 1);
			memcpy(r->error_body + r->error_len, data, take);
			r->error_len += take;
			r->error_body[r->error_len] = '\0';
		}
		return len;
	}
	if (st->req->body == NULL || len == 0)
		return len;
	if (st->req->body(st->req->ctx, r, data, len, &r->body_err) < 0)
		return 0; /* CURLE_WRITE_ERROR: body_err says why */
	r->body_bytes += (int64_t)len;
	return len;
}

static struct curl_slist *add_header(const struct pp_curl_api *api, struct curl_slist *l,
				     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static struct curl_slist *add_header(const struct pp_curl_api *api, struct curl_slist *l,
				     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *h = NULL;
	if (vasprintf(&h, fmt, ap) < 0)
		abort();
	va_end(ap);
	struct curl_slist *n = api->curl_slist_append(l, h);
	if (n == NULL)
		abort(); /* libcurl's allocation failed: as xmalloc */
	return n;
}

/* One HTTP request and its response (no redirect followed). */
static void hop(struct pp_registry_client *c, struct pp_registry_request *req, const char *url,
		const char *authorization, struct pp_registry_response *resp)
{
	const struct pp_curl_api *api = c->api;
	CURL *h = c->curl;
	struct curl_slist *headers = NULL;
	if (req->accept)
		headers = add_header(api, headers, "Accept: %s", req->accept);
	if (authorization)
		headers = add_header(api, headers, "Authorization: %s", authorization);
	if (req->range_from > 0)
		headers =
		    add_header(api, headers, "Range: bytes=%lld-", (long long)req->range_from);
	struct hop_state st = {req, resp};
	api->curl_easy_reset(h);
	api->curl_easy_setopt(h, CURLOPT_URL, url);
	api->curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	api->curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	api->curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	api->curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	api->curl_easy_setopt(h, CURLOPT_NOBODY, req->head ? 1L : 0L);
	api->curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	api->curl_easy_setopt(h, CURLOPT_HEADERDATA, &st);
	api->curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	api->curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
	api->curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->curl_error);
	api->curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout_s);
	/* a stall: less than a byte a second for that long */
	api->curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	api->curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->stall_timeout_s);
	if (req->timeout_s > 0)
		api->curl_easy_setopt(h, CURLOPT_TIMEOUT, req->timeout_s);
	if (c->ca_file)
		api->curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_dir)
		api->curl_easy_setopt(h, CURLOPT_CAPATH, c->ca_dir);
	if (c->ca_pem) {
		/* libcurl then reads neither CAINFO nor its default bundle */
		struct curl_blob blob = {
		    .data = c->ca_pem, .len = c->ca_pem_len, .flags = CURL_BLOB_NOCOPY};
		api->curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	resp->curl_error[0] = '\0';
	resp->code = api->curl_easy_perform(h);
	if (resp->code != CURLE_OK && resp->curl_error[0] == '\0')
		snprintf(resp->curl_error, sizeof(resp->curl_error), "%s",
			 api->curl_easy_strerror(resp->code));
	api->curl_slist_free_all(headers);
}

/* One request, its redirects followed: the Authorization goes only to the
 * origin it was meant for. */
static int exchange(struct pp_registry_op *op, struct pp_registry_request *req,
		    const char *authorization, struct pp_registry_response *resp,
		    struct pp_error **err)
{
	char origin[PP_REGISTRY_ORIGIN_MAX], target[PP_REGISTRY_ORIGIN_MAX];
	if (pp_registry_url_origin(req->url, origin) < 0)
		return pp_registry_op_error(op, err, 0, "bad URL %s", req->url);
	cleanup_free char *url = xstrdup(req->url);
	for (int redirects = 0;; redirects++) {
		bool same = pp_registry_url_origin(url, target) == 0 && strcmp(origin, target) == 0;
		pp_registry_response_clear(resp);
		hop(op->c, req, url, same ? authorization : NULL, resp);
		if (resp->code != CURLE_OK || !is_redirect(resp->status))
			return 0;
		char *next = NULL;
		op->c->api->curl_easy_getinfo(op->c->curl, CURLINFO_REDIRECT_URL, &next);
		if (next == NULL)
			return pp_registry_op_error(op, err, 0, "HTTP %ld without a Location",
						    resp->status);
		if (pp_registry_url_origin(next, target) < 0)
			return pp_registry_op_error(op, err, 0, "redirected to a bad URL");
		if (redirects == PP_REGISTRY_REDIRECTS_MAX)
			return pp_registry_op_error(op, err, 0, "more than %d redirects",
						    PP_REGISTRY_REDIRECTS_MAX);
		free(url);
		url = xstrdup(next);
	}
}

/* ---- retries ---- */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * PP_NSEC_PER_MSEC};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* What a failed response says, for the error message. */
static int status_error(struct pp_registry_op *op, const struct pp_registry_response *resp,
			struct pp_error **err)
{
	cleanup_free char *text = pp_registry_errors_text(resp->error_body, resp->error_len);
	if (resp->status == 401) {
		if (text && strncmp(text, "unauthorized", strlen("unauthorized")) == 0)
			return pp_registry_op_error(op, err, EACCES, "%s", text);
		return pp_registry_op_error(op, err, EACCES, "unauthorized: %s",
					    text ? text : "authentication required");
	}
	if (text)
		return pp_registry_op_error(op, err, resp->status == 404 ? ENOENT : 0,
					    "%s (HTTP %ld)", text, resp->status);
	return pp_registry_op_error(op, err, resp->status == 404 ? ENOENT : 0, "HTTP %ld",
				    resp->status);
}

/* How long to wait before the next attempt: Retry-After, else the back-off. */
static int64_t wait_ms(const struct pp_registry_response *resp, int64_t backoff)
{
	int64_t s;
	if (resp->retry_after && pp_registry_retry_after(resp->retry_after, &s) == 0)
		return s * 1000;
	return backoff;
}

int pp_registry_perform(struct pp_registry_op *op, struct pp_registry_request *req,
			struct pp_registry_response *resp, struct pp_error **err)
{
	struct pp_registry_client *c = op->c;
	if (c->api == NULL) {
		struct pp_error *e = NULL;
		if ((c->api = pp_curl_api(&e)) == NULL ||
		    (c->curl = c->api->curl_easy_init()) == NULL) {
			c->api = NULL;
			int r = pp_registry_op_error(op, err, 0, "%s",
						     e ? e->msg : "curl_easy_init failed");
			pp_error_free(&e);
			return r;
		}
	}
	bool answered_challenge = false;
	int64_t backoff = c->backoff_initial_ms;
	for (int attempt = 1;; attempt++) {
		if (req->attempt)
			req->attempt(req->ctx, req);
		cleanup_free char *auth = NULL;
		if (req->registry && pp_registry_auth_header(op, &auth, err) < 0)
			return -1;
		if (exchange(op, req, req->registry ? auth : req->authorization, resp, err) < 0)
			return -1;
		if (resp->body_err) {
			int r = pp_registry_op_error(op, err, resp->body_err->status, "%s",
						     resp->body_err->msg);
			return r;
		}
		int64_t wait;
		/* the time limit bounds retries without progress, not a long
		 * download: bytes received start it again */
		if (resp->body_bytes > 0)
			op->deadline_ms = pp_monotonic_ms() + (int64_t)c->retry_time_limit_s * 1000;
		if (resp->code != CURLE_OK) {
			if (!dropped(resp->code) || attempt >= PP_REGISTRY_ATTEMPTS_MAX)
				return pp_registry_op_error(op, err, 0, "%s", resp->curl_error);
			/* bytes came: go on from there at once (resumed when the
			 * request can); none: back off */
			wait = resp->body_bytes > 0 ? 0 : backoff;
		} else if (resp->status == 401 && req->registry && !answered_challenge) {
			answered_challenge = true;
			if (pp_registry_authenticate(op, resp, err) < 0)
				return -1;
			continue;
		} else if (retryable_status(resp->status) && attempt < PP_REGISTRY_ATTEMPTS_MAX) {
			wait = wait_ms(resp, backoff);
		} else if (resp->status >= 200 && resp->status <= 299) {
			return 0;
		} else {
			return status_error(op, resp, err);
		}
		if (pp_monotonic_ms() + wait > op->deadline_ms) {
			if (resp->code != CURLE_OK)
				return pp_registry_op_error(op, err, 0, "%s (retries' time limit)",
							    resp->curl_error);
			return status_error(op, resp, err);
		}
		sleep_ms(wait);
		if (wait == backoff)
			backoff = backoff * 2 > PP_REGISTRY_BACKOFF_MAX_MS
				      ? PP_REGISTRY_BACKOFF_MAX_MS
				      : backoff * 2;
	}
}
