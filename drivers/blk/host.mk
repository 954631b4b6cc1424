# SPDX-License-Identifier: MIT
# drivers/blk/host.mk — the block layer's hardware-free files, unit-tested on
# the host (tests/host/test_blk_access.c, tests/host/test_blk_check.c).
HOST_DRIVER_SRCS += drivers/blk/access.c drivers/blk/check.c drivers/blk/names.c drivers/blk/storage_class.c
# The block layer itself runs under the drivers' fake-hardware tests: devices
# register through it (tests/host/hw/).
HOST_HW_SRCS += drivers/blk/blk.c drivers/blk/driver.c
