/*
 * base.h — the smallest shared pieces: error codes, a string view, a growable
 * byte buffer, and a bump arena. Depends on nothing else in Flywheel.
 *
 * Errors: functions return 0 on success or a negative FW_E* code, and fill a
 * caller's struct fw_err with a message a person can act on. Only src/cmd/
 * prints and exits.
 */
#ifndef FLYWHEEL_BASE_H
#define FLYWHEEL_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
	FW_OK = 0,
	FW_EINVAL = -1,   /* bad input: the caller's fault (HTTP 4xx) */
	FW_ENOMEM = -2,   /* out of memory */
	FW_EIO = -3,      /* disk or OS failure (HTTP 5xx) */
	FW_EAGAIN = -4,   /* temporary: overloaded, disk full; retry later (429/503) */
	FW_ETOOBIG = -5,  /* over a size limit (413) */
	FW_ECORRUPT = -6, /* damaged data on disk */
	FW_ENOTFOUND = -7,
	FW_EAUTH = -8,    /* missing or unknown key (401) */
	FW_EUNSUPP = -9,  /* unsupported media or encoding (415) */
	FW_EFAILED = -10, /* the event log is in a failed state (fsync failed) */
	FW_ECONFLICT = -11, /* conflicts with the current state (HTTP 409) */
};

struct fw_err {
	int code;
	char msg[512];
};

/* Fill err (if not NULL) with a printf-style message; returns code. */
int fw_error(struct fw_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A borrowed byte range; not NUL-terminated. */
struct fw_str {
	const char *p;
	uint32_t len;
};

#define FW_STR_LIT(s) ((struct fw_str){(s), (uint32_t)sizeof(s) - 1})
static inline struct fw_str fw_str_c(const char *s)
{
	return (struct fw_str){s, s ? (uint32_t)strlen(s) : 0};
}
static inline int fw_str_eq(struct fw_str a, const char *lit)
{
	size_t n = strlen(lit);
	return a.len == n && memcmp(a.p, lit, n) == 0;
}

/* Growable byte buffer, always NUL-terminated after data[len] once used.
 * Allocation failure aborts: a buffer that cannot grow is a dead process. */
struct fw_buf {
	char *data;
	size_t len, cap;
};

void fw_buf_grow(struct fw_buf *b, size_t extra);
void fw_buf_add(struct fw_buf *b, const void *p, size_t n);
void fw_buf_addc(struct fw_buf *b, char c);
void fw_buf_adds(struct fw_buf *b, const char *s);
void fw_buf_printf(struct fw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fw_buf_vprintf(struct fw_buf *b, const char *fmt, va_list ap);
void fw_buf_reset(struct fw_buf *b);   /* len = 0, keeps memory */
void fw_buf_release(struct fw_buf *b); /* frees memory */
/* LEB128 unsigned varint. */
void fw_buf_add_varint(struct fw_buf *b, uint64_t v);
/* Read a varint from [*p, end); returns 0 or FW_ECORRUPT. */
int fw_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* Bump allocator: many small allocations, freed all at once. A request and a
 * query each own one, so their code never frees. */
struct fw_arena_chunk;
struct fw_arena {
	struct fw_arena_chunk *head;
	size_t used; /* bytes handed out, for tests and limits */
};

void *fw_arena_alloc(struct fw_arena *a, size_t n);   /* 8-byte aligned, aborts on OOM */
char *fw_arena_strndup(struct fw_arena *a, const char *s, size_t n);
void fw_arena_reset(struct fw_arena *a);   /* frees all but the first chunk */
void fw_arena_release(struct fw_arena *a); /* frees everything */

/* Process-wide counters of live heap bytes allocated through fw_xmalloc, so
 * tests can assert that a workload does not grow memory. */
void *fw_xmalloc(size_t n);
void *fw_xcalloc(size_t n, size_t m);
void *fw_xrealloc(void *p, size_t n);
char *fw_xstrdup(const char *s);

#define FW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A growable array of T: FW_VEC(T) v = {0}; FW_PUSH(v, x); free(v.v). */
#define FW_VEC(T)                                                                                  \
	struct {                                                                                   \
		T *v;                                                                              \
		size_t n, cap;                                                                     \
	}
#define FW_PUSH(vec, x)                                                                            \
	do {                                                                                       \
		if ((vec).n == (vec).cap) {                                                        \
			(vec).cap = (vec).cap ? (vec).cap * 2 : 8;                                 \
			(vec).v = fw_xrealloc((vec).v, (vec).cap * sizeof *(vec).v);               \
		}                                                                                  \
		(vec).v[(vec).n++] = (x);                                                          \
	} while (0)

#endif
