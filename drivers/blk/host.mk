# drivers/blk/host.mk — the block layer's hardware-free file, unit-tested on
# the host (tests/host/test_blk_access.c).
HOST_DRIVER_SRCS += drivers/blk/access.c
