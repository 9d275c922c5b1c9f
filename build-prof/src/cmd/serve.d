build-prof/src/cmd/serve.o: src/cmd/serve.c include/flywheel/cmd.h \
 include/flywheel/http.h include/flywheel/base.h \
 include/flywheel/server.h include/flywheel/meta.h \
 include/flywheel/store.h include/flywheel/event.h
include/flywheel/cmd.h:
include/flywheel/http.h:
include/flywheel/base.h:
include/flywheel/server.h:
include/flywheel/meta.h:
include/flywheel/store.h:
include/flywheel/event.h:
