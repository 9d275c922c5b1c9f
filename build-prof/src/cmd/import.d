build-prof/src/cmd/import.o: src/cmd/import.c include/flywheel/cmd.h \
 include/flywheel/json.h include/flywheel/base.h \
 include/flywheel/server.h include/flywheel/http.h \
 include/flywheel/meta.h include/flywheel/store.h \
 include/flywheel/event.h include/flywheel/timeutil.h \
 include/flywheel/wire.h
include/flywheel/cmd.h:
include/flywheel/json.h:
include/flywheel/base.h:
include/flywheel/server.h:
include/flywheel/http.h:
include/flywheel/meta.h:
include/flywheel/store.h:
include/flywheel/event.h:
include/flywheel/timeutil.h:
include/flywheel/wire.h:
