/*
 * decode.h — request body decoding: gzip/deflate with an output cap (so a
 * gzip bomb is refused after inflating no more than the limit), base64 (the
 * standard and URL-safe alphabets; a space is read as '+', as form decoders
 * corrupt Mixpanel's literal '+'), and form/query value extraction.
 */
#ifndef FLYWHEEL_DECODE_H
#define FLYWHEEL_DECODE_H

#include "flywheel/base.h"

/* Is this a gzip stream (magic 1f 8b)? */
static inline int fw_is_gzip(const void *p, size_t n)
{
	const unsigned char *b = p;
	return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

/* Inflate gzip or zlib data into out (appending). FW_ETOOBIG once the output
 * would pass `limit`; FW_EINVAL for a damaged stream (err says where). */
int fw_inflate(const void *in, size_t n, size_t limit, struct fw_buf *out, struct fw_err *err);

/* Decode base64 into out. FW_EINVAL on a character outside the alphabet. */
int fw_base64_decode(const char *in, size_t n, struct fw_buf *out, struct fw_err *err);
void fw_base64_encode(const void *in, size_t n, struct fw_buf *out);

/* The raw value of `name` in an application/x-www-form-urlencoded body,
 * with %XX decoded but '+' kept as is. Returns 0 and fills out, or -1. */
int fw_form_value(const char *body, size_t n, const char *name, struct fw_buf *out);

#endif
