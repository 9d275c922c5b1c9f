build-dev/tests/unit/store/test_store.o: tests/unit/store/test_store.c \
 tests/unit/store/../test.h include/flywheel/store.h \
 include/flywheel/base.h include/flywheel/event.h \
 include/flywheel/timeutil.h
tests/unit/store/../test.h:
include/flywheel/store.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/timeutil.h:
