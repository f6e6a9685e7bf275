/* The log's timestamps (RFC3339 in UTC with 9 fractional digits) and the
 * parsing of one record. Dates are converted with Howard Hinnant's civil
 * calendar algorithms, so nothing depends on the TZ or the C library. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "logs/crilog_internal.h"

#define NS_PER_SEC 1000000000LL
#define SECS_PER_DAY 86400LL
#define FRAC_DIGITS 9

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *out, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void pp_log_format_time(int64_t time_ns, char out[PP_LOG_TIME_LEN + 1])
{
	int64_t secs = time_ns / NS_PER_SEC, ns = time_ns % NS_PER_SEC;
	if (ns < 0) {
		ns += NS_PER_SEC;
		secs--;
	}
	int64_t days = secs / SECS_PER_DAY, rem = secs % SECS_PER_DAY;
	if (rem < 0) {
		rem += SECS_PER_DAY;
		days--;
	}
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	/* int64 nanoseconds span 1677..2262: always four digits of year. */
	memcpy(out, "0000-00-00T00:00:00.000000000Z", PP_LOG_TIME_LEN + 1);
	put_digits(out, y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, rem / 3600, 2);
	put_digits(out + 14, rem / 60 % 60, 2);
	put_digits(out + 17, rem % 60, 2);
	put_digits(out + 20, ns, FRAC_DIGITS);
}

/* Reads exactly n digits at *p. */
static bool get_digits(const char **p, const char *end, int n, int *v)
{
	if (end - *p < n)
		return false;
	int r = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		r = r * 10 + (c - '0');
	}
	*p += n;
	*v = r;
	return true;
}

static bool expect(const char **p, const char *end, char c1, char c2)
{
	if (*p >= end || (**p != c1 && **p != c2))
		return false;
	(*p)++;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* The fraction: any number of digits, nanoseconds kept (the rest dropped). */
static bool get_fraction(const char **p, const char *end, int64_t *ns)
{
	int n = 0;
	*ns = 0;
	if (*p >= end || **p != '.')
		return true;
	for ((*p)++; *p < end && **p >= '0' && **p <= '9'; (*p)++, n++)
		if (n < FRAC_DIGITS)
			*ns = *ns * 10 + (**p - '0');
	for (int i = n; i < FRAC_DIGITS; i++)
		*ns *= 10;
	return n > 0;
}

/* "Z" or "+HH:MM" / "-HH:MM", as seconds east of UTC. */
static bool get_offset(const char **p, const char *end, int64_t *offset)
{
	int h, m;
	*offset = 0;
	if (expect(p, end, 'Z', 'z'))
		return true;
	if (*p >= end || (**p != '+' && **p != '-'))
		return false;
	int sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!get_digits(p, end, 2, &h) || !expect(p, end, ':', ':') || !get_digits(p, end, 2, &m) ||
	    h > 23 || m > 59)
		return false;
	*offset = sign * (h * 3600LL + m * 60LL);
	return true;
}

int pp_log_parse_time(const char *text, size_t len, int64_t *time_ns)
{
	const char *p = text, *end = text + len;
	int y, mo, d, h, mi, s;
	int64_t frac, offset;
	if (!get_digits(&p, end, 4, &y) || !expect(&p, end, '-', '-') ||
	    !get_digits(&p, end, 2, &mo) || !expect(&p, end, '-', '-') ||
	    !get_digits(&p, end, 2, &d) || !expect(&p, end, 'T', 't') ||
	    !get_digits(&p, end, 2, &h) || !expect(&p, end, ':', ':') ||
	    !get_digits(&p, end, 2, &mi) || !expect(&p, end, ':', ':') ||
	    !get_digits(&p, end, 2, &s) || !get_fraction(&p, end, &frac) ||
	    !get_offset(&p, end, &offset) || p != end)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59)
		return -1;
	int64_t secs =
	    days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600LL + mi * 60LL + s - offset;
	int64_t ns;
	if (__builtin_mul_overflow(secs, NS_PER_SEC, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return -1;
	*time_ns = ns;
	return 0;
}

int crilog_parse_line(const char *line, size_t len, struct pp_log_record *rec)
{
	size_t head = len < CRILOG_MAX_HEADER ? len : CRILOG_MAX_HEADER;
	const char *sp = memchr(line, ' ', head);
	if (sp == NULL || pp_log_parse_time(line, (size_t)(sp - line), &rec->time_ns) < 0)
		return -1;
	rec->time_text = line;
	rec->time_len = (size_t)(sp - line);
	const char *p = sp + 1, *end = line + len;
	if (end - p < 7 || p[6] != ' ')
		return -1;
	if (memcmp(p, "stdout", 6) == 0)
		rec->stream = PP_LOG_STDOUT;
	else if (memcmp(p, "stderr", 6) == 0)
		rec->stream = PP_LOG_STDERR;
	else
		return -1;
	p += 7;
	/* Tags: "P" or "F", possibly followed by ":"-separated others. */
	if (p >= end || (*p != 'P' && *p != 'F'))
		return -1;
	rec->partial = *p == 'P';
	const char *tag_end = memchr(p, ' ', (size_t)(end - p));
	if (tag_end == NULL)
		tag_end = end; /* "... F" with nothing after: an empty line */
	if (tag_end - p > 1 && p[1] != ':')
		return -1;
	rec->text = tag_end < end ? tag_end + 1 : end;
	rec->len = (size_t)(end - rec->text);
	return 0;
}
