/* SPDX-License-Identifier: MIT */
/* kernel/mmio.c — mmio_wait32() (see kernel/mmio.h). Polls every 10 us: the
 * waits it serves (controller reset and enable, engine stop, link up) last
 * from microseconds to seconds, and a read of an emulated register costs far
 * more than the delay. */
#include "kernel/mmio.h"
#include "kernel/io.h"
#include "kernel/time.h"

#define MMIO_WAIT_POLL_US 10

/* The wait for either width: reads `width` bytes (1 or 4) at off. */
static enum mmio_wait wait_reg(volatile void *base, uint64_t off, unsigned width, uint32_t mask,
                               uint32_t want, uint32_t stop_mask, uint32_t timeout_ms,
                               uint32_t *last)
{
    uint64_t deadline = deadline_after_ms(timeout_ms);
    uint32_t ones = width == 1 ? 0xffu : 0xffffffffu;
    uint32_t v;
    enum mmio_wait result;

    for (;;) {
        v = width == 1 ? mmio_read8(base, off) : mmio_read32(base, off);
        if (v == ones) {
            result = MMIO_WAIT_GONE;
            break;
        }
        if (v & stop_mask) {
            result = MMIO_WAIT_STOPPED;
            break;
        }
        if ((v & mask) == want) {
            result = MMIO_WAIT_OK;
            break;
        }
        if (deadline_passed(deadline)) {
            result = MMIO_WAIT_TIMEOUT;
            break;
        }
        delay_us(MMIO_WAIT_POLL_US);
    }
    *last = v;
    return result;
}

enum mmio_wait mmio_wait32(volatile void *base, uint64_t off, uint32_t mask, uint32_t want,
                           uint32_t timeout_ms, uint32_t *last)
{
    return mmio_wait32_until(base, off, mask, want, 0, timeout_ms, last);
}

enum mmio_wait mmio_wait32_until(volatile void *base, uint64_t off, uint32_t mask, uint32_t want,
                                 uint32_t stop_mask, uint32_t timeout_ms, uint32_t *last)
{
    uint32_t v;
    enum mmio_wait result = wait_reg(base, off, 4, mask, want, stop_mask, timeout_ms, &v);
    if (last)
        *last = v;
    return result;
}

enum mmio_wait mmio_wait8(volatile void *base, uint64_t off, uint8_t mask, uint8_t want,
                          uint32_t timeout_ms, uint8_t *last)
{
    uint32_t v;
    enum mmio_wait result = wait_reg(base, off, 1, mask, want, 0, timeout_ms, &v);
    if (last)
        *last = (uint8_t)v;
    return result;
}

const char *mmio_wait_name(enum mmio_wait result)
{
    switch (result) {
    case MMIO_WAIT_OK:
        return "ok";
    case MMIO_WAIT_TIMEOUT:
        return "timed out";
    case MMIO_WAIT_GONE:
        return "read all ones (device gone from the bus)";
    case MMIO_WAIT_STOPPED:
        return "ended by an error bit";
    }
    return "?";
}
