#include "util/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/cleanup.h"

/* One mapping of /proc/self/smaps, as far as read. */
struct vma {
	uintptr_t start, end;
	bool candidate; /* private, not writable, backed by a file */
	long anon_kb;	/* its copy-on-write pages; -1 until read */
	long rss_kb;
};

static int release(const struct vma *v)
{
	if (!v->candidate || v->anon_kb != 0 || v->rss_kb <= 0)
		return 0;
	/* A private mapping without an anonymous page: every page is the
	 * file's, read again from the page cache on the next access. */
	return madvise((void *)v->start, v->end - v->start, MADV_DONTNEED) == 0 ? 1 : 0;
}

int pp_mem_release_file_pages(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/smaps", "re");
	if (f == NULL)
		return -1;
	cleanup_free char *line = NULL;
	size_t cap = 0;
	struct vma v = {.candidate = false};
	int n = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned long start, end;
		char perms[8];
		int path_at = 0;
		long kb;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) ==
		    3) {
			n += release(&v);
			v = (struct vma){.start = start,
					 .end = end,
					 .anon_kb = -1,
					 .rss_kb = 0,
					 .candidate = path_at > 0 && line[path_at] == '/' &&
						      perms[1] != 'w' && perms[3] == 'p'};
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			v.rss_kb = kb;
		} else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
			v.anon_kb = kb;
		}
	}
	n += release(&v);
	return n;
}
