/* The pull, step by step: reference, manifest (through indexes to the
 * platform's entry), config, layers, commit. Each layer is downloaded only
 * when the store's add asks for its tree, i.e. when no image has it yet
 * (the store checks under the layer's lock, so two pulls sharing a layer
 * download it once). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/layer.h"
#include "image/oci.h"
#include "image/store.h"
#include "pull/certs_dir.h"
#include "pull/pull.h"
#include "pull/registries_conf.h"
#include "registry/registry.h"
#include "util/cleanup.h"
#include "util/image_reference.h"
#include "util/settings.h"

struct pull {
	struct pp_image_store *store;
	const struct pp_pull_options *opts;
	struct pp_registry_client *client;
	struct pp_image_ref ref;
	/* Where to pull from, in order (registries.conf: mirrors, then the
	 * registry), and the one that answered: its API host and repository */
	struct pp_pull_endpoint *endpoints;
	size_t n_endpoints;
	const char *host;
	const char *repo;
	struct pp_oci_platform want;
	struct pp_image_add *add;
	char top_digest[PP_DIGEST_STRING_MAX]; /* what the reference names: index or manifest */
};

static void emit(const struct pull *p, enum pp_pull_event_kind kind, const char *text,
		 const char *digest, int64_t size)
{
	if (p->opts->progress == NULL)
		return;
	struct pp_pull_event ev = {.kind = kind, .text = text, .digest = digest, .size = size};
	p->opts->progress(p->opts->progress_ctx, &ev);
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

/* The reference's own document, from the first endpoint that serves it:
 * a mirror that fails is told as a warning and the next one asked; the
 * rest of the pull then uses that endpoint. The last error (the
 * registry's) is the one returned. */
static int first_document(struct pull *p, struct pp_oci_document **doc, struct pp_error **err)
{
	for (size_t i = 0; i < p->n_endpoints; i++) {
		const struct pp_pull_endpoint *e = &p->endpoints[i];
		struct pp_image_ref api = {.domain = e->host};
		pp_registry_client_free(p->client);
		p->client = NULL;
		p->host = pp_image_ref_api_host(&api);
		p->repo = e->repo;
		int r = client_new(p, e, &p->client, err);
		if (r == 0)
			r = get_document(p, pp_image_ref_pull_reference(&p->ref), doc,
					 p->top_digest, err);
		if (r == 0 || !e->mirror)
			return r;
		cleanup_free char *msg =
		    xasprintf("mirror %s/%s: %s; trying the next", e->host, e->repo, (*err)->msg);
		emit(p, PP_PULL_EV_WARNING, msg, NULL, 0);
		pp_error_free(err);
	}
	return pp_error_set(err, EINVAL, "no registry to pull from"); /* not reached */
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

struct layer_job {
	struct pull *p;
	const struct pp_oci_layer *layer;
	const char *diff_id;
	bool downloaded;
};

/* The store's unpacker (pp_layer_unpack_fn) for a layer it does not have:
 * download to an unlinked file of the store's file system, then unpack. */
static int fetch_and_unpack(void *ctx, int unused_fd, int dst_dirfd, const char *dst,
			    char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	struct layer_job *j = ctx;
	struct pull *p = j->p;
	const struct pp_oci_descriptor *d = &j->layer->desc;
	j->downloaded = true;
	emit(p, PP_PULL_EV_BLOB, NULL, d->digest, d->size);
	cleanup_free char *tmp = xasprintf("%s/%s%d-XXXXXX", pp_image_store_root(p->store),
					   PP_PULL_TMP_PREFIX, (int)getpid());
	cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "create %s", tmp);
	unlink(tmp);
	if (pp_registry_get_blob_fd(p->client, p->host, p->repo, d->digest, d->size, fd, err) < 0)
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return pp_error_set(err, errno, "seek %s", tmp);
	struct pp_layer_source src = {
	    .fd = fd,
	    .compression = j->layer->compression,
	    .digest = d->digest,
	    .size = d->size,
	    .diff_id = j->diff_id,
	    .limits = {.max_bytes = pp_settings()->image_max_bytes,
		       .max_entries = PP_LAYER_MAX_ENTRIES_DEFAULT},
	};
	struct pp_layer_result res = {0};
	int ret = pp_layer_unpack(dst_dirfd, &src, &res, err);
	for (size_t i = 0; i < res.n_warnings; i++)
		emit(p, PP_PULL_EV_WARNING, res.warnings[i], d->digest, 0);
	if (ret == 0)
		snprintf(diff_id, PP_DIGEST_STRING_MAX, "%s", res.diff_id);
	pp_layer_result_clear(&res);
	return ret;
}

static int add_layers(struct pull *p, const struct pp_oci_manifest *m,
		      const struct pp_oci_config *c, struct pp_error **err)
{
	for (size_t i = 0; i < m->n_layers; i++) {
		struct layer_job j = {.p = p, .layer = &m->layers[i], .diff_id = c->diff_ids[i]};
		if (pp_image_add_layer(p->add, c->diff_ids[i], m->layers[i].desc.digest, -1,
				       fetch_and_unpack, &j, err) < 0)
			return pp_error_wrap(err, "layer %zu (%s)", i, m->layers[i].desc.digest);
		if (!j.downloaded)
			emit(p, PP_PULL_EV_BLOB_SKIPPED, NULL, m->layers[i].desc.digest,
			     m->layers[i].desc.size);
	}
	return 0;
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
	emit(p, PP_PULL_EV_WRITING, NULL, m->config.digest, m->config.size);
	return pp_image_add_commit(p->add, m->config.digest, &c->config, &names, id_out, err);
}

/* Every step after the reference, in order; err says which failed. */
static int pull_steps(struct pull *p, char **id_out, struct pp_error **err)
{
	struct pp_oci_document *doc = NULL;
	struct pp_oci_config *cfg = NULL;
	if (resolve_manifest(p, &doc, err) < 0)
		return pp_error_wrap(err, "manifest");
	int ret = get_config(p, doc->manifest, &cfg, err);
	if (ret < 0)
		pp_error_wrap(err, "config %s", doc->manifest->config.digest);
	if (ret == 0)
		ret = add_layers(p, doc->manifest, cfg, err);
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

int pp_pull_image(struct pp_image_store *store, const char *ref, const struct pp_pull_options *opts,
		  char **id_out, struct pp_error **err)
{
	struct pp_pull_options none = {0};
	struct pull p = {.store = store, .opts = opts ? opts : &none};
	int ret = pull_setup(&p, ref, err);
	if (ret == 0) {
		cleanup_free char *full = pp_image_ref_string(&p.ref);
		emit(&p, PP_PULL_EV_START, full, NULL, 0);
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
	pp_registry_client_free(p.client);
	pp_pull_endpoints_free(p.endpoints, p.n_endpoints);
	pp_oci_platform_clear(&p.want);
	pp_image_ref_free(&p.ref);
	return ret < 0 ? pp_error_wrap(err, "pull %s", ref) : 0;
}
