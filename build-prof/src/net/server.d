build-prof/src/net/server.o: src/net/server.c include/flywheel/server.h \
 include/flywheel/base.h include/flywheel/http.h include/flywheel/meta.h \
 include/flywheel/store.h include/flywheel/event.h \
 include/flywheel/timeutil.h
include/flywheel/server.h:
include/flywheel/base.h:
include/flywheel/http.h:
include/flywheel/meta.h:
include/flywheel/store.h:
include/flywheel/event.h:
include/flywheel/timeutil.h:
