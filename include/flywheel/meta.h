/*
 * meta.h — people, identities, accounts, memberships, keys and ingestion
 * warnings, in SQLite (WAL mode, synchronous=FULL).
 *
 * People and accounts are derived from the event log: fw_meta_apply reads the
 * records the store holds past `applied_seq` and applies identify, alias and
 * group calls and account memberships, recording the new applied_seq in the
 * same transaction. After a crash the next apply picks up where the last
 * committed one stopped, so the database always catches up with the log.
 *
 * Identity rules (DESIGN.md): identify (with both ids), alias, $identify and
 * $create_alias join ids into one person; a track carrying both ids joins
 * nothing. Two people who are both identified are never merged: the request
 * is refused and recorded as a warning ("merge_refused"). Traits: the latest
 * by event time wins, key by key.
 *
 * Thread-safe: one connection behind a mutex.
 */
#ifndef FLYWHEEL_META_H
#define FLYWHEEL_META_H

#include "flywheel/base.h"
#include "flywheel/store.h"

struct fw_meta;

int fw_meta_open(const char *path, struct fw_meta **out, struct fw_err *err);
void fw_meta_close(struct fw_meta *m);

uint64_t fw_meta_applied_seq(struct fw_meta *m);
/* Apply the store's durable records from applied_seq on, in transactions of at
 * most `batch` records. *applied receives how many were looked at. */
int fw_meta_apply(struct fw_meta *m, struct fw_store *s, size_t batch, uint64_t *applied,
		  struct fw_err *err);

/* Ingestion warnings (bounded table: the newest 10,000 are kept). */
int fw_meta_warn(struct fw_meta *m, int64_t time_ms, const char *source, const char *reason,
		 const char *message, struct fw_str sample);
int fw_meta_warnings_json(struct fw_meta *m, size_t limit, struct fw_buf *out);
uint64_t fw_meta_warning_count(struct fw_meta *m);

/* Keys: kind is "write" or "secret". */
int fw_meta_key_add(struct fw_meta *m, const char *kind, const char *key, struct fw_err *err);
/* Fills `out` with the first key of that kind, or returns FW_ENOTFOUND. */
int fw_meta_key_get(struct fw_meta *m, const char *kind, char *out, size_t n);
/* Appends every key of that kind, comma-separated. */
void fw_meta_keys_list(struct fw_meta *m, const char *kind, struct fw_buf *out);

/* A person found by any of their distinct ids. Fills `ids` (arena-allocated)
 * with all the person's distinct ids, and `json` with the fields of the person
 * object except events: "id","user_id","distinct_ids","traits","accounts".
 * FW_ENOTFOUND if no person has that id. */
int fw_meta_person(struct fw_meta *m, struct fw_str distinct_id, struct fw_arena *a,
		   struct fw_str **ids, size_t *nids, struct fw_buf *json);
/* An account by its group id: "id","traits","members","first_seen". */
int fw_meta_account(struct fw_meta *m, struct fw_str group_id, struct fw_buf *json);

/* Every (distinct id, person id, the person's user id or "") triple, for
 * resolving events to people. */
int fw_meta_identities(struct fw_meta *m,
		       void (*fn)(void *ctx, struct fw_str did, int64_t person, struct fw_str user_id),
		       void *ctx, struct fw_err *err);
/* For the rules (src/rules/score.c). Trait values are JSON text. */
/* The person a distinct id belongs to, or 0 if none; *user_id (may be NULL)
 * gets that person's user id ("" if anonymous). */
int64_t fw_meta_person_id(struct fw_meta *m, struct fw_str distinct_id, char *user_id, size_t n);
/* Traits named `key` of every person (person 0), or every trait of one person. */
int fw_meta_person_traits(struct fw_meta *m, const char *key, int64_t person,
			  void (*fn)(void *ctx, int64_t person, struct fw_str key, struct fw_str value),
			  void *ctx, struct fw_err *err);
/* Every trait of every account (group_id.len == 0), or of one account. */
int fw_meta_account_traits(struct fw_meta *m, struct fw_str group_id,
			   void (*fn)(void *ctx, struct fw_str group, struct fw_str key,
				      struct fw_str value),
			   void *ctx, struct fw_err *err);
/* The people ever merged into person `kept` (their former ids). */
int fw_meta_merged_into(struct fw_meta *m, int64_t kept, void (*fn)(void *ctx, int64_t merged),
			void *ctx);
/* Every membership (person id, group id). */
int fw_meta_memberships(struct fw_meta *m,
			void (*fn)(void *ctx, int64_t person, struct fw_str group_id), void *ctx,
			struct fw_err *err);
/* For billing (src/bill): every account (group_id.len == 0) or one, with its
 * billing anchor (the earliest of its first record and its created_at
 * trait), its members now and its members first seen before `before_ms`. */
int fw_meta_accounts_billing(struct fw_meta *m, struct fw_str group_id,
			     void (*fn)(void *ctx, struct fw_str group, int64_t created_ms,
					int64_t members, int64_t members_before),
			     int64_t before_ms, void *ctx, struct fw_err *err);
#endif
