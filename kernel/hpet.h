/* SPDX-License-Identifier: MIT */
/* kernel/hpet.h — the HPET's main counter as a free-running reference clock
 * (IA-PC HPET 1.0a). Only the counter: no comparators, no interrupts. */
#ifndef KERNEL_HPET_H
#define KERNEL_HPET_H
#include <stdbool.h>
#include <stdint.h>

/* Finds the event timer block through ACPI, maps it, checks the counter period
 * and starts the main counter. False (with the reason logged) when there is no
 * usable HPET. */
bool hpet_init(void);
bool hpet_available(void);
/* The main counter (0 when no HPET). A 32-bit counter reads as 32 bits: take
 * differences with hpet_ticks_between(). */
uint64_t hpet_counter(void);
uint64_t hpet_ticks_between(uint64_t start, uint64_t end);
uint64_t hpet_period_fs(void);              /* COUNTER_CLK_PERIOD */
uint64_t hpet_ticks_to_ns(uint64_t ticks);
uint64_t hpet_ns_to_ticks(uint64_t ns);     /* rounded up */
uint64_t hpet_base_address(void);           /* physical, 0 when none */
bool hpet_counter_is_64bit(void);

#endif
