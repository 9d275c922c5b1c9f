build-prof/src/base/json.o: src/base/json.c include/flywheel/json.h \
 include/flywheel/base.h
include/flywheel/json.h:
include/flywheel/base.h:
