/* Platforms of images (see oci.h): normalization as containerd's platforms
 * package does it, the host's platform from uname(2), --platform's
 * "os/arch[/variant]", and the choice of an index entry for a platform. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "image/oci.h"
#include "util/cleanup.h"

/* The most compatible platforms tried for one request: arm64 then arm/v8..v5
 * is the longest chain, amd64/v4..v1 + 386 the next. */
#define VECTOR_MAX 8
#define ARM_OLDEST 5   /* arm/v5: the oldest arm variant images are built for */
#define ARM_NEWEST 8   /* arm/v8: 32-bit code on a 64-bit arm CPU */
#define AMD64_NEWEST 4 /* amd64/v4 (x86-64-v4) */
#define SPEC_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"
#define SPEC_PART_MAX 32 /* one part of "os/arch/variant"; real ones: "ppc64le" */
#define VARIANT_BUF (SPEC_PART_MAX + 1)

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? xstrdup(v) : NULL;
}

static void lower(char *s)
{
	for (; s != NULL && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool is_any(const char *s, const char *const *set)
{
	for (; s != NULL && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static void normalize_arm64(struct pp_oci_platform *p)
{
	static const char *const v8[] = {"8", "v8", "v8.0", NULL};
	static const char *const v9[] = {"9", "9.0", "v9.0", NULL};
	set_str(&p->architecture, "arm64");
	/* "no variant" is v8: the variant is spelled out so that both compare equal */
	if (p->variant == NULL || is_any(p->variant, v8))
		set_str(&p->variant, "v8");
	else if (is_any(p->variant, v9))
		set_str(&p->variant, "v9");
}

static void normalize_arm(struct pp_oci_platform *p)
{
	static const char *const digits[] = {"5", "6", "8", NULL};
	if (p->variant == NULL || strcmp(p->variant, "7") == 0) {
		set_str(&p->variant, "v7");
	} else if (is_any(p->variant, digits)) {
		char v[VARIANT_BUF];
		snprintf(v, sizeof(v), "v%s", p->variant);
		set_str(&p->variant, v);
	}
}

void pp_oci_platform_normalize(struct pp_oci_platform *p)
{
	static const char *const amd64[] = {"x86_64", "x86-64", "amd64", NULL};
	static const char *const arm64[] = {"aarch64", "arm64", NULL};
	lower(p->os);
	lower(p->architecture);
	lower(p->variant);
	if (p->variant != NULL && p->variant[0] == '\0')
		set_str(&p->variant, NULL);
	if (eq(p->os, "macos"))
		set_str(&p->os, "darwin");
	if (p->architecture == NULL)
		return;
	if (strcmp(p->architecture, "i386") == 0) {
		set_str(&p->architecture, "386");
		set_str(&p->variant, NULL);
	} else if (is_any(p->architecture, amd64)) {
		set_str(&p->architecture, "amd64");
		if (eq(p->variant, "v1"))
			set_str(&p->variant, NULL);
	} else if (is_any(p->architecture, arm64)) {
		normalize_arm64(p);
	} else if (strcmp(p->architecture, "armhf") == 0) {
		set_str(&p->architecture, "arm");
		set_str(&p->variant, "v7");
	} else if (strcmp(p->architecture, "armel") == 0) {
		set_str(&p->architecture, "arm");
		set_str(&p->variant, "v6");
	} else if (strcmp(p->architecture, "arm") == 0) {
		normalize_arm(p);
	}
}

void pp_oci_platform_clear(struct pp_oci_platform *p)
{
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	strv_free(p->os_features);
	memset(p, 0, sizeof(*p));
}

char *pp_oci_platform_format(const struct pp_oci_platform *p)
{
	const char *os = p->os ? p->os : "?", *arch = p->architecture ? p->architecture : "?";
	if (p->variant != NULL)
		return xasprintf("%s/%s/%s", os, arch, p->variant);
	return xasprintf("%s/%s", os, arch);
}

static bool spec_part_ok(const char *s)
{
	return *s != '\0' && strlen(s) <= SPEC_PART_MAX && strspn(s, SPEC_CHARS) == strlen(s);
}

int pp_oci_platform_parse(const char *spec, struct pp_oci_platform *out, struct pp_error **err)
{
	memset(out, 0, sizeof(*out));
	cleanup_free char *copy = xstrdup(spec);
	lower(copy);
	char *parts[3] = {NULL, NULL, NULL};
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(copy, "/", &save); tok != NULL;
	     tok = strtok_r(NULL, "/", &save)) {
		if (n == 3 || !spec_part_ok(tok))
			n = 4;
		if (n >= 3)
			break;
		parts[n++] = tok;
	}
	if (n < 2 || n > 3 || strstr(spec, "//") != NULL || spec[strlen(spec) - 1] == '/')
		return pp_error_set(err, 0,
				    "platform \"%.80s\": expected OS/ARCH[/VARIANT], e.g. "
				    "linux/arm64 or linux/arm/v7",
				    spec);
	out->os = xstrdup(parts[0]);
	out->architecture = xstrdup(parts[1]);
	out->variant = xstrdup(parts[2]);
	pp_oci_platform_normalize(out);
	return 0;
}

struct machine {
	const char *machine; /* uname -m */
	const char *arch;
	const char *variant;
};

/* The Linux kernel's names that differ from Go's (GOARCH): the rest are the
 * same (ppc64le, s390x, riscv64, mips64...). */
static const struct machine MACHINES[] = {
    {"x86_64", "amd64", NULL}, {"i386", "386", NULL},
    {"i486", "386", NULL},     {"i586", "386", NULL},
    {"i686", "386", NULL},     {"aarch64", "arm64", "v8"},
    {"arm64", "arm64", "v8"},  {"armv8l", "arm", "v8"},
    {"armv8b", "arm", "v8"},   {"armv7l", "arm", "v7"},
    {"armv7", "arm", "v7"},    {"armv6l", "arm", "v6"},
    {"armv5tel", "arm", "v5"}, {"armv5tejl", "arm", "v5"},
    {"armv5l", "arm", "v5"},   {"loongarch64", "loong64", NULL},
};

int pp_oci_platform_from_machine(const char *machine, struct pp_oci_platform *out,
				 struct pp_error **err)
{
	memset(out, 0, sizeof(*out));
	cleanup_free char *m = xstrdup(machine);
	lower(m);
	if (!spec_part_ok(m))
		return pp_error_set(err, 0, "machine \"%.80s\": not an architecture", machine);
	out->os = xstrdup("linux");
	out->architecture = xstrdup(m);
	for (size_t i = 0; i < sizeof(MACHINES) / sizeof(MACHINES[0]); i++)
		if (strcmp(m, MACHINES[i].machine) == 0) {
			set_str(&out->architecture, MACHINES[i].arch);
			set_str(&out->variant, MACHINES[i].variant);
		}
	pp_oci_platform_normalize(out);
	return 0;
}

int pp_oci_platform_host(struct pp_oci_platform *out, struct pp_error **err)
{
	struct utsname u;
	if (uname(&u) < 0)
		return pp_error_set(err, errno, "uname");
	return pp_oci_platform_from_machine(u.machine, out, err);
}

bool pp_oci_descriptor_is_attestation(const struct pp_oci_descriptor *d)
{
	for (size_t i = 0; i < d->n_annotations; i++)
		if (strcmp(d->annotations[i].key, PP_OCI_ANN_REFERENCE_TYPE) == 0 &&
		    strcmp(d->annotations[i].value, PP_OCI_REFERENCE_ATTESTATION) == 0)
			return true;
	return d->platform != NULL && eq(d->platform->os, "unknown") &&
	       eq(d->platform->architecture, "unknown");
}

/* ---- matching ---- */

struct candidate {
	const char *arch;
	char variant[VARIANT_BUF]; /* "" for none */
};

static void push(struct candidate *v, size_t *n, const char *arch, const char *variant)
{
	/* a variant too long to be real matches nothing rather than a prefix */
	if (*n == VECTOR_MAX || (variant != NULL && strlen(variant) >= VARIANT_BUF))
		return;
	v[*n].arch = arch;
	snprintf(v[*n].variant, sizeof(v[*n].variant), "%s", variant ? variant : "");
	(*n)++;
}

/* The variant's number: "v7" -> 7; -1 when it is not "v<digit>". */
static int variant_number(const char *variant)
{
	if (variant == NULL || variant[0] != 'v' || !isdigit((unsigned char)variant[1]) ||
	    variant[2] != '\0')
		return -1;
	return variant[1] - '0';
}

static void push_arm_chain(struct candidate *v, size_t *n, int from)
{
	for (int k = from; k >= ARM_OLDEST; k--) {
		char variant[VARIANT_BUF];
		snprintf(variant, sizeof(variant), "v%d", k);
		push(v, n, "arm", variant);
	}
}

/* What want runs, best first, as containerd's platformVector orders it. */
static size_t platform_vector(const struct pp_oci_platform *want, struct candidate *v)
{
	size_t n = 0;
	const char *arch = want->architecture;
	int k = variant_number(want->variant);
	push(v, &n, arch, want->variant);
	if (strcmp(arch, "amd64") == 0) {
		for (k = k > AMD64_NEWEST ? AMD64_NEWEST : k - 1; k >= 2; k--) {
			char variant[VARIANT_BUF];
			snprintf(variant, sizeof(variant), "v%d", k);
			push(v, &n, arch, variant);
		}
		if (want->variant != NULL)
			push(v, &n, arch, NULL);
		push(v, &n, "386", NULL);
	} else if (strcmp(arch, "arm64") == 0) {
		if (!eq(want->variant, "v8"))
			push(v, &n, arch, "v8");
		push_arm_chain(v, &n, ARM_NEWEST);
	} else if (strcmp(arch, "arm") == 0 && k > ARM_OLDEST) {
		push_arm_chain(v, &n, k > ARM_NEWEST ? ARM_NEWEST : k - 1);
	}
	return n;
}

/* The rank of entry p in v (lower is better), -1 when it does not run. */
static int rank_of(const struct pp_oci_platform *p, const char *os, const struct candidate *v,
		   size_t n)
{
	struct pp_oci_platform norm = {
	    .os = xstrdup(p->os),
	    .architecture = xstrdup(p->architecture),
	    .variant = xstrdup(p->variant),
	};
	pp_oci_platform_normalize(&norm);
	int rank = -1;
	for (size_t i = 0; i < n && rank < 0; i++)
		if (eq(norm.os, os) && eq(norm.architecture, v[i].arch) &&
		    strcmp(norm.variant ? norm.variant : "", v[i].variant) == 0)
			rank = (int)i;
	pp_oci_platform_clear(&norm);
	return rank;
}

static bool is_image(const struct pp_oci_descriptor *d)
{
	static const char *const types[] = {PP_OCI_MT_MANIFEST, PP_DOCKER_MT_MANIFEST,
					    PP_OCI_MT_INDEX, PP_DOCKER_MT_LIST, NULL};
	return is_any(d->media_type, types) && !pp_oci_descriptor_is_attestation(d);
}

/* "linux/amd64, linux/arm/v7" for the error; the caller frees. */
static char *offered(const struct pp_oci_index *idx)
{
	char *list = xstrdup("");
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct pp_oci_descriptor *d = &idx->manifests[i];
		if (!is_image(d))
			continue;
		cleanup_free char *p =
		    d->platform ? pp_oci_platform_format(d->platform) : xstrdup("(no platform)");
		char *next = xasprintf("%s%s%s", list, list[0] ? ", " : "", p);
		free(list);
		list = next;
	}
	return list;
}

int pp_oci_index_select(const struct pp_oci_index *idx, const struct pp_oci_platform *want,
			const struct pp_oci_descriptor **out, struct pp_error **err)
{
	*out = NULL;
	struct candidate v[VECTOR_MAX];
	size_t n = want->architecture != NULL ? platform_vector(want, v) : 0;
	int best = -1;
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct pp_oci_descriptor *d = &idx->manifests[i];
		if (!is_image(d))
			continue;
		/* an entry without a platform runs anywhere, as the last choice */
		int rank = d->platform ? rank_of(d->platform, want->os, v, n) : (int)n;
		if (rank >= 0 && (best < 0 || rank < best)) {
			best = rank;
			*out = d;
		}
	}
	if (*out != NULL)
		return 0;
	cleanup_free char *w = pp_oci_platform_format(want);
	cleanup_free char *list = offered(idx);
	if (list[0] == '\0')
		return pp_error_set(err, 0, "no image for %s: the index offers no image", w);
	return pp_error_set(err, 0, "no image for %s: the index offers %s", w, list);
}

int pp_oci_config_check_platform(const struct pp_oci_config *c, const struct pp_oci_platform *want,
				 struct pp_error **err)
{
	struct candidate v[VECTOR_MAX];
	size_t n = want->architecture != NULL ? platform_vector(want, v) : 0;
	struct pp_oci_platform image = {
	    .os = c->os,
	    .architecture = c->architecture,
	    .variant = c->variant,
	};
	if (rank_of(&image, want->os, v, n) >= 0)
		return 0;
	/* the names as normalized, so that the message compares like with like */
	struct pp_oci_platform shown = {
	    .os = xstrdup(c->os),
	    .architecture = xstrdup(c->architecture),
	    .variant = xstrdup(c->variant),
	};
	pp_oci_platform_normalize(&shown);
	cleanup_free char *have = pp_oci_platform_format(&shown);
	cleanup_free char *w = pp_oci_platform_format(want);
	pp_oci_platform_clear(&shown);
	return pp_error_set(err, 0, "the image is for %s, which does not run on %s", have, w);
}
