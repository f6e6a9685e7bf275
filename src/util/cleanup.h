/* Cleanup attributes and allocation helpers (bubblewrap/crun style). Every
 * cleanup accepts NULL / -1, is idempotent and preserves errno. */
#ifndef PEAPOD_CLEANUP_H
#define PEAPOD_CLEANUP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

/* Not zeroed: for a buffer that read(2) or recv(2) fills. calloc's zeroing
 * writes every page of it, each a copy-on-write fault in a process forked
 * from a larger one (a supervisor from its CLI): 20 pages for 80 KiB. */
static inline void *xmalloc_buffer(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static inline void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static inline void cleanup_freep(void *p)
{
	void **pp = (void **)p;
	int saved = errno;
	free(*pp);
	*pp = NULL;
	errno = saved;
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		*fd = -1;
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f != NULL) {
		int saved = errno;
		fclose(*f);
		*f = NULL;
		errno = saved;
	}
}

/* Frees a NULL-terminated array of strings. */
void strv_free(char **v);
static inline void cleanup_strvp(char ***v)
{
	int saved = errno;
	strv_free(*v);
	*v = NULL;
	errno = saved;
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

/* Transfers ownership out of a cleanup variable. */
static inline void *steal_ptr(void *pp)
{
	void **p = (void **)pp;
	void *r = *p;
	*p = NULL;
	return r;
}
static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#endif
