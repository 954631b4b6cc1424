/* SPDX-License-Identifier: MIT */
/* lib/apic_mode.h — which mode the local APIC runs in, and how to get there
 * (Intel SDM vol. 3 §11.12: x2APIC). Pure, so the host tests walk every
 * firmware state and setting: QEMU 7.2's TCG has no x2APIC at all (it drops
 * the CPUID bit), so no boot here can show this logic.
 *
 * IA32_APIC_BASE bits 11 (EN, global enable) and 10 (EXTD, x2APIC) give
 * three legal states — disabled (00), xAPIC (10), x2APIC (11) — and the
 * transitions §11.12.5 figure 11-27 allows: x2APIC to xAPIC only through
 * disabled; disabled to x2APIC only through xAPIC. EXTD without EN is
 * invalid. The plan below is the sequence of MSR values to write, so the
 * caller never makes an illegal jump (a #GP).
 *
 * The setting (apic=): auto keeps what firmware chose (x2APIC is left on,
 * a machine with APIC IDs above 255 needs it), xapic forces xAPIC (refused
 * when this CPU's x2APIC ID does not fit xAPIC's 8 bits), x2apic switches
 * to x2APIC when CPUID.1:ECX[21] says the CPU has one (else stays in xAPIC,
 * said). In x2APIC mode register offset R of the xAPIC page is MSR
 * 0x800 + R/16 (§11.12.1.2), and the ICR is one 64-bit MSR. */
#ifndef LIB_APIC_MODE_H
#define LIB_APIC_MODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APIC_BASE_MSR_EXTD (1ull << 10)
#define APIC_BASE_MSR_EN   (1ull << 11)
#define X2APIC_MSR_BASE    0x800u

enum apic_setting { APIC_SETTING_AUTO, APIC_SETTING_XAPIC, APIC_SETTING_X2APIC };
enum apic_mode { APIC_MODE_XAPIC, APIC_MODE_X2APIC };

struct apic_plan {
    enum apic_mode mode;
    unsigned writes;                /* IA32_APIC_BASE values to write, in order */
    uint64_t msr[3];
    char note[160];                 /* what was decided and why, for the log ("" if nothing) */
};

/* base: IA32_APIC_BASE as firmware left it; has_x2apic: CPUID.1:ECX[21];
 * x2apic_id: the x2APIC ID (MSR 0x802) when firmware left x2APIC on. */
void apic_mode_plan(enum apic_setting setting, uint64_t base, bool has_x2apic,
                    uint32_t x2apic_id, struct apic_plan *out);

/* The MSR of an xAPIC register offset (0x000..0x3f0, 16-byte aligned). */
static inline uint32_t x2apic_msr(uint32_t reg) { return X2APIC_MSR_BASE + (reg >> 4); }

/* A transition §11.12.5 allows (for the tests and a check before each write). */
bool apic_base_transition_legal(uint64_t from, uint64_t to);

#endif
