/* bench/gen-ndjson.c — writes the `flywheel import` benchmark file: one
 * Segment-spec message per line (~500 bytes), 85 % track, 7 % identify,
 * 4 % group, 4 % page, timestamps spread over the 30 days before now in
 * increasing order, every messageId unique (per-run random id + sequence).
 *
 *   cc -O2 -o bench/out/gen-ndjson bench/gen-ndjson.c
 *   gen-ndjson --lines 2000000 --out FILE [--seed N]
 * Prints {"lines":N,"bytes":B,"track":..,"identify":..,"group":..,"page":..} on stdout.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "events.h"

int main(int argc, char **argv) {
    long lines = 1000000;
    const char *out = NULL;
    uint64_t seed = 0;
    int seed_set = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--lines") && i + 1 < argc) lines = atol(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10), seed_set = 1;
        else {
            fprintf(stderr, "usage: gen-ndjson --lines N --out FILE [--seed N]\n");
            return 2;
        }
    }
    if (!out || lines < 1 || lines > 100000000) {
        fprintf(stderr, "usage: gen-ndjson --lines N --out FILE [--seed N]\n");
        return 2;
    }
    FILE *f = fopen(out, "w");
    if (!f) {
        perror(out);
        return 1;
    }
    static char fbuf[1 << 20];
    setvbuf(f, fbuf, _IOFBF, sizeof fbuf);

    uint32_t run_id;
    if (getrandom(&run_id, sizeof run_id, 0) != sizeof run_id) run_id = (uint32_t)getpid() ^ (uint32_t)time(NULL);
    if (!seed_set) seed = run_id;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    int64_t span = 30LL * 86400 * 1000, t0 = now_ms - span;

    ev_rng r;
    ev_seed(&r, seed);
    ev_ctx ctx = {.run_id = run_id, .stream = 0xf11e, .id_ms = now_ms, .n_users = 200000, .n_groups = 5000};
    long counts[4] = {0};
    uint64_t bytes = 0;
    char buf[2048];
    for (long i = 0; i < lines; i++) {
        uint32_t p = ev_below(&r, 100);
        int kind = p < 85 ? EV_TRACK : p < 92 ? EV_IDENTIFY : p < 96 ? EV_GROUP : EV_PAGE;
        int64_t ts = t0 + (int64_t)((double)span * (double)i / (double)lines) + (int64_t)ev_below(&r, 1000);
        size_t n = ev_write(buf, sizeof buf - 1, &r, &ctx, kind, (uint64_t)i, ts, NULL);
        if (!n) {
            fprintf(stderr, "gen-ndjson: message too long\n");
            return 1;
        }
        buf[n++] = '\n';
        if (fwrite(buf, 1, n, f) != n) {
            perror(out);
            return 1;
        }
        bytes += n;
        counts[kind]++;
    }
    if (fclose(f)) {
        perror(out);
        return 1;
    }
    printf("{\"lines\":%ld,\"bytes\":%llu,\"track\":%ld,\"identify\":%ld,\"group\":%ld,\"page\":%ld}\n", lines,
           (unsigned long long)bytes, counts[EV_TRACK], counts[EV_IDENTIFY], counts[EV_GROUP], counts[EV_PAGE]);
    return 0;
}
