build-prof/src/store/event.o: src/store/event.c include/flywheel/event.h \
 include/flywheel/base.h
include/flywheel/event.h:
include/flywheel/base.h:
