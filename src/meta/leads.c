/*
 * leads.c — scores, routes and signals in rules.db (leads.h).
 *
 * Tables:
 *   leads(unit, key PRIMARY KEY, score, route, triggers, flags, reasons, cause, updated_ms)
 *       the last result written for every person and account that ever had
 *       a score, a route other than nurture, a trigger or a signal
 *   lead_history(id, unit, key, time_ms, kind, score, route, old_score,
 *                old_route, triggers, cause, reasons)
 *       one row per change: kind "route" when the route changed, "trigger"
 *       when a trigger fired, "signal" when at-risk/expansion started or
 *       ended, else "score"
 *   signals(kind, account PRIMARY KEY, since_ms, detail)
 *       accounts at risk / with an expansion signal now, since when, and the
 *       numbers behind it
 */
#include "flywheel/leads.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"
#include "rulesdb_int.h"

#include <stdio.h>
#include <string.h>

const char fw_leads_schema[] =
	"CREATE TABLE IF NOT EXISTS leads(unit TEXT NOT NULL, key TEXT NOT NULL, score INTEGER,"
	"  route TEXT, triggers TEXT, flags INTEGER, reasons TEXT, cause TEXT, updated_ms INTEGER,"
	"  PRIMARY KEY(unit, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lead_history(id INTEGER PRIMARY KEY, unit TEXT NOT NULL,"
	"  key TEXT NOT NULL, time_ms INTEGER, kind TEXT, score INTEGER, route TEXT,"
	"  old_score INTEGER, old_route TEXT, triggers TEXT, cause TEXT, reasons TEXT);"
	"CREATE INDEX IF NOT EXISTS lead_history_key ON lead_history(unit, key, id);"
	"CREATE TABLE IF NOT EXISTS signals(kind TEXT NOT NULL, account TEXT NOT NULL,"
	"  since_ms INTEGER, detail TEXT, PRIMARY KEY(kind, account)) WITHOUT ROWID;";

static int route_of_name(const char *s)
{
	for (int r = 0; s && r < FW_ROUTE_COUNT; r++)
		if (!strcmp(s, fw_lead_route_names[r]))
			return r;
	return FW_ROUTE_NURTURE;
}

static unsigned triggers_of_text(const char *s)
{
	unsigned t = 0;
	for (int i = 0; s && i < FW_TRIGGER_COUNT; i++) {
		char q[64];
		snprintf(q, sizeof q, "\"%s\"", fw_trigger_names[i]);
		if (strstr(s, q))
			t |= 1u << i;
	}
	return t;
}

static int exec_bind(struct fw_rulesdb *db, const char *sql, struct fw_err *err,
		     const char *what, int (*bind)(sqlite3_stmt *, void *), void *ctx)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL))
		return fw_rulesdb_error(db, err, what);
	bind(s, ctx);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fw_rulesdb_error(db, err, what);
	sqlite3_finalize(s);
	return rc;
}

struct row {
	const struct fw_lead_change *ch;
	const char *kind, *triggers, *signal;
	int64_t now;
};

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
}

static int bind_lead(sqlite3_stmt *s, void *ctx)
{
	const struct row *r = ctx;
	sqlite3_bind_text(s, 1, fw_lead_unit_names[r->ch->unit], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->ch->key.p, (int)r->ch->key.len, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, r->ch->now.score);
	sqlite3_bind_text(s, 4, fw_lead_route_names[r->ch->now.route], -1, SQLITE_STATIC);
	bind_text(s, 5, r->triggers);
	sqlite3_bind_int(s, 6, r->ch->now.flags);
	bind_text(s, 7, r->ch->reasons);
	bind_text(s, 8, r->ch->cause);
	sqlite3_bind_int64(s, 9, r->now);
	return 0;
}

static int bind_history(sqlite3_stmt *s, void *ctx)
{
	const struct row *r = ctx;
	sqlite3_bind_text(s, 1, fw_lead_unit_names[r->ch->unit], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->ch->key.p, (int)r->ch->key.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->now);
	sqlite3_bind_text(s, 4, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, r->ch->now.score);
	sqlite3_bind_text(s, 6, fw_lead_route_names[r->ch->now.route], -1, SQLITE_STATIC);
	if (r->ch->old.exists) {
		sqlite3_bind_int(s, 7, r->ch->old.score);
		sqlite3_bind_text(s, 8, fw_lead_route_names[r->ch->old.route], -1, SQLITE_STATIC);
	}
	bind_text(s, 9, r->triggers);
	bind_text(s, 10, r->ch->cause);
	bind_text(s, 11, r->ch->reasons);
	return 0;
}

static int bind_signal(sqlite3_stmt *s, void *ctx)
{
	const struct row *r = ctx;
	sqlite3_bind_text(s, 1, r->signal, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->ch->key.p, (int)r->ch->key.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->now);
	bind_text(s, 4, r->ch->signals);
	return 0;
}

/* The data of a webhook about a change. */
static void change_data(const struct fw_lead_change *ch, const char *what, struct fw_buf *b)
{
	fw_buf_printf(b, "{\"unit\":\"%s\",\"key\":", fw_lead_unit_names[ch->unit]);
	fw_json_write_str(b, ch->key.p, ch->key.len);
	fw_buf_printf(b, ",\"score\":%d,\"route\":\"%s\",\"previous_score\":", ch->now.score,
		      fw_lead_route_names[ch->now.route]);
	if (ch->old.exists)
		fw_buf_printf(b, "%d,\"previous_route\":\"%s\"", ch->old.score,
			      fw_lead_route_names[ch->old.route]);
	else
		fw_buf_adds(b, "null,\"previous_route\":null");
	fw_buf_adds(b, ",\"triggers\":");
	fw_lead_triggers_json(b, ch->now.triggers);
	fw_buf_printf(b, ",\"activated\":%s", ch->now.flags & FW_LEAD_ACTIVATED ? "true" : "false");
	if (what)
		fw_buf_printf(b, ",\"trigger\":\"%s\"", what);
	fw_buf_adds(b, ",\"cause\":");
	fw_json_write_str(b, ch->cause, strlen(ch->cause));
	fw_buf_printf(b, ",\"reasons\":%s", ch->reasons);
	if (ch->signals)
		fw_buf_printf(b, ",\"signals\":%s", ch->signals);
	fw_buf_adds(b, ",\"summary\":");
	fw_json_write_str(b, ch->summary, strlen(ch->summary));
	fw_buf_addc(b, '}');
}

static int queue(struct fw_rulesdb *db, const struct fw_config *cfg, const char *type,
		 const struct fw_lead_change *ch, const char *what, int64_t now, size_t *queued,
		 struct fw_err *err)
{
	struct fw_buf b = {0};
	change_data(ch, what, &b);
	size_t n = 0;
	int rc = fw_outbox_add_tx(db, cfg, type, (struct fw_str){b.data, (uint32_t)b.len}, NULL, now,
				  &n, err);
	*queued += n;
	fw_buf_release(&b);
	return rc;
}

static const struct {
	unsigned flag;
	const char *kind, *type;
} signal_kinds[] = {
	{FW_LEAD_AT_RISK, "at_risk", FW_WH_AT_RISK},
	{FW_LEAD_EXPANSION, "expansion", FW_WH_EXPANSION},
};

static int write_one(struct fw_rulesdb *db, const struct fw_config *cfg,
		     const struct fw_lead_change *ch, int64_t now, size_t *queued, struct fw_err *err)
{
	struct fw_buf trig = {0};
	fw_lead_triggers_json(&trig, ch->now.triggers);
	fw_buf_addc(&trig, 0);
	struct row r = {ch, "score", trig.data, NULL, now};
	int old_route = ch->old.exists ? ch->old.route : FW_ROUTE_NURTURE;
	unsigned fired = ch->now.triggers & ~(ch->old.exists ? ch->old.triggers : 0u);
	unsigned sig_on = ch->now.flags & ~(ch->old.exists ? ch->old.flags : 0u);
	unsigned sig_off = (ch->old.exists ? ch->old.flags : 0u) & ~ch->now.flags;
	if (ch->now.route != old_route)
		r.kind = "route";
	else if (fired)
		r.kind = "trigger";
	else if ((sig_on | sig_off) & (FW_LEAD_AT_RISK | FW_LEAD_EXPANSION))
		r.kind = "signal";
	int rc = exec_bind(db,
			   "INSERT INTO leads VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT DO UPDATE SET"
			   " score=excluded.score, route=excluded.route, triggers=excluded.triggers,"
			   " flags=excluded.flags, reasons=excluded.reasons, cause=excluded.cause,"
			   " updated_ms=excluded.updated_ms",
			   err, "writing a lead", bind_lead, &r);
	int scored = !ch->old.exists || ch->old.score != ch->now.score || strcmp(r.kind, "score");
	if (!rc && scored)
		rc = exec_bind(db,
			       "INSERT INTO lead_history(unit, key, time_ms, kind, score, route,"
			       " old_score, old_route, triggers, cause, reasons)"
			       " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
			       err, "writing lead history", bind_history, &r);
	if (!rc && ch->now.route != old_route)
		rc = queue(db, cfg, FW_WH_ROUTE_CHANGED, ch, NULL, now, queued, err);
	for (int t = 0; !rc && t < FW_TRIGGER_COUNT; t++)
		if (fired & (1u << t))
			rc = queue(db, cfg, FW_WH_TRIGGER_FIRED, ch, fw_trigger_names[t], now, queued,
				   err);
	for (size_t k = 0; !rc && k < FW_ARRAY_LEN(signal_kinds); k++) {
		r.signal = signal_kinds[k].kind;
		if (sig_on & signal_kinds[k].flag) {
			rc = exec_bind(db, "INSERT OR REPLACE INTO signals VALUES(?1,?2,?3,?4)", err,
				       "writing a signal", bind_signal, &r);
			if (!rc)
				rc = queue(db, cfg, signal_kinds[k].type, ch, NULL, now, queued, err);
		} else if (sig_off & signal_kinds[k].flag) {
			rc = exec_bind(db, "DELETE FROM signals WHERE kind=?1 AND account=?2", err,
				       "clearing a signal", bind_signal, &r);
		}
	}
	fw_buf_release(&trig);
	return rc;
}

int fw_leads_write(struct fw_rulesdb *db, const struct fw_config *cfg,
		   const struct fw_lead_change *ch, size_t n, int64_t now, size_t *queued,
		   struct fw_err *err)
{
	*queued = 0;
	int rc = fw_rulesdb_begin(db, err);
	for (size_t i = 0; !rc && i < n; i++)
		rc = write_one(db, cfg, &ch[i], now, queued, err);
	if (rc) {
		fw_rulesdb_rollback(db);
		*queued = 0;
		return rc;
	}
	return fw_rulesdb_commit(db, err);
}

int fw_leads_load(struct fw_rulesdb *db,
		  void (*fn)(void *ctx, enum fw_lead_unit unit, struct fw_str key,
			     const struct fw_lead_state *s),
		  void *ctx, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *s;
	int rc = 0;
	if (sqlite3_prepare_v2(db->db, "SELECT unit, key, score, route, triggers, flags FROM leads",
			       -1, &s, NULL)) {
		rc = fw_rulesdb_error(db, err, "reading leads");
	} else {
		while (sqlite3_step(s) == SQLITE_ROW) {
			struct fw_lead_state st = {
				.score = sqlite3_column_int(s, 2),
				.route = (uint8_t)route_of_name((const char *)sqlite3_column_text(s, 3)),
				.triggers = (uint8_t)triggers_of_text((const char *)sqlite3_column_text(s, 4)),
				.flags = (uint8_t)sqlite3_column_int(s, 5),
				.exists = 1,
			};
			const char *unit = (const char *)sqlite3_column_text(s, 0);
			fn(ctx, unit && !strcmp(unit, "account") ? FW_LEAD_ACCOUNT : FW_LEAD_PERSON,
			   (struct fw_str){(const char *)sqlite3_column_text(s, 1),
					   (uint32_t)sqlite3_column_bytes(s, 1)},
			   &st);
		}
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static void col_json_text(struct fw_buf *b, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		fw_buf_adds(b, "null");
	else
		fw_json_write_str(b, (const char *)sqlite3_column_text(s, i),
				  (size_t)sqlite3_column_bytes(s, i));
}

static void col_json_raw(struct fw_buf *b, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		fw_buf_adds(b, "null");
	else
		fw_buf_add(b, sqlite3_column_text(s, i), (size_t)sqlite3_column_bytes(s, i));
}

int fw_leads_history_json(struct fw_rulesdb *db, enum fw_lead_unit unit, struct fw_str key,
			  size_t limit, struct fw_buf *out)
{
	pthread_mutex_lock(&db->mu);
	sqlite3_stmt *s;
	fw_buf_addc(out, '[');
	if (!sqlite3_prepare_v2(db->db,
				"SELECT time_ms, kind, score, route, old_score, old_route, triggers, cause,"
				" reasons FROM lead_history WHERE unit=?1 AND key=?2 ORDER BY id DESC LIMIT ?3",
				-1, &s, NULL)) {
		sqlite3_bind_text(s, 1, fw_lead_unit_names[unit], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, key.p, (int)key.len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
		for (int n = 0; sqlite3_step(s) == SQLITE_ROW; n++) {
			char iso[32];
			fw_time_format_iso(sqlite3_column_int64(s, 0), iso);
			fw_buf_printf(out, "%s{\"time\":\"%s\",\"kind\":", n ? "," : "", iso);
			col_json_text(out, s, 1);
			fw_buf_adds(out, ",\"score\":");
			col_json_raw(out, s, 2);
			fw_buf_adds(out, ",\"route\":");
			col_json_text(out, s, 3);
			fw_buf_adds(out, ",\"previous_score\":");
			col_json_raw(out, s, 4);
			fw_buf_adds(out, ",\"previous_route\":");
			col_json_text(out, s, 5);
			fw_buf_adds(out, ",\"triggers\":");
			col_json_raw(out, s, 6);
			fw_buf_adds(out, ",\"cause\":");
			col_json_text(out, s, 7);
			fw_buf_adds(out, ",\"reasons\":");
			col_json_raw(out, s, 8);
			fw_buf_addc(out, '}');
		}
		sqlite3_finalize(s);
	}
	fw_buf_addc(out, ']');
	pthread_mutex_unlock(&db->mu);
	return 0;
}
