build-prof/src/meta/meta.o: src/meta/meta.c include/flywheel/meta.h \
 include/flywheel/base.h include/flywheel/store.h \
 include/flywheel/event.h include/flywheel/dict.h include/flywheel/json.h \
 include/flywheel/timeutil.h
include/flywheel/meta.h:
include/flywheel/base.h:
include/flywheel/store.h:
include/flywheel/event.h:
include/flywheel/dict.h:
include/flywheel/json.h:
include/flywheel/timeutil.h:
