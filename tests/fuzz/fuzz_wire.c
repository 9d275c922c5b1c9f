/* fuzz_wire.c — libFuzzer target: body decoding and every SDK mapper. The
 * first byte picks the mapper; the rest is the request body. Every record a
 * mapper produces must encode and decode back. */
#include "flywheel/decode.h"
#include "flywheel/json.h"
#include "flywheel/wire.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] % 6;
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	struct fw_buf dec = {0};
	if (fw_is_gzip(text, n)) {
		if (fw_inflate(text, n, 1 << 20, &dec, NULL))
			goto out;
		text = dec.data;
		n = dec.len;
	}
	struct fw_arena a = {0};
	struct fw_json *root;
	struct fw_json_error e;
	if (fw_json_parse(&a, text, n, &root, &e) == 0) {
		struct fw_wire_batch b = {.arena = &a, .received_ms = 1700000000000, .max_event_bytes = 32768};
		struct fw_err err;
		switch (which) {
		case 0: fw_wire_segment(&b, root, NULL, &err); break;
		case 1: fw_wire_segment(&b, root, "track", &err); break;
		case 2: fw_wire_posthog(&b, root, &err); break;
		case 3: fw_wire_mixpanel(&b, root, "track", &err); break;
		case 4: fw_wire_mixpanel(&b, root, "engage", &err); break;
		default: fw_wire_amplitude(&b, root, &err); break;
		}
		struct fw_buf enc = {0};
		for (size_t i = 0; i < b.n; i++) {
			fw_buf_reset(&enc);
			fw_event_encode(&enc, &b.events[i]);
			struct fw_event back;
			if (fw_event_decode(enc.data, enc.len, &back) || back.time_ms != b.events[i].time_ms ||
			    !back.message_id.len)
				abort();
		}
		fw_buf_release(&enc);
	}
	fw_arena_release(&a);
out:
	fw_buf_release(&dec);
	return 0;
}
