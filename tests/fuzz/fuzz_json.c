/* fuzz_json.c — libFuzzer target: the JSON parser and writer. A parsed value,
 * written back compactly, must parse again to the same text. */
#include "flywheel/json.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_arena a = {0};
	struct fw_json *v;
	struct fw_json_error e;
	if (fw_json_parse(&a, (const char *)data, size, &v, &e) == 0) {
		struct fw_buf b = {0}, c = {0};
		fw_json_write_value(&b, v);
		struct fw_json *w;
		if (fw_json_parse(&a, b.data, b.len, &w, &e) != 0)
			abort();
		fw_json_write_value(&c, w);
		if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0)
			abort();
		fw_buf_release(&b);
		fw_buf_release(&c);
	} else if (e.offset > size) {
		abort();
	}
	fw_arena_release(&a);
	return 0;
}
