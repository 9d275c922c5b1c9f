/*
 * timeutil.h — UTC time: parsing ISO-8601 and epoch numbers, formatting, days.
 * All times are int64 milliseconds since the Unix epoch, UTC.
 */
#ifndef FLYWHEEL_TIMEUTIL_H
#define FLYWHEEL_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>

#define FW_MS_PER_DAY 86400000LL

int64_t fw_now_ms(void);       /* wall clock */
int64_t fw_mono_ns(void);      /* monotonic clock, for durations */

/* Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff…]]" with "Z", "+hh:mm",
 * "+hhmm" or no zone (taken as UTC). Returns 0 or -1. */
int fw_time_parse_iso(const char *s, size_t n, int64_t *ms);
/* Epoch number: values below 1e11 are seconds, otherwise milliseconds. */
int64_t fw_time_from_epoch(double v);
/* "2026-01-02T03:04:05.678Z" (24 chars + NUL) */
void fw_time_format_iso(int64_t ms, char out[32]);
/* "2026-01-02" */
void fw_time_format_day(int64_t ms, char out[16]);
/* Days since the epoch from a civil date, and back (proleptic Gregorian). */
int64_t fw_days_from_civil(int64_t y, unsigned m, unsigned d);
void fw_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Floor to the UTC day. */
static inline int64_t fw_day_floor(int64_t ms)
{
	int64_t d = ms / FW_MS_PER_DAY;
	if (ms % FW_MS_PER_DAY < 0)
		d--;
	return d * FW_MS_PER_DAY;
}

#endif
