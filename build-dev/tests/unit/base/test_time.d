build-dev/tests/unit/base/test_time.o: tests/unit/base/test_time.c \
 tests/unit/base/../test.h include/flywheel/timeutil.h
tests/unit/base/../test.h:
include/flywheel/timeutil.h:
