build-prof/src/web/api.o: src/web/api.c include/flywheel/api.h \
 include/flywheel/event.h include/flywheel/base.h \
 include/flywheel/server.h include/flywheel/http.h \
 include/flywheel/meta.h include/flywheel/store.h include/flywheel/json.h \
 include/flywheel/timeutil.h
include/flywheel/api.h:
include/flywheel/event.h:
include/flywheel/base.h:
include/flywheel/server.h:
include/flywheel/http.h:
include/flywheel/meta.h:
include/flywheel/store.h:
include/flywheel/json.h:
include/flywheel/timeutil.h:
