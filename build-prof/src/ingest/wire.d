build-prof/src/ingest/wire.o: src/ingest/wire.c include/flywheel/wire.h \
 include/flywheel/base.h include/flywheel/event.h include/flywheel/json.h \
 include/flywheel/timeutil.h
include/flywheel/wire.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/json.h:
include/flywheel/timeutil.h:
