/* SPDX-License-Identifier: MIT */
/* kernel/mmio.h — the one bounded register wait every driver uses.
 *
 *   uint32_t last;
 *   switch (mmio_wait32(regs, NVME_REG_CSTS, NVME_CSTS_RDY, NVME_CSTS_RDY, to_ms, &last)) ...
 *
 * polls until (register & mask) == want, for at most timeout_ms (a bound the
 * caller takes from the spec or the device: CAP.TO, AHCI's 1 s / 500 ms),
 * and says which way it ended; `last` is the final value read, for the
 * decoded error. A register that reads all ones ends the wait at once: no
 * status register has every bit set, so that is a device gone from the bus
 * (surprise removal, a failed link, a master abort), not a state to wait on. */
#ifndef KERNEL_MMIO_H
#define KERNEL_MMIO_H
#include <stdint.h>

enum mmio_wait {
    MMIO_WAIT_OK,           /* (value & mask) == want */
    MMIO_WAIT_TIMEOUT,      /* timeout_ms passed first */
    MMIO_WAIT_GONE,         /* the register read all ones */
    MMIO_WAIT_STOPPED,      /* a bit of stop_mask was set (mmio_wait32_until) */
};

enum mmio_wait mmio_wait32(volatile void *base, uint64_t off, uint32_t mask, uint32_t want,
                           uint32_t timeout_ms, uint32_t *last);
/* The same, ended early when any bit of stop_mask reads 1: the error a
 * device raises instead of the state waited for (NVMe CSTS.CFS while CSTS.RDY
 * is awaited). The stop is checked before the wanted state. */
enum mmio_wait mmio_wait32_until(volatile void *base, uint64_t off, uint32_t mask, uint32_t want,
                                 uint32_t stop_mask, uint32_t timeout_ms, uint32_t *last);
/* The same wait on an 8-bit register (virtio's device_status, which the
 * spec allows to be read only with an 8-bit access); all ones is 0xff. */
enum mmio_wait mmio_wait8(volatile void *base, uint64_t off, uint8_t mask, uint8_t want,
                          uint32_t timeout_ms, uint8_t *last);
/* "timed out", "read all ones (device gone)", "ok". */
const char *mmio_wait_name(enum mmio_wait result);

#endif
