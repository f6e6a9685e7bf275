/* Image references as kubelet and containerd resolve them (docker's
 * distribution/reference grammar and normalization): "busybox" is
 * "docker.io/library/busybox:latest", "user/app" is "docker.io/user/app",
 * "localhost:5000/foo/bar:tag" names a registry with a port, and
 * "NAME:TAG@sha256:..." keeps both while the digest is what is pulled.
 *
 * Pure grammar, in src/util because two layers that may not include each
 * other need it: src/manifest refuses a malformed `image:` at parse time, and
 * src/image keys its store and (later) talks to registries with it. */
#ifndef PEAPOD_IMAGE_REFERENCE_H
#define PEAPOD_IMAGE_REFERENCE_H

#include <errno.h>

#include "util/error.h"

/* The normalized name, "docker.io/library/busybox" (domain "/" path), as
 * distribution limits it. */
#define PP_IMAGE_REF_NAME_MAX 255
/* A tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
#define PP_IMAGE_REF_TAG_MAX 128
/* The longest digest accepted: "sha512:" and 128 hex digits. */
#define PP_IMAGE_REF_DIGEST_MAX (sizeof("sha512:") - 1 + 128)
/* Whole input: a name, a tag and a digest with their separators; longer
 * input is refused before it is looked at (and never quoted whole in an
 * error message). */
#define PP_IMAGE_REF_INPUT_MAX                                                                     \
	(PP_IMAGE_REF_NAME_MAX + 1 + PP_IMAGE_REF_TAG_MAX + 1 + PP_IMAGE_REF_DIGEST_MAX)
/* Registry ports are TCP ports. */
#define PP_IMAGE_REF_PORT_MAX 65535

/* Docker Hub: how references name it, and the host its API is served from. */
#define PP_IMAGE_REF_HUB_DOMAIN "docker.io"
#define PP_IMAGE_REF_HUB_API_HOST "registry-1.docker.io"
/* Docker Hub's official images live under this namespace. */
#define PP_IMAGE_REF_HUB_OFFICIAL "library"
#define PP_IMAGE_REF_DEFAULT_TAG "latest"

struct pp_image_ref {
	char *domain; /* "docker.io", "quay.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/busybox", "team/app" */
	char *tag;    /* "1.36"; "latest" when neither tag nor digest; else NULL when absent */
	char *digest; /* "sha256:<64 hex>" or "sha512:<128 hex>", NULL when absent */
};

/* Parses s into *out (its strings the caller's, freed by pp_image_ref_free;
 * *out is left zeroed on error). The first component is a registry host when
 * it holds a '.' or a ':', is "localhost", or holds an uppercase letter
 * (Docker Hub namespaces are lowercase); "index.docker.io" and
 * "registry-1.docker.io" are spelled "docker.io". The error says what is
 * wrong: "invalid image reference \"Foo\": repository name must be
 * lowercase". */
int pp_image_ref_parse(const char *s, struct pp_image_ref *out, struct pp_error **err);
void pp_image_ref_free(struct pp_image_ref *ref);

/* "docker.io/library/busybox:latest", "quay.io/a/b:1@sha256:..." */
char *pp_image_ref_string(const struct pp_image_ref *ref);
/* What docker and podman show: "busybox:latest", "user/app:1",
 * "quay.io/a/b:1" (Docker Hub's domain and "library/" left out). */
char *pp_image_ref_familiar(const struct pp_image_ref *ref);
/* The repository, without tag or digest: "docker.io/library/busybox". */
char *pp_image_ref_repository(const struct pp_image_ref *ref);
/* The host (and port) whose /v2/ API serves the repository:
 * "registry-1.docker.io" for Docker Hub, else the domain. */
const char *pp_image_ref_api_host(const struct pp_image_ref *ref);
/* What a pull asks the registry for: the digest when there is one (it wins
 * over the tag), else the tag. */
const char *pp_image_ref_pull_reference(const struct pp_image_ref *ref);

static inline void cleanup_image_refp(struct pp_image_ref *ref)
{
	int saved = errno;
	pp_image_ref_free(ref);
	errno = saved;
}
#define cleanup_image_ref __attribute__((cleanup(cleanup_image_refp)))

#endif
