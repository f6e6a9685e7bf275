/* Unit tests of src/image/oci*.c: manifests and indexes negotiated by media
 * type, image configs, bad documents refused with the field named, platform
 * normalization and matching, serialization round trips. The documents are
 * written by hand in the shape registries serve (docker.io, ghcr.io). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/oci.h"
#include "util/cleanup.h"

#define H16 "0123456789abcdef"
#define H64 H16 H16 H16 H16
/* distinct digests: a prefix letter then 63 hex digits */
#define D(c) "sha256:" c "123456789abcdef" H16 H16 H16
#define D512 "sha512:" H64 H64

#define OCI_INDEX                                                                                  \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","          \
	"\"manifests\":["                                                                          \
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(           \
	    "a") "\",\"size\":1024,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"   \
		 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(  \
		     "b") "\",\"size\":1025,\"platform\":{\"architecture\":\"arm64\",\"os\":"      \
			  "\"linux\","                                                             \
			  "\"variant\":\"v8\"}},"                                                  \
			  "{\"mediaType\":\"application/"                                          \
			  "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(                      \
			      "c") "\",\"size\":1026,\"platform\":{\"architecture\":\"arm\","      \
				   "\"os\":\"linux\","                                             \
				   "\"variant\":\"v7\"}},"                                         \
				   "{\"mediaType\":\"application/"                                 \
				   "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(             \
				       "d") "\",\"size\":566,\"annotations\":{\"vnd.docker."       \
					    "reference.digest\":\"" D("a") "\","                   \
									   "\"vnd.docker."         \
									   "reference.type\":"     \
									   "\"attestation-"        \
									   "manifest\"},"          \
									   "\"platform\":{"        \
									   "\"architecture\":"     \
									   "\"unknown\",\"os\":"   \
									   "\"unknown\"}}],"       \
									   "\"annotations\":{"     \
									   "\"org.opencontainers." \
									   "image.created\":"      \
									   "\"2024-05-01T10:00:"   \
									   "00Z\"}}\n"

#define DOCKER_LIST                                                                                \
	"{\n   \"schemaVersion\": 2,\n   \"mediaType\": "                                          \
	"\"application/vnd.docker.distribution.manifest.list.v2+json\",\n   \"manifests\": [\n"    \
	"      {\"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"        \
	"         \"size\": 528, \"digest\": \"" D(                                                \
	    "e") "\",\n"                                                                           \
		 "         \"platform\": {\"architecture\": \"amd64\", \"os\": \"linux\"}},\n"     \
		 "      {\"mediaType\": "                                                          \
		 "\"application/vnd.docker.distribution.manifest.v2+json\",\n"                     \
		 "         \"size\": 528, \"digest\": \"" D(                                       \
		     "f") "\",\n"                                                                  \
			  "         \"platform\": {\"architecture\": \"arm\", \"os\": \"linux\", " \
			  "\"variant\": "                                                          \
			  "\"v6\"}},\n"                                                            \
			  "      {\"mediaType\": "                                                 \
			  "\"application/vnd.docker.distribution.manifest.v2+json\",\n"            \
			  "         \"size\": 529, \"digest\": \"" D(                              \
			      "1") "\",\n"                                                         \
				   "         \"platform\": {\"architecture\": \"amd64\", \"os\": " \
				   "\"windows\", "                                                 \
				   "\"os.version\": \"10.0.17763.5820\", \"os.features\": "        \
				   "[\"win32k\"]}}\n   ]\n}"

#define OCI_MANIFEST                                                                               \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","       \
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D(  \
	    "2") "\",\"size\":2001},"                                                              \
		 "\"layers\":["                                                                    \
		 "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D( \
		     "3") "\",\"size\":3370706},"                                                  \
			  "{\"mediaType\":\"application/"                                          \
			  "vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D(                     \
			      "4") "\",\"size\":120,\"annotations\":{\"org.opencontainers.image."  \
				   "title\":\"x\"}},"                                              \
				   "{\"mediaType\":\"application/"                                 \
				   "vnd.oci.image.layer.v1.tar\",\"digest\":\"" D512               \
				   "\",\"size\":0},"                                               \
				   "{\"mediaType\":\"application/"                                 \
				   "vnd.oci.image.layer.nondistributable.v1.tar+gzip\","           \
				   "\"digest\":\"" D(                                              \
				       "5") "\",\"size\":77,\"urls\":[\"https://example.com/"      \
					    "layer\"]}],"                                          \
					    "\"annotations\":{\"org.opencontainers.image.base."    \
					    "name\":\"docker.io/library/alpine\"},"                \
					    "\"subject\":null,\"unknownField\":{\"deep\":[1,2,3]}" \
					    "}"

#define DOCKER_MANIFEST                                                                            \
	"{\n   \"schemaVersion\": 2,\n   \"mediaType\": "                                          \
	"\"application/vnd.docker.distribution.manifest.v2+json\",\n   \"config\": {\n"            \
	"      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"               \
	"      \"size\": 1472,\n      \"digest\": \"" D(                                           \
	    "6") "\"\n   },\n   \"layers\": [\n"                                                   \
		 "      {\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"  \
		 "         \"size\": 2812001, \"digest\": \"" D(                                   \
		     "7") "\"},\n"                                                                 \
			  "      {\"mediaType\": "                                                 \
			  "\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\n"       \
			  "         \"size\": 1024, \"digest\": \"" D(                             \
			      "8") "\",\n"                                                         \
				   "         \"urls\": "                                           \
				   "[\"https://mcr.microsoft.com/v2/x/blobs/" D(                   \
				       "8") "\"]}\n   ]\n}"

#define FULL_CONFIG                                                                                \
	"{\"created\":\"2024-05-01T10:00:00.123456789Z\",\"author\":\"someone\","                  \
	"\"architecture\":\"arm64\",\"variant\":\"v8\",\"os\":\"linux\",\"os.version\":\"6.1\","   \
	"\"config\":{\"User\":\"nginx:nginx\",\"ExposedPorts\":{\"80/tcp\":{},\"443\":{},"         \
	"\"53/udp\":{}},"                                                                          \
	"\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","          \
	"\"NGINX_VERSION=1.25.5\",\"EMPTY=\"],"                                                    \
	"\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],"   \
	"\"Volumes\":{\"/var/cache/nginx\":{},\"/data\":{}},\"WorkingDir\":\"/srv\","              \
	"\"Labels\":{\"maintainer\":\"NGINX Docker Maintainers\",\"a=b\":\"c\"},"                  \
	"\"StopSignal\":\"SIGQUIT\",\"ArgsEscaped\":true,\"OnBuild\":null},"                       \
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D("9") "\",\"" D(                       \
	    "0") "\"]},"                                                                           \
		 "\"history\":[{\"created\":\"2024-04-01T00:00:00Z\",\"created_by\":\"ADD "        \
		 "rootfs.tar /\"},"                                                                \
		 "{\"created\":\"2024-04-01T00:00:01Z\",\"created_by\":\"CMD [\\\"sh\\\"]\","      \
		 "\"empty_layer\":true},"                                                          \
		 "{\"created_by\":\"RUN apk add nginx\",\"comment\":\"buildkit.dockerfile.v0\","   \
		 "\"author\":\"me\",\"empty_layer\":false}]}"

/* What `docker inspect` shows for busybox: nulls and empty strings. */
#define DOCKER_CONFIG                                                                              \
	"{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"\","           \
	"\"User\":\"\",\"AttachStdin\":false,\"Tty\":false,\"Env\":[\"PATH=/bin\"],"               \
	"\"Cmd\":[\"sh\"],\"Image\":\"sha256:abc\",\"Volumes\":null,\"WorkingDir\":\"\","          \
	"\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null},\"container\":\"abc\","             \
	"\"container_config\":{\"Cmd\":[\"/bin/sh\"]},\"created\":\"2023-05-18T22:34:17Z\","       \
	"\"docker_version\":\"20.10.23\",\"os\":\"linux\","                                        \
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D("9") "\"]}}"

static struct pp_oci_document *parse_ok(const char *doc, const char *ct)
{
	struct pp_oci_document *d = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_oci_parse_manifest(doc, strlen(doc), ct, &d, &err) < 0)
		fail_msg("refused: %s", err->msg);
	return d;
}

static struct pp_oci_config *config_ok(const char *doc)
{
	struct pp_oci_config *c = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_oci_parse_config(doc, strlen(doc), &c, &err) < 0)
		fail_msg("refused: %s", err->msg);
	return c;
}

static void test_oci_index(void **state)
{
	(void)state;
	struct pp_oci_document *d = parse_ok(OCI_INDEX, PP_OCI_MT_INDEX "; charset=utf-8");
	assert_int_equal(d->kind, PP_OCI_KIND_INDEX);
	assert_null(d->manifest);
	struct pp_oci_index *idx = d->index;
	assert_int_equal(idx->n_manifests, 4);
	assert_string_equal(idx->manifests[1].platform->architecture, "arm64");
	assert_string_equal(idx->manifests[1].platform->variant, "v8");
	assert_null(idx->manifests[0].platform->variant);
	assert_int_equal(idx->manifests[2].size, 1026);
	assert_false(pp_oci_descriptor_is_attestation(&idx->manifests[2]));
	assert_true(pp_oci_descriptor_is_attestation(&idx->manifests[3]));
	assert_int_equal(idx->manifests[3].n_annotations, 2);
	/* sorted by key */
	assert_string_equal(idx->manifests[3].annotations[1].key, "vnd.docker.reference.type");
	assert_int_equal(idx->n_annotations, 1);
	pp_oci_document_free(d);

	/* no Content-Type, a generic one: the document's mediaType decides */
	d = parse_ok(OCI_INDEX, NULL);
	assert_int_equal(d->kind, PP_OCI_KIND_INDEX);
	pp_oci_document_free(d);
	d = parse_ok(OCI_INDEX, " Application/JSON ");
	assert_int_equal(d->kind, PP_OCI_KIND_INDEX);
	pp_oci_document_free(d);
}

static void test_docker_list(void **state)
{
	(void)state;
	struct pp_oci_document *d = parse_ok(DOCKER_LIST, PP_DOCKER_MT_LIST);
	assert_int_equal(d->kind, PP_OCI_KIND_DOCKER_LIST);
	assert_int_equal(d->index->n_manifests, 3);
	struct pp_oci_platform *w = d->index->manifests[2].platform;
	assert_string_equal(w->os, "windows");
	assert_string_equal(w->os_version, "10.0.17763.5820");
	assert_string_equal(w->os_features[0], "win32k");
	assert_null(w->os_features[1]);
	pp_oci_document_free(d);
	d = parse_ok(DOCKER_LIST, "");
	assert_int_equal(d->kind, PP_OCI_KIND_DOCKER_LIST);
	pp_oci_document_free(d);
}

static void test_manifests(void **state)
{
	(void)state;
	struct pp_oci_document *d = parse_ok(OCI_MANIFEST, PP_OCI_MT_MANIFEST);
	assert_int_equal(d->kind, PP_OCI_KIND_MANIFEST);
	struct pp_oci_manifest *m = d->manifest;
	assert_string_equal(m->config.media_type, PP_OCI_MT_CONFIG);
	assert_string_equal(m->config.digest, D("2"));
	assert_int_equal(m->config.size, 2001);
	assert_int_equal(m->n_layers, 4);
	assert_int_equal(m->layers[0].compression, PP_OCI_COMPRESSION_GZIP);
	assert_int_equal(m->layers[0].desc.size, 3370706);
	assert_int_equal(m->layers[1].compression, PP_OCI_COMPRESSION_ZSTD);
	assert_string_equal(m->layers[1].desc.annotations[0].value, "x");
	assert_int_equal(m->layers[2].compression, PP_OCI_COMPRESSION_NONE);
	assert_string_equal(m->layers[2].desc.digest, D512);
	assert_false(m->layers[2].foreign);
	assert_true(m->layers[3].foreign);
	assert_string_equal(m->layers[3].desc.urls[0], "https://example.com/layer");
	assert_null(m->layers[0].desc.platform);
	pp_oci_document_free(d);

	d = parse_ok(DOCKER_MANIFEST, PP_DOCKER_MT_MANIFEST);
	assert_int_equal(d->kind, PP_OCI_KIND_DOCKER_MANIFEST);
	m = d->manifest;
	assert_string_equal(m->config.media_type, PP_DOCKER_MT_CONFIG);
	assert_int_equal(m->n_layers, 2);
	assert_int_equal(m->layers[0].compression, PP_OCI_COMPRESSION_GZIP);
	assert_false(m->layers[0].foreign);
	assert_true(m->layers[1].foreign);
	pp_oci_document_free(d);

	/* without any media type: the shape says "manifest" */
	const char *bare = "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
			   "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D(
			       "2") "\","
				    "\"size\":3},\"layers\":[]}";
	d = parse_ok(bare, "application/octet-stream");
	assert_int_equal(d->kind, PP_OCI_KIND_MANIFEST);
	assert_int_equal(d->manifest->n_layers, 0);
	pp_oci_document_free(d);
	/* ...and "index" */
	d = parse_ok("{\"schemaVersion\":2,\"manifests\":[]}", NULL);
	assert_int_equal(d->kind, PP_OCI_KIND_INDEX);
	pp_oci_document_free(d);
	/* an OCI type sent as its Docker twin: the document's mediaType wins */
	d = parse_ok(OCI_MANIFEST, PP_DOCKER_MT_MANIFEST);
	assert_int_equal(d->kind, PP_OCI_KIND_MANIFEST);
	pp_oci_document_free(d);
	d = parse_ok(DOCKER_LIST, PP_OCI_MT_INDEX);
	assert_int_equal(d->kind, PP_OCI_KIND_DOCKER_LIST);
	pp_oci_document_free(d);
	/* the Content-Type alone may say it */
	d = parse_ok(bare, PP_DOCKER_MT_MANIFEST);
	assert_int_equal(d->kind, PP_OCI_KIND_DOCKER_MANIFEST);
	pp_oci_document_free(d);
}

static void test_config(void **state)
{
	(void)state;
	struct pp_oci_config *c = config_ok(FULL_CONFIG);
	assert_string_equal(c->architecture, "arm64");
	assert_string_equal(c->variant, "v8");
	assert_string_equal(c->os, "linux");
	assert_string_equal(c->os_version, "6.1");
	assert_string_equal(c->created, "2024-05-01T10:00:00.123456789Z");
	struct pp_image_config *ic = &c->config;
	assert_string_equal(ic->user, "nginx:nginx");
	assert_string_equal(ic->env[1], "NGINX_VERSION=1.25.5");
	assert_string_equal(ic->env[2], "EMPTY=");
	assert_null(ic->env[3]);
	assert_string_equal(ic->entrypoint[0], "/docker-entrypoint.sh");
	assert_null(ic->entrypoint[1]);
	assert_string_equal(ic->cmd[2], "daemon off;");
	assert_string_equal(ic->working_dir, "/srv");
	assert_string_equal(ic->stop_signal, "SIGQUIT");
	assert_string_equal(ic->volumes[0], "/data");
	assert_string_equal(ic->volumes[1], "/var/cache/nginx");
	assert_null(ic->volumes[2]);
	assert_string_equal(ic->exposed_ports[0], "443");
	assert_string_equal(ic->exposed_ports[1], "53/udp");
	assert_string_equal(ic->exposed_ports[2], "80/tcp");
	assert_int_equal(ic->n_labels, 2);
	assert_string_equal(ic->labels[0].key, "a=b");
	assert_string_equal(ic->labels[1].value, "NGINX Docker Maintainers");
	assert_int_equal(c->n_diff_ids, 2);
	assert_string_equal(c->diff_ids[1], D("0"));
	assert_int_equal(c->n_history, 3);
	assert_true(c->history[1].empty_layer);
	assert_false(c->history[2].empty_layer);
	assert_string_equal(c->history[2].comment, "buildkit.dockerfile.v0");
	assert_string_equal(c->history[2].author, "me");
	pp_oci_config_free(c);

	c = config_ok(DOCKER_CONFIG);
	ic = &c->config;
	assert_null(ic->user);
	assert_null(ic->working_dir);
	assert_null(ic->entrypoint);
	assert_null(ic->volumes);
	assert_int_equal(ic->n_labels, 0);
	assert_string_equal(ic->cmd[0], "sh");
	assert_null(c->history);
	assert_int_equal(c->n_diff_ids, 1);
	pp_oci_config_free(c);
}

static void test_check_image(void **state)
{
	(void)state;
	struct pp_oci_document *d = parse_ok(DOCKER_MANIFEST, NULL);
	struct pp_oci_config *c = config_ok(FULL_CONFIG);
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_oci_check_image(d->manifest, c, &err), 0);
	pp_oci_config_free(c);
	c = config_ok(DOCKER_CONFIG);
	assert_int_equal(pp_oci_check_image(d->manifest, c, &err), -1);
	assert_non_null(strstr(err->msg, "2 layers"));
	pp_oci_config_free(c);
	pp_oci_document_free(d);
}

struct bad {
	const char *content_type;
	const char *doc;
	const char *want; /* in the message */
};

#define CFG_DESC                                                                                   \
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D(  \
	    "2") "\",\"size\":3}"
#define LAYER(mt, dig, size) "{\"mediaType\":\"" mt "\",\"digest\":\"" dig "\",\"size\":" size "}"
#define TGZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define MAN(layers) "{\"schemaVersion\":2," CFG_DESC ",\"layers\":[" layers "]}"
#define IDX(entries) "{\"schemaVersion\":2,\"manifests\":[" entries "]}"
#define ENTRY(plat)                                                                                \
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(           \
	    "a") "\",\"size\":1,\"platform\":" plat "}"

static const struct bad BAD_MANIFESTS[] = {
    {NULL, MAN(LAYER(TGZ, D("3"), "1") "," LAYER(TGZ, "sha256:" H64 "0", "1")),
     "layers[1].digest: "},
    {NULL, MAN(LAYER(TGZ, "sha256:ABCDEF" H16 H16 H16 "0123456789", "1")), "layers[0].digest: "},
    {NULL, MAN(LAYER(TGZ, "md5:d41d8cd98f00b204e9800998ecf8427e", "1")), "layers[0].digest: "},
    {NULL, MAN(LAYER(TGZ, "sha256:" H16, "1")), "layers[0].digest: "},
    {NULL, MAN(LAYER(TGZ, "sha512:" H64, "1")), "layers[0].digest: "},
    {NULL, MAN(LAYER(TGZ, D("3"), "-1")), "layers[0].size: negative"},
    {NULL, MAN(LAYER(TGZ, D("3"), "\"12\"")), "layers[0].size: not an integer"},
    {NULL, MAN(LAYER(TGZ, D("3"), "1.5")), "layers[0].size: not an integer"},
    {NULL, MAN("{\"mediaType\":\"" TGZ "\",\"digest\":\"" D("3") "\"}"), "layers[0].size: missing"},
    {NULL,
     MAN(LAYER(TGZ, D("3"), "1") "," LAYER(TGZ, D("4"), "1") "," LAYER(
	 "application/vnd.cncf.helm.chart.content.v1.tar+gzip", D("5"), "1")),
     "layers[2].mediaType: \"application/vnd.cncf.helm.chart.content.v1.tar+gzip\""},
    {NULL, MAN(LAYER("", D("3"), "1")), "layers[0].mediaType: empty"},
    {NULL, MAN(LAYER("tar", D("3"), "1")), "layers[0].mediaType: not a media type"},
    {NULL, MAN("{\"digest\":\"" D("3") "\",\"size\":1}"), "layers[0].mediaType: missing"},
    {NULL, MAN("\"x\""), "layers[0]: not an object"},
    {NULL, MAN("{\"mediaType\":\"" TGZ "\",\"digest\":\"" D("3") "\",\"size\":1,\"urls\":\"x\"}"),
     "layers[0].urls: not an array"},
    {NULL,
     MAN("{\"mediaType\":\"" TGZ
	 "\",\"digest\":\"" D("3") "\",\"size\":1,\"annotations\":{\"a\":1}}"),
     "layers[0].annotations[\"a\"]: not a string"},
    {NULL, MAN(LAYER("application/vnd.oci.image.layer.v1.tar\\u0000+gzip", D("3"), "1")),
     "layers[0].mediaType: holds a NUL"},
    {PP_OCI_MT_MANIFEST, "{\"schemaVersion\":2,\"layers\":[]}", "config: missing"},
    {PP_OCI_MT_MANIFEST,
     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
     "\"digest\":\"" D("2") "\",\"size\":2},\"layers\":[]}",
     "config.mediaType: \"application/vnd.oci.empty.v1+json\" is not an image config"},
    {PP_OCI_MT_MANIFEST,
     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" PP_OCI_MT_CONFIG "\",\"size\":2},"
     "\"layers\":[]}",
     "config.digest: missing"},
    {PP_OCI_MT_MANIFEST, "{\"schemaVersion\":2," CFG_DESC "}", "layers: missing"},
    {PP_OCI_MT_MANIFEST, "{\"schemaVersion\":2," CFG_DESC ",\"layers\":{}}",
     "layers: not an array"},
    {PP_OCI_MT_MANIFEST, "{\"schemaVersion\":3," CFG_DESC ",\"layers\":[]}",
     "schemaVersion: 3, expected 2"},
    {PP_OCI_MT_MANIFEST, "{" CFG_DESC ",\"layers\":[]}", "schemaVersion: missing"},
    {PP_OCI_MT_MANIFEST, "{\"schemaVersion\":\"2\"," CFG_DESC ",\"layers\":[]}",
     "schemaVersion: not an integer"},
    {PP_OCI_MT_MANIFEST, "{\"schemaVersion\":2," CFG_DESC ",\"layers\":[],\"manifests\":[]}",
     "manifests: not allowed"},
    {PP_DOCKER_MT_SCHEMA1, "{\"schemaVersion\":1}", "schema 1 images are not supported"},
    {PP_DOCKER_MT_SCHEMA1_SIGNED, "{}", "schema 1 images are not supported"},
    {"application/json",
     "{\"schemaVersion\":1,\"name\":\"library/busybox\",\"tag\":\"latest\","
     "\"architecture\":\"amd64\",\"fsLayers\":[{\"blobSum\":\"" D(
	 "3") "\"}],"
	      "\"history\":[{\"v1Compatibility\":\"{}\"}]}",
     "schema 1 images are not supported"},
    {NULL, "{\"fsLayers\":[]}", "schema 1"},
    {NULL, "{\"mediaType\":\"" PP_DOCKER_MT_SCHEMA1 "\"}", "schema 1"},
    {PP_OCI_MT_MANIFEST, OCI_INDEX, "mediaType: \"" PP_OCI_MT_INDEX "\" does not match"},
    {PP_OCI_MT_INDEX, OCI_MANIFEST, "does not match the Content-Type"},
    {PP_DOCKER_MT_MANIFEST, DOCKER_LIST, "does not match the Content-Type"},
    {"text/html", "<html></html>", "Content-Type text/html: not an image manifest"},
    {NULL, "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"}",
     "mediaType: \"application/vnd.oci.image.config.v1+json\" is not an image manifest"},
    {NULL, "{\"mediaType\":7}", "mediaType: not a string"},
    {NULL, "{\"schemaVersion\":2}", "mediaType: missing, and the document has no manifests"},
    {NULL, "{\"schemaVersion\":2,\"manifests\":[]," CFG_DESC ",\"layers\":[]}",
     "has both manifests and config"},
    {PP_OCI_MT_INDEX, IDX(ENTRY("{\"os\":\"linux\"}")),
     "manifests[0].platform.architecture: missing"},
    {PP_OCI_MT_INDEX,
     IDX(ENTRY("{\"os\":\"linux\",\"architecture\":\"amd64\"}") "," ENTRY("\"linux/amd64\"")),
     "manifests[1].platform: not an object"},
    {PP_OCI_MT_INDEX,
     IDX("{\"mediaType\":\"" PP_OCI_MT_MANIFEST "\",\"digest\":\"sha256:xyz\",\"size\":1}"),
     "manifests[0].digest: \"sha256:xyz\""},
    {PP_OCI_MT_INDEX, "{\"schemaVersion\":2,\"manifests\":{}}", "manifests: not an array"},
    {PP_OCI_MT_INDEX, "{\"schemaVersion\":2}", "manifests: missing"},
    {PP_OCI_MT_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}",
     "layers: not allowed in an index"},
    {PP_OCI_MT_INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":[]}",
     "annotations: not an object"},
    {NULL, "{\"schemaVersion\":2,\"manifests\":[", "truncated"},
    {NULL, "{\"schemaVersion\":2,\"manifests\":[]} x", "bytes after the JSON document"},
    {NULL, "{\"schemaVersion\":2,\"manifests\":[]}{}", "bytes after the JSON document"},
    {NULL, "[1,2]", "not a JSON object"},
    {NULL, "{\"schemaVersion\":2,\"manifests\":[],}", "invalid JSON"},
    {NULL, "{\"schemaVersion\":2,\"manifests\":nul}", "invalid JSON"},
    {NULL, "{\"schemaVersion\":2,\"mediaType\":\"\xff\xfe\"}", "invalid JSON"},
    {NULL, "", "empty document"},
};

static const struct bad BAD_CONFIGS[] = {
    {NULL, "{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
     "architecture: missing"},
    {NULL, "{\"architecture\":\"\",\"os\":\"linux\"}", "architecture: empty"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":[\"linux\"]}", "os: not a string"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "rootfs: missing"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"zfs\"}}",
     "rootfs.type: \"zfs\", expected \"layers\""},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}",
     "rootfs.diff_ids: missing"},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
     "\"diff_ids\":[\"" D("1") "\",\"sha256:nothex\"]}}",
     "rootfs.diff_ids[1]: \"sha256:nothex\""},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
     "\"diff_ids\":[\"" D("1") "\",\"" D("2") "\"]},\"history\":[{\"created_by\":\"a\"},"
					      "{\"created_by\":\"b\",\"empty_layer\":true}]}",
     "history: 1 entries make a layer, but rootfs.diff_ids has 2"},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
     "\"diff_ids\":[\"" D("1") "\"]},\"history\":[{\"empty_layer\":\"yes\"}]}",
     "history[0].empty_layer: not a boolean"},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
     "\"diff_ids\":[\"" D("1") "\"]},\"history\":[1]}",
     "history[0]: not an object"},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\",\"JUSTNAME\"]}}",
     "config.Env[1]: \"JUSTNAME\" is not NAME=value"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"=x\"]}}",
     "config.Env[0]"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"a\":2}}}",
     "config.Labels[\"a\"]: not a string"},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":{\"http\":{}}}}",
     "config.ExposedPorts: \"http\""},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":{\"80/xyz\":{}}}}",
     "config.ExposedPorts: \"80/xyz\""},
    {NULL,
     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":{\"70000\":{}}}}",
     "config.ExposedPorts: \"70000\""},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Volumes\":[\"/data\"]}}",
     "config.Volumes: not an object"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":\"/bin/sh\"}}",
     "config.Entrypoint: not an array"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\",1]}}",
     "config.Cmd[1]: not a string"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":0}}",
     "config.User: not a string"},
    {NULL, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":[]}", "config: not an object"},
};

static void expect_refused(const struct bad *b, bool config)
{
	struct pp_oci_document *d = NULL;
	struct pp_oci_config *c = NULL;
	cleanup_error struct pp_error *err = NULL;
	int ret = config ? pp_oci_parse_config(b->doc, strlen(b->doc), &c, &err)
			 : pp_oci_parse_manifest(b->doc, strlen(b->doc), b->content_type, &d, &err);
	if (ret == 0)
		fail_msg("accepted: %s", b->doc);
	assert_null(d);
	assert_null(c);
	if (strstr(err->msg, b->want) == NULL)
		fail_msg("%s\n  got: %s\n  want: %s", b->doc, err->msg, b->want);
}

static void test_bad_documents(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(BAD_MANIFESTS) / sizeof(BAD_MANIFESTS[0]); i++)
		expect_refused(&BAD_MANIFESTS[i], false);
	for (size_t i = 0; i < sizeof(BAD_CONFIGS) / sizeof(BAD_CONFIGS[0]); i++)
		expect_refused(&BAD_CONFIGS[i], true);
}

/* A growing string; the caller frees. */
static char *append(char *s, const char *more)
{
	char *r = xasprintf("%s%s", s, more);
	free(s);
	return r;
}

static void test_limits(void **state)
{
	(void)state;
	cleanup_error struct pp_error *err = NULL;
	struct pp_oci_document *d = NULL;
	struct pp_oci_config *c = NULL;

	/* 128 layers pass, 129 do not */
	char *doc = xstrdup("{\"schemaVersion\":2," CFG_DESC ",\"layers\":[");
	for (int i = 0; i < PP_OCI_LAYERS_MAX; i++)
		doc = append(doc, i ? "," LAYER(TGZ, D("3"), "1") : LAYER(TGZ, D("3"), "1"));
	char *ok = append(xstrdup(doc), "]}");
	assert_int_equal(pp_oci_parse_manifest(ok, strlen(ok), NULL, &d, &err), 0);
	assert_int_equal(d->manifest->n_layers, PP_OCI_LAYERS_MAX);
	pp_oci_document_free(d);
	free(ok);
	doc = append(doc, "," LAYER(TGZ, D("3"), "1") "]}");
	assert_int_equal(pp_oci_parse_manifest(doc, strlen(doc), NULL, &d, &err), -1);
	assert_non_null(strstr(err->msg, "layers: 129 layers, more than the limit of 128"));
	free(doc);

	/* the size limit holds before parsing */
	size_t big = PP_OCI_MANIFEST_MAX + 1;
	char *huge = xmalloc(big);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	assert_int_equal(pp_oci_parse_manifest(huge, big, PP_OCI_MT_MANIFEST, &d, &err), -1);
	assert_non_null(strstr(err->msg, "more than the limit of 4 MiB"));
	free(huge);
	big = PP_OCI_CONFIG_MAX + 1;
	huge = xmalloc(big);
	assert_int_equal(pp_oci_parse_config(huge, big, &c, &err), -1);
	assert_non_null(strstr(err->msg, "more than the limit of 8 MiB"));
	free(huge);

	/* Env entries */
	doc = xstrdup("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[");
	for (int i = 0; i <= PP_OCI_ENV_MAX; i++)
		doc = append(doc, i ? ",\"A=1\"" : "\"A=1\"");
	doc = append(doc, "]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
	assert_int_equal(pp_oci_parse_config(doc, strlen(doc), &c, &err), -1);
	assert_non_null(strstr(err->msg, "config.Env: 4097 entries, more than the limit of 4096"));
	free(doc);

	/* labels */
	doc = xstrdup("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{");
	for (int i = 0; i <= PP_OCI_LABELS_MAX; i++) {
		char one[32];
		snprintf(one, sizeof(one), "%s\"l%d\":\"v\"", i ? "," : "", i);
		doc = append(doc, one);
	}
	doc = append(doc, "}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
	assert_int_equal(pp_oci_parse_config(doc, strlen(doc), &c, &err), -1);
	assert_non_null(strstr(err->msg, "config.Labels: 1025 entries"));
	free(doc);

	/* nesting deeper than any real document */
	doc = xstrdup("{\"a\":");
	for (int i = 0; i < PP_OCI_JSON_DEPTH; i++)
		doc = append(doc, "[");
	assert_int_equal(pp_oci_parse_manifest(doc, strlen(doc), NULL, &d, &err), -1);
	assert_non_null(strstr(err->msg, "invalid JSON"));
	free(doc);
}

static void test_digests(void **state)
{
	(void)state;
	assert_true(pp_oci_digest_valid(D("a")));
	assert_true(pp_oci_digest_valid(D512));
	assert_false(pp_oci_digest_valid("sha256:"));
	assert_false(pp_oci_digest_valid(D("a") "0"));
	assert_false(pp_oci_digest_valid("sha256:" H16 H16 H16 "0123456789ABCDEF"));
	assert_false(pp_oci_digest_valid("sha384:" H64 H16 H16));
	assert_false(pp_oci_digest_valid("SHA256:" H64));
	assert_false(pp_oci_digest_valid(H64));
	assert_false(pp_oci_digest_valid("sha512:" H64));
}

struct norm_case {
	const char *os, *arch, *variant, *want;
};

static void test_platform_normalize(void **state)
{
	(void)state;
	static const struct norm_case cases[] = {
	    {"linux", "x86_64", NULL, "linux/amd64"},
	    {"Linux", "AMD64", "v1", "linux/amd64"},
	    {"linux", "x86-64", "v3", "linux/amd64/v3"},
	    {"linux", "amd64", "", "linux/amd64"},
	    {"linux", "i386", "whatever", "linux/386"},
	    {"linux", "aarch64", NULL, "linux/arm64/v8"},
	    {"linux", "arm64", "8", "linux/arm64/v8"},
	    {"linux", "arm64", "v8.0", "linux/arm64/v8"},
	    {"linux", "arm64", "9.0", "linux/arm64/v9"},
	    {"linux", "armhf", NULL, "linux/arm/v7"},
	    {"linux", "armel", NULL, "linux/arm/v6"},
	    {"linux", "arm", NULL, "linux/arm/v7"},
	    {"linux", "arm", "7", "linux/arm/v7"},
	    {"linux", "arm", "6", "linux/arm/v6"},
	    {"linux", "arm", "v5", "linux/arm/v5"},
	    {"macos", "arm64", NULL, "darwin/arm64/v8"},
	    {"linux", "ppc64le", NULL, "linux/ppc64le"},
	    {"linux", "s390x", NULL, "linux/s390x"},
	    {"windows", "amd64", NULL, "windows/amd64"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_oci_platform p = {
		    .os = xstrdup(cases[i].os),
		    .architecture = xstrdup(cases[i].arch),
		    .variant = xstrdup(cases[i].variant),
		};
		pp_oci_platform_normalize(&p);
		cleanup_free char *got = pp_oci_platform_format(&p);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s/%s/%s: %s, want %s", cases[i].os, cases[i].arch,
				 cases[i].variant ? cases[i].variant : "", got, cases[i].want);
		pp_oci_platform_clear(&p);
	}
}

static void test_platform_machine_and_spec(void **state)
{
	(void)state;
	static const char *const machines[][2] = {
	    {"x86_64", "linux/amd64"},
	    {"aarch64", "linux/arm64/v8"},
	    {"armv7l", "linux/arm/v7"},
	    {"armv6l", "linux/arm/v6"},
	    {"armv5tel", "linux/arm/v5"},
	    {"armv8l", "linux/arm/v8"},
	    {"i686", "linux/386"},
	    {"ppc64le", "linux/ppc64le"},
	    {"s390x", "linux/s390x"},
	    {"riscv64", "linux/riscv64"},
	    {"loongarch64", "linux/loong64"},
	};
	cleanup_error struct pp_error *err = NULL;
	struct pp_oci_platform p;
	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
		assert_int_equal(pp_oci_platform_from_machine(machines[i][0], &p, &err), 0);
		cleanup_free char *got = pp_oci_platform_format(&p);
		assert_string_equal(got, machines[i][1]);
		pp_oci_platform_clear(&p);
	}
	assert_int_equal(pp_oci_platform_from_machine("x86/64", &p, &err), -1);
	assert_int_equal(pp_oci_platform_host(&p, &err), 0);
	assert_string_equal(p.os, "linux");
	assert_non_null(p.architecture);
	pp_oci_platform_clear(&p);

	static const char *const specs[][2] = {
	    {"linux/amd64", "linux/amd64"},	  {"linux/arm64", "linux/arm64/v8"},
	    {"linux/arm/v7", "linux/arm/v7"},	  {"LINUX/ARM64/V8", "linux/arm64/v8"},
	    {"linux/arm/7", "linux/arm/v7"},	  {"linux/x86_64", "linux/amd64"},
	    {"linux/amd64/v2", "linux/amd64/v2"}, {"windows/amd64", "windows/amd64"},
	};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		assert_int_equal(pp_oci_platform_parse(specs[i][0], &p, &err), 0);
		cleanup_free char *got = pp_oci_platform_format(&p);
		assert_string_equal(got, specs[i][1]);
		pp_oci_platform_clear(&p);
	}
	static const char *const bad[] = {
	    "",
	    "linux",
	    "linux/",
	    "/amd64",
	    "linux//amd64",
	    "linux/amd64/",
	    "linux/amd64/v1/x",
	    "linux/am d64",
	    "linux/amd64;rm",
	    "a/b/" H64,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pp_oci_platform_parse(bad[i], &p, &err) == 0)
			fail_msg("accepted platform \"%s\"", bad[i]);
		assert_non_null(strstr(err->msg, "expected OS/ARCH[/VARIANT]"));
	}
}

/* Index with the given entries: "os/arch[/variant]", "-" for no platform,
 * "@os/arch" for an attestation by annotation. */
static struct pp_oci_document *index_of(const char *const *plats, size_t n)
{
	char *doc = xstrdup("{\"schemaVersion\":2,\"manifests\":[");
	for (size_t i = 0; i < n; i++) {
		char *entry;
		const char *p = plats[i];
		bool att = p[0] == '@';
		if (strcmp(p, "-") == 0) {
			entry = xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
					  PP_OCI_MT_MANIFEST, D("a"), i);
		} else {
			struct pp_oci_platform pl;
			assert_int_equal(pp_oci_platform_parse(p + att, &pl, NULL), 0);
			char variant[64] = "";
			if (pl.variant)
				snprintf(variant, sizeof(variant), ",\"variant\":\"%s\"",
					 pl.variant);
			entry = xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,%s"
					  "\"platform\":{\"os\":\"%s\",\"architecture\":\"%s\"%s}}",
					  PP_OCI_MT_MANIFEST, D("a"), i,
					  att ? "\"annotations\":{\"vnd.docker.reference.type\":"
						"\"attestation-manifest\"},"
					      : "",
					  pl.os, pl.architecture, variant);
			pp_oci_platform_clear(&pl);
		}
		doc = append(doc, i ? "," : "");
		doc = append(doc, entry);
		free(entry);
	}
	doc = append(doc, "]}");
	struct pp_oci_document *d = parse_ok(doc, NULL);
	free(doc);
	return d;
}

/* Which entry (its size is its position) is chosen for want; -1 for none. */
static int64_t choose(const struct pp_oci_index *idx, const char *want, char **msg)
{
	struct pp_oci_platform w;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_oci_platform_parse(want, &w, NULL), 0);
	const struct pp_oci_descriptor *d;
	int ret = pp_oci_index_select(idx, &w, &d, &err);
	pp_oci_platform_clear(&w);
	if (ret < 0) {
		if (msg)
			*msg = xstrdup(err->msg);
		return -1;
	}
	return d->size;
}

struct select_case {
	const char *want;
	int64_t entry;
};

static void check_select(const char *const *plats, size_t n, const struct select_case *cases,
			 size_t ncases)
{
	struct pp_oci_document *d = index_of(plats, n);
	for (size_t i = 0; i < ncases; i++) {
		int64_t got = choose(d->index, cases[i].want, NULL);
		if (got != cases[i].entry)
			fail_msg("%s: entry %lld, want %lld", cases[i].want, (long long)got,
				 (long long)cases[i].entry);
	}
	pp_oci_document_free(d);
}

static void test_platform_select(void **state)
{
	(void)state;
	/* the hand-written index: amd64, arm64/v8, arm/v7, an attestation */
	struct pp_oci_document *d = parse_ok(OCI_INDEX, NULL);
	static const struct select_case first[] = {
	    {"linux/amd64", 1024},  {"linux/arm64", 1025},  {"linux/arm64/v8", 1025},
	    {"linux/arm/v7", 1026}, {"linux/arm/v8", 1026}, {"linux/amd64/v3", 1024},
	    {"linux/arm/v6", -1},   {"linux/s390x", -1},    {"windows/amd64", -1},
	};
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		assert_int_equal(choose(d->index, first[i].want, NULL), first[i].entry);
	cleanup_free char *msg = NULL;
	assert_int_equal(choose(d->index, "linux/riscv64", &msg), -1);
	assert_string_equal(msg, "no image for linux/riscv64: the index offers linux/amd64, "
				 "linux/arm64/v8, linux/arm/v7");
	pp_oci_document_free(d);

	/* compatible variants, best first */
	static const char *const second[] = {"linux/386",      "linux/arm/v5", "linux/arm/v6",
					     "linux/amd64/v3", "linux/amd64",  "linux/arm64"};
	static const struct select_case second_cases[] = {
	    {"linux/amd64", 4},	   {"linux/amd64/v3", 3}, {"linux/amd64/v2", 4},
	    {"linux/amd64/v4", 3}, {"linux/arm/v7", 2},	  {"linux/arm/v5", 1},
	    {"linux/arm64/v9", 5}, {"linux/386", 0},	  {"linux/arm64", 5},
	    {"linux/arm/v8", 2},
	};
	check_select(second, 6, second_cases, sizeof(second_cases) / sizeof(second_cases[0]));

	/* arm64 runs 32-bit arm, amd64 runs 386 */
	static const char *const third[] = {"linux/arm/v6", "linux/386"};
	static const struct select_case third_cases[] = {
	    {"linux/arm64", 0}, {"linux/amd64", 1}, {"linux/arm/v5", -1}, {"linux/ppc64le", -1}};
	check_select(third, 2, third_cases, 4);

	/* an entry without a platform comes last; an attestation never */
	static const char *const fourth[] = {"-", "linux/arm/v7", "@linux/amd64"};
	static const struct select_case fourth_cases[] = {{"linux/amd64", 0}, {"linux/arm/v7", 1}};
	check_select(fourth, 3, fourth_cases, 2);
	static const char *const fifth[] = {"@linux/amd64", "linux/amd64", "linux/amd64"};
	static const struct select_case fifth_cases[] = {{"linux/amd64", 1}, {"linux/386", -1}};
	check_select(fifth, 3, fifth_cases, 2);

	/* nothing but attestations */
	static const char *const sixth[] = {"@linux/amd64"};
	d = index_of(sixth, 1);
	cleanup_free char *none = NULL;
	assert_int_equal(choose(d->index, "linux/amd64", &none), -1);
	assert_string_equal(none, "no image for linux/amd64: the index offers no image");
	pp_oci_document_free(d);
}

static void test_config_platform(void **state)
{
	(void)state;
	struct pp_oci_config *arm64 = config_ok(FULL_CONFIG);	/* arm64/v8 */
	struct pp_oci_config *amd64 = config_ok(DOCKER_CONFIG); /* amd64 */
	static const struct {
		const char *want;
		int arm64, amd64;
	} cases[] = {
	    {"linux/arm64", 0, -1},   {"linux/amd64", -1, 0},	 {"linux/amd64/v3", -1, 0},
	    {"linux/arm/v7", -1, -1}, {"windows/amd64", -1, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_oci_platform w;
		cleanup_error struct pp_error *err = NULL;
		assert_int_equal(pp_oci_platform_parse(cases[i].want, &w, NULL), 0);
		assert_int_equal(pp_oci_config_check_platform(arm64, &w, &err), cases[i].arm64);
		assert_int_equal(pp_oci_config_check_platform(amd64, &w, &err), cases[i].amd64);
		pp_oci_platform_clear(&w);
	}
	struct pp_oci_platform w;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_oci_platform_parse("linux/s390x", &w, NULL), 0);
	assert_int_equal(pp_oci_config_check_platform(arm64, &w, &err), -1);
	assert_string_equal(err->msg, "the image is for linux/arm64/v8, which does not run on "
				      "linux/s390x");
	pp_oci_platform_clear(&w);
	pp_oci_config_free(arm64);
	pp_oci_config_free(amd64);
}

static void test_write_manifest(void **state)
{
	(void)state;
	struct pp_oci_document *d = parse_ok(OCI_MANIFEST, NULL);
	cleanup_free char *once = pp_oci_manifest_to_json(d->manifest);
	struct pp_oci_document *again = parse_ok(once, PP_OCI_MT_MANIFEST);
	cleanup_free char *twice = pp_oci_manifest_to_json(again->manifest);
	assert_string_equal(once, twice);
	assert_int_equal(again->manifest->n_layers, 4);
	assert_true(again->manifest->layers[3].foreign);
	assert_null(strstr(once, "unknownField"));
	pp_oci_document_free(again);
	pp_oci_document_free(d);

	/* the exact bytes of one peapod makes */
	struct pp_oci_kv ann[] = {{"z", "1"}, {"a/b", "2"}};
	struct pp_oci_layer layer = {
	    .desc = {.media_type = TGZ, .digest = D("3"), .size = 5},
	    .compression = PP_OCI_COMPRESSION_GZIP,
	};
	struct pp_oci_manifest m = {
	    .media_type = PP_OCI_MT_MANIFEST,
	    .config = {.media_type = PP_OCI_MT_CONFIG, .digest = D("2"), .size = 7},
	    .layers = &layer,
	    .n_layers = 1,
	    .annotations = ann,
	    .n_annotations = 2,
	};
	cleanup_free char *text = pp_oci_manifest_to_json(&m);
	assert_string_equal(
	    text,
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	    "\"digest\":\"" D(
		"2") "\",\"size\":7},\"layers\":[{\"mediaType\":\"" TGZ "\","
		     "\"digest\":\"" D(
			 "3") "\",\"size\":5}],\"annotations\":{\"a/b\":\"2\",\"z\":\"1\"}}");
}

static void test_write_index_and_config(void **state)
{
	(void)state;
	struct pp_oci_document *d = parse_ok(DOCKER_LIST, NULL);
	cleanup_free char *once = pp_oci_index_to_json(d->index);
	struct pp_oci_document *again = parse_ok(once, NULL);
	assert_int_equal(again->kind, PP_OCI_KIND_DOCKER_LIST);
	cleanup_free char *twice = pp_oci_index_to_json(again->index);
	assert_string_equal(once, twice);
	assert_string_equal(again->index->manifests[2].platform->os_features[0], "win32k");
	pp_oci_document_free(again);
	pp_oci_document_free(d);

	struct pp_oci_config *c = config_ok(FULL_CONFIG);
	cleanup_free char *conf = pp_oci_config_to_json(c);
	struct pp_oci_config *c2 = config_ok(conf);
	cleanup_free char *conf2 = pp_oci_config_to_json(c2);
	assert_string_equal(conf, conf2);
	assert_string_equal(c2->config.labels[0].key, "a=b");
	assert_string_equal(c2->config.volumes[1], "/var/cache/nginx");
	assert_string_equal(c2->config.exposed_ports[2], "80/tcp");
	assert_true(c2->history[1].empty_layer);
	assert_int_equal(c2->n_diff_ids, 2);
	assert_non_null(strstr(conf, "\"Volumes\":{\"/data\":{},\"/var/cache/nginx\":{}}"));
	pp_oci_config_free(c2);
	pp_oci_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oci_index),
	    cmocka_unit_test(test_docker_list),
	    cmocka_unit_test(test_manifests),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_check_image),
	    cmocka_unit_test(test_bad_documents),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_digests),
	    cmocka_unit_test(test_platform_normalize),
	    cmocka_unit_test(test_platform_machine_and_spec),
	    cmocka_unit_test(test_platform_select),
	    cmocka_unit_test(test_config_platform),
	    cmocka_unit_test(test_write_manifest),
	    cmocka_unit_test(test_write_index_and_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
