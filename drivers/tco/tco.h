/* SPDX-License-Identifier: MIT */
/* drivers/tco/tco.h — the Intel TCO watchdog (drivers/tco/tco.c). */
#ifndef DRIVERS_TCO_TCO_H
#define DRIVERS_TCO_TCO_H

/* Looks for an ICH9/ICH10 LPC bridge at 00:1f.0 and, when its TCO can reset
 * the machine's way, offers it to kernel/watchdog.h (stopped). Says why when
 * there is none. The boot stage calls it when watchdog= is given. */
void tco_probe(void);

#endif
