/* dict.c — string interning with open addressing (see dict.h). */
#include "flywheel/dict.h"

#include <stdlib.h>
#include <xxhash.h>

uint64_t fw_hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

void fw_dict_init(struct fw_dict *d)
{
	memset(d, 0, sizeof *d);
	d->mask = 1023;
	d->slots = fw_xcalloc(d->mask + 1, sizeof *d->slots);
}

void fw_dict_release(struct fw_dict *d)
{
	fw_arena_release(&d->strings);
	free(d->by_id);
	free(d->slots);
	free(d->hashes);
	memset(d, 0, sizeof *d);
}

static void grow(struct fw_dict *d)
{
	uint32_t mask = d->mask * 2 + 1;
	uint32_t *slots = fw_xcalloc((size_t)mask + 1, sizeof *slots);
	for (uint32_t id = 0; id < d->count; id++) {
		uint32_t i = (uint32_t)d->hashes[id] & mask;
		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = id + 1;
	}
	free(d->slots);
	d->slots = slots;
	d->mask = mask;
}

uint32_t fw_dict_find(const struct fw_dict *d, const char *s, size_t n)
{
	uint64_t h = fw_hash64(s, n);
	for (uint32_t i = (uint32_t)h & d->mask;; i = (i + 1) & d->mask) {
		uint32_t v = d->slots[i];
		if (!v)
			return UINT32_MAX;
		struct fw_str e = d->by_id[v - 1];
		if (d->hashes[v - 1] == h && e.len == n && (n == 0 || memcmp(e.p, s, n) == 0))
			return v - 1;
	}
}

uint32_t fw_dict_intern(struct fw_dict *d, const char *s, size_t n)
{
	uint64_t h = fw_hash64(s, n);
	uint32_t i = (uint32_t)h & d->mask;
	for (;; i = (i + 1) & d->mask) {
		uint32_t v = d->slots[i];
		if (!v)
			break;
		struct fw_str e = d->by_id[v - 1];
		if (d->hashes[v - 1] == h && e.len == n && (n == 0 || memcmp(e.p, s, n) == 0))
			return v - 1;
	}
	if (d->count == d->cap_ids) {
		d->cap_ids = d->cap_ids ? d->cap_ids * 2 : 256;
		d->by_id = fw_xrealloc(d->by_id, d->cap_ids * sizeof *d->by_id);
		d->hashes = fw_xrealloc(d->hashes, d->cap_ids * sizeof *d->hashes);
	}
	uint32_t id = d->count++;
	d->by_id[id] = (struct fw_str){fw_arena_strndup(&d->strings, s, n), (uint32_t)n};
	d->hashes[id] = h;
	d->slots[i] = id + 1;
	if ((uint64_t)d->count * 4 > (uint64_t)(d->mask + 1) * 3)
		grow(d);
	return id;
}
