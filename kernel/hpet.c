/* SPDX-License-Identifier: MIT */
/* kernel/hpet.c — the HPET main counter (IA-PC HPET 1.0a §2.3): located by the
 * ACPI HPET table (§3.2.4), period from GCAP_ID.COUNTER_CLK_PERIOD, started with
 * GEN_CONF.ENABLE_CNF. Used only as a reference to calibrate the TSC and to
 * check delays, so the comparators are disabled and legacy replacement routing
 * is left off; nothing here raises an interrupt. */
#include "kernel/hpet.h"
#include "kernel/acpi.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/memory.h"

/* Register offsets, §2.3.1 table 2. */
#define HPET_REG_GCAP_ID       0x000
#define HPET_REG_GEN_CONF      0x010
#define HPET_REG_GINTR_STA     0x020
#define HPET_REG_MAIN_CNT      0x0f0
#define HPET_REG_TIMN_CONF(n)  (0x100 + 0x20 * (n))
#define HPET_REGISTER_BLOCK_SIZE 0x400

/* GCAP_ID fields, §2.3.4. */
#define HPET_GCAP_REV_ID(v)         ((unsigned)((v) & 0xff))
#define HPET_GCAP_NUM_TIM_CAP(v)    ((unsigned)(((v) >> 8) & 0x1f))
#define HPET_GCAP_COUNT_SIZE_CAP    (1ull << 13)
#define HPET_GCAP_VENDOR_ID(v)      ((unsigned)(((v) >> 16) & 0xffff))
#define HPET_GCAP_COUNTER_CLK_PERIOD(v) ((v) >> 32)
/* §2.3.4: the period must be non-zero and at most 10^8 fs (100 ns). */
#define HPET_MAX_PERIOD_FS 0x05f5e100ull

/* GEN_CONF, §2.3.5. */
#define HPET_GEN_CONF_ENABLE_CNF  (1u << 0)
#define HPET_GEN_CONF_LEG_RT_CNF  (1u << 1)
/* Tn_CONF_CAP, §2.3.8. */
#define HPET_TIMN_INT_ENB_CNF     (1u << 2)

#define FS_PER_NS 1000000ull

static volatile void *hpet_regs;
static uint64_t hpet_base;
static uint64_t period_fs;
static bool counter_64bit;

static bool hpet_check_capabilities(uint64_t gcap)
{
    uint64_t period = HPET_GCAP_COUNTER_CLK_PERIOD(gcap);
    if (gcap == 0 || gcap == UINT64_MAX) {
        klog(LOG_WARN, "hpet: GCAP_ID reads %#llx at %#llx: no HPET answers there\n",
             (unsigned long long)gcap, (unsigned long long)hpet_base);
        return false;
    }
    if (period == 0 || period > HPET_MAX_PERIOD_FS) {
        klog(LOG_WARN, "hpet: COUNTER_CLK_PERIOD %llu fs is outside 1..%llu fs (HPET 1.0a §2.3.4)\n",
             (unsigned long long)period, (unsigned long long)HPET_MAX_PERIOD_FS);
        return false;
    }
    period_fs = period;
    counter_64bit = (gcap & HPET_GCAP_COUNT_SIZE_CAP) != 0;
    return true;
}

/* The comparators are not used: make sure none of them can interrupt. */
static void hpet_disable_comparators(uint64_t gcap)
{
    unsigned timers = HPET_GCAP_NUM_TIM_CAP(gcap) + 1;
    for (unsigned n = 0; n < timers; n++) {
        uint32_t conf = mmio_read32(hpet_regs, HPET_REG_TIMN_CONF(n));
        mmio_write32(hpet_regs, HPET_REG_TIMN_CONF(n), conf & ~HPET_TIMN_INT_ENB_CNF);
    }
}

static void hpet_start_counter(void)
{
    uint32_t conf = mmio_read32(hpet_regs, HPET_REG_GEN_CONF);
    conf &= ~HPET_GEN_CONF_LEG_RT_CNF;
    conf |= HPET_GEN_CONF_ENABLE_CNF;
    mmio_write32(hpet_regs, HPET_REG_GEN_CONF, conf);
}

/* A counter that does not move within a few thousand reads is stopped or not
 * there: a sane HPET ticks at >= 10 MHz, and one register read takes longer
 * than a tick. */
static bool hpet_counter_advances(void)
{
    uint64_t first = hpet_counter();
    for (int i = 0; i < 100000; i++)
        if (hpet_counter() != first)
            return true;
    klog(LOG_WARN, "hpet: main counter stuck at %#llx after ENABLE_CNF\n",
         (unsigned long long)first);
    return false;
}

bool hpet_init(void)
{
    hpet_base = acpi_hpet_base();
    if (hpet_base == 0) {
        klog(LOG_INFO, "hpet: no HPET table in ACPI\n");
        return false;
    }
    hpet_regs = mmio_map(hpet_base, HPET_REGISTER_BLOCK_SIZE);
    if (!hpet_regs) {
        klog(LOG_WARN, "hpet: cannot map registers at %#llx\n", (unsigned long long)hpet_base);
        goto err_unusable;
    }
    uint64_t gcap = mmio_read64(hpet_regs, HPET_REG_GCAP_ID);
    if (!hpet_check_capabilities(gcap))
        goto err_unusable;
    hpet_disable_comparators(gcap);
    hpet_start_counter();
    if (!hpet_counter_advances())
        goto err_unusable;
    klog(LOG_INFO, "hpet: at %#llx, rev %u, vendor %#06x, %u comparators, %u-bit counter, period %llu fs (%llu Hz)\n",
         (unsigned long long)hpet_base, HPET_GCAP_REV_ID(gcap), HPET_GCAP_VENDOR_ID(gcap),
         HPET_GCAP_NUM_TIM_CAP(gcap) + 1, counter_64bit ? 64 : 32,
         (unsigned long long)period_fs, (unsigned long long)(1000000000000000ull / period_fs));
    return true;

err_unusable:
    hpet_regs = NULL;
    period_fs = 0;
    return false;
}

bool hpet_available(void)
{
    return hpet_regs != NULL;
}

uint64_t hpet_counter(void)
{
    if (!hpet_regs)
        return 0;
    if (!counter_64bit)
        return mmio_read32(hpet_regs, HPET_REG_MAIN_CNT);
    /* Two dword reads can tear when the low half wraps between them: read the
     * high half again and retry while it changed. It changes at most once per
     * 2^32 ticks, so a second mismatch in a row means the register is broken;
     * the bound keeps that from hanging. */
    uint32_t hi = 0, lo = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        hi = mmio_read32(hpet_regs, HPET_REG_MAIN_CNT + 4);
        lo = mmio_read32(hpet_regs, HPET_REG_MAIN_CNT);
        if (mmio_read32(hpet_regs, HPET_REG_MAIN_CNT + 4) == hi)
            break;
    }
    return ((uint64_t)hi << 32) | lo;
}

uint64_t hpet_ticks_between(uint64_t start, uint64_t end)
{
    return counter_64bit ? end - start : (uint32_t)(end - start);
}

uint64_t hpet_period_fs(void)
{
    return period_fs;
}

uint64_t hpet_ticks_to_ns(uint64_t ticks)
{
    /* ticks * period stays in 64 bits for the windows bareio measures
     * (period <= 1e8 fs: up to 1.8e11 ticks, over 30 minutes at 100 MHz). */
    return ticks * period_fs / FS_PER_NS;
}

uint64_t hpet_ns_to_ticks(uint64_t ns)
{
    /* ns * 1e6 fits in 64 bits up to 5 hours: far beyond any reference window. */
    if (period_fs == 0)
        return 0;
    return (ns * FS_PER_NS + period_fs - 1) / period_fs;
}

uint64_t hpet_base_address(void)
{
    return hpet_regs ? hpet_base : 0;
}

bool hpet_counter_is_64bit(void)
{
    return counter_64bit;
}
