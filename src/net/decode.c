/* decode.c — gzip with an output cap, base64, form values (see decode.h). */
#include "flywheel/decode.h"

#include <zlib.h>

int fw_inflate(const void *in, size_t n, size_t limit, struct fw_buf *out, struct fw_err *err)
{
	z_stream z = {0};
	if (inflateInit2(&z, 15 + 32) != Z_OK) /* 32: detect gzip or zlib header */
		return fw_error(err, FW_ENOMEM, "cannot start decompression");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	size_t start = out->len;
	int rc = 0;
	for (;;) {
		size_t room = limit - (out->len - start);
		size_t chunk = room < 65536 ? room : 65536;
		fw_buf_grow(out, chunk + 1);
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)(chunk + 1); /* one byte past the limit tells "too big" */
		int zr = inflate(&z, Z_NO_FLUSH);
		out->len = (size_t)((char *)z.next_out - out->data);
		if (out->len - start > limit) {
			rc = fw_error(err, FW_ETOOBIG,
				      "the decompressed body is larger than this route's limit of %zu bytes", limit);
			break;
		}
		if (zr == Z_STREAM_END) {
			if (z.avail_in && fw_is_gzip(z.next_in, z.avail_in)) {
				/* concatenated gzip members */
				inflateReset(&z);
				continue;
			}
			break;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0) {
			rc = fw_error(err, FW_EINVAL,
				      "the gzip body is truncated (ended after %lu compressed bytes)", z.total_in);
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = fw_error(err, FW_EINVAL, "the gzip body is damaged at compressed byte %lu: %s",
				      z.total_in, z.msg ? z.msg : "invalid data");
			break;
		}
	}
	inflateEnd(&z);
	if (out->data)
		out->data[out->len] = 0;
	return rc;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-' || c == ' ')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int fw_base64_decode(const char *in, size_t n, struct fw_buf *out, struct fw_err *err)
{
	fw_buf_grow(out, n / 4 * 3 + 3);
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' || c == '\n' || c == '\r')
			continue;
		int v = b64val(c);
		if (v < 0)
			return fw_error(err, FW_EINVAL, "invalid base64: character 0x%02x at position %zu", c, i);
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (char)(acc >> bits);
		}
	}
	out->data[out->len] = 0;
	return 0;
}

void fw_base64_encode(const void *in, size_t n, struct fw_buf *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = in;
	fw_buf_grow(out, (n + 2) / 3 * 4);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
			     i + 2 < n ? tab[v & 63] : '='};
		fw_buf_add(out, q, 4);
	}
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fw_form_value(const char *body, size_t n, const char *name, struct fw_buf *out)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && body[e] != '&')
			e++;
		if (e - i > nl && memcmp(body + i, name, nl) == 0 && body[i + nl] == '=') {
			for (size_t k = i + nl + 1; k < e; k++) {
				if (body[k] == '%' && k + 2 < e + 0 + 1 && k + 2 < n && hexv(body[k + 1]) >= 0 &&
				    hexv(body[k + 2]) >= 0) {
					fw_buf_addc(out, (char)(hexv(body[k + 1]) * 16 + hexv(body[k + 2])));
					k += 2;
				} else {
					fw_buf_addc(out, body[k]);
				}
			}
			return 0;
		}
		i = e + 1;
	}
	return -1;
}
