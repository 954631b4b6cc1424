/* SPDX-License-Identifier: MIT */
/* kernel/apic.h — this CPU's local APIC (xAPIC mode): interrupts on, the legacy
 * 8259s masked, EOI, self-IPIs, a one-shot timer for the harness's case
 * timeouts, and the MSI address/data that target this CPU. */
#ifndef KERNEL_APIC_H
#define KERNEL_APIC_H
#include <stdbool.h>
#include <stdint.h>

/* Enables the LAPIC (spurious vector IRQ_VECTOR_SPURIOUS), masks LINT0 and the
 * timer, remaps and masks both 8259s, calibrates the LAPIC timer against the
 * TSC and sets irq_eoi_hook. Needs time_init() and idt_init(); the caller turns
 * interrupts on afterwards. Panics (decoded) when there is no usable LAPIC. */
void apic_init(void);
uint32_t apic_id(void);
void apic_eoi(void);
/* Sends `vector` to this CPU (ICR destination shorthand "self"). False when
 * the ICR never reported the IPI as sent (logged). */
bool apic_send_self_ipi(int vector);

/* One-shot timer firing IRQ_VECTOR_LAPIC_TIMER after at least `ns` (never
 * early; at most about 0.1% + one tick late). Re-arming replaces the pending
 * shot. Up to 2^32 * 128 timer-clock ticks (minutes); longer is clamped, logged. */
void apic_timer_oneshot_ns(uint64_t ns);
/* The same on any vector (tests use their own so the harness's timeout on
 * vector 240 is not disturbed). */
void apic_timer_arm(int vector, uint64_t ns);
void apic_timer_cancel(void);
/* Nanoseconds until the pending shot fires; 0 when none is pending. */
uint64_t apic_timer_remaining_ns(void);
/* The vector the timer is (or was last) armed for. */
int apic_timer_vector(void);
/* Timer input clock (divide-by-1 rate), as calibrated. */
uint64_t apic_timer_frequency_hz(void);

/* MSI (SDM vol. 3 §11.11): fixed delivery, edge triggered, physical
 * destination = this CPU's APIC id. */
uint32_t apic_msi_address(void);
/* The MSI address naming the CPU with this APIC id (physical mode), or 0
 * when a plain MSI cannot name it (an id above 255 needs interrupt remapping). */
uint32_t apic_msi_address_for(uint32_t apic_id);
uint32_t apic_msi_data(int vector);

/* For tests: the in-service / request bit of `vector`, the Error Status
 * Register (after the write that latches it), the Spurious-Interrupt Vector
 * Register. */
bool apic_vector_in_service(int vector);
bool apic_vector_requested(int vector);
uint32_t apic_error_status(void);
uint32_t apic_spurious_register(void);

/* For kernel/smp.c (Intel SDM vol. 3 §8.4.4, §11.6): INIT (asserted,
 * level), STARTUP with the start page's number, and NMI, each to one APIC
 * id in physical destination mode. False when it could not be sent (the ICR
 * stayed busy, or an id above 255 in xAPIC mode), logged. */
bool apic_send_init(uint32_t destination);
bool apic_send_startup(uint32_t destination, uint8_t page_vector);
bool apic_send_nmi(uint32_t destination);
/* A fixed, edge-triggered interrupt with `vector` to one CPU. */
bool apic_send_fixed(uint32_t destination, int vector);
/* Latches and returns the Error Status Register, leaving it clear. */
uint32_t apic_error_status_clear(void);
bool apic_is_x2apic(void);
/* The running CPU's APIC id, read from its LAPIC (apic_id() is the BSP's). */
uint32_t apic_read_id(void);
/* On an AP: its LAPIC in the BSP's mode, software-enabled, every LVT masked,
 * TPR 0. Returns its APIC id. */
uint32_t apic_ap_init(void);

#endif
