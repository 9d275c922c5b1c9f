/* base.c — errors, byte buffers, arenas and counted allocation (see base.h). */
#include "flywheel/base.h"

#include <stdio.h>
#include <stdlib.h>

int fw_error(struct fw_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

static void oom(size_t n)
{
	fprintf(stderr, "flywheel: out of memory allocating %zu bytes\n", n);
	abort();
}

void *fw_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *fw_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom(n * m);
	return p;
}

void *fw_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *fw_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = fw_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

void fw_buf_grow(struct fw_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = fw_xrealloc(b->data, cap);
	b->cap = cap;
}

void fw_buf_add(struct fw_buf *b, const void *p, size_t n)
{
	fw_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void fw_buf_addc(struct fw_buf *b, char c)
{
	fw_buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = 0;
}

void fw_buf_adds(struct fw_buf *b, const char *s)
{
	fw_buf_add(b, s, strlen(s));
}

void fw_buf_vprintf(struct fw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	fw_buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void fw_buf_printf(struct fw_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fw_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void fw_buf_reset(struct fw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void fw_buf_release(struct fw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void fw_buf_add_varint(struct fw_buf *b, uint64_t v)
{
	fw_buf_grow(b, 10);
	uint8_t *p = (uint8_t *)b->data + b->len;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	b->len = (size_t)((char *)p - b->data);
	b->data[b->len] = 0;
}

int fw_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return FW_ECORRUPT;
		uint8_t c = *p++;
		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			*pp = p;
			return 0;
		}
	}
	return FW_ECORRUPT;
}

/* ---- arena ---- */

struct fw_arena_chunk {
	struct fw_arena_chunk *next;
	size_t size, used;
	_Alignas(16) char data[];
};

#define ARENA_CHUNK 65536

void *fw_arena_alloc(struct fw_arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct fw_arena_chunk *c = a->head;
	if (!c || c->used + n > c->size) {
		size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		struct fw_arena_chunk *nc = fw_xmalloc(sizeof *nc + size);
		nc->size = size;
		nc->used = 0;
		if (c && n > ARENA_CHUNK / 4) {
			/* a big one-off: keep the current chunk in front for small ones */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	a->used += n;
	return p;
}

char *fw_arena_strndup(struct fw_arena *a, const char *s, size_t n)
{
	char *p = fw_arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void fw_arena_reset(struct fw_arena *a)
{
	struct fw_arena_chunk *c = a->head;
	if (!c)
		return;
	struct fw_arena_chunk *rest = c->next;
	while (rest) {
		struct fw_arena_chunk *n = rest->next;
		free(rest);
		rest = n;
	}
	c->next = NULL;
	c->used = 0;
	a->used = 0;
}

void fw_arena_release(struct fw_arena *a)
{
	struct fw_arena_chunk *c = a->head;
	while (c) {
		struct fw_arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->used = 0;
}
