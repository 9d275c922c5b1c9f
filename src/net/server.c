/* server.c — an open data directory: store, metadata, keys, applier (server.h). */
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static void *applier_main(void *arg)
{
	struct fw_server *s = arg;
	while (!atomic_load(&s->stop)) {
		uint64_t n = 0;
		struct fw_err err = {0};
		if (fw_meta_apply(s->meta, s->store, 50000, &n, &err)) {
			fprintf(stderr, "flywheel: %s (will retry)\n", err.msg);
			sleep(1);
		} else if (n == 0) {
			usleep(20000);
		}
	}
	return NULL;
}

/* Start-up notices are printed and, once the metadata database is open,
 * also recorded as ingestion warnings so the API shows them. */
struct notices {
	const struct fw_server_options *opt;
	char *msgs[16];
	int n;
};

static void collect_notice(void *ctx, const char *msg)
{
	struct notices *ns = ctx;
	if (ns->opt->notice)
		ns->opt->notice(ns->opt->notice_ctx, msg);
	if (ns->n < (int)FW_ARRAY_LEN(ns->msgs))
		ns->msgs[ns->n++] = fw_xstrdup(msg);
}

/* Compaction stops where the people/accounts applier is: it reads the log. */
static uint64_t applied_limit(void *ctx)
{
	struct fw_server *s = ctx;
	return s->meta ? fw_meta_applied_seq(s->meta) : 0;
}

int fw_server_open(const struct fw_server_options *opt, struct fw_server **out, struct fw_err *err)
{
	struct notices ns = {.opt = opt};
	struct fw_server *s = fw_xcalloc(1, sizeof *s);
	s->lock_fd = -1;
	pthread_mutex_init(&s->snap_mu, NULL);
	snprintf(s->data_dir, sizeof s->data_dir, "%s", opt->data_dir);
	int crc = fw_config_resolve(&s->cfg, opt->config_path, opt->data_dir, err);
	if (crc) {
		fw_config_release(&s->cfg);
		free(s);
		return crc;
	}
	if (mkdir(s->data_dir, 0755) && errno != EEXIST) {
		fw_config_release(&s->cfg);
		free(s);
		return fw_error(err, FW_EIO, "cannot create data directory %s: %s", opt->data_dir,
				strerror(errno));
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/LOCK", s->data_dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		if (s->lock_fd >= 0)
			close(s->lock_fd);
		fw_config_release(&s->cfg);
		free(s);
		return fw_error(err, FW_EAGAIN,
				"data directory %s is in use by another flywheel process (%s); stop it "
				"first, or use --url to talk to it",
				opt->data_dir, strerror(e));
	}
	struct fw_store_options so = {
		.min_free_bytes = opt->min_free_bytes == FW_MIN_FREE_FROM_CONFIG
					  ? (uint64_t)s->cfg.min_free_mb << 20
					  : opt->min_free_bytes,
		.notice = collect_notice,
		.notice_ctx = &ns,
		.compact_in_background = opt->apply_in_background,
		.compact_limit = applied_limit,
		.compact_ctx = s,
	};
	int rc = fw_store_open_embedded(s->data_dir, &so, &s->store, err);
	if (!rc) {
		snprintf(path, sizeof path, "%s/meta.db", s->data_dir);
		rc = fw_meta_open(path, &s->meta, err);
	}
	if (!rc) {
		snprintf(path, sizeof path, "%s/rules.db", s->data_dir);
		rc = fw_rulesdb_open(path, &s->rules, err);
	}
	if (!rc && fw_meta_applied_seq(s->meta) > fw_log_next_seq_of(s->store)) {
		rc = fw_error(err, FW_ECORRUPT,
			      "%s is ahead of the event log (it has applied records the log no longer "
			      "holds): the log was replaced or truncated by hand",
			      path);
	}
	for (int i = 0; i < ns.n; i++) {
		if (!rc)
			fw_meta_warn(s->meta, fw_now_ms(), "log", "recovery", ns.msgs[i], (struct fw_str){0});
		free(ns.msgs[i]);
	}
	if (rc) {
		fw_server_close(s);
		return rc;
	}
	if (opt->apply_in_background) {
		pthread_create(&s->applier, NULL, applier_main, s);
		s->applier_running = 1;
	}
	if (opt->run_rules && ((rc = fw_webhooks_start(s->rules, &s->cfg, &s->webhooks, err)) ||
			       (rc = fw_server_rules_start(s, err)) ||
			       (rc = fw_server_billing_start(s, err)))) {
		fw_server_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

void fw_server_close(struct fw_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, 1);
	fw_server_rules_stop(s);
	fw_server_billing_stop(s);
	fw_webhooks_stop(s->webhooks);
	if (s->applier_running)
		pthread_join(s->applier, NULL);
	if (s->meta && s->store) {
		/* leave the database caught up with the log */
		struct fw_err err;
		fw_server_catch_up(s, &err);
	}
	fw_snapshot_release(s->snap);
	pthread_mutex_destroy(&s->snap_mu);
	fw_store_close(s->store); /* stops compaction, which asks meta where to stop */
	fw_meta_close(s->meta);
	fw_rulesdb_close(s->rules);
	free_keys(s->write_keys, s->nwrite);
	free_keys(s->secret_keys, s->nsecret);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	fw_config_release(&s->cfg);
	free(s);
}

struct plg_job {
	struct fw_server *s;
	struct fw_plg *plg;
	int rc;
	struct fw_err err;
};

static void *plg_job_main(void *arg)
{
	struct plg_job *j = arg;
	j->rc = fw_plg_load(j->s->store, j->s->meta, &j->s->cfg, &j->plg, &j->err);
	return NULL;
}

void fw_snapshot_release(struct fw_snapshot *snap)
{
	if (snap && atomic_fetch_sub(&snap->refs, 1) == 1) {
		fw_dataset_free(snap->d);
		fw_plg_free(snap->plg);
		free(snap);
	}
}

int fw_server_snapshot(struct fw_server *s, struct fw_snapshot **out, struct fw_err *err)
{
	pthread_mutex_lock(&s->snap_mu);
	int rc = fw_server_catch_up(s, err);
	struct fw_store_stats st;
	fw_store_stats(s->store, &st);
	uint64_t applied = fw_meta_applied_seq(s->meta);
	struct fw_snapshot *snap = s->snap;
	if (!rc && (!snap || snap->d->seq != st.durable_seq || snap->applied_seq != applied)) {
		snap = fw_xcalloc(1, sizeof *snap);
		atomic_init(&snap->refs, 1);
		snap->applied_seq = applied;
		/* the two loads read the store independently: one thread each */
		struct plg_job job = {s, NULL, 0, {0}};
		pthread_t t;
		int threaded = pthread_create(&t, NULL, plg_job_main, &job) == 0;
		if (!threaded)
			plg_job_main(&job);
		rc = fw_dataset_build(s->store, s->meta, &s->cfg, &snap->d, err);
		if (threaded)
			pthread_join(t, NULL);
		snap->plg = job.plg;
		if (!rc && job.rc) {
			rc = job.rc;
			*err = job.err;
		}
		if (rc) {
			fw_snapshot_release(snap);
		} else {
			fw_snapshot_release(s->snap);
			s->snap = snap;
		}
	}
	if (!rc) {
		atomic_fetch_add(&s->snap->refs, 1);
		*out = s->snap;
	}
	pthread_mutex_unlock(&s->snap_mu);
	return rc;
}

int fw_server_catch_up(struct fw_server *s, struct fw_err *err)
{
	for (;;) {
		uint64_t n = 0;
		int rc = fw_meta_apply(s->meta, s->store, 100000, &n, err);
		if (rc || n == 0)
			return rc;
	}
}

static void split_keys(const char *list, char ***keys, size_t *n)
{
	const char *p = list;
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if (t > p) {
			*keys = fw_xrealloc(*keys, (*n + 1) * sizeof **keys);
			char *k = fw_xmalloc((size_t)(t - p) + 1);
			memcpy(k, p, (size_t)(t - p));
			k[t - p] = 0;
			(*keys)[(*n)++] = k;
		}
		p = e;
	}
}

static void random_key(const char *prefix, char *out, size_t hexbytes)
{
	uint8_t r[32];
	if (getrandom(r, hexbytes, 0) != (ssize_t)hexbytes)
		for (size_t i = 0; i < hexbytes; i++)
			r[i] = (uint8_t)(rand() ^ (fw_mono_ns() >> (i % 16)));
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	for (size_t i = 0; i < hexbytes; i++)
		sprintf(out + n + 2 * i, "%02x", r[i]);
}

int fw_server_load_keys(struct fw_server *s, int *created, struct fw_err *err)
{
	*created = 0;
	const char *w = getenv("FLYWHEEL_WRITE_KEY"), *k = getenv("FLYWHEEL_SECRET_KEY");
	if (w && *w)
		split_keys(w, &s->write_keys, &s->nwrite);
	if (k && *k)
		split_keys(k, &s->secret_keys, &s->nsecret);
	if (!s->nwrite)
		for (size_t i = 0; i < s->cfg.write_keys.n; i++)
			split_keys(s->cfg.write_keys.items[i], &s->write_keys, &s->nwrite);
	if (!s->nsecret)
		for (size_t i = 0; i < s->cfg.secret_keys.n; i++)
			split_keys(s->cfg.secret_keys.items[i], &s->secret_keys, &s->nsecret);
	struct fw_buf stored = {0};
	if (!s->nwrite) {
		fw_meta_keys_list(s->meta, "write", &stored);
		if (stored.len)
			split_keys(stored.data, &s->write_keys, &s->nwrite);
		fw_buf_reset(&stored);
	}
	if (!s->nsecret) {
		fw_meta_keys_list(s->meta, "secret", &stored);
		if (stored.len)
			split_keys(stored.data, &s->secret_keys, &s->nsecret);
	}
	fw_buf_release(&stored);
	int rc = 0;
	if (!s->nwrite) {
		char key[80];
		random_key("wk_", key, 16);
		rc = fw_meta_key_add(s->meta, "write", key, err);
		split_keys(key, &s->write_keys, &s->nwrite);
		*created = 1;
	}
	if (!rc && !s->nsecret) {
		char key[80];
		random_key("sk_", key, 24);
		rc = fw_meta_key_add(s->meta, "secret", key, err);
		split_keys(key, &s->secret_keys, &s->nsecret);
		*created = 1;
	}
	return rc;
}

static int key_in(char **keys, size_t n, struct fw_str key)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(keys[i]) == key.len && memcmp(keys[i], key.p, key.len) == 0)
			return 1;
	return 0;
}

int fw_server_can_write(struct fw_server *s, struct fw_str key)
{
	return key.len && (key_in(s->write_keys, s->nwrite, key) ||
			   key_in(s->secret_keys, s->nsecret, key));
}

int fw_server_can_read(struct fw_server *s, struct fw_str key)
{
	return key.len && key_in(s->secret_keys, s->nsecret, key);
}
