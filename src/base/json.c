/* json.c — arena JSON parser and compact writer (see json.h for why). */
#include "flywheel/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct parser {
	struct fw_arena *a;
	const char *s, *end, *p;
	int depth;
	const char *err_at;
	const char *err_msg;
};

static int fail(struct parser *ps, const char *at, const char *msg)
{
	if (!ps->err_msg) {
		ps->err_at = at;
		ps->err_msg = msg;
	}
	return -1;
}

static inline void skip_ws(struct parser *ps)
{
	const char *p = ps->p, *e = ps->end;
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	ps->p = p;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned c = p[0];
	int n;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (e - p < n)
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static char *put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* ps->p is at the opening quote. */
static int parse_string(struct parser *ps, struct fw_str *out)
{
	const unsigned char *start = (const unsigned char *)ps->p + 1, *p = start;
	const unsigned char *e = (const unsigned char *)ps->end;
	int escaped = 0;
	for (;;) {
		/* fast path: plain ASCII */
		while (p < e && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p >= e)
			return fail(ps, ps->p, "unterminated string");
		if (*p == '"')
			break;
		if (*p == '\\') {
			escaped = 1;
			p++;
			if (p >= e)
				return fail(ps, ps->p, "unterminated string");
			if (*p == 'u') {
				if (e - p < 5)
					return fail(ps, (const char *)p, "bad \\u escape");
				unsigned cp;
				if (hex4((const char *)p + 1, &cp))
					return fail(ps, (const char *)p, "bad \\u escape: expected 4 hex digits");
				p += 5;
			} else if (*p == '"' || *p == '\\' || *p == '/' || *p == 'b' || *p == 'f' ||
				   *p == 'n' || *p == 'r' || *p == 't') {
				p++;
			} else {
				return fail(ps, (const char *)p - 1, "invalid escape in string");
			}
		} else if (*p < 0x20) {
			return fail(ps, (const char *)p, "control character in string (must be escaped)");
		} else {
			int n = utf8_len(p, e);
			if (!n)
				return fail(ps, (const char *)p, "invalid UTF-8 in string");
			p += n;
		}
	}
	ps->p = (const char *)p + 1;
	if (!escaped) {
		out->p = (const char *)start;
		out->len = (uint32_t)(p - start);
		return 0;
	}
	/* decode escapes into the arena; output is never longer than input */
	char *o = fw_arena_alloc(ps->a, (size_t)(p - start) + 1), *ob = o;
	for (const unsigned char *q = start; q < p;) {
		if (*q != '\\') {
			*o++ = (char)*q++;
			continue;
		}
		q++;
		char c = (char)*q++;
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			hex4((const char *)q, &cp);
			q += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p - q >= 6 && q[0] == '\\' && q[1] == 'u' &&
				    !hex4((const char *)q + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					q += 6;
				} else {
					cp = 0xfffd; /* lone surrogate: replacement character */
				}
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				cp = 0xfffd;
			}
			o = put_utf8(o, cp);
			break;
		}
		default: *o++ = c; break;
		}
	}
	*o = 0;
	out->p = ob;
	out->len = (uint32_t)(o - ob);
	return 0;
}

static int parse_number(struct parser *ps, struct fw_json *v)
{
	const char *p = ps->p, *e = ps->end, *start = p;
	int neg = 0, is_int = 1;
	uint64_t iv = 0;
	int ndig = 0;
	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= e || *p < '0' || *p > '9')
		return fail(ps, start, "invalid number");
	if (*p == '0') {
		p++;
		ndig = 1;
		if (p < e && *p >= '0' && *p <= '9')
			return fail(ps, start, "invalid number: leading zero");
	} else {
		while (p < e && *p >= '0' && *p <= '9') {
			if (ndig < 18)
				iv = iv * 10 + (uint64_t)(*p - '0');
			else
				is_int = 0;
			ndig++;
			p++;
		}
	}
	if (p < e && *p == '.') {
		is_int = 0;
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(ps, p, "invalid number: expected digit after '.'");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		is_int = 0;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(ps, p, "invalid number: expected digit in exponent");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	v->type = FW_JSON_NUMBER;
	if (is_int) {
		v->is_int = 1;
		v->i = neg ? -(int64_t)iv : (int64_t)iv;
		v->u.num = (double)v->i;
	} else {
		char tmp[64];
		size_t n = (size_t)(p - start);
		if (n < sizeof tmp) {
			memcpy(tmp, start, n);
			tmp[n] = 0;
			v->u.num = strtod(tmp, NULL);
		} else {
			char *t = fw_arena_strndup(ps->a, start, n);
			v->u.num = strtod(t, NULL);
		}
	}
	ps->p = p;
	return 0;
}

static int lit(struct parser *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, ps->p, "invalid literal (expected a value)");
	ps->p += n;
	return 0;
}

static int parse_value(struct parser *ps, struct fw_json *v)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, ps->p, "unexpected end of input (expected a value)");
	const char *start = ps->p;
	int rc;
	switch (*ps->p) {
	case '{':
	case '[': {
		int is_obj = *ps->p == '{';
		char close = is_obj ? '}' : ']';
		if (++ps->depth > FW_JSON_MAX_DEPTH)
			return fail(ps, ps->p, "nesting too deep");
		ps->p++;
		v->type = is_obj ? FW_JSON_OBJECT : FW_JSON_ARRAY;
		v->u.child = NULL;
		struct fw_json **tail = &v->u.child;
		uint32_t count = 0;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
		} else {
			for (;;) {
				struct fw_json *c = fw_arena_alloc(ps->a, sizeof *c);
				memset(c, 0, sizeof *c);
				if (is_obj) {
					skip_ws(ps);
					if (ps->p >= ps->end || *ps->p != '"')
						return fail(ps, ps->p, "expected '\"' to start an object key");
					if (parse_string(ps, &c->key))
						return -1;
					skip_ws(ps);
					if (ps->p >= ps->end || *ps->p != ':')
						return fail(ps, ps->p, "expected ':' after object key");
					ps->p++;
				}
				if (parse_value(ps, c))
					return -1;
				*tail = c;
				tail = &c->next;
				count++;
				skip_ws(ps);
				if (ps->p < ps->end && *ps->p == ',') {
					ps->p++;
					continue;
				}
				if (ps->p < ps->end && *ps->p == close) {
					ps->p++;
					break;
				}
				return fail(ps, ps->p, is_obj ? "expected ',' or '}' after object member"
							       : "expected ',' or ']' after array element");
			}
		}
		v->len = count;
		ps->depth--;
		break;
	}
	case '"':
		v->type = FW_JSON_STRING;
		if ((rc = parse_string(ps, &v->u.str)))
			return rc;
		v->len = v->u.str.len;
		break;
	case 't':
		v->type = FW_JSON_TRUE;
		if (lit(ps, "true", 4))
			return -1;
		break;
	case 'f':
		v->type = FW_JSON_FALSE;
		if (lit(ps, "false", 5))
			return -1;
		break;
	case 'n':
		v->type = FW_JSON_NULL;
		if (lit(ps, "null", 4))
			return -1;
		break;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
			if (parse_number(ps, v))
				return -1;
		} else {
			return fail(ps, ps->p, "unexpected character (expected a value)");
		}
	}
	v->raw.p = start;
	v->raw.len = (uint32_t)(ps->p - start);
	return 0;
}

int fw_json_parse(struct fw_arena *a, const char *text, size_t len, struct fw_json **out,
		  struct fw_json_error *err)
{
	struct parser ps = {.a = a, .s = text, .end = text + len, .p = text};
	struct fw_json *root = fw_arena_alloc(a, sizeof *root);
	memset(root, 0, sizeof *root);
	int rc = parse_value(&ps, root);
	if (!rc) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			rc = fail(&ps, ps.p, "unexpected data after the JSON value");
	}
	if (rc) {
		if (err) {
			size_t off = (size_t)(ps.err_at - text);
			int line = 1, col = 1;
			for (size_t i = 0; i < off; i++) {
				if (text[i] == '\n') {
					line++;
					col = 1;
				} else {
					col++;
				}
			}
			err->offset = off;
			err->line = line;
			err->column = col;
			snprintf(err->msg, sizeof err->msg, "%s", ps.err_msg);
		}
		return FW_EINVAL;
	}
	*out = root;
	return 0;
}

const struct fw_json *fw_json_get(const struct fw_json *obj, const char *key)
{
	if (!obj || obj->type != FW_JSON_OBJECT)
		return NULL;
	size_t n = strlen(key);
	for (const struct fw_json *c = obj->u.child; c; c = c->next)
		if (c->key.len == n && n && c->key.p[0] == key[0] && memcmp(c->key.p, key, n) == 0)
			return c;
	return NULL;
}

const struct fw_json *fw_json_get_obj(const struct fw_json *obj, const char *key)
{
	const struct fw_json *v = fw_json_get(obj, key);
	return v && v->type == FW_JSON_OBJECT ? v : NULL;
}

const struct fw_json *fw_json_get_arr(const struct fw_json *obj, const char *key)
{
	const struct fw_json *v = fw_json_get(obj, key);
	return v && v->type == FW_JSON_ARRAY ? v : NULL;
}

struct fw_str fw_json_get_str(const struct fw_json *obj, const char *key)
{
	const struct fw_json *v = fw_json_get(obj, key);
	if (v && v->type == FW_JSON_STRING)
		return v->u.str;
	return (struct fw_str){NULL, 0};
}

void fw_json_write_str(struct fw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	fw_buf_grow(b, n + 2);
	b->data[b->len++] = '"';
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fw_buf_add(b, s + run, i - run);
		run = i + 1;
		char esc[7] = {'\\', 0};
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			fw_buf_add(b, esc, 6);
			continue;
		}
		fw_buf_add(b, esc, 2);
	}
	fw_buf_add(b, s + run, n - run);
	fw_buf_addc(b, '"');
}

void fw_json_write_double(struct fw_buf *b, double d)
{
	if (!isfinite(d)) {
		fw_buf_adds(b, "null");
		return;
	}
	if (d == (double)(int64_t)d && fabs(d) < 9e15) {
		fw_buf_printf(b, "%lld", (long long)d);
		return;
	}
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	fw_buf_adds(b, tmp);
}

void fw_json_write_value(struct fw_buf *b, const struct fw_json *v)
{
	switch (v->type) {
	case FW_JSON_NULL: fw_buf_add(b, "null", 4); break;
	case FW_JSON_TRUE: fw_buf_add(b, "true", 4); break;
	case FW_JSON_FALSE: fw_buf_add(b, "false", 5); break;
	case FW_JSON_NUMBER: fw_buf_add(b, v->raw.p, v->raw.len); break;
	case FW_JSON_STRING: fw_json_write_str(b, v->u.str.p, v->u.str.len); break;
	case FW_JSON_ARRAY:
	case FW_JSON_OBJECT: {
		int obj = v->type == FW_JSON_OBJECT;
		fw_buf_addc(b, obj ? '{' : '[');
		for (const struct fw_json *c = v->u.child; c; c = c->next) {
			if (c != v->u.child)
				fw_buf_addc(b, ',');
			if (obj) {
				fw_json_write_str(b, c->key.p, c->key.len);
				fw_buf_addc(b, ':');
			}
			fw_json_write_value(b, c);
		}
		fw_buf_addc(b, obj ? '}' : ']');
		break;
	}
	}
}
