/* SPDX-License-Identifier: MIT */
/* kernel/power.h — switching the machine off: ACPI soft-off (S5) for
 * exit=poweroff. */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H
#include <stdbool.h>

/* After acpi_init() and time_init(): reads \_S5 from the DSDT (or an SSDT)
 * and the FADT's PM1 control or sleep control registers, logs what it found
 * or why the machine cannot power off, and registers the power-off hook
 * with kernel/exit.c. */
void power_init(void);
/* True when power_init() found everything S5 needs. */
bool power_off_possible(void);

#endif
