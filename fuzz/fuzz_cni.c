/* libFuzzer entry for what peapod reads of CNI: a conflist (or .conf) file
 * of the configuration directory, and a plugin's result on its stdout. Any
 * bytes must load or fail with an error, never crash, hang or leak; any
 * result yields a (possibly empty) list of addresses. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/cni.h"
#include "net/netconf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[PATH_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/peapod-fuzz-cni.%d", fuzz_tmpdir(), (int)getpid());
		pp_mkdir_p(dir, 0700, NULL);
		setenv("PEAPOD_CNI_CONF_DIR", dir, 1);
		setenv("PEAPOD_RUN", dir, 1);
	}
	cleanup_free char *path = xasprintf("%s/10-fuzz.conflist", dir);
	if (pp_write_file_atomic(path, data, size, 0600, NULL) < 0)
		return 0;
	struct json_object *conf = NULL;
	bool is_default = false;
	struct pp_error *err = NULL;
	/* "fuzz" names it when the input says so; else the lookup fails. */
	if (pp_net_load("fuzz", &conf, &is_default, &err) == 0)
		json_object_put(conf);
	pp_error_free(&err);
	unlink(path);

	cleanup_free char *text = strndup((const char *)data, size);
	struct json_object *result = json_tokener_parse(text);
	char **ips = pp_cni_result_ips(result);
	strv_free(ips);
	if (result)
		json_object_put(result);
	return 0;
}
