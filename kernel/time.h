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

void time_init(void);
uint64_t time_ns(void);                 /* since time_init(); never goes backwards */
void delay_us(uint64_t us);
void delay_ms(uint64_t ms);
static inline uint64_t deadline_after_us(uint64_t us) { return time_ns() + us * 1000; }
static inline uint64_t deadline_after_ms(uint64_t ms) { return time_ns() + ms * 1000000; }
static inline bool deadline_passed(uint64_t deadline) { return time_ns() >= deadline; }
uint64_t tsc_frequency_hz(void);
const char *time_calibration_source(void);  /* "hpet" or "pit" */

#endif
