/* The pull, step by step: reference, manifest (through indexes to the
 * platform's entry), config, layers (pull_layers.c), commit. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pull/certs_dir.h"
#include "pull/credentials.h"
#include "pull/pull_internal.h"
#include "pull/registries_conf.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/image_reference.h"
#include "util/settings.h"

void pull_emit(const struct pull *p, enum pp_pull_event_kind kind, const char *text,
	       const char *digest, int64_t size, int64_t done)
{
	if (p->opts->progress == NULL)
		return;
	struct pp_pull_event ev = {
	    .kind = kind, .text = text, .digest = digest, .size = size, .done = done};
	p->opts->progress(p->opts->progress_ctx, &ev);
}

/* The registry client's credentials callback: --creds win (the client
 * falls back to them), else the files users keep (credentials.h), for the
 * endpoint's repository when host is its registry. The layers' clients
 * call it from their threads: the answer is kept under cred_lock. */
static int credentials_locked(struct pull *p, const char *host, char **user, char **password,
			      struct pp_error **err)
{
	if (p->cred_host == NULL || strcmp(p->cred_host, host) != 0) {
		bool ours = strcasecmp(host, p->host) == 0;
		struct pp_credentials_query q = {
		    .authfile = p->opts->authfile,
		    .host = ours ? p->endpoint->host : host,
		    .repo = ours ? p->endpoint->repo : NULL,
		};
		free(p->cred_host);
		free(p->cred_user);
		free(p->cred_password);
		p->cred_user = p->cred_password = NULL;
		p->cred_host = NULL;
		int r = pp_credentials_lookup(&q, &p->cred_user, &p->cred_password, err);
		if (r < 0)
			return -1;
		p->cred_host = xstrdup(host);
		p->cred_found = r;
	}
	if (!p->cred_found)
		return 0;
	*user = xstrdup(p->cred_user);
	*password = xstrdup(p->cred_password);
	return 1;
}

static int pull_credentials(void *ctx, const char *host, char **user, char **password,
			    struct pp_error **err)
{
	struct pull *p = ctx;
	if (p->opts->username)
		return 0;
	pthread_mutex_lock(&p->cred_lock);
	int r = credentials_locked(p, host, user, password, err);
	pthread_mutex_unlock(&p->cred_lock);
	return r;
}

/* A client for endpoint e: plain HTTP when registries.conf says insecure
 * (the CLI's --tls-verify overrides it both ways), else HTTPS with the CAs
 * of its certs.d directory if it has one. */
static int client_new(struct pull *p, const struct pp_pull_endpoint *e,
		      struct pp_registry_client **out, struct pp_error **err)
{
	struct pp_image_ref api = {.domain = e->host};
	const char *host = pp_image_ref_api_host(&api);
	bool plain = p->opts->plain_http || (e->insecure && !p->opts->tls_verify);
	const char *plain_hosts[] = {host, NULL};
	cleanup_free char *pem = NULL;
	size_t pem_len = 0;
	if (!plain && pp_certs_dir_ca(pp_settings()->certs_dirs, e->host, &pem, &pem_len, err) < 0)
		return -1;
	struct pp_registry_options o = {
	    .insecure_hosts = plain ? plain_hosts : NULL,
	    .ca_pem = pem,
	    .ca_pem_len = pem_len,
	    .credentials = pull_credentials,
	    .credentials_ctx = p,
	    .static_host = p->opts->username ? host : NULL,
	    .username = p->opts->username,
	    .password = p->opts->password,
	};
	return pp_registry_client_new(&o, out, err);
}

/* GETs reference, keeps its bytes in the store, parses it. */
static int get_document(struct pull *p, const char *reference, struct pp_oci_document **doc,
			char digest[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	struct pp_registry_manifest m = {0};
	int ret = pp_registry_get_manifest(p->client, p->host, p->repo, reference, &m, err);
	if (ret == 0)
		ret = pp_oci_parse_manifest(m.data, m.len, m.media_type, doc, err);
	if (ret == 0 && pp_image_add_blob(p->add, m.digest, m.data, m.len, err) < 0) {
		pp_oci_document_free(*doc);
		*doc = NULL;
		ret = -1;
	}
	if (ret == 0)
		snprintf(digest, PP_DIGEST_STRING_MAX, "%s", m.digest);
	pp_registry_manifest_free(&m);
	return ret;
}

/* A request of the reference to the endpoint p uses (p->client, p->host,
 * p->repo set). */
typedef int (*endpoint_request_fn)(struct pull *p, void *ctx, struct pp_error **err);

/* ask, to the first endpoint that answers it: a mirror that fails is told
 * as a warning and the next one asked; the rest of the pull then uses that
 * endpoint. The last error (the registry's) is the one returned. */
static int first_endpoint(struct pull *p, endpoint_request_fn ask, void *ctx, struct pp_error **err)
{
	for (size_t i = 0; i < p->n_endpoints; i++) {
		const struct pp_pull_endpoint *e = &p->endpoints[i];
		struct pp_image_ref api = {.domain = e->host};
		pp_registry_client_free(p->client);
		p->client = NULL;
		p->host = pp_image_ref_api_host(&api);
		p->repo = e->repo;
		p->endpoint = e;
		free(p->cred_host);
		p->cred_host = NULL;
		int r = client_new(p, e, &p->client, err);
		if (r == 0)
			r = ask(p, ctx, err);
		if (r == 0 || !e->mirror)
			return r;
		cleanup_free char *msg =
		    xasprintf("mirror %s/%s: %s; trying the next", e->host, e->repo, (*err)->msg);
		pull_emit(p, PP_PULL_EV_WARNING, msg, NULL, 0, 0);
		pp_error_free(err);
	}
	return pp_error_set(err, EINVAL, "no registry to pull from"); /* not reached */
}

static int ask_document(struct pull *p, void *doc, struct pp_error **err)
{
	return get_document(p, pp_image_ref_pull_reference(&p->ref), doc, p->top_digest, err);
}

/* The reference's own document, from the first endpoint that serves it. */
static int first_document(struct pull *p, struct pp_oci_document **doc, struct pp_error **err)
{
	return first_endpoint(p, ask_document, doc, err);
}

/* The manifest to pull: the reference's, or the platform's entry of its
 * index (of nested indexes). */
static int resolve_manifest(struct pull *p, struct pp_oci_document **out, struct pp_error **err)
{
	struct pp_oci_document *doc = NULL;
	char digest[PP_DIGEST_STRING_MAX];
	if (first_document(p, &doc, err) < 0)
		return -1;
	for (int depth = 0; doc->index != NULL; depth++) {
		const struct pp_oci_descriptor *d;
		if (depth == PP_PULL_INDEX_DEPTH_MAX) {
			pp_oci_document_free(doc);
			return pp_error_set(err, EINVAL, "indexes nested more than %d deep",
					    PP_PULL_INDEX_DEPTH_MAX);
		}
		if (pp_oci_index_select(doc->index, &p->want, &d, err) < 0) {
			pp_oci_document_free(doc);
			return -1;
		}
		cleanup_free char *next = xstrdup(d->digest);
		pp_oci_document_free(doc);
		doc = NULL;
		if (get_document(p, next, &doc, digest, err) < 0)
			return -1;
	}
	*out = doc;
	return 0;
}

struct buffer {
	char *data;
	size_t len;
};

static int buffer_write(void *ctx, const void *data, size_t len, struct pp_error **err)
{
	struct buffer *b = ctx;
	if (len > PP_OCI_CONFIG_MAX - b->len)
		return pp_error_set(err, EFBIG, "larger than %u bytes", PP_OCI_CONFIG_MAX);
	b->data = xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static int buffer_rewind(void *ctx, struct pp_error **err)
{
	((struct buffer *)ctx)->len = 0;
	return 0;
}

/* GETs the config, keeps it, parses it and checks it fits the manifest and
 * the platform. */
static int get_config(struct pull *p, const struct pp_oci_manifest *m, struct pp_oci_config **out,
		      struct pp_error **err)
{
	if (m->config.size > (int64_t)PP_OCI_CONFIG_MAX)
		return pp_error_set(err, EFBIG, "%s: %lld bytes, more than %u", m->config.digest,
				    (long long)m->config.size, PP_OCI_CONFIG_MAX);
	struct buffer b = {0};
	struct pp_registry_sink sink = {.write = buffer_write, .rewind = buffer_rewind, .ctx = &b};
	int ret = pp_registry_get_blob(p->client, p->host, p->repo, m->config.digest,
				       m->config.size, &sink, err);
	if (ret == 0)
		ret = pp_oci_parse_config(b.data ? b.data : "", b.len, out, err);
	if (ret == 0 && (pp_oci_check_image(m, *out, err) < 0 ||
			 pp_oci_config_check_platform(*out, &p->want, err) < 0 ||
			 pp_image_add_blob(p->add, m->config.digest, b.data, b.len, err) < 0)) {
		pp_oci_config_free(*out);
		*out = NULL;
		ret = -1;
	}
	free(b.data);
	return ret;
}

static int commit(struct pull *p, const struct pp_oci_manifest *m, const struct pp_oci_config *c,
		  char **id_out, struct pp_error **err)
{
	cleanup_free char *tag = pp_image_ref_familiar(&p->ref);
	cleanup_free char *repo = pp_image_ref_repository(&p->ref);
	cleanup_free char *repo_digest = xasprintf("%s@%s", repo, p->top_digest);
	const char *tags[] = {tag, NULL};
	const char *digests[] = {repo_digest, NULL};
	struct pp_image_add_names names = {.tags = tags, .repo_digests = digests};
	pull_emit(p, PP_PULL_EV_WRITING, NULL, m->config.digest, m->config.size, 0);
	return pp_image_add_commit(p->add, m->config.digest, &c->config, &names, id_out, err);
}

/* Every step after the reference, in order; err says which failed. */
static int pull_steps(struct pull *p, char **id_out, struct pp_error **err)
{
	struct pp_oci_document *doc = NULL;
	struct pp_oci_config *cfg = NULL;
	if (resolve_manifest(p, &doc, err) < 0 || pp_fault("pull manifest", err) < 0) {
		pp_oci_document_free(doc);
		return pp_error_wrap(err, "manifest");
	}
	int ret = get_config(p, doc->manifest, &cfg, err);
	if (ret == 0)
		ret = pp_fault("pull config", err);
	if (ret < 0)
		pp_error_wrap(err, "config %s", doc->manifest->config.digest);
	if (ret == 0)
		ret = pull_layers(p, doc->manifest, cfg, err);
	if (ret == 0)
		ret = pp_fault("pull layers", err);
	if (ret == 0 && commit(p, doc->manifest, cfg, id_out, err) < 0)
		ret = pp_error_wrap(err, "commit");
	pp_oci_config_free(cfg);
	pp_oci_document_free(doc);
	return ret;
}

static int pull_setup(struct pull *p, const char *ref, struct pp_error **err)
{
	if (pp_image_ref_parse(ref, &p->ref, err) < 0)
		return -1;
	int ret = p->opts->platform ? pp_oci_platform_parse(p->opts->platform, &p->want, err)
				    : pp_oci_platform_host(&p->want, err);
	if (ret < 0)
		return -1;
	/* as podman: a named credentials file must be there, challenged or not */
	if (p->opts->authfile && access(p->opts->authfile, R_OK) < 0)
		return pp_error_set(err, errno, "--authfile %s", p->opts->authfile);
	struct pp_registries_conf conf = {0};
	const char *path =
	    p->opts->registries_conf ? p->opts->registries_conf : pp_settings()->registries_conf;
	ret = pp_registries_conf_load(path, &conf, err);
	if (ret == 0)
		ret = pp_registries_conf_endpoints(&conf, &p->ref, &p->endpoints, &p->n_endpoints,
						   err);
	pp_registries_conf_clear(&conf);
	return ret;
}

/* What pull_setup and the steps left in p. */
static void pull_clear(struct pull *p)
{
	pp_registry_client_free(p->client);
	pp_pull_endpoints_free(p->endpoints, p->n_endpoints);
	free(p->cred_host);
	free(p->cred_user);
	free(p->cred_password);
	pthread_mutex_destroy(&p->cred_lock);
	pp_oci_platform_clear(&p->want);
	pp_image_ref_free(&p->ref);
}

int pp_pull_image(struct pp_image_store *store, const char *ref, const struct pp_pull_options *opts,
		  char **id_out, struct pp_error **err)
{
	struct pp_pull_options none = {0};
	struct pull p = {
	    .store = store, .opts = opts ? opts : &none, .cred_lock = PTHREAD_MUTEX_INITIALIZER};
	int ret = pull_setup(&p, ref, err);
	if (ret == 0) {
		cleanup_free char *full = pp_image_ref_string(&p.ref);
		pull_emit(&p, PP_PULL_EV_START, full, NULL, 0, 0);
		ret = pp_image_add_begin(store, &p.add, err);
	}
	if (ret == 0) {
		ret = pull_steps(&p, id_out, err);
		pp_image_add_free(p.add);
		/* Whatever the outcome, as image import: what a failed pull
		 * stored (blobs, layers) or the image a moved tag left goes
		 * now. A failed collection is retried by the next one. */
		struct pp_error *gc_err = NULL;
		pp_image_store_gc(store, &gc_err);
		pp_error_free(&gc_err);
	}
	pull_clear(&p);
	return ret < 0 ? pp_error_wrap(err, "pull %s", ref) : 0;
}

/* The stored image's digest for the reference's repository, or NULL. */
static char *stored_digest(struct pull *p, const char *ref, char **id)
{
	struct pp_image *img = NULL;
	if (pp_image_get(p->store, ref, &img, NULL) < 0)
		return NULL;
	cleanup_free char *repo = pp_image_ref_repository(&p->ref);
	size_t rl = strlen(repo);
	char *found = NULL;
	for (char **d = img->repo_digests; d && *d && !found; d++)
		if (strncmp(*d, repo, rl) == 0 && (*d)[rl] == '@')
			found = xstrdup(*d + rl + 1);
	if (found)
		*id = xstrdup(img->id);
	pp_image_free(img);
	return found;
}

static int ask_digest(struct pull *p, void *digest, struct pp_error **err)
{
	return pp_registry_head_manifest(p->client, p->host, p->repo,
					 pp_image_ref_pull_reference(&p->ref), digest, err);
}

/* The registry's digest for the reference, from the first endpoint that
 * answers (a mirror that fails is a warning, as for a pull). */
static int head_digest(struct pull *p, char digest[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	return first_endpoint(p, ask_digest, digest, err);
}

int pp_pull_check_current(struct pp_image_store *store, const char *ref,
			  const struct pp_pull_options *opts, char **id_out, struct pp_error **err)
{
	struct pp_pull_options none = {0};
	struct pull p = {
	    .store = store, .opts = opts ? opts : &none, .cred_lock = PTHREAD_MUTEX_INITIALIZER};
	cleanup_free char *id = NULL;
	cleanup_free char *have = NULL;
	char digest[PP_DIGEST_STRING_MAX] = "";
	int ret = pull_setup(&p, ref, err);
	if (ret == 0)
		have = stored_digest(&p, ref, &id);
	if (ret == 0 && have != NULL) {
		ret = head_digest(&p, digest, err);
		if (ret < 0)
			pp_error_wrap(err, "manifest");
	}
	int current = ret == 0 && have != NULL && strcmp(have, digest) == 0;
	if (current && id_out)
		*id_out = xstrdup(id);
	pull_clear(&p);
	return ret < 0 ? pp_error_wrap(err, "check %s", ref) : current;
}
