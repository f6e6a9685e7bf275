/* libFuzzer entry for Jobs: any input, read as a Job manifest, must parse
 * or fail with an error; a parsed one is decided over pods made from the
 * input's bytes; read as a stored status (JSON), it must load or be
 * refused. Never a crash, hang or leak. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "controller/job_decide.h"
#include "manifest/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t next(void *ctx)
{
	return (*(uint64_t *)ctx)++;
}

static const char fallback[] = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: f\nspec:\n"
			       "  completions: 5\n  parallelism: 3\n  completionMode: Indexed\n"
			       "  template:\n    spec:\n      restartPolicy: OnFailure\n"
			       "      containers:\n      - name: c\n        image: busybox\n";

/* Pods of every phase, index and restart count the bytes say. */
static void decide(const struct pp_job *job, const uint8_t *data, size_t size,
		   struct pp_job_status *st)
{
	static const char *const names[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"};
	struct pp_job_pod pods[8];
	size_t n = size < 8 ? size : 8;
	for (size_t i = 0; i < n; i++)
		pods[i] = (struct pp_job_pod){.name = names[i],
					      .index = (int64_t)(data[i] % 8) - 1,
					      .phase = (enum pp_job_pod_phase)(data[i] >> 6),
					      .ready = data[i] & 8,
					      .restarts = data[i] & 7,
					      .finished_ms = (int64_t)data[i] * 1000};
	uint64_t seed = size;
	struct pp_job_env env = {.now_ms = 100000,
				 .backoff_base_ms = PP_JOB_BACKOFF_BASE_MS,
				 .backoff_max_ms = PP_JOB_BACKOFF_MAX_MS,
				 .random = next,
				 .random_ctx = &seed};
	for (int pass = 0; pass < 3; pass++) {
		struct pp_job_decision d;
		pp_job_decide(job, &env, st, pods, n, &d);
		pp_job_decision_free(&d);
		env.now_ms += 400000;
	}
	struct json_object *j = pp_job_status_to_json(job, st);
	json_object_put(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_job *job = NULL;
	struct pp_error *err = NULL;
	struct pp_job_status st = {0};
	if (pp_job_parse_buffer("fuzz.yaml", (const char *)data, size, &job, &err) == 0) {
		decide(job, data, size, &st);
		pp_job_status_free(&st);
		pp_job_free(job);
	}
	pp_error_free(&err);
	/* the same bytes as a stored status of a fixed Indexed job */
	if (pp_job_parse_buffer("fixed.yaml", fallback, strlen(fallback), &job, &err) < 0)
		__builtin_trap();
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (o != NULL && pp_job_status_from_json(job, o, &st, &err) == 0) {
		decide(job, data, size, &st);
		pp_job_status_free(&st);
	}
	pp_error_free(&err);
	json_object_put(o);
	pp_job_free(job);
	return 0;
}
