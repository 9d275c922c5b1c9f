build-prof/src/base/timeutil.o: src/base/timeutil.c \
 include/flywheel/timeutil.h
include/flywheel/timeutil.h:
