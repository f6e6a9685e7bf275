/* Step timing for bench/breakdown.sh: with PEAPOD_TRACE=FILE in the
 * environment, every peapod process appends one line per step of a pod's
 * start and stop to FILE, "<CLOCK_MONOTONIC ns> <pid> <step>", in one
 * write(2) each (O_APPEND: lines of several processes never mix). Without
 * it, a step costs one test of a static. Not for users: a measuring aid. */
#ifndef PEAPOD_TRACE_H
#define PEAPOD_TRACE_H

__attribute__((format(printf, 1, 2))) void pp_trace(const char *fmt, ...);

/* The trace fd is gone (the caller closed every fd, or is about to): the
 * next pp_trace opens the file again; none at all after pp_trace_off(). */
void pp_trace_forget(void);
void pp_trace_off(void);

#endif
