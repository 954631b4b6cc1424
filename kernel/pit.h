/* SPDX-License-Identifier: MIT */
/* kernel/pit.h — the 8254 PIT's channel 2 as a one-shot reference interval:
 * channel 2's gate and output are reachable through port 0x61 without any
 * interrupt, so it can time a window before interrupts exist. */
#ifndef KERNEL_PIT_H
#define KERNEL_PIT_H
#include <stdbool.h>
#include <stdint.h>

#define PIT_INPUT_HZ 1193182u       /* 14.31818 MHz / 12 */
#define PIT_MAX_COUNT 0xffffu

/* The counter value whose countdown takes at most `us` microseconds (rounded
 * down, so the window is never longer than asked); 0 if out of range. */
uint16_t pit_count_for_us(uint64_t us);
/* Nanoseconds `count` PIT input clocks take. */
uint64_t pit_count_to_ns(uint64_t count);
/* Starts a one-shot countdown of `count` clocks on channel 2 (mode 0, gate high,
 * speaker off); OUT2 goes high when it reaches zero. False when OUT2 did not
 * read low just after arming through either path, PIT_ARMINGS times in a row
 * (no usable channel 2). */
#define PIT_ARMINGS 5
bool pit_oneshot_start(uint16_t count);
/* The same, with TSC stamps taken just before and just after the write that
 * starts the countdown. */
bool pit_oneshot_start_stamped(uint16_t count, uint64_t *tsc_before, uint64_t *tsc_after);
/* How OUT2 is read: port 0x61 bit 5, or the 8254's read-back status (no
 * port 0x61), or neither worked at the last arming. */
enum pit_out_path { PIT_OUT_NMI_SC, PIT_OUT_READBACK, PIT_OUT_NONE };
enum pit_out_path pit_out_path(void);
/* Port 0x61 as read just after the last arming (for the error report). */
uint8_t pit_nmi_sc_seen(void);
/* OUT2, read the way the last arming chose. */
bool pit_oneshot_expired(void);
/* Polls until OUT2 is high, at most `max_polls` times (each poll is a port
 * read, about 1 us on real hardware). False when it never went high. */
bool pit_oneshot_wait(uint64_t max_polls);
/* Leaves channel 2 gated off. */
void pit_oneshot_stop(void);

#endif
