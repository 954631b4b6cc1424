/* SPDX-License-Identifier: MIT */
/* lib/apic_mode.c — the x2APIC mode decision and its MSR write sequence
 * (see lib/apic_mode.h). */
#include "lib/apic_mode.h"
#include "lib/format.h"

#define STATE(v) ((v) & (APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD))
#define DISABLED 0ull
#define XAPIC APIC_BASE_MSR_EN
#define X2APIC (APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD)

bool apic_base_transition_legal(uint64_t from, uint64_t to)
{
    uint64_t a = STATE(from), b = STATE(to);
    if (b == APIC_BASE_MSR_EXTD)
        return false;               /* EXTD without EN: invalid state */
    if (a == b)
        return true;
    if (a == X2APIC && b == XAPIC)
        return false;               /* only through disabled */
    if (a == DISABLED && b == X2APIC)
        return false;               /* only through xAPIC */
    return true;
}

static void add(struct apic_plan *p, uint64_t value) { p->msr[p->writes++] = value; }

void apic_mode_plan(enum apic_setting setting, uint64_t base, bool has_x2apic,
                    uint32_t x2apic_id, struct apic_plan *out)
{
    uint64_t rest = base & ~(APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD);
    uint64_t state = STATE(base);
    bool fw_x2 = state == X2APIC;
    bool want_x2;

    *out = (struct apic_plan){ .mode = APIC_MODE_XAPIC };
    if (state == APIC_BASE_MSR_EXTD)    /* invalid as found: treat as disabled */
        state = DISABLED;
    switch (setting) {
    case APIC_SETTING_XAPIC:
        want_x2 = false;
        if (fw_x2 && x2apic_id > 0xff) {
            want_x2 = true;
            snprintf(out->note, sizeof(out->note), "apic=xapic: this CPU's x2APIC id %u does not "
                     "fit xAPIC's 8 bits; staying in x2APIC mode", x2apic_id);
        }
        break;
    case APIC_SETTING_X2APIC:
        want_x2 = has_x2apic || fw_x2;
        if (!want_x2)
            snprintf(out->note, sizeof(out->note), "apic=x2apic: this CPU has no x2APIC "
                     "(CPUID.1:ECX[21] clear); staying in xAPIC mode");
        break;
    default:
        want_x2 = fw_x2;
        break;
    }
    if (want_x2) {
        out->mode = APIC_MODE_X2APIC;
        if (state == DISABLED)
            add(out, rest | XAPIC);
        if (state != X2APIC) {
            add(out, rest | X2APIC);
            if (!out->note[0])
                snprintf(out->note, sizeof(out->note), "switching to x2APIC mode (apic=x2apic)");
        } else if (!out->note[0]) {
            snprintf(out->note, sizeof(out->note), "firmware left x2APIC mode on; kept");
        }
        return;
    }
    if (state == X2APIC) {
        add(out, rest | DISABLED);
        snprintf(out->note, sizeof(out->note), "firmware left x2APIC mode on; switching to xAPIC "
                 "mode (apic=xapic)");
    }
    if (state != XAPIC)
        add(out, rest | XAPIC);
}
