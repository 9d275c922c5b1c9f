/* test_webhook.c — webhook delivery helpers (src/net/webhook.c): the
 * Standard Webhooks signature and secret, the private-address guard, the
 * retry plan, the Slack body; and the worker's delivery-time refusals. */
#include "../test.h"
#include "flywheel/outbox.h"
#include "flywheel/timeutil.h"
#include "flywheel/webhook.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- signature ---- */

TEST(webhook_sign_known_vectors)
{
	/* The Standard Webhooks example. Expected values computed outside
	 * Flywheel, both agreeing:
	 *   node -e 'new (require("standardwebhooks").Webhook)(SECRET).sign(ID, new Date(TS*1000), BODY)'
	 *   echo -n "ID.TS.BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:KEYHEX -binary | base64 */
	uint8_t key[64];
	size_t n;
	struct fw_err err;
	char sig[FW_WEBHOOK_SIG_MAX];
	CHECK(fw_webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key, &n, &err) == 0);
	const char *body = "{\"test\": 2432232314}";
	fw_webhook_sign(key, n, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig);
	CHECK_EQ_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

	/* a secret without "whsec_" is used as raw bytes
	 * (standardwebhooks: new Webhook(secret, {format: "raw"})) */
	CHECK(fw_webhook_key("my raw secret", key, sizeof key, &n, &err) == 0);
	CHECK_EQ_INT(n, 13);
	body = "{\"type\":\"webhook.test\"}";
	fw_webhook_sign(key, n, "msg_01J0000000000000000000000", 1700000000, body, strlen(body), sig);
	CHECK_EQ_STR(sig, "v1,LJ2b4TeGUocURXHxPswCFg4Ii3qtfQC1iZlHiD59bPs=");
}

TEST(webhook_secret_decoding)
{
	uint8_t key[64];
	size_t n;
	struct fw_err err;
	static const uint8_t want[24] = {0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a,
					 0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c,
					 0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0};
	CHECK(fw_webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key, &n, &err) == 0);
	CHECK_EQ_INT(n, 24);
	CHECK(memcmp(key, want, 24) == 0);
	/* padding optional but, when there, right */
	CHECK(fw_webhook_key("whsec_YQ==", key, sizeof key, &n, &err) == 0);
	CHECK(n == 1 && key[0] == 'a');
	CHECK(fw_webhook_key("whsec_YQ", key, sizeof key, &n, &err) == 0);
	CHECK(n == 1 && key[0] == 'a');
	CHECK(fw_webhook_key("whsec_YWI=", key, sizeof key, &n, &err) == 0);
	CHECK(n == 2 && key[1] == 'b');
	CHECK_EQ_INT(fw_webhook_key("whsec_Y", key, sizeof key, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_webhook_key("whsec_YQ=", key, sizeof key, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_webhook_key("whsec_YQ===", key, sizeof key, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_webhook_key("whsec_ab!c", key, sizeof key, &n, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "not valid base64") != NULL);
	CHECK_EQ_INT(fw_webhook_key("whsec_", key, sizeof key, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_webhook_key("", key, sizeof key, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, 8, &n, &err),
		     FW_EINVAL);
	/* raw */
	CHECK(fw_webhook_key("abc", key, sizeof key, &n, &err) == 0);
	CHECK(n == 3 && !memcmp(key, "abc", 3));
}

/* ---- the private-address guard ---- */

static const char *classify(const char *addr)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	if (inet_pton(AF_INET, addr, &v4.sin_addr) == 1)
		return fw_webhook_addr_class((struct sockaddr *)&v4);
	if (inet_pton(AF_INET6, addr, &v6.sin6_addr) == 1)
		return fw_webhook_addr_class((struct sockaddr *)&v6);
	return "(bad test address)";
}

TEST(webhook_address_classes)
{
	static const struct {
		const char *addr, *want; /* want NULL: public */
	} cases[] = {
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"172.32.0.1", NULL},
		{"172.15.255.255", NULL},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.255", "shared (CGNAT)"},
		{"100.128.0.1", NULL},
		{"169.254.169.254", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"224.0.0.251", "multicast"},
		{"255.255.255.255", "reserved"},
		{"8.8.8.8", NULL},
		{"93.184.216.34", NULL},
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"fe80::1", "link-local"},
		{"febf::1", "link-local"},
		{"ff02::1", "multicast"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:8.8.8.8", NULL},
		{"64:ff9b::a00:1", "private"},    /* NAT64 of 10.0.0.1 */
		{"2002:7f00:1::", "loopback"},    /* 6to4 of 127.0.0.1 */
		{"2606:4700:4700::1111", NULL},
		{"2001:4860:4860::8888", NULL},
	};
	for (size_t i = 0; i < FW_ARRAY_LEN(cases); i++) {
		const char *got = classify(cases[i].addr);
		if (cases[i].want ? !got || strcmp(got, cases[i].want) : got != NULL) {
			fprintf(stderr, "  %s: got %s, expected %s\n", cases[i].addr, got ? got : "public",
				cases[i].want ? cases[i].want : "public");
			fw_test_failures++;
		}
	}
}

TEST(webhook_resolve_checks_every_address)
{
	char pinned[256];
	struct fw_err err = {0};
	CHECK_EQ_INT(fw_webhook_resolve("127.0.0.1", 80, 0, pinned, sizeof pinned, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "127.0.0.1 resolves to 127.0.0.1, a loopback address") != NULL);
	CHECK(strstr(err.msg, "allow_private: true") != NULL);
	CHECK(fw_webhook_resolve("127.0.0.1", 80, 1, pinned, sizeof pinned, &err) == 0);
	CHECK_EQ_STR(pinned, "127.0.0.1");
	CHECK(fw_webhook_resolve("::1", 443, 1, pinned, sizeof pinned, &err) == 0);
	CHECK_EQ_STR(pinned, "[::1]");
	CHECK_EQ_INT(fw_webhook_resolve("::ffff:192.168.0.1", 443, 0, pinned, sizeof pinned, &err),
		     FW_EINVAL);
	CHECK(fw_webhook_resolve("93.184.216.34", 443, 0, pinned, sizeof pinned, &err) == 0);
	CHECK_EQ_STR(pinned, "93.184.216.34");
	/* a name: every address it has is checked (localhost is loopback) */
	CHECK_EQ_INT(fw_webhook_resolve("localhost", 80, 0, pinned, sizeof pinned, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "localhost resolves to ") != NULL);
	CHECK(fw_webhook_resolve("localhost", 80, 1, pinned, sizeof pinned, &err) == 0);
	CHECK(strstr(pinned, "127.0.0.1") || strstr(pinned, "[::1]"));
	/* a name that does not resolve is worth a retry, not a refusal */
	CHECK_EQ_INT(fw_webhook_resolve("no-such-host.invalid", 80, 0, pinned, sizeof pinned, &err),
		     FW_EIO);
}

/* ---- the retry plan ---- */

TEST(webhook_schedule_defaults_and_repeats)
{
	struct fw_webhooks zero = {0}, w;
	fw_webhooks_effective(&zero, &w);
	CHECK_EQ_INT(w.nretry, 6);
	CHECK(w.retry_schedule_s[0] == 5 && w.retry_schedule_s[5] == 36000);
	CHECK(w.give_up_after_s == 72 * 3600);
	CHECK_EQ_INT(w.timeout_s, 10);

	int64_t t0 = 1700000000000, now = t0 + 1000;
	/* attempt n failed -> wait schedule[n-1]; the last repeats */
	static const int64_t want_s[] = {5, 300, 1800, 7200, 18000, 36000, 36000, 36000};
	for (int n = 1; n <= 8; n++)
		CHECK_EQ_INT(fw_webhook_next_attempt(&zero, n, t0, now, -1), now + want_s[n - 1] * 1000);
	/* Retry-After wins when longer, not when shorter */
	CHECK_EQ_INT(fw_webhook_next_attempt(&zero, 1, t0, now, 60000), now + 60000);
	CHECK_EQ_INT(fw_webhook_next_attempt(&zero, 2, t0, now, 60000), now + 300000);
	/* give up: the next attempt would be past cycle start + 72 h */
	int64_t late = t0 + 72 * 3600 * 1000LL - 10000;
	CHECK_EQ_INT(fw_webhook_next_attempt(&zero, 9, t0, late, -1), 0);
	CHECK_EQ_INT(fw_webhook_next_attempt(&zero, 1, t0, late, -1), late + 5000);
	CHECK_EQ_INT(fw_webhook_next_attempt(&zero, 1, t0, late, 20000), 0);

	/* a configured schedule with fractions */
	struct fw_webhooks fast = {.retry_schedule_s = {0.2, 0.4, 0.8}, .nretry = 3,
				   .give_up_after_s = 2, .timeout_s = 1};
	CHECK_EQ_INT(fw_webhook_next_attempt(&fast, 1, t0, t0, -1), t0 + 200);
	CHECK_EQ_INT(fw_webhook_next_attempt(&fast, 3, t0, t0, -1), t0 + 800);
	CHECK_EQ_INT(fw_webhook_next_attempt(&fast, 4, t0, t0 + 1100, -1), t0 + 1900);
	CHECK_EQ_INT(fw_webhook_next_attempt(&fast, 5, t0, t0 + 1900, -1), 0);
}

TEST(webhook_retry_after)
{
	int64_t now = 1445412480LL * 1000 - 30000; /* 30 s before Wed, 21 Oct 2015 07:28:00 GMT */
	CHECK_EQ_INT(fw_webhook_retry_after_ms("120", now), 120000);
	CHECK_EQ_INT(fw_webhook_retry_after_ms(" 3 ", now), 3000);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("0", now), 0);
	CHECK_EQ_INT(fw_webhook_retry_after_ms(NULL, now), -1);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("", now), -1);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("-5", now), -1);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("12abc", now), -1);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("soon", now), -1);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", now), 30000);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT", now), 30000);
	CHECK_EQ_INT(fw_webhook_retry_after_ms("Wed Oct 21 07:28:00 2015", now), 30000);
	/* a date in the past: no extra wait */
	CHECK_EQ_INT(fw_webhook_retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
}

TEST(webhook_slack_body)
{
	struct fw_destination json = {.format = FW_DEST_JSON}, slack = {.format = FW_DEST_SLACK};
	const char *env = "{\"type\":\"account.at_risk\",\"timestamp\":\"2026-01-01T00:00:00.000Z\","
			  "\"data\":{\"summary\":\"Acme \\\"Inc\\\" is at risk\",\"account\":\"a1\"}}";
	struct fw_buf b = {0};
	fw_webhook_body(&json, env, strlen(env), &b);
	CHECK_EQ_STR(b.data, env);
	fw_buf_reset(&b);
	fw_webhook_body(&slack, env, strlen(env), &b);
	CHECK_EQ_STR(b.data, "{\"text\":\"Acme \\\"Inc\\\" is at risk\"}");
	fw_buf_reset(&b);
	const char *nosum = "{\"type\":\"lead.route_changed\",\"timestamp\":\"x\",\"data\":{\"a\":1}}";
	fw_webhook_body(&slack, nosum, strlen(nosum), &b);
	CHECK_EQ_STR(b.data, "{\"text\":\"lead.route_changed\"}");
	fw_buf_release(&b);
}

/* ---- the worker: refusals at delivery time ---- */

static void add_dest(struct fw_config *c, const char *name, const char *url, int allow_private)
{
	struct fw_destination *d = &c->destinations[c->ndestinations++];
	d->name = fw_xstrdup(name);
	d->url = fw_xstrdup(url);
	d->secret = fw_xstrdup("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	d->allow_private = allow_private;
}

/* Free what add_dest made, then the rest (whether or not fw_config_release
 * knows destinations yet). */
static void release_config(struct fw_config *c)
{
	for (size_t i = 0; i < c->ndestinations; i++) {
		free(c->destinations[i].name);
		free(c->destinations[i].url);
		free(c->destinations[i].secret);
	}
	memset(c->destinations, 0, sizeof c->destinations);
	c->ndestinations = 0;
	fw_config_release(c);
}

/* Poll row `id` until pred holds or 10 s pass. */
static int wait_row(struct fw_rulesdb *db, int64_t id, int status, int min_attempts,
		    struct fw_arena *a, struct fw_outbox_row *row)
{
	struct fw_outbox_attempt *atts;
	size_t n;
	struct fw_err err;
	int64_t deadline = fw_mono_ns() + 10000000000LL;
	while (fw_mono_ns() < deadline) {
		if (fw_outbox_get(db, id, a, row, &atts, &n, &err) == 0 && (int)row->status == status &&
		    row->attempts >= min_attempts)
			return 1;
		usleep(20000);
	}
	return 0;
}

TEST(webhook_worker_refuses_private_and_keeps_unconfigured)
{
	const char *dir = fw_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/rules.db", dir);
	struct fw_rulesdb *db;
	struct fw_err err = {0};
	CHECK(fw_rulesdb_open(path, &db, &err) == 0);
	struct fw_config cfg;
	fw_config_defaults(&cfg);
	cfg.webhooks = (struct fw_webhooks){.retry_schedule_s = {0.05}, .nretry = 1,
					    .give_up_after_s = 3600, .timeout_s = 2};
	/* resolved at delivery: a name whose addresses are loopback */
	add_dest(&cfg, "byname", "http://localhost:9/hook", 0);
	add_dest(&cfg, "literal", "http://[::ffff:10.0.0.1]:9/hook", 0);
	add_dest(&cfg, "gone", "https://hooks.example.com/", 0);
	add_dest(&cfg, "badsecret", "https://hooks.example.com/", 0);
	free(cfg.destinations[3].secret);
	cfg.destinations[3].secret = fw_xstrdup("whsec_not*base64");

	int64_t ids[4];
	for (int i = 0; i < 4; i++)
		CHECK(fw_outbox_send_test(db, &cfg, cfg.destinations[i].name, fw_now_ms(), &ids[i], NULL,
					  &err) == 0);
	/* "gone" leaves the config before delivery: a copy without it */
	struct fw_config run = cfg;
	run.destinations[2] = run.destinations[3];
	run.ndestinations = 3;
	/* the row for "gone" was queued under its name; badsecret's row now
	 * finds badsecret at index 2 */
	struct fw_webhook_worker *w;
	CHECK(fw_webhooks_start(db, &run, &w, &err) == 0);
	fw_webhooks_kick(w);

	struct fw_arena a = {0};
	struct fw_outbox_row row;
	CHECK(wait_row(db, ids[0], FW_OUTBOX_DEAD, 1, &a, &row));
	CHECK_EQ_INT(row.attempts, 1);
	CHECK(row.last_error && strstr(row.last_error, "localhost resolves to"));
	CHECK(row.last_error && strstr(row.last_error, "allow_private: true"));
	CHECK(wait_row(db, ids[1], FW_OUTBOX_DEAD, 1, &a, &row));
	CHECK(row.last_error && strstr(row.last_error, "a private address"));
	CHECK(wait_row(db, ids[3], FW_OUTBOX_DEAD, 1, &a, &row));
	CHECK(row.last_error && strstr(row.last_error, "not valid base64"));
	/* the unconfigured one is retried on the schedule, never dead */
	CHECK(wait_row(db, ids[2], FW_OUTBOX_PENDING, 3, &a, &row));
	CHECK(row.last_error && strstr(row.last_error, "no destination is named \"gone\""));
	fw_webhooks_stop(w);
	/* a dead row can be replayed */
	CHECK(fw_outbox_replay(db, ids[0], fw_now_ms(), &err) == 0);
	fw_arena_release(&a);
	fw_rulesdb_close(db);
	release_config(&cfg);
}

TEST(webhook_worker_stops_promptly_mid_transfer)
{
	/* a listener that accepts (the kernel's backlog) but never answers */
	const char *dir = fw_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/rules.db", dir);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 16) == 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));

	struct fw_rulesdb *db;
	struct fw_err err = {0};
	CHECK(fw_rulesdb_open(path, &db, &err) == 0);
	struct fw_config cfg;
	fw_config_defaults(&cfg);
	cfg.webhooks.timeout_s = 60;
	add_dest(&cfg, "silent", url, 1);
	int64_t id;
	CHECK(fw_outbox_send_test(db, &cfg, "silent", fw_now_ms(), &id, NULL, &err) == 0);
	struct fw_webhook_worker *w;
	CHECK(fw_webhooks_start(db, &cfg, &w, &err) == 0);
	fw_webhooks_kick(w);
	/* curl connected and waits for an answer: take the connection, never answer */
	int cfd = -1;
	for (int i = 0; i < 200 && cfd < 0; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
		if (cfd < 0)
			usleep(10000);
	}
	CHECK(cfd >= 0);
	int64_t t0 = fw_mono_ns();
	fw_webhooks_stop(w);
	int64_t ms = (fw_mono_ns() - t0) / 1000000;
	CHECK(ms < 3000);
	/* not an attempt: still pending, untouched */
	struct fw_arena a = {0};
	struct fw_outbox_row row;
	struct fw_outbox_attempt *atts;
	size_t n;
	CHECK(fw_outbox_get(db, id, &a, &row, &atts, &n, &err) == 0);
	CHECK_EQ_INT(row.status, FW_OUTBOX_PENDING);
	CHECK_EQ_INT(row.attempts, 0);
	fw_arena_release(&a);
	if (cfd >= 0)
		close(cfd);
	close(fd);
	fw_rulesdb_close(db);
	release_config(&cfg);
}
