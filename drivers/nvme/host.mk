# drivers/nvme/host.mk — the NVMe driver's hardware-free files, unit-tested on
# the host (tests/host/test_nvme*.c).
HOST_DRIVER_SRCS += drivers/nvme/nvme_prp.c drivers/nvme/nvme_status.c drivers/nvme/nvme_identify.c
