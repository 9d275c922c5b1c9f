build-prof/src/cmd/common.o: src/cmd/common.c include/flywheel/cmd.h
include/flywheel/cmd.h:
