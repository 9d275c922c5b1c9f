/*
 * outbox.c — the webhook outbox in rules.db (outbox.h for producers,
 * webhook.h for the delivery worker and the API).
 *
 * Tables (created by fw_outbox_schema, registered in rulesdb.c):
 *
 *   outbox: one row per (event, destination)
 *     id              INTEGER PRIMARY KEY AUTOINCREMENT   the API's delivery id; never reused
 *     webhook_id      TEXT UNIQUE   "msg_" + ULID (26 chars: 48-bit ms time, 80 random bits);
 *                                   the webhook-id header of every attempt
 *     destination     TEXT          a destination's name in flywheel.yaml at queue time
 *     type            TEXT          "lead.route_changed", ...
 *     body            TEXT          the envelope {"type","timestamp","data"}, built at queue
 *                                   time, so every attempt posts (and signs) the same bytes
 *     created_ms      INTEGER
 *     status          TEXT          pending | delivered | dead
 *     attempts        INTEGER       all attempts made
 *     cycle_ms        INTEGER       start of the current retry cycle: created_ms, or the
 *                                   last replay; give_up_after counts from here
 *     cycle_attempts  INTEGER       attempts in the current cycle: picks the schedule's wait
 *     next_at_ms      INTEGER       pending: when the next attempt is due
 *     last_status     INTEGER       HTTP status of the last attempt (0: none)
 *     last_error      TEXT          NULL after a 2xx
 *     delivered_ms    INTEGER       NULL unless delivered
 *
 *   outbox_attempts: the attempts log, the newest FW_OUTBOX_ATTEMPTS_KEPT
 *     id INTEGER PRIMARY KEY, outbox_id, attempt (1-based over the row's
 *     life), at_ms, http_status (0: none), error (NULL after a 2xx),
 *     duration_ms
 *
 * Invariants: a row is written in the producer's transaction (a webhook
 * exists if and only if its change does); only the worker's
 * fw_outbox_record moves a pending row on, only fw_outbox_replay moves a
 * delivered or dead row back to pending; nothing marks a row delivered
 * before its destination answered 2xx.
 */
#include "flywheel/outbox.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"
#include "flywheel/webhook.h"
#include "rulesdb_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#define FW_OUTBOX_ATTEMPTS_KEPT 10000

const char fw_outbox_schema[] =
	"CREATE TABLE IF NOT EXISTS outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" webhook_id TEXT NOT NULL UNIQUE,"
	" destination TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','dead')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" cycle_ms INTEGER NOT NULL,"
	" cycle_attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at_ms INTEGER NOT NULL,"
	" last_status INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" delivered_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_at_ms);"
	"CREATE INDEX IF NOT EXISTS outbox_destination ON outbox(destination, id);"
	"CREATE TABLE IF NOT EXISTS outbox_attempts ("
	" id INTEGER PRIMARY KEY,"
	" outbox_id INTEGER NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" http_status INTEGER NOT NULL,"
	" error TEXT,"
	" duration_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS outbox_attempts_row ON outbox_attempts(outbox_id, attempt);";

const char *const fw_outbox_status_names[FW_OUTBOX_NSTATUS] = {"pending", "delivered", "dead"};

int fw_outbox_status_parse(const char *s)
{
	for (int i = 0; s && i < FW_OUTBOX_NSTATUS; i++)
		if (!strcmp(s, fw_outbox_status_names[i]))
			return i;
	return -1;
}

/* ---- ids ---- */

/* "msg_" + a ULID: sortable by creation time, 80 random bits against
 * collisions between rows made in the same millisecond. */
static void new_webhook_id(int64_t now_ms, char out[FW_WEBHOOK_ID_LEN + 2])
{
	static const char B32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
	uint8_t r[10];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	for (; got < sizeof r; got++) /* no getrandom: still unique enough with the time */
		r[got] = (uint8_t)(rand() ^ (fw_mono_ns() >> (got % 24)));
	memcpy(out, "msg_", 4);
	uint64_t t = (uint64_t)now_ms;
	for (int i = 9; i >= 0; i--, t >>= 5)
		out[4 + i] = B32[t & 31];
	for (int i = 0; i < 16; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)r[byte] << 8 | (byte + 1 < 10 ? r[byte + 1] : 0);
		out[14 + i] = B32[(v >> (11 - shift)) & 31];
	}
	out[FW_WEBHOOK_ID_LEN] = 0;
}

/* ---- helpers ---- */

static int prep(struct fw_rulesdb *db, const char *sql, sqlite3_stmt **st, struct fw_err *err)
{
	if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return fw_rulesdb_error(db, err, "outbox");
	}
	return 0;
}

static int tx(struct fw_rulesdb *db, const char *what, struct fw_err *err)
{
	if (sqlite3_exec(db->db, what, NULL, NULL, NULL) != SQLITE_OK)
		return fw_rulesdb_error(db, err, what);
	return 0;
}

static const char *col_str(sqlite3_stmt *st, int i, struct fw_arena *a)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t)
		return NULL;
	return fw_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

/* The columns read_row expects; BODY is "body" or "NULL". */
#define ROW_COLS(BODY)                                                                          \
	"id, webhook_id, destination, type, " BODY ", status, attempts, cycle_attempts, "       \
	"last_status, last_error, created_ms, cycle_ms, next_at_ms, coalesce(delivered_ms, 0)"

static void read_row(sqlite3_stmt *st, struct fw_arena *a, struct fw_outbox_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	snprintf(r->webhook_id, sizeof r->webhook_id, "%s",
		 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
	r->destination = col_str(st, 2, a);
	r->type = col_str(st, 3, a);
	r->body = col_str(st, 4, a);
	int s = fw_outbox_status_parse((const char *)sqlite3_column_text(st, 5));
	r->status = s < 0 ? FW_OUTBOX_PENDING : (enum fw_outbox_status)s;
	r->attempts = sqlite3_column_int(st, 6);
	r->cycle_attempts = sqlite3_column_int(st, 7);
	r->last_status = sqlite3_column_int(st, 8);
	r->last_error = col_str(st, 9, a);
	r->created_ms = sqlite3_column_int64(st, 10);
	r->cycle_ms = sqlite3_column_int64(st, 11);
	r->next_at_ms = sqlite3_column_int64(st, 12);
	r->delivered_ms = sqlite3_column_int64(st, 13);
}

/* Step a SELECT of ROW_COLS into an arena array. */
static int read_rows(struct fw_rulesdb *db, sqlite3_stmt *st, size_t max, struct fw_arena *a,
		     struct fw_outbox_row **rows, size_t *n, struct fw_err *err)
{
	*rows = fw_arena_alloc(a, (max ? max : 1) * sizeof **rows);
	*n = 0;
	int rc;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_row(st, a, &(*rows)[(*n)++]);
	if (*n < max && rc != SQLITE_DONE)
		return fw_rulesdb_error(db, err, "reading the outbox");
	return 0;
}

/* Does destination d take events of `type`? An empty list takes all; "*"
 * too; "lead.*" takes every type starting with "lead.". */
static int takes(const struct fw_destination *d, const char *type)
{
	if (!d->events.n)
		return 1;
	for (size_t i = 0; i < d->events.n; i++) {
		const char *p = d->events.items[i];
		size_t n = strlen(p);
		if (!strcmp(p, "*") || !strcmp(p, type))
			return 1;
		if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '.' && !strncmp(type, p, n - 1))
			return 1;
	}
	return 0;
}

static const struct fw_destination *find_destination(const struct fw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ndestinations; i++)
		if (cfg->destinations[i].name && !strcmp(cfg->destinations[i].name, name))
			return &cfg->destinations[i];
	return NULL;
}

/* ---- producers ---- */

static int add(struct fw_rulesdb *db, const struct fw_config *cfg, const char *type,
	       struct fw_str data, const char *only, int64_t now_ms, size_t *queued, int64_t *last_id,
	       char *last_wid, struct fw_err *err)
{
	if (queued)
		*queued = 0;
	if (!type || !*type)
		return fw_error(err, FW_EINVAL, "a webhook event needs a type");
	if (only && !find_destination(cfg, only))
		return fw_error(err, FW_ENOTFOUND,
				"no destination is named \"%.100s\": add it under destinations: in "
				"flywheel.yaml and restart",
				only);
	struct fw_arena a = {0};
	struct fw_json *j = NULL;
	struct fw_json_error je = {0};
	if (fw_json_parse(&a, data.p ? data.p : "", data.len, &j, &je) || j->type != FW_JSON_OBJECT) {
		fw_arena_release(&a);
		return fw_error(err, FW_EINVAL, "the data of a %s webhook must be a JSON object%s%s",
				type, je.msg[0] ? ": " : "", je.msg);
	}
	struct fw_buf body = {0};
	char ts[32];
	fw_time_format_iso(now_ms, ts);
	fw_buf_adds(&body, "{\"type\":");
	fw_json_write_str(&body, type, strlen(type));
	fw_buf_printf(&body, ",\"timestamp\":\"%s\",\"data\":", ts);
	fw_buf_add(&body, j->raw.p, j->raw.len);
	fw_buf_addc(&body, '}');
	fw_arena_release(&a);

	sqlite3_stmt *st;
	int rc = prep(db,
		      "INSERT INTO outbox (webhook_id, destination, type, body, created_ms, cycle_ms, "
		      "next_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
		      &st, err);
	for (size_t i = 0; !rc && i < cfg->ndestinations; i++) {
		const struct fw_destination *d = &cfg->destinations[i];
		if (!d->name || (only ? strcmp(d->name, only) != 0 : !takes(d, type)))
			continue;
		char wid[FW_WEBHOOK_ID_LEN + 2];
		new_webhook_id(now_ms, wid);
		sqlite3_bind_text(st, 1, wid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, body.data, (int)body.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now_ms);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = fw_rulesdb_error(db, err, "queueing a webhook");
			break;
		}
		sqlite3_reset(st);
		if (queued)
			(*queued)++;
		if (last_id)
			*last_id = sqlite3_last_insert_rowid(db->db);
		if (last_wid)
			memcpy(last_wid, wid, sizeof wid);
	}
	sqlite3_finalize(st);
	fw_buf_release(&body);
	return rc;
}

int fw_outbox_add_tx(struct fw_rulesdb *db, const struct fw_config *cfg, const char *type,
		     struct fw_str data, const char *only_destination, int64_t now_ms,
		     size_t *queued, struct fw_err *err)
{
	return add(db, cfg, type, data, only_destination, now_ms, queued, NULL, NULL, err);
}

int fw_outbox_send_test(struct fw_rulesdb *db, const struct fw_config *cfg, const char *destination,
			int64_t now_ms, int64_t *id, char webhook_id[FW_WEBHOOK_ID_LEN + 2],
			struct fw_err *err)
{
	struct fw_buf data = {0};
	fw_buf_adds(&data, "{\"summary\":\"Test webhook from Flywheel\",\"destination\":");
	fw_json_write_str(&data, destination, strlen(destination));
	fw_buf_addc(&data, '}');
	int rc = fw_rulesdb_begin(db, err);
	if (!rc) {
		rc = add(db, cfg, FW_WH_TEST, (struct fw_str){data.data, (uint32_t)data.len},
			 destination, now_ms, NULL, id, webhook_id, err);
		if (rc)
			fw_rulesdb_rollback(db);
		else
			rc = fw_rulesdb_commit(db, err);
	}
	fw_buf_release(&data);
	return rc;
}

/* ---- the worker ---- */

int fw_outbox_due(struct fw_rulesdb *db, int64_t now_ms, size_t max, struct fw_arena *a,
		  struct fw_outbox_row **rows, size_t *n, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st;
	int rc = prep(db,
		      "SELECT " ROW_COLS("body") " FROM outbox WHERE status = 'pending' AND "
						 "next_at_ms <= ?1 ORDER BY next_at_ms, id LIMIT ?2",
		      &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_int64(st, 2, (int64_t)max);
		rc = read_rows(db, st, max, a, rows, n, err);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_next_at(struct fw_rulesdb *db, int64_t *next_at_ms, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st;
	int rc = prep(db, "SELECT min(next_at_ms) FROM outbox WHERE status = 'pending'", &st, err);
	if (!rc) {
		if (sqlite3_step(st) != SQLITE_ROW)
			rc = fw_rulesdb_error(db, err, "reading the outbox");
		else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			rc = FW_ENOTFOUND;
		else
			*next_at_ms = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_record(struct fw_rulesdb *db, int64_t id, const struct fw_outbox_attempt *att,
		     enum fw_outbox_status outcome, int64_t next_at_ms, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *up = NULL, *ins = NULL;
	int rc = tx(db, "BEGIN IMMEDIATE", err);
	if (rc) {
		pthread_mutex_unlock(&db->mu);
		return rc;
	}
	rc = prep(db,
		  "UPDATE outbox SET attempts = attempts + 1, cycle_attempts = cycle_attempts + 1,"
		  " status = ?2, last_status = ?3, last_error = ?4,"
		  " next_at_ms = CASE WHEN ?2 = 'pending' THEN ?5 ELSE next_at_ms END,"
		  " delivered_ms = CASE WHEN ?2 = 'delivered' THEN ?6 ELSE delivered_ms END"
		  " WHERE id = ?1 AND status = 'pending' RETURNING attempts",
		  &up, err);
	int attempt = 0;
	if (!rc) {
		sqlite3_bind_int64(up, 1, id);
		sqlite3_bind_text(up, 2, fw_outbox_status_names[outcome], -1, SQLITE_STATIC);
		sqlite3_bind_int(up, 3, att->http_status);
		if (att->error)
			sqlite3_bind_text(up, 4, att->error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 5, next_at_ms);
		sqlite3_bind_int64(up, 6, att->at_ms + att->duration_ms);
		int s = sqlite3_step(up);
		if (s == SQLITE_ROW)
			attempt = sqlite3_column_int(up, 0);
		else if (s == SQLITE_DONE)
			rc = fw_error(err, FW_ENOTFOUND, "delivery %" PRId64 " is not pending", id);
		else
			rc = fw_rulesdb_error(db, err, "recording an attempt");
		sqlite3_reset(up);
	}
	if (!rc)
		rc = prep(db,
			  "INSERT INTO outbox_attempts (outbox_id, attempt, at_ms, http_status, error,"
			  " duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			  &ins, err);
	if (!rc) {
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_int(ins, 2, attempt);
		sqlite3_bind_int64(ins, 3, att->at_ms);
		sqlite3_bind_int(ins, 4, att->http_status);
		if (att->error)
			sqlite3_bind_text(ins, 5, att->error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 6, att->duration_ms);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = fw_rulesdb_error(db, err, "recording an attempt");
	}
	if (!rc) {
		/* rowids only grow (the newest is never deleted): a range delete */
		char sql[160];
		snprintf(sql, sizeof sql, "DELETE FROM outbox_attempts WHERE id <= %lld",
			 (long long)sqlite3_last_insert_rowid(db->db) - FW_OUTBOX_ATTEMPTS_KEPT);
		rc = tx(db, sql, err);
	}
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	if (!rc)
		rc = tx(db, "COMMIT", err);
	if (rc)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* ---- the API ---- */

int fw_outbox_list(struct fw_rulesdb *db, const struct fw_outbox_filter *f, struct fw_arena *a,
		   struct fw_outbox_row **rows, size_t *n, struct fw_err *err)
{
	size_t limit = f->limit == 0 ? 50 : f->limit > 1000 ? 1000 : f->limit;
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st;
	int rc = prep(db,
		      "SELECT " ROW_COLS("NULL") " FROM outbox WHERE (?1 IS NULL OR status = ?1)"
						 " AND (?2 IS NULL OR destination = ?2)"
						 " AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4",
		      &st, err);
	if (!rc) {
		if (f->status >= 0 && f->status < FW_OUTBOX_NSTATUS)
			sqlite3_bind_text(st, 1, fw_outbox_status_names[f->status], -1, SQLITE_STATIC);
		if (f->destination)
			sqlite3_bind_text(st, 2, f->destination, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, f->before);
		sqlite3_bind_int64(st, 4, (int64_t)limit);
		rc = read_rows(db, st, limit, a, rows, n, err);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_get(struct fw_rulesdb *db, int64_t id, struct fw_arena *a, struct fw_outbox_row *row,
		  struct fw_outbox_attempt **atts, size_t *natts, struct fw_err *err)
{
	*atts = NULL;
	*natts = 0;
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st = NULL, *at = NULL;
	int rc = prep(db, "SELECT " ROW_COLS("body") " FROM outbox WHERE id = ?1", &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			read_row(st, a, row);
		else if (s == SQLITE_DONE)
			rc = fw_error(err, FW_ENOTFOUND, "no delivery has the id %" PRId64, id);
		else
			rc = fw_rulesdb_error(db, err, "reading the outbox");
	}
	if (!rc)
		rc = prep(db,
			  "SELECT attempt, at_ms, http_status, error, duration_ms FROM outbox_attempts"
			  " WHERE outbox_id = ?1 ORDER BY attempt",
			  &at, err);
	if (!rc) {
		sqlite3_bind_int64(at, 1, id);
		size_t cap = 0;
		int s;
		while ((s = sqlite3_step(at)) == SQLITE_ROW) {
			if (*natts == cap) { /* the arena never frees: double and copy */
				size_t ncap = cap ? cap * 2 : 8;
				struct fw_outbox_attempt *p = fw_arena_alloc(a, ncap * sizeof *p);
				if (*natts)
					memcpy(p, *atts, *natts * sizeof *p);
				*atts = p;
				cap = ncap;
			}
			struct fw_outbox_attempt *x = &(*atts)[(*natts)++];
			x->attempt = sqlite3_column_int(at, 0);
			x->at_ms = sqlite3_column_int64(at, 1);
			x->http_status = sqlite3_column_int(at, 2);
			x->error = col_str(at, 3, a);
			x->duration_ms = sqlite3_column_int64(at, 4);
		}
		if (s != SQLITE_DONE)
			rc = fw_rulesdb_error(db, err, "reading the attempts");
	}
	sqlite3_finalize(st);
	sqlite3_finalize(at);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_lookup(struct fw_rulesdb *db, const char *webhook_id, int64_t *id, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st;
	int rc = prep(db, "SELECT id FROM outbox WHERE webhook_id = ?1", &st, err);
	if (!rc) {
		sqlite3_bind_text(st, 1, webhook_id, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		else if (s == SQLITE_DONE)
			rc = fw_error(err, FW_ENOTFOUND, "no delivery has the webhook id \"%.60s\"",
				      webhook_id);
		else
			rc = fw_rulesdb_error(db, err, "reading the outbox");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_replay(struct fw_rulesdb *db, int64_t id, int64_t now_ms, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st;
	/* one statement: the status test and the change cannot be split by the worker */
	int rc = prep(db,
		      "UPDATE outbox SET status = 'pending', next_at_ms = ?2, cycle_ms = ?2,"
		      " cycle_attempts = 0, delivered_ms = NULL"
		      " WHERE id = ?1 AND status != 'pending' RETURNING id",
		      &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now_ms);
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE) {
			sqlite3_finalize(st);
			st = NULL;
			rc = prep(db, "SELECT next_at_ms FROM outbox WHERE id = ?1", &st, err);
			if (!rc) {
				sqlite3_bind_int64(st, 1, id);
				if (sqlite3_step(st) == SQLITE_ROW) {
					char t[32];
					fw_time_format_iso(sqlite3_column_int64(st, 0), t);
					rc = fw_error(err, FW_EINVAL,
						      "delivery %" PRId64 " is pending already: its next "
						      "attempt is due at %s",
						      id, t);
				} else {
					rc = fw_error(err, FW_ENOTFOUND, "no delivery has the id %" PRId64,
						      id);
				}
			}
		} else if (s != SQLITE_ROW) {
			rc = fw_rulesdb_error(db, err, "replaying a delivery");
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_counts(struct fw_rulesdb *db, const char *destination,
		     int64_t counts[FW_OUTBOX_NSTATUS], struct fw_err *err)
{
	for (int i = 0; i < FW_OUTBOX_NSTATUS; i++)
		counts[i] = 0;
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *st;
	int rc = prep(db,
		      "SELECT status, count(*) FROM outbox WHERE (?1 IS NULL OR destination = ?1)"
		      " GROUP BY status",
		      &st, err);
	if (!rc) {
		if (destination)
			sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
		int s;
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			int k = fw_outbox_status_parse((const char *)sqlite3_column_text(st, 0));
			if (k >= 0)
				counts[k] = sqlite3_column_int64(st, 1);
		}
		if (s != SQLITE_DONE)
			rc = fw_rulesdb_error(db, err, "counting the outbox");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int fw_outbox_prune(struct fw_rulesdb *db, int64_t before_ms, size_t *removed, struct fw_err *err)
{
	if (removed)
		*removed = 0;
	pthread_mutex_lock(&db->mu);
	char sql[512];
	snprintf(sql, sizeof sql,
		 "BEGIN IMMEDIATE;"
		 "DELETE FROM outbox_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE"
		 " status = 'delivered' AND delivered_ms < %lld);"
		 "DELETE FROM outbox WHERE status = 'delivered' AND delivered_ms < %lld;",
		 (long long)before_ms, (long long)before_ms);
	int rc = tx(db, sql, err);
	if (!rc && removed)
		*removed = (size_t)sqlite3_changes(db->db);
	if (!rc)
		rc = tx(db, "COMMIT", err);
	if (rc)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&db->mu);
	return rc;
}
