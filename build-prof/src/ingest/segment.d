build-prof/src/ingest/segment.o: src/ingest/segment.c \
 include/flywheel/wire.h include/flywheel/base.h include/flywheel/event.h \
 include/flywheel/json.h
include/flywheel/wire.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/json.h:
