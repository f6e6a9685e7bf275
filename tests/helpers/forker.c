/* forker N: forks up to N children that each wait forever, until a fork
 * fails; prints "forked K (then ERROR)" and waits. For the pids limit tests:
 * a fork bomb that reports where the kernel stopped it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long want = argc > 1 ? atol(argv[1]) : 100, got = 0;
	int err = 0;
	for (; got < want; got++) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0)
			for (;;)
				pause();
	}
	printf("forked %ld (then %s)\n", got, err ? strerror(err) : "no error");
	fflush(stdout);
	for (;;)
		pause();
}
