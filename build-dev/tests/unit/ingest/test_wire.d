build-dev/tests/unit/ingest/test_wire.o: tests/unit/ingest/test_wire.c \
 tests/unit/ingest/../test.h include/flywheel/timeutil.h \
 include/flywheel/wire.h include/flywheel/base.h include/flywheel/event.h \
 include/flywheel/json.h
tests/unit/ingest/../test.h:
include/flywheel/timeutil.h:
include/flywheel/wire.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/json.h:
