build-prof/src/net/decode.o: src/net/decode.c include/flywheel/decode.h \
 include/flywheel/base.h
include/flywheel/decode.h:
include/flywheel/base.h:
