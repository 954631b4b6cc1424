# SPDX-License-Identifier: MIT
# drivers/ahci/host.mk — the AHCI driver's hardware-free files, built into the
# host unit tests (tests/host/test_ahci*.c).
HOST_DRIVER_SRCS += drivers/ahci/ata_identify.c drivers/ahci/ahci_decode.c drivers/ahci/ahci_prdt.c \
	drivers/ahci/ahci_handoff.c drivers/ahci/ata_ncq_log.c drivers/ahci/ahci_recovery.c
# The hardware files, run against the register model in tests/host/fake/
# (tests/host/hw/test_ahci_*.c).
HOST_HW_SRCS += drivers/ahci/ahci_hba.c drivers/ahci/ahci_io.c drivers/ahci/ahci_port.c \
	drivers/ahci/ahci_cmd.c drivers/ahci/ahci_test.c
