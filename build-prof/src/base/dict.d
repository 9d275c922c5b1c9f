build-prof/src/base/dict.o: src/base/dict.c include/flywheel/dict.h \
 include/flywheel/base.h
include/flywheel/dict.h:
include/flywheel/base.h:
