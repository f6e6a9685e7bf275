/* linewriter: a fast, exact load generator for log throughput (bench 6):
 * writes COUNT lines of LEN bytes (LEN-1 'x' and a newline) to stdout in
 * writes of up to 64 KiB, so that the reader, not the writer, is what is
 * measured. Static, runs in a busybox rootfs.
 *   linewriter COUNT LEN
 * Exit status 0, 1 on a write error, 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

int main(int argc, char **argv)
{
	char *end1 = NULL, *end2 = NULL;
	if (argc != 3)
		goto usage;
	long long count = strtoll(argv[1], &end1, 10);
	long len = strtol(argv[2], &end2, 10);
	if (*end1 != '\0' || *end2 != '\0' || count < 0 || len < 1 || len > CHUNK)
		goto usage;
	/* One buffer of whole lines, written again and again. */
	long per = CHUNK / len;
	static char buf[CHUNK];
	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < per; i++)
		buf[i * len + len - 1] = '\n';
	while (count > 0) {
		long n = count < per ? (long)count : per;
		size_t bytes = (size_t)(n * len), done = 0;
		while (done < bytes) {
			ssize_t w = write(1, buf + done, bytes - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				perror("linewriter: write");
				return 1;
			}
			done += (size_t)w;
		}
		count -= n;
	}
	return 0;
usage:
	fprintf(stderr, "usage: linewriter COUNT LEN\n");
	return 2;
}
