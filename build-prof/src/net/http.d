build-prof/src/net/http.o: src/net/http.c include/flywheel/http.h \
 include/flywheel/base.h include/flywheel/json.h \
 include/flywheel/timeutil.h
include/flywheel/http.h:
include/flywheel/base.h:
include/flywheel/json.h:
include/flywheel/timeutil.h:
