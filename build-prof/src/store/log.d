build-prof/src/store/log.o: src/store/log.c include/flywheel/log.h \
 include/flywheel/base.h include/flywheel/timeutil.h
include/flywheel/log.h:
include/flywheel/base.h:
include/flywheel/timeutil.h:
