/*
 * dict.h — string interning: each distinct string gets a dense uint32 id
 * (0, 1, 2, …), and the id maps back to the string. Used for event names,
 * distinct ids and account ids in memory. Not thread-safe: the owner locks.
 */
#ifndef FLYWHEEL_DICT_H
#define FLYWHEEL_DICT_H

#include "flywheel/base.h"

struct fw_dict {
	struct fw_arena strings; /* owns the bytes */
	struct fw_str *by_id;    /* id -> string */
	uint32_t count, cap_ids;
	uint32_t *slots;         /* open addressing: id + 1, 0 = empty */
	uint64_t *hashes;        /* hash per id, so growing never rehashes bytes */
	uint32_t mask;
};

void fw_dict_init(struct fw_dict *d);
void fw_dict_release(struct fw_dict *d);
/* Id of s, adding it if new. */
uint32_t fw_dict_intern(struct fw_dict *d, const char *s, size_t n);
/* Id of s, or UINT32_MAX if absent. */
uint32_t fw_dict_find(const struct fw_dict *d, const char *s, size_t n);
static inline struct fw_str fw_dict_str(const struct fw_dict *d, uint32_t id)
{
	return d->by_id[id];
}

uint64_t fw_hash64(const void *p, size_t n);

#endif
