build-prof/src/cmd/query.o: src/cmd/query.c include/flywheel/api.h \
 include/flywheel/event.h include/flywheel/base.h \
 include/flywheel/server.h include/flywheel/http.h \
 include/flywheel/meta.h include/flywheel/store.h include/flywheel/cmd.h \
 include/flywheel/json.h
include/flywheel/api.h:
include/flywheel/event.h:
include/flywheel/base.h:
include/flywheel/server.h:
include/flywheel/http.h:
include/flywheel/meta.h:
include/flywheel/store.h:
include/flywheel/cmd.h:
include/flywheel/json.h:
