# SPDX-License-Identifier: MIT
# drivers/pci/host.mk — PCI's hardware-free files, unit-tested on the host
# (tests/host/test_pci_resources.c, test_pci_leftover.c).
HOST_DRIVER_SRCS += drivers/pci/pci_resources.c drivers/pci/pci_leftover.c
