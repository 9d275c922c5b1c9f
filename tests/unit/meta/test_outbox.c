/* test_outbox.c — the webhook outbox in rules.db (src/meta/outbox.c):
 * which destinations a type goes to, the envelope, transactions, the
 * worker's transitions, replay, paging, the bounded attempts log. */
#include "../test.h"
#include "flywheel/outbox.h"
#include "flywheel/webhook.h"
#include "../../../src/meta/rulesdb_int.h" /* PRAGMA synchronous=OFF for the 10,000-attempt test */

#include <stdlib.h>

static const int64_t T0 = 1700000000000; /* 2023-11-14T22:13:20.000Z */

static void add_dest(struct fw_config *c, const char *name, const char *const *events)
{
	struct fw_destination *d = &c->destinations[c->ndestinations++];
	d->name = fw_xstrdup(name);
	d->url = fw_xstrdup("https://hooks.example.com/flywheel");
	for (; events && *events; events++)
		d->events.items[d->events.n++] = fw_xstrdup(*events);
}

/* Free what add_dest made, then the rest (whether or not fw_config_release
 * knows destinations yet). */
static void release_config(struct fw_config *c)
{
	for (size_t i = 0; i < c->ndestinations; i++) {
		free(c->destinations[i].name);
		free(c->destinations[i].url);
		for (size_t k = 0; k < c->destinations[i].events.n; k++)
			free(c->destinations[i].events.items[k]);
	}
	memset(c->destinations, 0, sizeof c->destinations);
	c->ndestinations = 0;
	fw_config_release(c);
}

static struct fw_rulesdb *open_db(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/rules.db", fw_test_tmpdir());
	struct fw_rulesdb *db = NULL;
	struct fw_err err;
	if (fw_rulesdb_open(path, &db, &err)) {
		fprintf(stderr, "  %s\n", err.msg);
		fw_test_failures++;
	}
	return db;
}

/* Queue one event in its own transaction; returns rows queued or -rc. */
static long queue(struct fw_rulesdb *db, const struct fw_config *c, const char *type,
		  const char *data, const char *only, int64_t now)
{
	struct fw_err err;
	size_t n = 0;
	if (fw_rulesdb_begin(db, &err))
		return -100;
	int rc = fw_outbox_add_tx(db, c, type, fw_str_c(data), only, now, &n, &err);
	if (rc) {
		fw_rulesdb_rollback(db);
		return rc;
	}
	return fw_rulesdb_commit(db, &err) ? -101 : (long)n;
}

/* "dest:type" of every row, oldest first, comma-separated. */
static const char *rows_text(struct fw_rulesdb *db)
{
	static char out[2048];
	struct fw_arena a = {0};
	struct fw_outbox_row *rows;
	size_t n;
	struct fw_err err;
	struct fw_outbox_filter f = {.status = -1, .limit = 1000};
	out[0] = 0;
	if (fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0)
		for (size_t i = n; i-- > 0;)
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s:%s",
				 out[0] ? "," : "", rows[i].destination, rows[i].type);
	fw_arena_release(&a);
	return out;
}

static int64_t count(struct fw_rulesdb *db, int status)
{
	int64_t c[FW_OUTBOX_NSTATUS];
	struct fw_err err;
	if (fw_outbox_counts(db, NULL, c, &err))
		return -1;
	return status < 0 ? c[0] + c[1] + c[2] : c[status];
}

TEST(outbox_routes_types_by_events)
{
	struct fw_rulesdb *db = open_db();
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "all", NULL);
	add_dest(&c, "exact", (const char *const[]){"lead.route_changed", NULL});
	add_dest(&c, "prefix", (const char *const[]){"lead.*", NULL});
	add_dest(&c, "risk", (const char *const[]){"account.at_risk", "trial.*", NULL});
	add_dest(&c, "star", (const char *const[]){"*", NULL});

	CHECK_EQ_INT(queue(db, &c, FW_WH_ROUTE_CHANGED, "{}", NULL, T0), 4);
	CHECK_EQ_INT(queue(db, &c, FW_WH_TRIGGER_FIRED, "{}", NULL, T0), 3);
	CHECK_EQ_INT(queue(db, &c, FW_WH_AT_RISK, "{}", NULL, T0), 3);
	CHECK_EQ_INT(queue(db, &c, "trial.ending", "{}", NULL, T0), 3);
	/* "lead.*" is the prefix "lead.", not "lead" */
	CHECK_EQ_INT(queue(db, &c, "leadership.x", "{}", NULL, T0), 2);
	CHECK_EQ_INT(queue(db, &c, "lead", "{}", NULL, T0), 2);
	CHECK_EQ_STR(rows_text(db),
		     "all:lead.route_changed,exact:lead.route_changed,prefix:lead.route_changed,"
		     "star:lead.route_changed,"
		     "all:lead.trigger_fired,prefix:lead.trigger_fired,star:lead.trigger_fired,"
		     "all:account.at_risk,risk:account.at_risk,star:account.at_risk,"
		     "all:trial.ending,risk:trial.ending,star:trial.ending,"
		     "all:leadership.x,star:leadership.x,all:lead,star:lead");
	fw_rulesdb_close(db);
	release_config(&c);
}

TEST(outbox_only_destination)
{
	struct fw_rulesdb *db = open_db();
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "crm", (const char *const[]){"lead.*", NULL});
	add_dest(&c, "slack", (const char *const[]){"account.at_risk", NULL});
	/* only that destination, whatever its events list takes */
	CHECK_EQ_INT(queue(db, &c, FW_WH_TEST, "{\"summary\":\"hi\"}", "slack", T0), 1);
	CHECK_EQ_STR(rows_text(db), "slack:webhook.test");
	CHECK_EQ_INT(queue(db, &c, FW_WH_TEST, "{}", "nope", T0), FW_ENOTFOUND);
	/* no destination at all takes webhook.test on its own */
	CHECK_EQ_INT(queue(db, &c, FW_WH_TEST, "{}", NULL, T0), 0);
	CHECK_EQ_INT(count(db, -1), 1);

	/* send_test: its own transaction, ids back */
	struct fw_err err;
	int64_t id = 0;
	char wid[FW_WEBHOOK_ID_LEN + 2] = "";
	CHECK(fw_outbox_send_test(db, &c, "crm", T0, &id, wid, &err) == 0);
	CHECK(id > 1);
	CHECK_EQ_INT(strlen(wid), FW_WEBHOOK_ID_LEN);
	CHECK_EQ_INT(fw_outbox_send_test(db, &c, "nope", T0, &id, wid, &err), FW_ENOTFOUND);
	CHECK(strstr(err.msg, "no destination is named \"nope\"") != NULL);
	struct fw_arena a = {0};
	struct fw_outbox_row row;
	struct fw_outbox_attempt *atts;
	size_t n;
	int64_t got;
	CHECK(fw_outbox_lookup(db, wid, &got, &err) == 0);
	CHECK_EQ_INT(got, id);
	CHECK(fw_outbox_get(db, id, &a, &row, &atts, &n, &err) == 0);
	CHECK_EQ_STR(row.body, "{\"type\":\"webhook.test\",\"timestamp\":\"2023-11-14T22:13:20.000Z\","
			       "\"data\":{\"summary\":\"Test webhook from Flywheel\",\"destination\":\"crm\"}}");
	fw_arena_release(&a);
	fw_rulesdb_close(db);
	release_config(&c);
}

TEST(outbox_envelope_and_ids)
{
	struct fw_rulesdb *db = open_db();
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "a", NULL);
	add_dest(&c, "b", NULL);
	CHECK_EQ_INT(queue(db, &c, FW_WH_ROUTE_CHANGED, "  {\"account\": \"acme\", \"to\": \"inside_sales\"} ",
			   NULL, T0 + 5),
		     2);
	/* data that is not a JSON object is refused, nothing queued */
	CHECK_EQ_INT(queue(db, &c, FW_WH_ROUTE_CHANGED, "[1,2]", NULL, T0), FW_EINVAL);
	CHECK_EQ_INT(queue(db, &c, FW_WH_ROUTE_CHANGED, "{\"a\":", NULL, T0), FW_EINVAL);
	CHECK_EQ_INT(queue(db, &c, "", "{}", NULL, T0), FW_EINVAL);
	CHECK_EQ_INT(count(db, -1), 2);

	struct fw_arena a = {0};
	struct fw_outbox_row *rows;
	size_t n;
	struct fw_err err;
	CHECK(fw_outbox_due(db, T0 + 5, 10, &a, &rows, &n, &err) == 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(fw_outbox_due(db, T0 + 4, 10, &a, &rows, &n, &err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK(fw_outbox_due(db, T0 + 5, 10, &a, &rows, &n, &err) == 0);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_STR(rows[i].body,
			     "{\"type\":\"lead.route_changed\",\"timestamp\":\"2023-11-14T22:13:20.005Z\","
			     "\"data\":{\"account\": \"acme\", \"to\": \"inside_sales\"}}");
		CHECK_EQ_INT(rows[i].status, FW_OUTBOX_PENDING);
		CHECK_EQ_INT(rows[i].attempts, 0);
		CHECK_EQ_INT(rows[i].next_at_ms, T0 + 5);
		CHECK_EQ_INT(rows[i].created_ms, T0 + 5);
		/* msg_ + a ULID: 26 Crockford base32 characters, time first */
		CHECK(!strncmp(rows[i].webhook_id, "msg_", 4));
		CHECK_EQ_INT(strlen(rows[i].webhook_id), FW_WEBHOOK_ID_LEN);
		CHECK(strspn(rows[i].webhook_id + 4, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == 26);
		CHECK(!strncmp(rows[i].webhook_id + 4, "01HF7YAT05", 10)); /* T0+5 in ULID time */
	}
	CHECK(strcmp(rows[0].webhook_id, rows[1].webhook_id) != 0);
	fw_arena_release(&a);
	fw_rulesdb_close(db);
	release_config(&c);
}

TEST(outbox_rollback_leaves_nothing)
{
	struct fw_rulesdb *db = open_db();
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "a", NULL);
	struct fw_err err;
	size_t n = 0;
	CHECK(fw_rulesdb_begin(db, &err) == 0);
	CHECK(fw_outbox_add_tx(db, &c, FW_WH_AT_RISK, FW_STR_LIT("{}"), NULL, T0, &n, &err) == 0);
	CHECK_EQ_INT(n, 1);
	fw_rulesdb_rollback(db);
	CHECK_EQ_INT(count(db, -1), 0);
	int64_t next;
	CHECK_EQ_INT(fw_outbox_next_at(db, &next, &err), FW_ENOTFOUND);
	/* and a commit keeps it */
	CHECK_EQ_INT(queue(db, &c, FW_WH_AT_RISK, "{}", NULL, T0), 1);
	CHECK_EQ_INT(count(db, FW_OUTBOX_PENDING), 1);
	CHECK(fw_outbox_next_at(db, &next, &err) == 0);
	CHECK_EQ_INT(next, T0);
	fw_rulesdb_close(db);
	release_config(&c);
}

static int64_t first_id(struct fw_rulesdb *db)
{
	struct fw_arena a = {0};
	struct fw_outbox_row *rows;
	size_t n;
	struct fw_err err;
	struct fw_outbox_filter f = {.status = -1, .limit = 1000};
	int64_t id = 0;
	if (fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0 && n)
		id = rows[n - 1].id;
	fw_arena_release(&a);
	return id;
}

TEST(outbox_attempts_and_replay)
{
	struct fw_rulesdb *db = open_db();
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "a", NULL);
	CHECK_EQ_INT(queue(db, &c, FW_WH_EXPANSION, "{}", NULL, T0), 1);
	int64_t id = first_id(db);
	struct fw_err err;
	struct fw_arena a = {0};
	struct fw_outbox_row row;
	struct fw_outbox_attempt *atts;
	size_t n;
	CHECK(fw_outbox_get(db, id, &a, &row, &atts, &n, &err) == 0);
	char wid[FW_WEBHOOK_ID_LEN + 2];
	memcpy(wid, row.webhook_id, sizeof wid);

	/* pending rows cannot be replayed */
	CHECK_EQ_INT(fw_outbox_replay(db, id, T0, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "pending already") != NULL);
	CHECK_EQ_INT(fw_outbox_replay(db, 999, T0, &err), FW_ENOTFOUND);

	/* attempt 1 fails: pending at a later time, not due before it */
	struct fw_outbox_attempt f1 = {.at_ms = T0, .http_status = 500, .error = "HTTP 500: boom",
				       .duration_ms = 12};
	CHECK(fw_outbox_record(db, id, &f1, FW_OUTBOX_PENDING, T0 + 5000, &err) == 0);
	struct fw_outbox_row *due;
	CHECK(fw_outbox_due(db, T0 + 4999, 10, &a, &due, &n, &err) == 0);
	CHECK_EQ_INT(n, 0);
	CHECK(fw_outbox_due(db, T0 + 5000, 10, &a, &due, &n, &err) == 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(due[0].attempts, 1);
	CHECK_EQ_INT(due[0].cycle_attempts, 1);
	CHECK_EQ_INT(due[0].last_status, 500);
	CHECK_EQ_STR(due[0].last_error, "HTTP 500: boom");

	/* attempt 2: dead */
	struct fw_outbox_attempt f2 = {.at_ms = T0 + 5000, .error = "connection refused", .duration_ms = 1};
	CHECK(fw_outbox_record(db, id, &f2, FW_OUTBOX_DEAD, 0, &err) == 0);
	CHECK_EQ_INT(count(db, FW_OUTBOX_DEAD), 1);
	CHECK(fw_outbox_due(db, T0 + 99999999, 10, &a, &due, &n, &err) == 0);
	CHECK_EQ_INT(n, 0);
	/* only pending rows take attempts */
	CHECK_EQ_INT(fw_outbox_record(db, id, &f2, FW_OUTBOX_DEAD, 0, &err), FW_ENOTFOUND);

	/* replay: pending now, a new cycle, the same webhook id, attempts kept */
	CHECK(fw_outbox_replay(db, id, T0 + 60000, &err) == 0);
	CHECK(fw_outbox_get(db, id, &a, &row, &atts, &n, &err) == 0);
	CHECK_EQ_INT(row.status, FW_OUTBOX_PENDING);
	CHECK_EQ_STR(row.webhook_id, wid);
	CHECK_EQ_INT(row.attempts, 2);
	CHECK_EQ_INT(row.cycle_attempts, 0);
	CHECK_EQ_INT(row.cycle_ms, T0 + 60000);
	CHECK_EQ_INT(row.next_at_ms, T0 + 60000);
	CHECK_EQ_INT(row.created_ms, T0);

	/* attempt 3: delivered */
	struct fw_outbox_attempt ok = {.at_ms = T0 + 60000, .http_status = 204, .duration_ms = 30};
	CHECK(fw_outbox_record(db, id, &ok, FW_OUTBOX_DELIVERED, 0, &err) == 0);
	CHECK(fw_outbox_get(db, id, &a, &row, &atts, &n, &err) == 0);
	CHECK_EQ_INT(row.status, FW_OUTBOX_DELIVERED);
	CHECK_EQ_INT(row.delivered_ms, T0 + 60030);
	CHECK_EQ_INT(row.last_status, 204);
	CHECK(row.last_error == NULL);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK(atts[0].attempt == 1 && atts[0].http_status == 500 && atts[0].duration_ms == 12);
		CHECK_EQ_STR(atts[0].error, "HTTP 500: boom");
		CHECK(atts[1].attempt == 2 && atts[1].http_status == 0);
		CHECK(atts[2].attempt == 3 && atts[2].http_status == 204 && atts[2].error == NULL);
		CHECK_EQ_INT(atts[2].at_ms, T0 + 60000);
	}
	/* a delivered row can be replayed too (it is sent again) */
	CHECK(fw_outbox_replay(db, id, T0 + 70000, &err) == 0);
	CHECK(fw_outbox_get(db, id, &a, &row, &atts, &n, &err) == 0);
	CHECK_EQ_INT(row.status, FW_OUTBOX_PENDING);
	CHECK_EQ_INT(row.delivered_ms, 0);
	CHECK_EQ_INT(fw_outbox_get(db, 12345, &a, &row, &atts, &n, &err), FW_ENOTFOUND);
	CHECK_EQ_INT(fw_outbox_lookup(db, "msg_nope", &id, &err), FW_ENOTFOUND);
	fw_arena_release(&a);
	fw_rulesdb_close(db);
	release_config(&c);
}

TEST(outbox_paging_and_filters)
{
	struct fw_rulesdb *db = open_db();
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "a", NULL);
	add_dest(&c, "b", (const char *const[]){"account.*", NULL});
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(queue(db, &c, i % 2 ? FW_WH_AT_RISK : FW_WH_ROUTE_CHANGED, "{}", NULL, T0 + i),
			     i % 2 ? 2 : 1);
	/* 7 rows: ids 1..7 */
	struct fw_arena a = {0};
	struct fw_outbox_row *rows;
	size_t n;
	struct fw_err err;
	struct fw_outbox_filter f = {.status = -1, .limit = 3};
	CHECK(fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0);
	CHECK(n == 3 && rows[0].id == 7 && rows[1].id == 6 && rows[2].id == 5);
	CHECK(rows[0].body == NULL); /* lists leave bodies out */
	f.before = rows[2].id;
	CHECK(fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0);
	CHECK(n == 3 && rows[0].id == 4 && rows[2].id == 2);
	f.before = rows[2].id;
	CHECK(fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0);
	CHECK(n == 1 && rows[0].id == 1);

	f = (struct fw_outbox_filter){.status = -1, .destination = "b"};
	CHECK(fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0);
	CHECK_EQ_INT(n, 2);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_STR(rows[i].destination, "b");

	struct fw_outbox_attempt dead = {.at_ms = T0, .error = "refused"};
	CHECK(fw_outbox_record(db, 3, &dead, FW_OUTBOX_DEAD, 0, &err) == 0);
	f = (struct fw_outbox_filter){.status = FW_OUTBOX_DEAD};
	CHECK(fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0);
	CHECK(n == 1 && rows[0].id == 3 && rows[0].status == FW_OUTBOX_DEAD);
	f.status = FW_OUTBOX_PENDING;
	CHECK(fw_outbox_list(db, &f, &a, &rows, &n, &err) == 0);
	CHECK_EQ_INT(n, 6);

	int64_t cnt[FW_OUTBOX_NSTATUS];
	CHECK(fw_outbox_counts(db, NULL, cnt, &err) == 0);
	CHECK(cnt[FW_OUTBOX_PENDING] == 6 && cnt[FW_OUTBOX_DELIVERED] == 0 && cnt[FW_OUTBOX_DEAD] == 1);
	CHECK(fw_outbox_counts(db, "b", cnt, &err) == 0);
	CHECK(cnt[FW_OUTBOX_PENDING] + cnt[FW_OUTBOX_DEAD] == 2);
	CHECK_EQ_INT(fw_outbox_status_parse("delivered"), FW_OUTBOX_DELIVERED);
	CHECK_EQ_INT(fw_outbox_status_parse("gone"), -1);
	fw_arena_release(&a);
	fw_rulesdb_close(db);
	release_config(&c);
}

TEST(outbox_attempt_log_is_bounded_and_prune)
{
	struct fw_rulesdb *db = open_db();
	sqlite3_exec(db->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	struct fw_config c;
	fw_config_defaults(&c);
	add_dest(&c, "a", NULL);
	CHECK_EQ_INT(queue(db, &c, FW_WH_TEST, "{}", NULL, T0), 1);
	CHECK_EQ_INT(queue(db, &c, FW_WH_TEST, "{}", NULL, T0), 1);
	struct fw_err err;
	struct fw_outbox_attempt f = {.at_ms = T0, .http_status = 503, .error = "busy"};
	for (int i = 0; i < 10050; i++)
		if (fw_outbox_record(db, 1, &f, FW_OUTBOX_PENDING, T0, &err)) {
			CHECK(0);
			break;
		}
	struct fw_arena a = {0};
	struct fw_outbox_row row;
	struct fw_outbox_attempt *atts;
	size_t n;
	CHECK(fw_outbox_get(db, 1, &a, &row, &atts, &n, &err) == 0);
	CHECK_EQ_INT(row.attempts, 10050);
	CHECK_EQ_INT(n, 10000); /* the newest 10,000 */
	CHECK(n && atts[0].attempt == 51 && atts[n - 1].attempt == 10050);

	/* prune: delivered rows older than the cut, with their attempts */
	struct fw_outbox_attempt ok = {.at_ms = T0, .http_status = 200};
	CHECK(fw_outbox_record(db, 1, &ok, FW_OUTBOX_DELIVERED, 0, &err) == 0);
	size_t removed = 0;
	CHECK(fw_outbox_prune(db, T0, &removed, &err) == 0);
	CHECK_EQ_INT(removed, 0);
	CHECK(fw_outbox_prune(db, T0 + 1, &removed, &err) == 0);
	CHECK_EQ_INT(removed, 1);
	CHECK_EQ_INT(fw_outbox_get(db, 1, &a, &row, &atts, &n, &err), FW_ENOTFOUND);
	CHECK_EQ_INT(count(db, FW_OUTBOX_PENDING), 1); /* the pending one stays */
	fw_arena_release(&a);
	fw_rulesdb_close(db);
	release_config(&c);
}
