/* timeutil.c — UTC civil-date arithmetic, ISO-8601 parsing and formatting.
 * The civil/day conversion is the well-known days-from-civil algorithm
 * (era of 400 years = 146097 days), written out here from its definition. */
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t fw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fw_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t fw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void fw_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, size_t at, int count, int *out)
{
	if (at + (size_t)count > n)
		return -1;
	int v = 0;
	for (int i = 0; i < count; i++) {
		char c = s[at + (size_t)i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int fw_time_parse_iso(const char *s, size_t n, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
	    s[7] != '-' || digits(s, n, 8, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	size_t i = 10;
	int64_t frac_ms = 0, offset_min = 0;
	if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
		i++;
		if (digits(s, n, i, 2, &h) || i + 2 >= n || s[i + 2] != ':' ||
		    digits(s, n, i + 3, 2, &mi))
			return -1;
		i += 5;
		if (i < n && s[i] == ':') {
			if (digits(s, n, i + 1, 2, &sec))
				return -1;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				int nd = 0;
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					if (nd < 3)
						frac_ms = frac_ms * 10 + (s[i] - '0');
					nd++;
					i++;
				}
				if (nd == 0)
					return -1;
				for (int k = nd; k < 3; k++)
					frac_ms *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
			i++;
			if (digits(s, n, i, 2, &oh))
				return -1;
			i += 2;
			if (i < n && s[i] == ':')
				i++;
			if (i < n) {
				if (digits(s, n, i, 2, &om))
					return -1;
				i += 2;
			}
			if (oh > 23 || om > 59)
				return -1;
			offset_min = sign * (oh * 60 + om);
		}
	}
	if (i != n)
		return -1;
	int64_t days = fw_days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + frac_ms;
	return 0;
}

int64_t fw_time_from_epoch(double v)
{
	if (v < 1e11 && v > -1e11)
		return (int64_t)(v * 1000.0 + (v >= 0 ? 0.5 : -0.5));
	return (int64_t)v;
}

void fw_time_format_iso(int64_t ms, char out[32])
{
	int64_t day = ms / FW_MS_PER_DAY, rem = ms % FW_MS_PER_DAY;
	if (rem < 0) {
		rem += FW_MS_PER_DAY;
		day--;
	}
	int64_t y;
	unsigned m, d;
	fw_civil_from_days(day, &y, &m, &d);
	int s = (int)(rem / 1000);
	snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d, s / 3600,
		 s / 60 % 60, s % 60, (int)(rem % 1000));
}

void fw_time_format_day(int64_t ms, char out[16])
{
	int64_t y;
	unsigned m, d;
	fw_civil_from_days(fw_day_floor(ms) / FW_MS_PER_DAY, &y, &m, &d);
	snprintf(out, 16, "%04lld-%02u-%02u", (long long)y % 100000, m, d);
}
