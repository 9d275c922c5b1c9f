build-prof/src/store/embedded.o: src/store/embedded.c \
 include/flywheel/dict.h include/flywheel/base.h include/flywheel/log.h \
 include/flywheel/store.h include/flywheel/event.h \
 include/flywheel/timeutil.h
include/flywheel/dict.h:
include/flywheel/base.h:
include/flywheel/log.h:
include/flywheel/store.h:
include/flywheel/event.h:
include/flywheel/timeutil.h:
