build-dev/tests/unit/base/test_json.o: tests/unit/base/test_json.c \
 tests/unit/base/../test.h include/flywheel/json.h \
 include/flywheel/base.h
tests/unit/base/../test.h:
include/flywheel/json.h:
include/flywheel/base.h:
