/* The monotonic clock, read in one place: timeouts, deadlines and step
 * timings never follow the wall clock (which NTP or a user may set back). */
#ifndef PEAPOD_CLOCK_H
#define PEAPOD_CLOCK_H

#include <stdint.h>

#define PP_NSEC_PER_SEC 1000000000LL
#define PP_NSEC_PER_MSEC 1000000LL

/* CLOCK_MONOTONIC in nanoseconds (a vDSO call: no system call). */
int64_t pp_monotonic_ns(void);

/* The same in milliseconds. */
int64_t pp_monotonic_ms(void);

/* CLOCK_REALTIME in nanoseconds: for timestamps people read (log lines),
 * never for timeouts. */
int64_t pp_realtime_ns(void);

/* Milliseconds until deadline_ms (a pp_monotonic_ms() value), 0 once it has
 * passed: what poll(2) takes as its timeout. */
int pp_ms_left(int64_t deadline_ms);

#endif
