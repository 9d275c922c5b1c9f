build-prof/src/base/base.o: src/base/base.c include/flywheel/base.h
include/flywheel/base.h:
