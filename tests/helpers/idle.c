/* idle: waits for SIGTERM or SIGINT, then exits 0. The only program of the
 * "no shell" image of debug.bats (a distroless-like pod to debug into): as
 * PID 1 of its PID namespace it must catch the stop signal itself. */
#include <signal.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

int main(void)
{
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	for (;;)
		pause();
}
