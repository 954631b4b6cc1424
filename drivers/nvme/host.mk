# SPDX-License-Identifier: MIT
# drivers/nvme/host.mk — the NVMe driver's hardware-free files, unit-tested on
# the host (tests/host/test_nvme*.c).
HOST_DRIVER_SRCS += drivers/nvme/nvme_prp.c drivers/nvme/nvme_status.c drivers/nvme/nvme_identify.c
# The hardware files, run against the register model in tests/host/fake/
# (tests/host/hw/test_nvme_*.c).
HOST_HW_SRCS += drivers/nvme/nvme_ctrl.c drivers/nvme/nvme_io.c drivers/nvme/nvme_admin.c \
    drivers/nvme/nvme_queue.c drivers/nvme/nvme_test.c
