/* benchtime: the timing helper of bench/bench.sh.
 *
 *   benchtime run [-v] CMD [ARGS...] [::: CMD [ARGS...]]...
 *       Runs the commands one after the other (posix_spawn, no shell) and
 *       prints the wall time from the first spawn to the last exit in
 *       milliseconds (CLOCK_MONOTONIC, microsecond precision). Standard
 *       output and error go to /dev/null unless -v. Exits 1 (after printing
 *       which command failed on stderr) when a command does not exit 0.
 *   benchtime stats
 *       Reads one number a line on standard input and prints
 *       "median min max p10 p90 n" (p10/p90: nearest rank).
 *   benchtime cpu N CMD [ARGS...]
 *       Runs the command N times (posix_spawn, output to /dev/null) and
 *       prints the CPU time (user + system) of one run in microseconds:
 *       what a probe's command costs on its own.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run_one(char **argv, int quiet)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "benchtime: %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "benchtime: %s", argv[0]);
		for (char **a = argv + 1; *a; a++)
			fprintf(stderr, " %s", *a);
		fprintf(stderr, ": %s %d\n", WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	int quiet = 1, i = 0;
	if (argc > 0 && strcmp(argv[0], "-v") == 0) {
		quiet = 0;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: benchtime run [-v] CMD [ARGS...] [::: CMD...]...\n");
		return 2;
	}
	double t0 = now_ms();
	while (i < argc) {
		int j = i;
		while (j < argc && strcmp(argv[j], ":::") != 0)
			j++;
		argv[j < argc ? j : argc] = NULL; /* argv[argc] is NULL already */
		if (j > i && run_one(argv + i, quiet) < 0)
			return 1;
		i = j + 1;
	}
	printf("%.3f\n", now_ms() - t0);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_stats(void)
{
	size_t n = 0, cap = 64;
	double *v = malloc(cap * sizeof(*v)), x;
	while (scanf("%lf", &x) == 1) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = x;
	}
	if (n == 0) {
		printf("nan nan nan nan nan 0\n");
		return 1;
	}
	qsort(v, n, sizeof(*v), cmp);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	size_t p10 = (n * 10 + 99) / 100, p90 = (n * 90 + 99) / 100;
	printf("%.3f %.3f %.3f %.3f %.3f %zu\n", med, v[0], v[n - 1], v[p10 ? p10 - 1 : 0],
	       v[p90 - 1], n);
	free(v);
	return 0;
}

static int cmd_cpu(int argc, char **argv)
{
	int n = argc >= 2 ? atoi(argv[0]) : 0;
	if (n <= 0)
		return 2;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int st;
		if (posix_spawnp(&pid, argv[1], &fa, NULL, argv + 1, environ) != 0 ||
		    waitpid(pid, &st, 0) < 0)
			return 1;
	}
	posix_spawn_file_actions_destroy(&fa);
	struct rusage r;
	getrusage(RUSAGE_CHILDREN, &r);
	double us = (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
		    (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
	printf("%.1f\n", us / n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "cpu") == 0)
		return cmd_cpu(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "stats") == 0)
		return cmd_stats();
	fprintf(stderr, "usage: benchtime run [-v] CMD... [::: CMD...]... | benchtime stats | "
			"benchtime cpu N CMD...\n");
	return 2;
}
