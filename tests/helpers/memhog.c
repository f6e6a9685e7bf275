/* memhog MIB: allocates and touches MIB mebibytes, one at a time, then
 * sleeps; prints "allocated N" when it got them all. For the OOM tests: a
 * container over its memory limit is killed before it gets there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

int main(int argc, char **argv)
{
	long want = argc > 1 ? atol(argv[1]) : 64;
	for (long i = 0; i < want; i++) {
		char *p = malloc(MIB);
		if (p == NULL)
			return 1;
		memset(p, 0x5a, MIB); /* touched, so it is charged to the cgroup */
	}
	printf("allocated %ld\n", want);
	fflush(stdout);
	for (;;)
		pause();
}
