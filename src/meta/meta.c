/*
 * meta.c — the metadata store in SQLite (see meta.h for the rules).
 *
 * Schema (version 1):
 *   state(key PRIMARY KEY, value)            applied_seq, schema_version
 *   persons(id, user_id, identified, first_seen_ms, merged_into)
 *   identities(distinct_id PRIMARY KEY, person_id)        every id ever seen
 *   person_traits(person_id, key, value JSON, ts)          latest ts wins per key
 *   accounts(id, group_id UNIQUE, first_seen_ms)
 *   account_traits(account_id, key, value JSON, ts)
 *   memberships(person_id, account_id, first_seen_ms, last_seen_ms)
 *   merges(time_ms, kept_person, merged_person, via)       history of joins
 *   keys(key PRIMARY KEY, kind, created_ms)
 *   warnings(id, time_ms, source, reason, message, sample)
 */
#include "flywheel/meta.h"
#include "flywheel/dict.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static const char SCHEMA[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA cache_size=-131072;" /* 128 MiB: people and accounts stay in memory */
	"PRAGMA mmap_size=1073741824;"
	"PRAGMA foreign_keys=OFF;"
	"CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS persons(id INTEGER PRIMARY KEY, user_id TEXT,"
	"  identified INTEGER NOT NULL DEFAULT 0, first_seen_ms INTEGER, merged_into INTEGER);"
	"CREATE TABLE IF NOT EXISTS identities(distinct_id TEXT PRIMARY KEY,"
	"  person_id INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS identities_person ON identities(person_id);"
	"CREATE TABLE IF NOT EXISTS person_traits(person_id INTEGER, key TEXT, value TEXT,"
	"  ts INTEGER, PRIMARY KEY(person_id, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS accounts(id INTEGER PRIMARY KEY, group_id TEXT UNIQUE NOT NULL,"
	"  first_seen_ms INTEGER);"
	"CREATE TABLE IF NOT EXISTS account_traits(account_id INTEGER, key TEXT, value TEXT,"
	"  ts INTEGER, PRIMARY KEY(account_id, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS memberships(person_id INTEGER, account_id INTEGER,"
	"  first_seen_ms INTEGER, last_seen_ms INTEGER, PRIMARY KEY(person_id, account_id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS memberships_account ON memberships(account_id);"
	"CREATE TABLE IF NOT EXISTS merges(id INTEGER PRIMARY KEY, time_ms INTEGER,"
	"  kept_person INTEGER, merged_person INTEGER, via TEXT);"
	"CREATE TABLE IF NOT EXISTS keys(key TEXT PRIMARY KEY, kind TEXT NOT NULL,"
	"  created_ms INTEGER) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS warnings(id INTEGER PRIMARY KEY, time_ms INTEGER,"
	"  source TEXT, reason TEXT, message TEXT, sample TEXT);"
	"INSERT OR IGNORE INTO state VALUES('schema_version', 1);"
	"INSERT OR IGNORE INTO state VALUES('applied_seq', 0);";

enum {
	Q_ID_GET,
	Q_ID_ADD,
	Q_PERSON_ADD,
	Q_PERSON_GET,
	Q_PERSON_IDENTIFY,
	Q_TRAIT_SET,
	Q_ACCOUNT_GET,
	Q_ACCOUNT_ADD,
	Q_ACCOUNT_TRAIT_SET,
	Q_MEMBER_SET,
	Q_APPLIED_SET,
	Q_WARN_ADD,
	Q_ACCOUNT_SEEN,
	Q_COUNT
};

static const char *const SQL[Q_COUNT] = {
	[Q_ID_GET] = "SELECT person_id FROM identities WHERE distinct_id = ?1",
	[Q_ID_ADD] = "INSERT INTO identities(distinct_id, person_id) VALUES(?1, ?2)",
	[Q_PERSON_ADD] = "INSERT INTO persons(user_id, identified, first_seen_ms) VALUES(?1, ?2, ?3)",
	[Q_PERSON_GET] = "SELECT identified FROM persons WHERE id = ?1",
	[Q_PERSON_IDENTIFY] = "UPDATE persons SET identified = 1, user_id = coalesce(user_id, ?2) WHERE id = ?1",
	[Q_TRAIT_SET] = "INSERT INTO person_traits VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET"
			" value = excluded.value, ts = excluded.ts WHERE excluded.ts >= person_traits.ts",
	[Q_ACCOUNT_GET] = "SELECT id FROM accounts WHERE group_id = ?1",
	[Q_ACCOUNT_ADD] = "INSERT INTO accounts(group_id, first_seen_ms) VALUES(?1, ?2)",
	[Q_ACCOUNT_TRAIT_SET] = "INSERT INTO account_traits VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET"
				" value = excluded.value, ts = excluded.ts WHERE excluded.ts >= account_traits.ts",
	[Q_MEMBER_SET] = "INSERT INTO memberships VALUES(?1, ?2, ?3, ?3) ON CONFLICT DO UPDATE SET"
			 " first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),"
			 " last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)",
	[Q_APPLIED_SET] = "UPDATE state SET value = ?1 WHERE key = 'applied_seq'",
	[Q_ACCOUNT_SEEN] = "UPDATE accounts SET first_seen_ms = ?2 WHERE id = ?1 AND first_seen_ms > ?2",
	[Q_WARN_ADD] = "INSERT INTO warnings(time_ms, source, reason, message, sample) VALUES(?1,?2,?3,?4,?5)",
};

#define TRAITS_PER_STMT 16

struct fw_meta {
	sqlite3 *db;
	pthread_mutex_t mu;
	sqlite3_stmt *q[Q_COUNT];
	uint64_t applied_seq;
	struct fw_dict seen_ids;     /* distinct ids known to have a person */
	struct fw_dict seen_members; /* "distinct\x1fgroup" pairs already recorded */
	FW_VEC(int64_t) member_first; /* per seen_members id: the earliest time recorded */
	sqlite3_stmt *billing_one;    /* fw_meta_accounts_billing of one account */
	struct fw_dict seen_identified; /* user ids whose person is marked identified */
	uint64_t warnings_added;
	/* caches of ids looked up in this process: distinct id -> person, group id
	 * -> account and its first_seen. Person ids change only by a merge, which
	 * clears the person cache. */
	struct fw_dict pid_keys, aid_keys;
	sqlite3_stmt *traits_stmts[2][TRAITS_PER_STMT + 1];
	int64_t *pid_of, *aid_of, *aid_first;
	size_t cap_pid, cap_aid;
	/* a warning raised while applying is written after the transaction */
	struct fw_arena scratch;
};

static int db_error(struct fw_meta *m, struct fw_err *err, const char *what)
{
	return fw_error(err, FW_EIO, "metadata database: %s: %s", what, sqlite3_errmsg(m->db));
}

int fw_meta_open(const char *path, struct fw_meta **out, struct fw_err *err)
{
	struct fw_meta *m = fw_xcalloc(1, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
	fw_dict_init(&m->seen_ids);
	fw_dict_init(&m->seen_members);
	fw_dict_init(&m->seen_identified);
	fw_dict_init(&m->pid_keys);
	fw_dict_init(&m->aid_keys);
	int rc = sqlite3_open_v2(path, &m->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fw_error(err, FW_EIO, "cannot open metadata database %s: %s", path,
			 m->db ? sqlite3_errmsg(m->db) : "out of memory");
		fw_meta_close(m);
		return FW_EIO;
	}
	sqlite3_busy_timeout(m->db, 5000);
	char *emsg = NULL;
	if (sqlite3_exec(m->db, SCHEMA, NULL, NULL, &emsg) != SQLITE_OK) {
		fw_error(err, FW_EIO, "cannot initialise metadata database %s: %s", path, emsg);
		sqlite3_free(emsg);
		fw_meta_close(m);
		return FW_EIO;
	}
	for (int i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(m->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &m->q[i], NULL)) {
			rc = db_error(m, err, SQL[i]);
			fw_meta_close(m);
			return rc;
		}
	sqlite3_stmt *st;
	sqlite3_prepare_v2(m->db, "SELECT value FROM state WHERE key='applied_seq'", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		m->applied_seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*out = m;
	return 0;
}

void fw_meta_close(struct fw_meta *m)
{
	if (!m)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(m->q[i]);
	for (int t = 0; t < 2; t++)
		for (int n = 0; n <= TRAITS_PER_STMT; n++)
			sqlite3_finalize(m->traits_stmts[t][n]);
	sqlite3_finalize(m->billing_one);
	sqlite3_close(m->db);
	fw_dict_release(&m->seen_ids);
	fw_dict_release(&m->seen_members);
	free(m->member_first.v);
	fw_dict_release(&m->seen_identified);
	fw_arena_release(&m->scratch);
	fw_dict_release(&m->pid_keys);
	fw_dict_release(&m->aid_keys);
	free(m->pid_of);
	free(m->aid_of);
	free(m->aid_first);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

uint64_t fw_meta_applied_seq(struct fw_meta *m)
{
	pthread_mutex_lock(&m->mu);
	uint64_t v = m->applied_seq;
	pthread_mutex_unlock(&m->mu);
	return v;
}

/* ---- small statement helpers (caller holds m->mu) ---- */

static sqlite3_stmt *stmt(struct fw_meta *m, int q)
{
	sqlite3_stmt *s = m->q[q];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static void bind_str(sqlite3_stmt *s, int i, struct fw_str v)
{
	sqlite3_bind_text(s, i, v.p ? v.p : "", (int)v.len, SQLITE_STATIC);
}

static int64_t lookup_id(struct fw_meta *m, int q, struct fw_str key)
{
	sqlite3_stmt *s = stmt(m, q);
	bind_str(s, 1, key);
	int64_t id = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return id;
}

static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int64_t *cache_slot(struct fw_dict *d, int64_t **vals, size_t *cap, struct fw_str key,
			   int64_t **extra)
{
	uint32_t id = fw_dict_intern(d, key.p, key.len);
	if (id >= *cap) {
		size_t n = *cap ? *cap * 2 : 4096;
		while (n <= id)
			n *= 2;
		*vals = fw_xrealloc(*vals, n * sizeof **vals);
		memset(*vals + *cap, 0, (n - *cap) * sizeof **vals);
		if (extra) {
			*extra = fw_xrealloc(*extra, n * sizeof **extra);
			memset(*extra + *cap, 0, (n - *cap) * sizeof **extra);
		}
		*cap = n;
	}
	return &(*vals)[id];
}

static void clear_caches(struct fw_meta *m)
{
	fw_dict_release(&m->pid_keys);
	fw_dict_init(&m->pid_keys);
	free(m->pid_of);
	m->pid_of = NULL;
	m->cap_pid = 0;
}

static int64_t ensure_person_uncached(struct fw_meta *m, struct fw_str did, int64_t t);

/* Person of a distinct id, created if new. */
static int64_t ensure_person(struct fw_meta *m, struct fw_str did, int64_t t)
{
	int64_t *slot = cache_slot(&m->pid_keys, &m->pid_of, &m->cap_pid, did, NULL);
	if (*slot)
		return *slot;
	int64_t pid = ensure_person_uncached(m, did, t);
	/* the slot may have moved if the cache grew; look it up again */
	if (pid > 0)
		*cache_slot(&m->pid_keys, &m->pid_of, &m->cap_pid, did, NULL) = pid;
	return pid;
}

/* A new person with one identity; identified ones get their user id. */
static int64_t create_person(struct fw_meta *m, struct fw_str did, int64_t t, int identified)
{
	sqlite3_stmt *s = stmt(m, Q_PERSON_ADD);
	if (identified)
		bind_str(s, 1, did);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int(s, 2, identified);
	sqlite3_bind_int64(s, 3, t);
	if (step_done(s))
		return -1;
	int64_t pid = sqlite3_last_insert_rowid(m->db);
	s = stmt(m, Q_ID_ADD);
	bind_str(s, 1, did);
	sqlite3_bind_int64(s, 2, pid);
	return step_done(s) ? -1 : pid;
}

static int64_t ensure_person_uncached(struct fw_meta *m, struct fw_str did, int64_t t)
{
	int64_t pid = lookup_id(m, Q_ID_GET, did);
	return pid ? pid : create_person(m, did, t, 0);
}

static int person_identified(struct fw_meta *m, int64_t pid)
{
	sqlite3_stmt *s = stmt(m, Q_PERSON_GET);
	sqlite3_bind_int64(s, 1, pid);
	int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_reset(s);
	return v;
}

static void mark_identified(struct fw_meta *m, int64_t pid, struct fw_str user_id)
{
	sqlite3_stmt *s = stmt(m, Q_PERSON_IDENTIFY);
	sqlite3_bind_int64(s, 1, pid);
	bind_str(s, 2, user_id);
	step_done(s);
}

/* Mark the person of user id `uid` identified (once per process per id). */
static int64_t ensure_identified(struct fw_meta *m, struct fw_str uid, int64_t t)
{
	if (fw_dict_find(&m->seen_identified, uid.p, uid.len) != UINT32_MAX)
		return ensure_person(m, uid, t);
	int64_t *slot = cache_slot(&m->pid_keys, &m->pid_of, &m->cap_pid, uid, NULL);
	int64_t pid = *slot ? *slot : lookup_id(m, Q_ID_GET, uid);
	if (pid) {
		mark_identified(m, pid, uid);
	} else {
		/* a new person: created identified, in one insert */
		pid = create_person(m, uid, t, 1);
		if (pid < 0)
			return -1;
	}
	*cache_slot(&m->pid_keys, &m->pid_of, &m->cap_pid, uid, NULL) = pid;
	fw_dict_intern(&m->seen_identified, uid.p, uid.len);
	return pid;
}

static int exec_fmt(struct fw_meta *m, const char *fmt, long long a, long long b)
{
	char sql[512];
	snprintf(sql, sizeof sql, fmt, a, b, a, b, a, b);
	return sqlite3_exec(m->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Move everything of person `drop` to person `keep`. */
static int merge_persons(struct fw_meta *m, int64_t keep, int64_t drop, int64_t t, struct fw_str via)
{
	int rc = 0;
	rc |= exec_fmt(m, "UPDATE identities SET person_id = %lld WHERE person_id = %lld", keep, drop);
	rc |= exec_fmt(m,
		       "INSERT INTO person_traits SELECT %lld, key, value, ts FROM person_traits"
		       " WHERE person_id = %lld AND true ON CONFLICT DO UPDATE SET value = excluded.value,"
		       " ts = excluded.ts WHERE excluded.ts > person_traits.ts",
		       keep, drop);
	rc |= exec_fmt(m, "DELETE FROM person_traits WHERE person_id = %2$lld AND %1$lld = %1$lld",
		       keep, drop);
	rc |= exec_fmt(m,
		       "INSERT INTO memberships SELECT %lld, account_id, first_seen_ms, last_seen_ms"
		       " FROM memberships WHERE person_id = %lld AND true ON CONFLICT DO UPDATE SET"
		       " first_seen_ms = min(memberships.first_seen_ms, excluded.first_seen_ms),"
		       " last_seen_ms = max(memberships.last_seen_ms, excluded.last_seen_ms)",
		       keep, drop);
	rc |= exec_fmt(m, "DELETE FROM memberships WHERE person_id = %2$lld AND %1$lld = %1$lld", keep,
		       drop);
	rc |= exec_fmt(m,
		       "UPDATE persons SET first_seen_ms = min(first_seen_ms, (SELECT first_seen_ms FROM"
		       " persons WHERE id = %2$lld)) WHERE id = %1$lld",
		       keep, drop);
	rc |= exec_fmt(m, "UPDATE persons SET merged_into = %lld WHERE id = %lld", keep, drop);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(m->db, "INSERT INTO merges(time_ms, kept_person, merged_person, via)"
				      " VALUES(?1, ?2, ?3, ?4)", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, t);
		sqlite3_bind_int64(s, 2, keep);
		sqlite3_bind_int64(s, 3, drop);
		bind_str(s, 4, via);
		rc |= sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(s);
	}
	return rc;
}

struct pending_warning {
	struct pending_warning *next;
	int64_t time_ms;
	const char *source, *reason, *message;
	struct fw_str sample;
};

struct apply_ctx {
	struct fw_meta *m;
	struct pending_warning *warnings;
	int failed;
};

static void defer_warning(struct apply_ctx *c, const struct fw_event *e, const char *reason,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void defer_warning(struct apply_ctx *c, const struct fw_event *e, const char *reason,
			  const char *fmt, ...)
{
	struct pending_warning *w = fw_arena_alloc(&c->m->scratch, sizeof *w);
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->time_ms = e->received_ms;
	w->source = fw_source_name(e->source);
	w->reason = reason;
	w->message = fw_arena_strndup(&c->m->scratch, msg, strlen(msg));
	w->sample = (struct fw_str){fw_arena_strndup(&c->m->scratch, e->message_id.p, e->message_id.len),
				    e->message_id.len};
	w->next = c->warnings;
	c->warnings = w;
}

/* Join `other` (an id) into the person of `user`. */
static int join_ids(struct apply_ctx *c, const struct fw_event *e, struct fw_str user,
		    struct fw_str other, const char *via)
{
	struct fw_meta *m = c->m;
	int64_t pu = ensure_identified(m, user, e->time_ms);
	if (pu < 0)
		return -1;
	if (!other.len || (other.len == user.len && !memcmp(other.p, user.p, user.len)))
		return 0;
	int64_t po = lookup_id(m, Q_ID_GET, other);
	if (!po) {
		sqlite3_stmt *s = stmt(m, Q_ID_ADD);
		bind_str(s, 1, other);
		sqlite3_bind_int64(s, 2, pu);
		fw_dict_intern(&m->seen_ids, other.p, other.len);
		return step_done(s);
	}
	if (po == pu)
		return 0;
	if (person_identified(m, po)) {
		defer_warning(c, e, "merge_refused",
			      "%s would merge \"%.*s\" into \"%.*s\", but both are already identified "
			      "people; they were kept apart (as PostHog does)",
			      via, (int)other.len, other.p, (int)user.len, user.p);
		return 0;
	}
	clear_caches(m);
	return merge_persons(m, pu, po, e->time_ms, fw_str_c(via));
}

/* A prepared multi-row upsert of n traits (cached per table and n). */
static sqlite3_stmt *traits_stmt(struct fw_meta *m, int table, size_t n)
{
	if (m->traits_stmts[table][n])
		return m->traits_stmts[table][n];
	const char *name = table ? "account_traits" : "person_traits";
	struct fw_buf sql = {0};
	fw_buf_printf(&sql, "INSERT INTO %s VALUES ", name);
	for (size_t i = 0; i < n; i++)
		fw_buf_adds(&sql, i ? ",(?,?,?,?)" : "(?,?,?,?)");
	fw_buf_printf(&sql, " ON CONFLICT DO UPDATE SET value = excluded.value, ts = excluded.ts"
			    " WHERE excluded.ts >= %s.ts", name);
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v3(m->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	fw_buf_release(&sql);
	m->traits_stmts[table][n] = s;
	return s;
}

/* Upsert each member of a traits object with ts = event time. */
static int set_traits(struct fw_meta *m, int q, int64_t owner, struct fw_str traits, int64_t t)
{
	if (!traits.len)
		return 0;
	struct fw_arena a = {0};
	struct fw_json *root;
	struct fw_json_error je;
	int rc = 0;
	if (fw_json_parse(&a, traits.p, traits.len, &root, &je) || root->type != FW_JSON_OBJECT) {
		fw_arena_release(&a);
		return 0; /* mappers only store objects; nothing to apply */
	}
	/* one multi-row upsert per up to TRAITS_PER_STMT keys */
	struct fw_buf val = {0};
	int table = q == Q_TRAIT_SET ? 0 : 1;
	const struct fw_json *c = root->u.child;
	while (c && !rc) {
		size_t n = 0;
		size_t offs[TRAITS_PER_STMT + 1];
		const struct fw_json *first = c;
		fw_buf_reset(&val);
		for (; c && n < TRAITS_PER_STMT; c = c->next, n++) {
			offs[n] = val.len;
			fw_json_write_value(&val, c);
		}
		offs[n] = val.len;
		sqlite3_stmt *s = traits_stmt(m, table, n);
		if (!s) {
			rc = -1;
			break;
		}
		sqlite3_reset(s);
		const struct fw_json *k = first;
		for (size_t i = 0; i < n; i++, k = k->next) {
			sqlite3_bind_int64(s, (int)(4 * i + 1), owner);
			bind_str(s, (int)(4 * i + 2), k->key);
			sqlite3_bind_text(s, (int)(4 * i + 3), val.data + offs[i],
					  (int)(offs[i + 1] - offs[i]), SQLITE_STATIC);
			sqlite3_bind_int64(s, (int)(4 * i + 4), t);
		}
		rc = step_done(s);
	}
	fw_buf_release(&val);
	fw_arena_release(&a);
	return rc;
}

static int64_t ensure_account_uncached(struct fw_meta *m, struct fw_str gid, int64_t t);

static int64_t ensure_account(struct fw_meta *m, struct fw_str gid, int64_t t)
{
	int64_t *slot = cache_slot(&m->aid_keys, &m->aid_of, &m->cap_aid, gid, &m->aid_first);
	size_t idx = (size_t)(slot - m->aid_of);
	if (*slot && m->aid_first[idx] <= t)
		return *slot;
	int64_t aid = ensure_account_uncached(m, gid, t);
	if (aid > 0) {
		m->aid_of[idx] = aid;
		if (!m->aid_first[idx] || t < m->aid_first[idx])
			m->aid_first[idx] = t;
	}
	return aid;
}

static int64_t ensure_account_uncached(struct fw_meta *m, struct fw_str gid, int64_t t)
{
	int64_t aid = lookup_id(m, Q_ACCOUNT_GET, gid);
	if (aid) {
		sqlite3_stmt *s = stmt(m, Q_ACCOUNT_SEEN);
		sqlite3_bind_int64(s, 1, aid);
		sqlite3_bind_int64(s, 2, t);
		return step_done(s) ? -1 : aid;
	}
	sqlite3_stmt *s = stmt(m, Q_ACCOUNT_ADD);
	bind_str(s, 1, gid);
	sqlite3_bind_int64(s, 2, t);
	return step_done(s) ? -1 : sqlite3_last_insert_rowid(m->db);
}

static int add_membership(struct fw_meta *m, struct fw_str did, struct fw_str gid, int64_t t)
{
	int64_t pid = ensure_person(m, did, t), aid = ensure_account(m, gid, t);
	if (pid < 0 || aid < 0)
		return -1;
	sqlite3_stmt *s = stmt(m, Q_MEMBER_SET);
	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_int64(s, 2, aid);
	sqlite3_bind_int64(s, 3, t);
	return step_done(s);
}

static int apply_one(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct apply_ctx *c = ctx;
	struct fw_meta *m = c->m;
	struct fw_str did = fw_event_distinct_id(e);
	int rc = 0;
	int64_t pid;
	switch (e->type) {
	case FW_MSG_IDENTIFY:
		if (e->user_id.len) {
			rc = join_ids(c, e, e->user_id, e->anonymous_id, "identify");
			pid = ensure_person(m, e->user_id, e->time_ms);
		} else {
			pid = did.len ? ensure_person(m, did, e->time_ms) : 0;
		}
		if (!rc && pid > 0)
			rc = set_traits(m, Q_TRAIT_SET, pid, e->traits, e->time_ms);
		break;
	case FW_MSG_ALIAS:
		if (e->user_id.len && e->previous_id.len)
			rc = join_ids(c, e, e->user_id, e->previous_id, "alias");
		break;
	case FW_MSG_GROUP:
		if (e->group_id.len) {
			int64_t aid = ensure_account(m, e->group_id, e->time_ms);
			rc = aid < 0 ? -1 : set_traits(m, Q_ACCOUNT_TRAIT_SET, aid, e->traits, e->time_ms);
		}
		break;
	default:
		/* an event carrying person traits ($set, user_properties) updates them */
		if (e->traits.len && did.len) {
			pid = ensure_person(m, did, e->time_ms);
			rc = pid < 0 ? -1 : set_traits(m, Q_TRAIT_SET, pid, e->traits, e->time_ms);
		}
		break;
	}
	if (rc)
		return FW_EIO;
	/* every id gets a person; an id naming an account gets a membership */
	if (did.len && fw_dict_find(&m->seen_ids, did.p, did.len) == UINT32_MAX) {
		if (ensure_person(m, did, e->time_ms) < 0)
			return FW_EIO;
		fw_dict_intern(&m->seen_ids, did.p, did.len);
	}
	if (did.len && e->group_id.len) {
		char key[1024];
		int n = snprintf(key, sizeof key, "%.*s\x1f%.*s", (int)did.len, did.p,
				 (int)e->group_id.len, e->group_id.p);
		/* first sight per pair per process, or an earlier time than recorded
		 * (SDKs send batches concurrently): later ones only move last_seen,
		 * which the event store answers anyway */
		uint32_t k = n < (int)sizeof key ? fw_dict_find(&m->seen_members, key, (size_t)n)
						 : UINT32_MAX;
		if (k == UINT32_MAX || e->time_ms < m->member_first.v[k]) {
			if (add_membership(m, did, e->group_id, e->time_ms))
				return FW_EIO;
			if (n < (int)sizeof key && k == UINT32_MAX) {
				k = fw_dict_intern(&m->seen_members, key, (size_t)n);
				FW_PUSH(m->member_first, e->time_ms);
			}
			if (k != UINT32_MAX)
				m->member_first.v[k] = e->time_ms;
		}
	}
	/* A Segment, RudderStack or Amplitude record with an explicit user id
	 * marks its person identified; PostHog and Mixpanel do not tell ids apart
	 * on the wire, so only their $identify / alias calls do. */
	if (fw_event_is_activity(e) && e->user_id.len && e->source != FW_SRC_POSTHOG &&
	    e->source != FW_SRC_MIXPANEL && ensure_identified(m, e->user_id, e->time_ms) < 0)
		return FW_EIO;
	return 0;
}

static void write_warning(struct fw_meta *m, int64_t t, const char *source, const char *reason,
			  const char *message, struct fw_str sample)
{
	sqlite3_stmt *s = stmt(m, Q_WARN_ADD);
	sqlite3_bind_int64(s, 1, t);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, message, -1, SQLITE_STATIC);
	bind_str(s, 5, sample);
	step_done(s);
	if (++m->warnings_added % 1000 == 0)
		sqlite3_exec(m->db,
			     "DELETE FROM warnings WHERE id <= (SELECT max(id) FROM warnings) - 10000",
			     NULL, NULL, NULL);
}

int fw_meta_apply(struct fw_meta *m, struct fw_store *s, size_t batch, uint64_t *applied,
		  struct fw_err *err)
{
	pthread_mutex_lock(&m->mu);
	struct fw_store_stats st;
	fw_store_stats(s, &st);
	uint64_t from = m->applied_seq, to = st.durable_seq;
	if (to > from + batch)
		to = from + batch;
	*applied = 0;
	if (to <= from) {
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	struct apply_ctx c = {.m = m};
	/* calls in full; events with ids only (a person per id, memberships) */
	struct fw_scan q = {
		.from_seq = from,
		.to_seq = to,
		.durable_only = 1,
		.ids_only_mask = (1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN),
	};
	int rc = 0;
	if (sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(m, err, "begin");
		goto out;
	}
	rc = fw_store_scan(s, &q, apply_one, &c, err);
	if (rc) {
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
		if (rc == FW_EIO)
			db_error(m, err, "applying people and accounts");
		goto out;
	}
	for (struct pending_warning *w = c.warnings; w; w = w->next)
		write_warning(m, w->time_ms, w->source, w->reason, w->message, w->sample);
	sqlite3_stmt *u = stmt(m, Q_APPLIED_SET);
	sqlite3_bind_int64(u, 1, (int64_t)to);
	if (step_done(u) || sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(m, err, "commit");
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	m->applied_seq = to;
	*applied = to - from;
out:
	fw_arena_reset(&m->scratch);
	if (rc) {
		/* the memo caches may name rows that were rolled back */
		fw_dict_release(&m->seen_ids);
		fw_dict_release(&m->seen_members);
		fw_dict_init(&m->seen_ids);
		fw_dict_init(&m->seen_members);
		m->member_first.n = 0;
		fw_dict_release(&m->seen_identified);
		fw_dict_init(&m->seen_identified);
		clear_caches(m);
		fw_dict_release(&m->aid_keys);
		fw_dict_init(&m->aid_keys);
		free(m->aid_of);
		free(m->aid_first);
		m->aid_of = m->aid_first = NULL;
		m->cap_aid = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int fw_meta_warn(struct fw_meta *m, int64_t time_ms, const char *source, const char *reason,
		 const char *message, struct fw_str sample)
{
	pthread_mutex_lock(&m->mu);
	if (sample.len > 2048)
		sample.len = 2048;
	write_warning(m, time_ms, source, reason, message, sample);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

uint64_t fw_meta_warning_count(struct fw_meta *m)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	uint64_t n = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT count(*) FROM warnings", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	return n;
}

static void col_str(struct fw_buf *b, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		fw_buf_adds(b, "null");
		return;
	}
	fw_json_write_str(b, (const char *)sqlite3_column_text(s, i), (size_t)sqlite3_column_bytes(s, i));
}

static void col_time(struct fw_buf *b, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		fw_buf_adds(b, "null");
		return;
	}
	char t[32];
	fw_time_format_iso(sqlite3_column_int64(s, i), t);
	fw_buf_printf(b, "\"%s\"", t);
}

int fw_meta_warnings_json(struct fw_meta *m, size_t limit, struct fw_buf *out)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	fw_buf_adds(out, "{\"warnings\":[");
	if (sqlite3_prepare_v2(m->db, "SELECT time_ms, source, reason, message, sample FROM warnings"
				      " ORDER BY id DESC LIMIT ?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, (int64_t)limit);
		int first = 1;
		while (sqlite3_step(s) == SQLITE_ROW) {
			fw_buf_adds(out, first ? "{\"time\":" : ",{\"time\":");
			first = 0;
			col_time(out, s, 0);
			fw_buf_adds(out, ",\"source\":");
			col_str(out, s, 1);
			fw_buf_adds(out, ",\"reason\":");
			col_str(out, s, 2);
			fw_buf_adds(out, ",\"message\":");
			col_str(out, s, 3);
			fw_buf_adds(out, ",\"sample\":");
			col_str(out, s, 4);
			fw_buf_addc(out, '}');
		}
		sqlite3_finalize(s);
	}
	fw_buf_adds(out, "]}");
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int fw_meta_key_add(struct fw_meta *m, const char *kind, const char *key, struct fw_err *err)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(m->db, "INSERT OR IGNORE INTO keys VALUES(?1, ?2, ?3)", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, fw_now_ms());
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = db_error(m, err, "storing a key");
		sqlite3_finalize(s);
	} else {
		rc = db_error(m, err, "storing a key");
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

void fw_meta_keys_list(struct fw_meta *m, const char *kind, struct fw_buf *out)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(m->db, "SELECT key FROM keys WHERE kind = ?1 ORDER BY created_ms, key",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
		int first = 1;
		while (sqlite3_step(s) == SQLITE_ROW) {
			if (!first)
				fw_buf_addc(out, ',');
			first = 0;
			fw_buf_adds(out, (const char *)sqlite3_column_text(s, 0));
		}
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
}

int fw_meta_key_get(struct fw_meta *m, const char *kind, char *out, size_t n)
{
	struct fw_buf b = {0};
	fw_meta_keys_list(m, kind, &b);
	int rc = FW_ENOTFOUND;
	if (b.len) {
		char *comma = strchr(b.data, ',');
		if (comma)
			*comma = 0;
		snprintf(out, n, "%s", b.data);
		rc = 0;
	}
	fw_buf_release(&b);
	return rc;
}

static void traits_json(struct fw_meta *m, const char *sql, int64_t owner, struct fw_buf *out)
{
	sqlite3_stmt *s;
	fw_buf_addc(out, '{');
	if (sqlite3_prepare_v2(m->db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, owner);
		int first = 1;
		while (sqlite3_step(s) == SQLITE_ROW) {
			if (!first)
				fw_buf_addc(out, ',');
			first = 0;
			col_str(out, s, 0);
			fw_buf_addc(out, ':');
			fw_buf_add(out, sqlite3_column_text(s, 1), (size_t)sqlite3_column_bytes(s, 1));
		}
		sqlite3_finalize(s);
	}
	fw_buf_addc(out, '}');
}

int fw_meta_person(struct fw_meta *m, struct fw_str distinct_id, struct fw_arena *a,
		   struct fw_str **ids, size_t *nids, struct fw_buf *out)
{
	pthread_mutex_lock(&m->mu);
	int64_t pid = lookup_id(m, Q_ID_GET, distinct_id);
	if (!pid) {
		pthread_mutex_unlock(&m->mu);
		return FW_ENOTFOUND;
	}
	sqlite3_stmt *s;
	fw_buf_printf(out, "\"id\":%lld,\"user_id\":", (long long)pid);
	sqlite3_prepare_v2(m->db, "SELECT user_id, identified, first_seen_ms FROM persons WHERE id=?1",
			   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, pid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		col_str(out, s, 0);
		fw_buf_printf(out, ",\"identified\":%s", sqlite3_column_int(s, 1) ? "true" : "false");
	} else {
		fw_buf_adds(out, "null");
	}
	sqlite3_finalize(s);

	fw_buf_adds(out, ",\"distinct_ids\":[");
	sqlite3_prepare_v2(m->db, "SELECT distinct_id FROM identities WHERE person_id=?1 ORDER BY 1",
			   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, pid);
	size_t cap = 8, n = 0;
	struct fw_str *list = fw_arena_alloc(a, cap * sizeof *list);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		size_t len = (size_t)sqlite3_column_bytes(s, 0);
		if (n)
			fw_buf_addc(out, ',');
		fw_json_write_str(out, t, len);
		if (n == cap) {
			struct fw_str *bigger = fw_arena_alloc(a, 2 * cap * sizeof *list);
			memcpy(bigger, list, cap * sizeof *list);
			list = bigger;
			cap *= 2;
		}
		list[n++] = (struct fw_str){fw_arena_strndup(a, t, len), (uint32_t)len};
	}
	sqlite3_finalize(s);
	*ids = list;
	*nids = n;
	fw_buf_adds(out, "],\"traits\":");
	traits_json(m, "SELECT key, value FROM person_traits WHERE person_id=?1 ORDER BY key", pid, out);
	fw_buf_adds(out, ",\"accounts\":[");
	sqlite3_prepare_v2(m->db, "SELECT a.group_id FROM memberships m JOIN accounts a ON a.id ="
				  " m.account_id WHERE m.person_id=?1 ORDER BY 1", -1, &s, NULL);
	sqlite3_bind_int64(s, 1, pid);
	for (int first = 1; sqlite3_step(s) == SQLITE_ROW; first = 0) {
		if (!first)
			fw_buf_addc(out, ',');
		col_str(out, s, 0);
	}
	sqlite3_finalize(s);
	fw_buf_addc(out, ']');
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int fw_meta_account(struct fw_meta *m, struct fw_str group_id, struct fw_buf *out)
{
	pthread_mutex_lock(&m->mu);
	int64_t aid = lookup_id(m, Q_ACCOUNT_GET, group_id);
	if (!aid) {
		pthread_mutex_unlock(&m->mu);
		return FW_ENOTFOUND;
	}
	sqlite3_stmt *s;
	fw_buf_adds(out, "{\"id\":");
	fw_json_write_str(out, group_id.p, group_id.len);
	fw_buf_adds(out, ",\"traits\":");
	traits_json(m, "SELECT key, value FROM account_traits WHERE account_id=?1 ORDER BY key", aid, out);
	fw_buf_adds(out, ",\"first_seen\":");
	sqlite3_prepare_v2(m->db, "SELECT first_seen_ms FROM accounts WHERE id=?1", -1, &s, NULL);
	sqlite3_bind_int64(s, 1, aid);
	if (sqlite3_step(s) == SQLITE_ROW)
		col_time(out, s, 0);
	else
		fw_buf_adds(out, "null");
	sqlite3_finalize(s);
	fw_buf_adds(out, ",\"members\":[");
	sqlite3_prepare_v2(m->db,
			   "SELECT p.id, p.user_id, (SELECT json_group_array(distinct_id) FROM"
			   " (SELECT distinct_id FROM identities WHERE person_id = p.id ORDER BY 1)),"
			   " m.first_seen_ms, m.last_seen_ms FROM memberships m JOIN persons p ON"
			   " p.id = m.person_id WHERE m.account_id=?1 ORDER BY p.id",
			   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, aid);
	for (int first = 1; sqlite3_step(s) == SQLITE_ROW; first = 0) {
		fw_buf_printf(out, "%s{\"id\":%lld,\"user_id\":", first ? "" : ",",
			      (long long)sqlite3_column_int64(s, 0));
		col_str(out, s, 1);
		fw_buf_adds(out, ",\"distinct_ids\":");
		fw_buf_add(out, sqlite3_column_text(s, 2), (size_t)sqlite3_column_bytes(s, 2));
		fw_buf_adds(out, ",\"first_seen\":");
		col_time(out, s, 3);
		fw_buf_addc(out, '}');
	}
	sqlite3_finalize(s);
	fw_buf_adds(out, "]}");
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int fw_meta_identities(struct fw_meta *m,
		       void (*fn)(void *ctx, struct fw_str did, int64_t person, struct fw_str user_id),
		       void *ctx, struct fw_err *err)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT i.distinct_id, i.person_id, coalesce(p.user_id, '')"
			       " FROM identities i JOIN persons p ON p.id = i.person_id ORDER BY i.person_id", -1, &s, NULL)) {
		rc = db_error(m, err, "reading identities");
	} else {
		while (sqlite3_step(s) == SQLITE_ROW)
			fn(ctx,
			   (struct fw_str){(const char *)sqlite3_column_text(s, 0),
					   (uint32_t)sqlite3_column_bytes(s, 0)},
			   sqlite3_column_int64(s, 1),
			   (struct fw_str){(const char *)sqlite3_column_text(s, 2),
					   (uint32_t)sqlite3_column_bytes(s, 2)});
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* ---- reads for the rules ---- */

static struct fw_str col_fw_str(sqlite3_stmt *s, int i)
{
	return (struct fw_str){(const char *)sqlite3_column_text(s, i),
			       (uint32_t)sqlite3_column_bytes(s, i)};
}

int64_t fw_meta_person_id(struct fw_meta *m, struct fw_str distinct_id, char *user_id, size_t n)
{
	pthread_mutex_lock(&m->mu);
	int64_t pid = 0;
	sqlite3_stmt *s;
	if (!sqlite3_prepare_v2(m->db, "SELECT i.person_id, coalesce(p.user_id, '') FROM identities i"
				       " JOIN persons p ON p.id = i.person_id WHERE i.distinct_id = ?1",
				-1, &s, NULL)) {
		sqlite3_bind_text(s, 1, distinct_id.p, (int)distinct_id.len, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			pid = sqlite3_column_int64(s, 0);
			if (user_id && n)
				snprintf(user_id, n, "%s", (const char *)sqlite3_column_text(s, 1));
		}
		sqlite3_finalize(s);
	}
	if (!pid && user_id && n)
		user_id[0] = 0;
	pthread_mutex_unlock(&m->mu);
	return pid;
}

int fw_meta_person_traits(struct fw_meta *m, const char *key, int64_t person,
			  void (*fn)(void *ctx, int64_t person, struct fw_str key, struct fw_str value),
			  void *ctx, struct fw_err *err)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(m->db, person ? "SELECT person_id, key, value FROM person_traits WHERE person_id = ?2"
					     : "SELECT person_id, key, value FROM person_traits WHERE key = ?1",
			       -1, &s, NULL)) {
		rc = db_error(m, err, "reading person traits");
	} else {
		if (person)
			sqlite3_bind_int64(s, 2, person);
		else
			sqlite3_bind_text(s, 1, key ? key : "", -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW)
			fn(ctx, sqlite3_column_int64(s, 0), col_fw_str(s, 1), col_fw_str(s, 2));
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int fw_meta_account_traits(struct fw_meta *m, struct fw_str group_id,
			   void (*fn)(void *ctx, struct fw_str group, struct fw_str key,
				      struct fw_str value),
			   void *ctx, struct fw_err *err)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(m->db, group_id.len ? "SELECT a.group_id, t.key, t.value FROM account_traits t"
						     " JOIN accounts a ON a.id = t.account_id WHERE a.group_id = ?1"
						   : "SELECT a.group_id, t.key, t.value FROM account_traits t"
						     " JOIN accounts a ON a.id = t.account_id",
			       -1, &s, NULL)) {
		rc = db_error(m, err, "reading account traits");
	} else {
		if (group_id.len)
			sqlite3_bind_text(s, 1, group_id.p, (int)group_id.len, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW)
			fn(ctx, col_fw_str(s, 0), col_fw_str(s, 1), col_fw_str(s, 2));
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int fw_meta_memberships(struct fw_meta *m,
			void (*fn)(void *ctx, int64_t person, struct fw_str group_id), void *ctx,
			struct fw_err *err)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT m.person_id, a.group_id FROM memberships m"
				       " JOIN accounts a ON a.id = m.account_id",
			       -1, &s, NULL)) {
		rc = db_error(m, err, "reading memberships");
	} else {
		while (sqlite3_step(s) == SQLITE_ROW)
			fn(ctx, sqlite3_column_int64(s, 0), col_fw_str(s, 1));
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int fw_meta_merged_into(struct fw_meta *m, int64_t kept, void (*fn)(void *ctx, int64_t merged),
			void *ctx)
{
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT merged_person FROM merges WHERE kept_person = ?1", -1,
			       &s, NULL)) {
		rc = FW_EIO;
	} else {
		sqlite3_bind_int64(s, 1, kept);
		while (sqlite3_step(s) == SQLITE_ROW)
			fn(ctx, sqlite3_column_int64(s, 0));
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* A created_at trait's JSON text as a time: an ISO-8601 string or epoch
 * seconds/ms, as the metrics read it. */
static int trait_time(struct fw_str v, int64_t *ms)
{
	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
		return fw_time_parse_iso(v.p + 1, v.len - 2, ms) == 0;
	char tmp[64], *end;
	if (!v.len || v.len >= sizeof tmp)
		return 0;
	memcpy(tmp, v.p, v.len);
	tmp[v.len] = 0;
	double d = strtod(tmp, &end);
	if (*end || end == tmp)
		return 0;
	*ms = fw_time_from_epoch(d);
	return 1;
}

int fw_meta_accounts_billing(struct fw_meta *m, struct fw_str group_id,
			     void (*fn)(void *ctx, struct fw_str group, int64_t created_ms,
					int64_t members, int64_t members_before),
			     int64_t before_ms, void *ctx, struct fw_err *err)
{
	/* one account by its unique index (the billing thread asks often), or all */
#define BILLING_SQL                                                                                \
	"SELECT a.group_id, a.first_seen_ms, t.value,"                                             \
	" (SELECT count(*) FROM memberships m WHERE m.account_id = a.id),"                         \
	" (SELECT count(*) FROM memberships m WHERE m.account_id = a.id AND m.first_seen_ms < ?2)" \
	" FROM accounts a LEFT JOIN account_traits t ON t.account_id = a.id AND t.key = 'created_at'"
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *s = group_id.len ? m->billing_one : NULL;
	int rc = 0;
	if (!s && sqlite3_prepare_v2(m->db,
				     group_id.len ? BILLING_SQL " WHERE a.group_id = ?1"
						  : BILLING_SQL " WHERE ?1 IS NULL",
				     -1, &s, NULL)) {
		rc = db_error(m, err, "reading accounts");
	} else {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		if (group_id.len)
			sqlite3_bind_text(s, 1, group_id.p, (int)group_id.len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, before_ms);
		while (sqlite3_step(s) == SQLITE_ROW) {
			int64_t created = sqlite3_column_int64(s, 1), t;
			struct fw_str v = col_fw_str(s, 2);
			if (trait_time(v, &t) && t < created)
				created = t;
			fn(ctx, col_fw_str(s, 0), created, sqlite3_column_int64(s, 3),
			   sqlite3_column_int64(s, 4));
		}
		if (group_id.len) {
			sqlite3_reset(s);
			m->billing_one = s; /* kept for the next one */
		} else {
			sqlite3_finalize(s);
		}
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}
