/* The image store's keys: a reference in the short form docker and podman
 * show ("busybox" is "busybox:latest", "docker.io/library/busybox:1.36" is
 * "busybox:1.36", other registries keep their host: "quay.io/x/y:1"), so
 * that every spelling of one image finds the same tag. The grammar is
 * util/image_reference.h's. */
#include "image/image.h"
#include "util/image_reference.h"

char *pp_image_normalize_ref(const char *ref)
{
	cleanup_image_ref struct pp_image_ref parsed;
	if (pp_image_ref_parse(ref, &parsed, NULL) < 0)
		return NULL;
	return pp_image_ref_familiar(&parsed);
}
