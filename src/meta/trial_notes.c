/*
 * trial_notes.c — trial webhooks in rules.db (billing.h, outbox.h).
 *
 * Table:
 *   trial_notes(key PRIMARY KEY, time_ms)
 *       one row per trial webhook ever queued: "started|ending:N|expired|
 *       converted" : account : the trial's start. A note already there queues
 *       nothing, so the engine may report the same news again after a
 *       restart without anyone hearing it twice.
 */
#include "flywheel/billing.h"
#include "flywheel/json.h"
#include "flywheel/outbox.h"
#include "flywheel/timeutil.h"
#include "rulesdb_int.h"

#include <stdio.h>

const char fw_trial_notes_schema[] =
	"CREATE TABLE IF NOT EXISTS trial_notes(key TEXT PRIMARY KEY, time_ms INTEGER)"
	" WITHOUT ROWID;";

static const char *const type_of[] = {
	[FW_TRIAL_STARTED] = FW_WH_TRIAL_STARTED,
	[FW_TRIAL_ENDING] = FW_WH_TRIAL_ENDING,
	[FW_TRIAL_EXPIRED] = FW_WH_TRIAL_EXPIRED,
	[FW_TRIAL_CONVERTED] = FW_WH_TRIAL_CONVERTED,
};

static void iso(struct fw_buf *b, const char *key, int64_t ms)
{
	char t[32];
	fw_time_format_iso(ms, t);
	fw_buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

/* The webhook's data: what a CRM or a chat channel needs to act. */
static void note_json(const struct fw_trial_note *n, struct fw_buf *b)
{
	fw_buf_adds(b, "{\"account_id\":");
	fw_json_write_str(b, n->account, strlen(n->account));
	fw_buf_adds(b, ",\"plan\":");
	fw_json_write_str(b, n->plan, strlen(n->plan));
	iso(b, "started_at", n->started_ms);
	iso(b, "ends_at", n->ends_ms);
	char summary[400];
	switch (n->what) {
	case FW_TRIAL_STARTED:
		snprintf(summary, sizeof summary, "%s started a %s trial", n->account, n->plan);
		break;
	case FW_TRIAL_ENDING:
		fw_buf_printf(b, ",\"days_left\":%d", n->days_left);
		snprintf(summary, sizeof summary, "%s's %s trial ends in %d day%s", n->account,
			 n->plan, n->days_left, n->days_left == 1 ? "" : "s");
		break;
	case FW_TRIAL_EXPIRED:
		fw_buf_adds(b, ",\"to_plan\":");
		fw_json_write_str(b, n->to_plan, strlen(n->to_plan));
		snprintf(summary, sizeof summary, "%s's %s trial expired; now on %s", n->account,
			 n->plan, n->to_plan);
		break;
	case FW_TRIAL_CONVERTED:
		fw_buf_adds(b, ",\"to_plan\":");
		fw_json_write_str(b, n->to_plan, strlen(n->to_plan));
		fw_buf_adds(b, ",\"mrr\":");
		fw_json_write_double(b, n->to_mrr);
		iso(b, "converted_at", n->at_ms);
		fw_buf_adds(b, ",\"days_to_convert\":");
		fw_json_write_double(b, (double)(n->at_ms - n->started_ms) / (double)FW_MS_PER_DAY);
		snprintf(summary, sizeof summary, "%s converted from a %s trial to %s after %.1f days",
			 n->account, n->plan, n->to_plan,
			 (double)(n->at_ms - n->started_ms) / (double)FW_MS_PER_DAY);
		break;
	}
	fw_buf_adds(b, ",\"summary\":");
	fw_json_write_str(b, summary, strlen(summary));
	fw_buf_adds(b, "}");
}

int fw_trial_notes_write(struct fw_rulesdb *db, const struct fw_config *cfg,
			 const struct fw_trial_note *notes, size_t n, int64_t now_ms,
			 size_t *queued, struct fw_err *err)
{
	*queued = 0;
	if (!n)
		return 0;
	int rc = fw_rulesdb_begin(db, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->db, "INSERT OR IGNORE INTO trial_notes VALUES(?1, ?2)", -1, &s,
			       NULL))
		rc = fw_rulesdb_error(db, err, "recording trial webhooks");
	struct fw_buf data = {0};
	for (size_t i = 0; i < n && !rc; i++) {
		const struct fw_trial_note *x = &notes[i];
		char key[256];
		if (x->what == FW_TRIAL_ENDING)
			snprintf(key, sizeof key, "ending:%d:%s:%lld", x->days_left, x->account,
				 (long long)x->started_ms);
		else
			snprintf(key, sizeof key, "%s:%s:%lld", type_of[x->what] + 6, x->account,
				 (long long)x->started_ms);
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, now_ms);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = fw_rulesdb_error(db, err, "recording trial webhooks");
			break;
		}
		if (!sqlite3_changes(db->db))
			continue; /* told before */
		fw_buf_reset(&data);
		note_json(x, &data);
		size_t q = 0;
		rc = fw_outbox_add_tx(db, cfg, type_of[x->what], (struct fw_str){data.data, data.len},
				      NULL, now_ms, &q, err);
		*queued += q;
	}
	sqlite3_finalize(s);
	fw_buf_release(&data);
	if (rc) {
		fw_rulesdb_rollback(db);
		*queued = 0;
		return rc;
	}
	return fw_rulesdb_commit(db, err);
}
