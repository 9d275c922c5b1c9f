build-prof/src/ingest/mixpanel.o: src/ingest/mixpanel.c \
 include/flywheel/wire.h include/flywheel/base.h include/flywheel/event.h \
 include/flywheel/json.h
include/flywheel/wire.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/json.h:
