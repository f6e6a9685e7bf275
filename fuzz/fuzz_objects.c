/* libFuzzer entry for inputs of several objects (multi-document YAML, JSON,
 * Lists) with ConfigMaps, Secrets, PersistentVolumeClaims and
 * PersistentVolumes and workloads: any input must parse or fail with an error, never
 * crash, hang or leak; a parsed object must survive its API JSON form (the
 * object store's file) unchanged. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/config_object.h"
#include "manifest/manifest.h"
#include "manifest/workload.h"
#include "objects/objects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct pp_config_object *o)
{
	struct json_object *j = pp_object_to_json(o);
	const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	struct pp_manifest_set again = {0};
	struct pp_error *err = NULL;
	if (pp_manifest_set_parse("store.json", text, strlen(text), &again, &err) < 0 ||
	    again.n != 1 || again.items[0].object == NULL ||
	    !pp_object_equal(o, again.items[0].object))
		abort();
	pp_manifest_set_free(&again);
	json_object_put(j);
}

/* A workload's JSON (what the store keeps) parses back to the same spec. */
static void workload_round_trip(const struct pp_manifest_item *it)
{
	struct pp_manifest_set again = {0};
	struct pp_error *err = NULL;
	if (pp_manifest_set_parse("store.json", it->text, it->text_len, &again, &err) < 0 ||
	    again.n != 1 || again.items[0].workload == NULL ||
	    again.items[0].workload->kind != it->workload->kind ||
	    strcmp(again.items[0].workload->name, it->workload->name) != 0 ||
	    strcmp(again.items[0].workload->spec_json, it->workload->spec_json) != 0)
		abort();
	pp_manifest_set_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_manifest_set set = {0};
	struct pp_error *err = NULL;
	if (pp_manifest_set_parse("fuzz.yaml", (const char *)data, size, &set, &err) == 0) {
		for (size_t i = 0; i < set.n; i++)
			if (set.items[i].object != NULL)
				round_trip(set.items[i].object);
			else if (set.items[i].workload != NULL)
				workload_round_trip(&set.items[i]);
		pp_manifest_set_free(&set);
	}
	pp_error_free(&err);
	return 0;
}
