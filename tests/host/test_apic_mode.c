/* SPDX-License-Identifier: MIT */
/* tests/host/test_apic_mode.c — the local APIC mode plan (lib/apic_mode.h)
 * for every firmware state and setting: each write sequence is legal step
 * by step (§11.12.5), ends in the mode asked for, keeps the base address
 * bits, and says why when it cannot do what was asked. QEMU 7.2's TCG has no
 * x2APIC, so this is where x2APIC mode is tested. */
#include "tests/host/htest.h"
#include "lib/apic_mode.h"
#include <string.h>

#define BASE 0xfee00000ull
#define BSP (1ull << 8)
#define EN APIC_BASE_MSR_EN
#define EXTD APIC_BASE_MSR_EXTD

/* Applies the plan to `base`, checking each step; returns the final value. */
static uint64_t walk(uint64_t base, const struct apic_plan *p)
{
    uint64_t v = base;
    for (unsigned i = 0; i < p->writes; i++) {
        HT_EXPECT(apic_base_transition_legal(v, p->msr[i]));
        HT_EXPECT_EQ(p->msr[i] & ~(EN | EXTD), base & ~(EN | EXTD));   /* address, BSP kept */
        v = p->msr[i];
    }
    return v;
}

HTEST(apic_mode_transitions_follow_the_sdm)
{
    HT_EXPECT(apic_base_transition_legal(BASE | EN, BASE | EN | EXTD));
    HT_EXPECT(apic_base_transition_legal(BASE | EN | EXTD, BASE));
    HT_EXPECT(apic_base_transition_legal(BASE, BASE | EN));
    HT_EXPECT(!apic_base_transition_legal(BASE | EN | EXTD, BASE | EN));
    HT_EXPECT(!apic_base_transition_legal(BASE, BASE | EN | EXTD));
    HT_EXPECT(!apic_base_transition_legal(BASE | EN, BASE | EXTD));
}

HTEST(apic_mode_every_state_and_setting)
{
    static const uint64_t states[] = { 0, EN, EN | EXTD, EXTD };
    static const enum apic_setting settings[] = { APIC_SETTING_AUTO, APIC_SETTING_XAPIC,
                                                  APIC_SETTING_X2APIC };
    for (unsigned s = 0; s < 4; s++)
        for (unsigned k = 0; k < 3; k++)
            for (int has = 0; has < 2; has++) {
                uint64_t base = BASE | BSP | states[s];
                if (!has && (states[s] & EXTD))
                    continue;       /* firmware cannot have left a mode the CPU lacks */
                struct apic_plan p;
                apic_mode_plan(settings[k], base, has, 3, &p);
                uint64_t end = walk(base, &p);
                HT_EXPECT(end & EN);
                HT_EXPECT_EQ(!!(end & EXTD), p.mode == APIC_MODE_X2APIC);
                bool fw_x2 = (states[s] & (EN | EXTD)) == (EN | EXTD);
                bool want = settings[k] == APIC_SETTING_X2APIC ? has
                            : settings[k] == APIC_SETTING_AUTO ? fw_x2 : false;
                HT_EXPECT_EQ(p.mode == APIC_MODE_X2APIC, want);
            }
}

HTEST(apic_mode_x2apic_asked_and_given)
{
    struct apic_plan p;
    apic_mode_plan(APIC_SETTING_X2APIC, BASE | BSP | EN, true, 0, &p);
    HT_EXPECT_EQ(p.mode, APIC_MODE_X2APIC);
    HT_EXPECT_EQ(p.writes, 1);
    HT_EXPECT_EQ(p.msr[0], BASE | BSP | EN | EXTD);
    HT_EXPECT(strstr(p.note, "switching to x2APIC") != NULL);
    /* From disabled: through xAPIC first. */
    apic_mode_plan(APIC_SETTING_X2APIC, BASE | BSP, true, 0, &p);
    HT_EXPECT_EQ(p.writes, 2);
    HT_EXPECT_EQ(p.msr[0], BASE | BSP | EN);
    HT_EXPECT_EQ(p.msr[1], BASE | BSP | EN | EXTD);
}

HTEST(apic_mode_x2apic_asked_but_absent_is_said)
{
    struct apic_plan p;
    apic_mode_plan(APIC_SETTING_X2APIC, BASE | BSP | EN, false, 0, &p);
    HT_EXPECT_EQ(p.mode, APIC_MODE_XAPIC);
    HT_EXPECT_EQ(p.writes, 0);
    HT_EXPECT(strstr(p.note, "no x2APIC (CPUID.1:ECX[21] clear)") != NULL);
}

HTEST(apic_mode_firmware_x2apic_kept_or_left_through_disabled)
{
    struct apic_plan p;
    apic_mode_plan(APIC_SETTING_AUTO, BASE | BSP | EN | EXTD, true, 7, &p);
    HT_EXPECT_EQ(p.mode, APIC_MODE_X2APIC);
    HT_EXPECT_EQ(p.writes, 0);
    HT_EXPECT(strstr(p.note, "kept") != NULL);
    apic_mode_plan(APIC_SETTING_XAPIC, BASE | BSP | EN | EXTD, true, 7, &p);
    HT_EXPECT_EQ(p.mode, APIC_MODE_XAPIC);
    HT_EXPECT_EQ(p.writes, 2);
    HT_EXPECT_EQ(p.msr[0], BASE | BSP);                 /* disabled */
    HT_EXPECT_EQ(p.msr[1], BASE | BSP | EN);            /* then xAPIC */
    /* An x2APIC id past 255 cannot be addressed in xAPIC mode: kept, said. */
    apic_mode_plan(APIC_SETTING_XAPIC, BASE | BSP | EN | EXTD, true, 300, &p);
    HT_EXPECT_EQ(p.mode, APIC_MODE_X2APIC);
    HT_EXPECT_EQ(p.writes, 0);
    HT_EXPECT(strstr(p.note, "x2APIC id 300 does not fit") != NULL);
}

HTEST(apic_mode_register_msrs)
{
    HT_EXPECT_EQ(x2apic_msr(0x020), 0x802u);    /* ID */
    HT_EXPECT_EQ(x2apic_msr(0x0b0), 0x80bu);    /* EOI */
    HT_EXPECT_EQ(x2apic_msr(0x0f0), 0x80fu);    /* SVR */
    HT_EXPECT_EQ(x2apic_msr(0x300), 0x830u);    /* ICR, 64 bits */
    HT_EXPECT_EQ(x2apic_msr(0x380), 0x838u);    /* timer initial count */
    HT_EXPECT_EQ(x2apic_msr(0x3e0), 0x83eu);    /* divide configuration */
}
