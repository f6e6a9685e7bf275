/* The registry client's operations: a manifest by tag or digest (GET and
 * HEAD) and a blob by digest, each checked against its digest. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "image/oci.h"
#include "registry/internal.h"
#include "registry/response.h"
#include "util/cleanup.h"
#include "util/clock.h"

/* What an operation's names may hold before they go into a URL: the
 * reference grammar's characters (util/image_reference.h checked them;
 * this keeps a caller's mistake from becoming another URL). */
static bool url_safe(const char *s, const char *extra)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

static int op_begin(struct pp_registry_op *op, struct pp_registry_client *c, const char *host,
		    const char *repo, const char *what, const char *reference,
		    struct pp_error **err)
{
	*op = (struct pp_registry_op){c, host ? host : "?", repo ? repo : "?", what, 0};
	if (!url_safe(host, ".-:[]") || !url_safe(repo, "._-/") || !url_safe(reference, "._-:"))
		return pp_registry_op_error(op, err, EINVAL,
					    "bad registry, repository or reference");
	op->deadline_ms = pp_monotonic_ms() + (int64_t)c->retry_time_limit_s * 1000;
	return 0;
}

static bool is_digest(const char *reference)
{
	return strchr(reference, ':') != NULL;
}

/* ---- manifests ---- */

struct manifest_body {
	char *data;
	size_t len;
};

static void manifest_attempt(void *ctx, struct pp_registry_request *req)
{
	struct manifest_body *b = ctx;
	b->len = 0; /* a retry starts over */
}

static int manifest_body(void *ctx, const struct pp_registry_response *resp, const void *data,
			 size_t len, struct pp_error **err)
{
	struct manifest_body *b = ctx;
	if (resp->body_bytes == 0)
		b->len = 0;
	if (b->len + len > PP_OCI_MANIFEST_MAX)
		return pp_error_set(err, EFBIG, "manifest larger than %u bytes",
				    PP_OCI_MANIFEST_MAX);
	b->data = xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void pp_registry_manifest_free(struct pp_registry_manifest *m)
{
	free(m->data);
	free(m->media_type);
	memset(m, 0, sizeof(*m));
}

/* Checks len bytes against the reference's digest (when it is one) and the
 * registry's Docker-Content-Digest (when sent); the digest into out. */
static int check_manifest_digest(struct pp_registry_op *op, const char *reference,
				 const char *header, const void *data, size_t len,
				 char out[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	const char *claims[] = {is_digest(reference) ? reference : NULL, header};
	char sha256[PP_DIGEST_STRING_MAX] = "";
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		const char *want = claims[i], *hex;
		enum pp_digest_algo algo;
		if (want == NULL)
			continue;
		struct pp_error *e = NULL;
		cleanup_digest struct pp_digest *d = NULL;
		char got[PP_DIGEST_STRING_MAX];
		if (pp_digest_parse(want, &algo, &hex, &e) < 0 ||
		    pp_digest_begin(algo, &d, &e) < 0 || pp_digest_update(d, data, len, &e) < 0 ||
		    pp_digest_end_string(d, got, &e) < 0) {
			int r = pp_registry_op_error(op, err, EBADMSG, "%s%s",
						     i ? "Docker-Content-Digest: " : "", e->msg);
			pp_error_free(&e);
			return r;
		}
		if (strcasecmp(got, want) != 0)
			return pp_registry_op_error(op, err, EBADMSG,
						    "the manifest's digest is %s, not %s%s", got,
						    want, i ? " (its Docker-Content-Digest)" : "");
		if (sha256[0] == '\0')
			snprintf(sha256, sizeof(sha256), "%s", got);
	}
	if (sha256[0] == '\0') {
		/* no claim: what the manifest is known by from now on */
		char hex[PP_SHA256_HEX_LEN + 1];
		struct pp_error *e = NULL;
		if (pp_digest_hex(PP_DIGEST_SHA256, data, len, hex, &e) < 0) {
			int r = pp_registry_op_error(op, err, 0, "%s", e->msg);
			pp_error_free(&e);
			return r;
		}
		snprintf(sha256, sizeof(sha256), "sha256:%s", hex);
	}
	memcpy(out, sha256, PP_DIGEST_STRING_MAX);
	return 0;
}

static char *manifest_url(struct pp_registry_op *op, const char *reference)
{
	return xasprintf("%s://%s/v2/%s/manifests/%s", pp_registry_scheme(op->c, op->host),
			 op->host, op->repo, reference);
}

int pp_registry_get_manifest(struct pp_registry_client *c, const char *host, const char *repo,
			     const char *reference, struct pp_registry_manifest *out,
			     struct pp_error **err)
{
	memset(out, 0, sizeof(*out));
	struct pp_registry_op op;
	cleanup_free char *what = xasprintf("manifest %s", reference ? reference : "?");
	if (op_begin(&op, c, host, repo, what, reference, err) < 0)
		return -1;
	cleanup_free char *url = manifest_url(&op, reference);
	struct manifest_body body = {0};
	struct pp_registry_request req = {
	    .url = url,
	    .registry = true,
	    .accept = PP_OCI_ACCEPT ", " PP_REGISTRY_ACCEPT_SCHEMA1,
	    .timeout_s = c->request_timeout_s,
	    .attempt = manifest_attempt,
	    .body = manifest_body,
	    .ctx = &body,
	};
	struct pp_registry_response resp = {0};
	int r = pp_registry_perform(&op, &req, &resp, err);
	if (r == 0 && body.len == 0)
		r = pp_registry_op_error(&op, err, EBADMSG, "empty manifest");
	if (r == 0)
		r = check_manifest_digest(&op, reference, resp.docker_digest, body.data, body.len,
					  out->digest, err);
	if (r < 0) {
		free(body.data);
		pp_registry_response_clear(&resp);
		return -1;
	}
	body.data[body.len] = '\0';
	const char *ct = resp.content_type ? resp.content_type : "";
	out->media_type = xasprintf("%.*s", (int)strcspn(ct, "; \t"), ct);
	out->data = body.data;
	out->len = body.len;
	pp_registry_response_clear(&resp);
	return 0;
}

int pp_registry_head_manifest(struct pp_registry_client *c, const char *host, const char *repo,
			      const char *reference, char digest[PP_DIGEST_STRING_MAX],
			      struct pp_error **err)
{
	struct pp_registry_op op;
	cleanup_free char *what = xasprintf("manifest %s", reference ? reference : "?");
	if (op_begin(&op, c, host, repo, what, reference, err) < 0)
		return -1;
	cleanup_free char *url = manifest_url(&op, reference);
	struct pp_registry_request req = {
	    .url = url,
	    .head = true,
	    .registry = true,
	    .accept = PP_OCI_ACCEPT ", " PP_REGISTRY_ACCEPT_SCHEMA1,
	    .timeout_s = c->request_timeout_s,
	};
	struct pp_registry_response resp = {0};
	if (pp_registry_perform(&op, &req, &resp, err) < 0) {
		pp_registry_response_clear(&resp);
		return -1;
	}
	const char *found = is_digest(reference) ? reference : resp.docker_digest;
	const char *hex;
	enum pp_digest_algo algo;
	struct pp_error *e = NULL;
	int r = 0;
	if (found == NULL) {
		/* a registry that does not say: the bytes do */
		struct pp_registry_manifest m;
		r = pp_registry_get_manifest(c, host, repo, reference, &m, err);
		if (r == 0)
			memcpy(digest, m.digest, PP_DIGEST_STRING_MAX);
		pp_registry_manifest_free(&m);
	} else if (pp_digest_parse(found, &algo, &hex, &e) < 0) {
		r = pp_registry_op_error(&op, err, EBADMSG, "Docker-Content-Digest: %s", e->msg);
		pp_error_free(&e);
	} else
		snprintf(digest, PP_DIGEST_STRING_MAX, "%s", found);
	pp_registry_response_clear(&resp);
	return r;
}

/* ---- blobs ---- */

struct blob {
	const struct pp_registry_sink *sink;
	enum pp_digest_algo algo;
	struct pp_digest *digest;
	int64_t size;
	int64_t written; /* bytes given to the sink (and the digest) */
};

static void blob_attempt(void *ctx, struct pp_registry_request *req)
{
	struct blob *b = ctx;
	req->range_from = b->written; /* a dropped transfer goes on from there */
}

/* The first bytes of a response: a resumption's 206 must start where we
 * are; a 200 sends the blob whole, so what we have is dropped. */
static int blob_start(struct blob *b, const struct pp_registry_response *resp,
		      struct pp_error **err)
{
	if (resp->status == 206) {
		int64_t first;
		if (b->written == 0 || resp->content_range == NULL ||
		    pp_registry_content_range_start(resp->content_range, &first) < 0 ||
		    first != b->written)
			return pp_error_set(err, EBADMSG, "resumed at byte %lld, Content-Range %s",
					    (long long)b->written,
					    resp->content_range ? resp->content_range : "missing");
		return 0;
	}
	if (b->written == 0)
		return 0;
	if (b->sink->rewind == NULL)
		return pp_error_set(err, ESPIPE,
				    "the registry cannot resume (HTTP %ld) and the sink cannot "
				    "start over",
				    resp->status);
	if (b->sink->rewind(b->sink->ctx, err) < 0)
		return -1;
	pp_digest_free(b->digest);
	b->digest = NULL;
	b->written = 0;
	return pp_digest_begin(b->algo, &b->digest, err);
}

static int blob_body(void *ctx, const struct pp_registry_response *resp, const void *data,
		     size_t len, struct pp_error **err)
{
	struct blob *b = ctx;
	if (resp->body_bytes == 0 && blob_start(b, resp, err) < 0)
		return -1;
	if (b->size >= 0 && b->written + (int64_t)len > b->size)
		return pp_error_set(err, EBADMSG, "blob larger than its size %lld",
				    (long long)b->size);
	if (pp_digest_update(b->digest, data, len, err) < 0 ||
	    b->sink->write(b->sink->ctx, data, len, err) < 0)
		return -1;
	b->written += (int64_t)len;
	return 0;
}

int pp_registry_get_blob(struct pp_registry_client *c, const char *host, const char *repo,
			 const char *digest, int64_t size, const struct pp_registry_sink *sink,
			 struct pp_error **err)
{
	struct pp_registry_op op;
	cleanup_free char *what = xasprintf("blob %s", digest ? digest : "?");
	if (op_begin(&op, c, host, repo, what, digest, err) < 0)
		return -1;
	struct blob b = {.sink = sink, .size = size};
	const char *hex;
	struct pp_error *e = NULL;
	if (pp_digest_parse(digest, &b.algo, &hex, &e) < 0 ||
	    pp_digest_begin(b.algo, &b.digest, &e) < 0) {
		int r = pp_registry_op_error(&op, err, EINVAL, "%s", e->msg);
		pp_error_free(&e);
		return r;
	}
	cleanup_free char *url =
	    xasprintf("%s://%s/v2/%s/blobs/%s", pp_registry_scheme(c, host), host, repo, digest);
	struct pp_registry_request req = {
	    .url = url,
	    .registry = true,
	    .attempt = blob_attempt,
	    .body = blob_body,
	    .ctx = &b,
	};
	struct pp_registry_response resp = {0};
	int r = pp_registry_perform(&op, &req, &resp, err);
	pp_registry_response_clear(&resp);
	char got[PP_DIGEST_STRING_MAX];
	if (r == 0 && size >= 0 && b.written != size)
		r = pp_registry_op_error(&op, err, EBADMSG, "got %lld bytes of %lld",
					 (long long)b.written, (long long)size);
	if (r == 0 && pp_digest_end_string(b.digest, got, &e) < 0) {
		r = pp_registry_op_error(&op, err, 0, "%s", e->msg);
		pp_error_free(&e);
	} else if (r == 0 && strcasecmp(got, digest) != 0)
		r = pp_registry_op_error(&op, err, EBADMSG, "the bytes' digest is %s", got);
	pp_digest_free(b.digest);
	return r;
}

/* ---- into a file descriptor ---- */

struct fd_sink {
	int fd;
	off_t start;
};

static int fd_write(void *ctx, const void *data, size_t len, struct pp_error **err)
{
	struct fd_sink *s = ctx;
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(s->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return pp_error_set(err, errno, "write");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fd_rewind(void *ctx, struct pp_error **err)
{
	struct fd_sink *s = ctx;
	if (s->start < 0)
		return pp_error_set(err, ESPIPE, "the blob's file cannot start over");
	if (ftruncate(s->fd, s->start) < 0 || lseek(s->fd, s->start, SEEK_SET) < 0)
		return pp_error_set(err, errno, "start the blob's file over");
	return 0;
}

int pp_registry_get_blob_fd(struct pp_registry_client *c, const char *host, const char *repo,
			    const char *digest, int64_t size, int fd, struct pp_error **err)
{
	/* a pipe has no offset: -1, and it cannot rewind */
	struct fd_sink s = {fd, lseek(fd, 0, SEEK_CUR)};
	struct pp_registry_sink sink = {fd_write, fd_rewind, &s};
	return pp_registry_get_blob(c, host, repo, digest, size, &sink, err);
}
