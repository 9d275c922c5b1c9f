build-prof/src/ingest/posthog.o: src/ingest/posthog.c \
 include/flywheel/wire.h include/flywheel/base.h include/flywheel/event.h \
 include/flywheel/json.h
include/flywheel/wire.h:
include/flywheel/base.h:
include/flywheel/event.h:
include/flywheel/json.h:
