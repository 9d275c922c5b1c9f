build-prof/src/ingest/ingest.o: src/ingest/ingest.c \
 include/flywheel/decode.h include/flywheel/base.h \
 include/flywheel/http.h include/flywheel/json.h \
 include/flywheel/server.h include/flywheel/meta.h \
 include/flywheel/store.h include/flywheel/event.h \
 include/flywheel/timeutil.h include/flywheel/wire.h
include/flywheel/decode.h:
include/flywheel/base.h:
include/flywheel/http.h:
include/flywheel/json.h:
include/flywheel/server.h:
include/flywheel/meta.h:
include/flywheel/store.h:
include/flywheel/event.h:
include/flywheel/timeutil.h:
include/flywheel/wire.h:
