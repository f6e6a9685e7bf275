/* PersistentVolumeClaims and PersistentVolumes as kubectl shows them: get
 * pvc's and get pv's columns, describe (the rest of get / delete is
 * cmd_objects.c's). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "objects/objects.h"
#include "ops/claims.h"
#include "util/cleanup.h"

/* "RWO,ROX" */
static void access_modes(unsigned modes, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < PP_ACCESS_MODE_COUNT; i++)
		if (modes & (1u << i)) {
			size_t l = strlen(buf);
			snprintf(buf + l, size - l, "%s%s", l ? "," : "", pp_access_mode_short(i));
		}
}

/* The volume a claim is bound to: the PersistentVolume it names, else its
 * own directory, named as the API server names a provisioned one. */
static char *volume_name(const struct pp_config_object *o)
{
	if (o->volume_name != NULL)
		return xstrdup(o->volume_name);
	return xasprintf("pvc-%s", o->uid ? o->uid : "");
}

/* Bound: its own directory, or its PersistentVolume is there and fits;
 * Pending otherwise (as a claim waits for its volume). */
static const char *claim_status(const struct pp_config_object *o)
{
	cleanup_free char *path = NULL;
	cleanup_error struct pp_error *err = NULL;
	return pp_pvc_path(o, &path, &err) == 0 ? "Bound" : "Pending";
}

void cli_print_pvcs(struct pp_config_object **objs, size_t n, bool all)
{
	int w = (int)strlen("NAME"), nw = (int)strlen("NAMESPACE"), vw = (int)strlen("VOLUME");
	int cw = (int)strlen("CAPACITY"), sw = (int)strlen("STORAGECLASS");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *v = volume_name(objs[i]);
		const char *sc = objs[i]->storage_class ? objs[i]->storage_class : "<unset>";
		nw = (int)strlen(objs[i]->namespace_) > nw ? (int)strlen(objs[i]->namespace_) : nw;
		w = (int)strlen(objs[i]->name) > w ? (int)strlen(objs[i]->name) : w;
		vw = (int)strlen(v) > vw ? (int)strlen(v) : vw;
		cw = (int)strlen(objs[i]->storage) > cw ? (int)strlen(objs[i]->storage) : cw;
		sw = (int)strlen(sc) > sw ? (int)strlen(sc) : sw;
	}
	if (all)
		printf("%-*s   ", nw, "NAMESPACE");
	printf("%-*s   %-7s   %-*s   %-*s   %-12s   %-*s   %s\n", w, "NAME", "STATUS", vw, "VOLUME",
	       cw, "CAPACITY", "ACCESS MODES", sw, "STORAGECLASS", "AGE");
	for (size_t i = 0; i < n; i++) {
		const struct pp_config_object *o = objs[i];
		char age[32], modes[64];
		cli_human_age(o->created, age, sizeof(age));
		access_modes(o->access_modes, modes, sizeof(modes));
		cleanup_free char *v = volume_name(o);
		if (all)
			printf("%-*s   ", nw, o->namespace_);
		printf("%-*s   %-7s   %-*s   %-*s   %-12s   %-*s   %s\n", w, o->name,
		       claim_status(o), vw, v, cw, o->storage, modes, sw,
		       o->storage_class ? o->storage_class : "<unset>", age);
	}
}

static void print_kv(const char *title, const struct pp_kv *kv, size_t n)
{
	printf("%-15s", title);
	if (n == 0)
		printf("<none>\n");
	for (size_t i = 0; i < n; i++)
		printf("%*s%s=%s\n", i ? 15 : 0, "", kv[i].key, kv[i].value);
}

static void describe_pv(const struct pp_config_object *o)
{
	char modes[64];
	access_modes(o->access_modes, modes, sizeof(modes));
	cleanup_strv char **claims = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_volume_claims(o->name, &claims, &err) < 0)
		claims = NULL;
	bool bound = claims != NULL && claims[0] != NULL;
	printf("%-17s%s\n", "Name:", o->name);
	printf("%-17s%s\n", "StorageClass:", o->storage_class ? o->storage_class : "");
	printf("%-17s%s\n", "Status:", bound ? "Bound" : "Available");
	printf("%-17s%s\n", "Claim:", bound ? claims[0] : "");
	printf("%-17s%s\n", "Reclaim Policy:", "Retain");
	printf("%-17s%s\n", "Access Modes:", modes);
	printf("%-17s%s\n", "VolumeMode:", "Filesystem");
	printf("%-17s%s\n", "Capacity:", o->storage);
	printf("Source:\n    Type:  HostPath (bare host directory volume)\n    Path:  %s\n",
	       o->host_path);
	printf("%-17s<none>\n", "Events:");
}

void cli_describe_pvc(const struct pp_config_object *o)
{
	if (o->kind == PP_OBJ_PV) {
		describe_pv(o);
		return;
	}
	char modes[64];
	access_modes(o->access_modes, modes, sizeof(modes));
	cleanup_free char *v = volume_name(o);
	cleanup_strv char **users = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_claim_users(o->namespace_, o->name, &users, &err) < 0)
		users = NULL;
	printf("%-15s%s\n", "Name:", o->name);
	printf("%-15s%s\n", "Namespace:", o->namespace_);
	printf("%-15s%s\n", "StorageClass:", o->storage_class ? o->storage_class : "");
	printf("%-15s%s\n", "Status:", claim_status(o));
	printf("%-15s%s\n", "Volume:", v);
	print_kv("Labels:", o->labels, o->n_labels);
	print_kv("Annotations:", o->annotations, o->n_annotations);
	printf("%-15s%s\n", "Capacity:", o->storage);
	printf("%-15s%s\n", "Access Modes:", modes);
	printf("%-15s%s\n", "VolumeMode:", "Filesystem");
	printf("%-15s", "Used By:");
	if (users == NULL || users[0] == NULL)
		printf("<none>\n");
	for (size_t i = 0; users != NULL && users[i] != NULL; i++)
		printf("%*s%s\n", i ? 15 : 0, "", users[i]);
	printf("%-15s<none>\n", "Events:");
}

/* kubectl's get pv: NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM
 * STORAGECLASS AGE; Bound when a claim names it. */
void cli_print_pvs(struct pp_config_object **objs, size_t n)
{
	printf("%-20s   %-8s   %-12s   %-14s   %-9s   %-20s   %-12s   %s\n", "NAME", "CAPACITY",
	       "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "AGE");
	for (size_t i = 0; i < n; i++) {
		const struct pp_config_object *o = objs[i];
		char age[32], modes[64];
		cli_human_age(o->created, age, sizeof(age));
		access_modes(o->access_modes, modes, sizeof(modes));
		cleanup_strv char **claims = NULL;
		cleanup_error struct pp_error *err = NULL;
		if (pp_volume_claims(o->name, &claims, &err) < 0)
			claims = NULL;
		bool bound = claims != NULL && claims[0] != NULL;
		printf("%-20s   %-8s   %-12s   %-14s   %-9s   %-20s   %-12s   %s\n", o->name,
		       o->storage, modes, "Retain", bound ? "Bound" : "Available",
		       bound ? claims[0] : "", o->storage_class ? o->storage_class : "", age);
	}
}
