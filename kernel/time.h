/* SPDX-License-Identifier: MIT */
/* kernel/time.h — a monotonic nanosecond clock (the TSC, calibrated at boot
 * against the HPET when ACPI describes one, otherwise the PIT), delays and
 * deadlines. Every bounded wait on hardware is written with these:
 *
 *   uint64_t deadline = deadline_after_ms(cap_timeout_ms);
 *   while (!(mmio_read32(regs, NVME_REG_CSTS) & NVME_CSTS_RDY))
 *       if (deadline_passed(deadline)) return decoded_timeout_error;
 */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H
#include <stdbool.h>
#include <stdint.h>

/* Calibrates the TSC (panics, decoded, when there is no usable TSC or reference). */
void time_init(void);
/* Nanoseconds since the clock's first use (early boot); never goes backwards.
 * Before time_init() the TSC is assumed to run at 4 GHz, so early delays are
 * long rather than short; time_init() switches rates without a step back. */
uint64_t time_ns(void);
void delay_us(uint64_t us);
void delay_ms(uint64_t ms);
static inline uint64_t deadline_after_us(uint64_t us) { return time_ns() + us * 1000; }
static inline uint64_t deadline_after_ms(uint64_t ms) { return time_ns() + ms * 1000000; }
static inline bool deadline_passed(uint64_t deadline) { return time_ns() >= deadline; }
uint64_t tsc_frequency_hz(void);
const char *time_calibration_source(void);  /* "hpet" or "pit" */
/* The TSC, read after earlier instructions have completed (LFENCE; RDTSC). */
static inline uint64_t tsc_read(void)
{
    uint32_t lo, hi;
    /* LFENCE keeps RDTSC from being executed ahead of earlier loads (SDM vol.
     * 2B RDTSC), so a stamp taken after a register read is after it. */
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return lo | ((uint64_t)hi << 32);
}
uint64_t tsc_ticks_to_ns(uint64_t ticks);
/* CPUID 0x80000007 EDX bit 8: the TSC rate does not change with P-/C-states. */
bool tsc_is_invariant(void);
/* Spread (max - min) of the calibration windows, in ppm of the result. */
uint64_t tsc_calibration_spread_ppm(void);
/* The bound on the chosen window's error from its TSC stamps, in ppm. */
uint64_t tsc_calibration_error_ppm(void);

#endif
