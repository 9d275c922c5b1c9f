#include "../test.h"
#include "flywheel/timeutil.h"

TEST(time_parse_iso)
{
	int64_t ms;
	CHECK(fw_time_parse_iso("2024-03-01T10:00:02.000Z", 24, &ms) == 0);
	CHECK_EQ_INT(ms, 1709287202000LL);
	CHECK(fw_time_parse_iso("2024-03-01T11:00:02+01:00", 25, &ms) == 0);
	CHECK_EQ_INT(ms, 1709287202000LL);
	CHECK(fw_time_parse_iso("2024-03-01T10:00:02.123456Z", 27, &ms) == 0);
	CHECK_EQ_INT(ms, 1709287202123LL);
	CHECK(fw_time_parse_iso("2024-02-29", 10, &ms) == 0);
	CHECK(fw_time_parse_iso("2023-02-29", 10, &ms) != 0);
	CHECK(fw_time_parse_iso("2024-03-01T25:00:00Z", 20, &ms) != 0);
	CHECK(fw_time_parse_iso("yesterday", 9, &ms) != 0);
	char out[32];
	fw_time_format_iso(1709287202123LL, out);
	CHECK_EQ_STR(out, "2024-03-01T10:00:02.123Z");
	fw_time_format_iso(-1, out);
	CHECK_EQ_STR(out, "1969-12-31T23:59:59.999Z");
	CHECK_EQ_INT(fw_time_from_epoch(1709287202.5), 1709287202500LL);
	CHECK_EQ_INT(fw_time_from_epoch(1709287202000.0), 1709287202000LL);
	CHECK_EQ_INT(fw_day_floor(-1), -FW_MS_PER_DAY);
}
