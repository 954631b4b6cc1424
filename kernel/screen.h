/* SPDX-License-Identifier: MIT */
/* kernel/screen.h — the screen console, for the person at the machine. It
 * mirrors every line the serial console writes (serial stays the channel
 * machines read) and, when the run ends, shows the verdict in large letters
 * with the lines the harness kept for it (the per-device summary), then is
 * left alone while the machine halts. Drawn on the Multiboot2 framebuffer
 * (RGB, GOP under UEFI or a VBE mode under BIOS), else in VGA text mode
 * (Multiboot1 under a BIOS that left it up, or Multiboot2's EGA text tag),
 * else nowhere; `screen=off` turns it off. */
#ifndef KERNEL_SCREEN_H
#define KERNEL_SCREEN_H
#include <stdint.h>
#include "kernel/exit.h"

/* Right after console_early_init(): the console's output is kept from the
 * first line, so the screen, once it starts, shows the boot from its top. */
void screen_early(void);
/* Once the final page tables and the TSC rate are known: chooses the display
 * and draws what was kept. `map` maps device memory (mmio_map), `tsc_hz`
 * paces redraws; both are passed in so that this file, which the exit path
 * calls, depends on no memory or time code. */
void screen_start(volatile void *(*map)(uint64_t phys, uint64_t size), uint64_t tsc_hz);
/* The console lines written between begin and end are shown under the
 * verdict (the harness's summary, a crash's exception line). */
void screen_keep_begin(void);
void screen_keep_end(void);
/* The verdict for exit status `status`: PASS, FAIL, CRASH or USAGE, large,
 * over the kept lines (or, with none kept, the last lines of the console).
 * Called once by bareio_exit(); the screen stays as it is afterwards. */
void screen_show_verdict(enum bareio_exit status);

#endif
