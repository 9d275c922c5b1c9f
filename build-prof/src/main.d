build-prof/src/main.o: src/main.c include/flywheel/cmd.h
include/flywheel/cmd.h:
