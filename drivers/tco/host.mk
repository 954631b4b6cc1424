# SPDX-License-Identifier: MIT
# drivers/tco/host.mk — the TCO watchdog driver, run against the ICH9 model
# of tests/host/hw/test_tco.c (what QEMU cannot show: a pinned NO_REBOOT
# strap, a timer that will not start, firmware that left PM I/O off).
HOST_HW_SRCS += drivers/tco/tco.c
