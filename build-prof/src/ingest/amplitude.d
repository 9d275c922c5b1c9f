build-prof/src/ingest/amplitude.o: src/ingest/amplitude.c \
 include/flywheel/wire.h include/flywheel/base.h include/flywheel/event.h \
 include/flywheel/json.h
include/flywheel/wire.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/json.h:
