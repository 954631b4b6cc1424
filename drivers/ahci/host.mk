# drivers/ahci/host.mk — the AHCI driver's hardware-free files, built into the
# host unit tests (tests/host/test_ahci*.c).
HOST_DRIVER_SRCS += drivers/ahci/ata_identify.c drivers/ahci/ahci_decode.c drivers/ahci/ahci_prdt.c \
	drivers/ahci/ahci_handoff.c drivers/ahci/ata_ncq_log.c
