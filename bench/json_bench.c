/* json_bench.c — our JSON parser against jansson on realistic Segment batches
 * (100 track events of ~500 bytes). Prints MB/s for each and the ratio. */
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static void make_batch(struct fw_buf *b, int seed)
{
	fw_buf_adds(b, "{\"batch\":[");
	for (int i = 0; i < 100; i++) {
		fw_buf_printf(b,
			      "%s{\"type\":\"track\",\"event\":\"Report Viewed\",\"userId\":\"user_%06d\","
			      "\"messageId\":\"node-next-1795589067078-%08x-40ed-46c2-893b-%012d\","
			      "\"timestamp\":\"2026-11-25T06:53:0%d.687Z\",\"properties\":{\"report\":\"weekly "
			      "active users\",\"rows\":%d,\"filters\":[\"plan=pro\",\"country=DE\"],\"duration_ms\":%d.5,"
			      "\"shared\":false,\"title\":\"Caf\\u00e9 \\\"metrics\\\"\"},\"context\":{\"library\":{\"name\":"
			      "\"@segment/analytics-node\",\"version\":\"3.1.0\"},\"groupId\":\"ws_%04d\",\"ip\":"
			      "\"10.0.0.1\",\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64)\"},\"integrations\":{}}",
			      i ? "," : "", seed * 100 + i, seed * 7 + i, i, i % 10, i * 13, i * 7, i % 50);
	}
	fw_buf_adds(b, "],\"writeKey\":\"wk_harness_segment_0123456789\",\"sentAt\":\"2026-11-25T06:53:08.764Z\"}");
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	struct fw_buf batch = {0};
	make_batch(&batch, 1);
	struct fw_arena a = {0};
	struct fw_json *root;
	struct fw_json_error e;
	int64_t t0 = fw_mono_ns();
	for (int i = 0; i < rounds; i++) {
		if (fw_json_parse(&a, batch.data, batch.len, &root, &e)) {
			fprintf(stderr, "parse failed: %s\n", e.msg);
			return 1;
		}
		fw_arena_reset(&a);
	}
	double ours = (double)(fw_mono_ns() - t0) / 1e9;
	t0 = fw_mono_ns();
	for (int i = 0; i < rounds; i++) {
		json_error_t je;
		json_t *j = json_loadb(batch.data, batch.len, 0, &je);
		if (!j) {
			fprintf(stderr, "jansson failed: %s\n", je.text);
			return 1;
		}
		json_decref(j);
	}
	double jans = (double)(fw_mono_ns() - t0) / 1e9;
	double mb = (double)batch.len * rounds / 1e6;
	printf("{\"bytes_per_batch\":%zu,\"flywheel_mb_s\":%.0f,\"jansson_mb_s\":%.0f,\"ratio\":%.2f,"
	       "\"flywheel_events_s\":%.0f}\n",
	       batch.len, mb / ours, mb / jans, jans / ours, 100.0 * rounds / ours);
	fw_arena_release(&a);
	fw_buf_release(&batch);
	return 0;
}
