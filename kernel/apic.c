/* SPDX-License-Identifier: MIT */
/* kernel/apic.c — the local APIC in xAPIC or x2APIC mode (Intel SDM vol. 3
 * ch. 11; which one, and how to get there, is lib/apic_mode.h's plan: apic=
 * auto keeps the firmware's choice, xapic and x2apic force one): in xAPIC
 * mode the registers are the MMIO page located by IA32_APIC_BASE
 * (cross-checked with the ACPI MADT), in x2APIC mode MSRs 0x800+; software
 * enabled through the Spurious-Interrupt Vector Register, LVT entries set for a
 * system whose devices interrupt by MSI; the 8259 PICs remapped to vectors 32-47
 * (so a spurious IRQ 7/15 lands on a known vector) and fully masked. The timer
 * runs one-shot for the harness's timeouts, calibrated against the TSC.
 * For kernel/smp.c: INIT, STARTUP and NMI IPIs to one APIC id, and the set-up
 * of an AP's own LAPIC in the BSP's mode. Left out: the I/O APIC. QEMU 7.2's
 * TCG has no x2APIC (it
 * drops the CPUID bit), so the x2APIC path runs on no machine in the tests;
 * the mode plan is host-tested (tests/host/test_apic_mode.c). */
#include "kernel/apic.h"
#include "kernel/acpi.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/memory.h"
#include "kernel/time.h"
#include "lib/apic_mode.h"
#include "lib/scale.h"

/* IA32_APIC_BASE, SDM vol. 3 §11.4.4 figure 11-5. */
#define MSR_IA32_APIC_BASE          0x1b
#define APIC_BASE_BSP               (1ull << 8)
#define APIC_BASE_EXTD              (1ull << 10)    /* x2APIC mode */
#define APIC_BASE_EN                (1ull << 11)    /* xAPIC global enable */
#define APIC_BASE_ADDRESS_MASK      0x000ffffffffff000ull
#define CPUID_1_EDX_APIC            (1u << 9)
#define CPUID_1_ECX_X2APIC          (1u << 21)

/* Register offsets, SDM vol. 3 table 11-1. */
#define APIC_REG_ID                 0x020
#define APIC_REG_VERSION            0x030
#define APIC_REG_TPR                0x080
#define APIC_REG_EOI                0x0b0
#define APIC_REG_SVR                0x0f0
#define APIC_REG_ISR(n)             (0x100 + 0x10 * (n))
#define APIC_REG_IRR(n)             (0x200 + 0x10 * (n))
#define APIC_REG_ESR                0x280
#define APIC_REG_LVT_CMCI           0x2f0
#define APIC_REG_ICR_LOW            0x300
#define APIC_REG_ICR_HIGH           0x310
#define APIC_REG_LVT_TIMER          0x320
#define APIC_REG_LVT_THERMAL        0x330
#define APIC_REG_LVT_PERFMON        0x340
#define APIC_REG_LVT_LINT0          0x350
#define APIC_REG_LVT_LINT1          0x360
#define APIC_REG_LVT_ERROR          0x370
#define APIC_REG_TIMER_INITIAL      0x380
#define APIC_REG_TIMER_CURRENT      0x390
#define APIC_REG_TIMER_DIVIDE       0x3e0
#define APIC_REGISTER_BLOCK_SIZE    0x1000

#define APIC_ID_SHIFT               24              /* §11.4.6: xAPIC ID in bits 31:24 */
#define APIC_VERSION_VERSION(v)     ((v) & 0xff)
#define APIC_VERSION_MAX_LVT(v)     (((v) >> 16) & 0xff)   /* number of LVT entries - 1 */

/* SVR, §11.9 figure 11-23. */
#define APIC_SVR_SOFTWARE_ENABLE    (1u << 8)

/* LVT entries, §11.5.1 figure 11-8. */
#define APIC_LVT_DELIVERY_FIXED     (0u << 8)
#define APIC_LVT_DELIVERY_NMI       (4u << 8)
#define APIC_LVT_DELIVERY_EXTINT    (7u << 8)
#define APIC_LVT_MASKED             (1u << 16)
#define APIC_LVT_TIMER_ONESHOT      (0u << 17)

/* ICR, §11.6.1 figure 11-12. */
#define APIC_ICR_DELIVERY_FIXED     (0u << 8)
#define APIC_ICR_DELIVERY_NMI       (4u << 8)
#define APIC_ICR_DELIVERY_INIT      (5u << 8)
#define APIC_ICR_DELIVERY_STARTUP   (6u << 8)
#define APIC_ICR_TRIGGER_LEVEL      (1u << 15)
#define APIC_ICR_XAPIC_DEST_SHIFT   24              /* ICR high bits 31:24 */
#define APIC_ICR_X2APIC_DEST_SHIFT  32              /* the 64-bit MSR's bits 63:32, §11.12.9 */
#define XAPIC_MAX_ID                0xffu
#define APIC_ICR_DELIVERY_PENDING   (1u << 12)
#define APIC_ICR_LEVEL_ASSERT       (1u << 14)
#define APIC_ICR_SHORTHAND_SELF     (1u << 18)

/* MSI, §11.11.1 figure 11-24 and §11.11.2 figure 11-25. */
#define MSI_ADDRESS_BASE            0xfee00000u
#define MSI_ADDRESS_DEST_ID_SHIFT   12
#define MSI_DATA_DELIVERY_FIXED     (0u << 8)
#define MSI_DATA_TRIGGER_EDGE       (0u << 15)

/* 8259A: ICW1-4 and OCW1 (8259A data sheet); master at 0x20, slave at 0xa0. */
#define PIC_MASTER_COMMAND          0x20
#define PIC_MASTER_DATA             0x21
#define PIC_SLAVE_COMMAND           0xa0
#define PIC_SLAVE_DATA              0xa1
#define PIC_ICW1_INIT_WITH_ICW4     0x11
#define PIC_ICW3_MASTER_SLAVE_ON_IR2 0x04
#define PIC_ICW3_SLAVE_ID_2         0x02
#define PIC_ICW4_8086               0x01
#define PIC_MASTER_VECTOR_BASE      32
#define PIC_SLAVE_VECTOR_BASE       40

#define TIMER_CALIBRATION_WINDOWS   3
#define TIMER_CALIBRATION_US        10000
#define TIMER_MIN_HZ                1000000ull
#define TIMER_MAX_DIVIDE_SHIFT      7               /* divide by 128 */
#define ICR_IDLE_TIMEOUT_US         10000

static const struct cmdline_word apic_words[] = {
    { "auto", APIC_SETTING_AUTO }, { "xapic", APIC_SETTING_XAPIC }, { "x2apic", APIC_SETTING_X2APIC },
};
CMDLINE_ENUM(apic_setting, "apic", APIC_SETTING_AUTO, apic_words,
             "local APIC mode: auto keeps the firmware's (default), xapic or x2apic switch");

static volatile void *lapic;            /* the xAPIC page; NULL in x2APIC mode */
static bool apic_up;                    /* apic_init() finished the set-up */
static enum apic_mode mode = APIC_MODE_XAPIC;
static uint64_t lapic_phys;
static uint32_t lapic_id_value;
static uint64_t timer_hz;               /* divide-by-1 input clock */
static struct scale ns_to_timer_ticks;
static struct scale timer_ticks_to_ns;
/* The pending shot's divider and vector are per CPU (struct cpu_local):
 * every CPU's LAPIC has a timer of its own, and an AP arms its own (e.g. a
 * bound on a HLT, kernel/smp.h smp_halt_until()) without touching the BSP's,
 * which is the harness's case deadline. The rate, calibrated once on the
 * BSP, is every CPU's: the LAPIC timers of one machine count the same
 * clock (the bus or core crystal clock, SDM vol. 3 §11.5.4). Before the
 * BSP's cpu_local is set (kernel/smp.c) its shot is recorded here. */
static struct cpu_local boot_shot;

static struct cpu_local *shot_record(void)
{
    struct cpu_local *c = cpu_local_own();
    return c ? c : &boot_shot;
}

static int shot_vector(const struct cpu_local *c)
{
    return c->timer_vector ? c->timer_vector : IRQ_VECTOR_LAPIC_TIMER;
}

static uint32_t apic_read(uint32_t reg)
{
    if (mode == APIC_MODE_X2APIC)
        return (uint32_t)rdmsr(x2apic_msr(reg));
    return mmio_read32(lapic, reg);
}

static void apic_write(uint32_t reg, uint32_t value)
{
    if (mode == APIC_MODE_X2APIC)
        wrmsr(x2apic_msr(reg), value);
    else
        mmio_write32(lapic, reg, value);
}

/* ---- locating and enabling ---- */

/* The base address from IA32_APIC_BASE, in the mode apic= and the firmware's
 * state decide (lib/apic_mode.h: every MSR write a legal §11.12.5 step). */
static uint64_t apic_enable_mode(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    uint64_t msr = rdmsr(MSR_IA32_APIC_BASE);
    bool fw_x2 = (msr & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
    uint32_t x2_id = fw_x2 ? (uint32_t)rdmsr(x2apic_msr(APIC_REG_ID)) : 0;
    struct apic_plan plan;
    apic_mode_plan((enum apic_setting)apic_setting, msr, (c & CPUID_1_ECX_X2APIC) != 0, x2_id,
                   &plan);
    for (unsigned i = 0; i < plan.writes; i++)
        wrmsr(MSR_IA32_APIC_BASE, plan.msr[i]);
    if (plan.note[0])
        klog(LOG_INFO, "apic: %s\n", plan.note);
    mode = plan.mode;
    msr = rdmsr(MSR_IA32_APIC_BASE);
    if (!(msr & APIC_BASE_EN))
        panic("apic: IA32_APIC_BASE.EN does not stay set (MSR reads %#llx)", (unsigned long long)msr);
    if (!!(msr & APIC_BASE_EXTD) != (mode == APIC_MODE_X2APIC))
        panic("apic: IA32_APIC_BASE.EXTD reads %u after the switch to %s mode (MSR %#llx)",
              (unsigned)!!(msr & APIC_BASE_EXTD), mode == APIC_MODE_X2APIC ? "x2APIC" : "xAPIC",
              (unsigned long long)msr);
    if (!(msr & APIC_BASE_BSP))
        klog(LOG_WARN, "apic: IA32_APIC_BASE.BSP is clear: not running on the bootstrap processor?\n");
    return msr & APIC_BASE_ADDRESS_MASK;
}

/* The MADT should describe the same registers (ACPI 6.4 §5.2.12); the MSR
 * wins when they differ, since it is what the CPU decodes. */
static bool apic_check_madt(uint64_t base)
{
    struct acpi_madt_info madt;
    if (!acpi_madt(&madt)) {
        klog(LOG_INFO, "apic: no MADT; assuming 8259 PICs are present\n");
        return true;
    }
    if (madt.lapic_address != base)
        klog(LOG_WARN, "apic: MADT says the local APIC is at %#llx, IA32_APIC_BASE says %#llx; using the MSR\n",
             (unsigned long long)madt.lapic_address, (unsigned long long)base);
    return madt.pcat_compat;
}

/* LVT set-up, §11.5.1: every source masked but what `lint0` and `lint1`
 * say. The BSP passes LINT1 as NMI, which on PC systems it carries (MP spec
 * §5.1 virtual wire mode wiring), and LINT0, the 8259's ExtINT input,
 * masked, so nothing arrives through the PICs; an AP masks both (only the
 * BSP's LINT pins are wired). */
static void apic_setup_lvt(uint32_t max_lvt, uint32_t lint0, uint32_t lint1)
{
    apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | IRQ_VECTOR_LAPIC_TIMER);
    apic_write(APIC_REG_LVT_LINT0, lint0);
    apic_write(APIC_REG_LVT_LINT1, lint1);
    apic_write(APIC_REG_LVT_ERROR, APIC_LVT_MASKED | IRQ_VECTOR_SPURIOUS);
    /* Entries beyond the version register's Max LVT Entry do not exist. */
    if (max_lvt >= 4)
        apic_write(APIC_REG_LVT_PERFMON, APIC_LVT_MASKED);
    if (max_lvt >= 5)
        apic_write(APIC_REG_LVT_THERMAL, APIC_LVT_MASKED);
    if (max_lvt >= 6)
        apic_write(APIC_REG_LVT_CMCI, APIC_LVT_MASKED);
}

/* ESR, §11.5.3: a write latches the current errors into the register, then it
 * can be read; a second write-read pair clears what firmware left. */
static uint32_t apic_latch_error_status(void)
{
    apic_write(APIC_REG_ESR, 0);
    return apic_read(APIC_REG_ESR);
}

/* Firmware may leave a vector in service; EOI until the ISR is empty so our
 * first interrupt is not blocked behind it (bounded: 256 vectors at most). */
static void apic_drain_in_service(void)
{
    for (int round = 0; round < 256; round++) {
        bool any = false;
        for (int n = 0; n < 8; n++)
            any |= apic_read(APIC_REG_ISR(n)) != 0;
        if (!any)
            return;
        apic_write(APIC_REG_EOI, 0);
    }
    klog(LOG_WARN, "apic: in-service register still not empty after 256 EOIs\n");
}

/* 8259A initialisation: ICW1 (edge, cascade, ICW4 follows), ICW2 (vector base),
 * ICW3 (slave on IR2), ICW4 (8086 mode), then OCW1 masking every line. Port
 * 0x80 writes give the old parts their recovery time between accesses. */
static void pic_remap_and_mask(void)
{
    static const struct { uint16_t port; uint8_t value; } sequence[] = {
        { PIC_MASTER_COMMAND, PIC_ICW1_INIT_WITH_ICW4 },
        { PIC_SLAVE_COMMAND, PIC_ICW1_INIT_WITH_ICW4 },
        { PIC_MASTER_DATA, PIC_MASTER_VECTOR_BASE },
        { PIC_SLAVE_DATA, PIC_SLAVE_VECTOR_BASE },
        { PIC_MASTER_DATA, PIC_ICW3_MASTER_SLAVE_ON_IR2 },
        { PIC_SLAVE_DATA, PIC_ICW3_SLAVE_ID_2 },
        { PIC_MASTER_DATA, PIC_ICW4_8086 },
        { PIC_SLAVE_DATA, PIC_ICW4_8086 },
        { PIC_MASTER_DATA, 0xff },
        { PIC_SLAVE_DATA, 0xff },
    };
    for (unsigned i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++) {
        outb(sequence[i].port, sequence[i].value);
        outb(0x80, 0);
    }
}

/* ---- the timer ---- */

/* Divide Configuration Register values (§11.5.4 figure 11-10), by log2 of the divisor. */
static const uint32_t timer_divide_config[TIMER_MAX_DIVIDE_SHIFT + 1] = {
    0xb, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa,
};

/* The timer's clock at divide-by-1: count down from the maximum for a while
 * with the LVT masked and compare with the TSC. */
static uint64_t timer_calibration_window(void)
{
    apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_TIMER_ONESHOT | IRQ_VECTOR_LAPIC_TIMER);
    apic_write(APIC_REG_TIMER_DIVIDE, timer_divide_config[0]);
    apic_write(APIC_REG_TIMER_INITIAL, UINT32_MAX);
    uint64_t tsc_start = tsc_read();
    uint32_t count_start = apic_read(APIC_REG_TIMER_CURRENT);
    delay_us(TIMER_CALIBRATION_US);
    uint64_t tsc_end = tsc_read();
    uint32_t count_end = apic_read(APIC_REG_TIMER_CURRENT);
    apic_write(APIC_REG_TIMER_INITIAL, 0);
    if (count_end >= count_start)
        return 0;
    return rate_hz(count_start - count_end, tsc_ticks_to_ns(tsc_end - tsc_start));
}

static void timer_calibrate(void)
{
    uint64_t rates[TIMER_CALIBRATION_WINDOWS];
    for (int i = 0; i < TIMER_CALIBRATION_WINDOWS; i++) {
        rates[i] = timer_calibration_window();
        if (rates[i] == 0) {
            klog(LOG_ERR, "apic: the timer's current count did not move in %u us at divide-by-1; no timer\n",
                 TIMER_CALIBRATION_US);
            return;
        }
    }
    uint64_t hz = median_u64(rates, TIMER_CALIBRATION_WINDOWS);
    if (hz < TIMER_MIN_HZ || !scale_init(&ns_to_timer_ticks, NS_PER_SECOND, hz) ||
        !scale_init(&timer_ticks_to_ns, hz, NS_PER_SECOND)) {
        klog(LOG_ERR, "apic: timer calibrated to %llu Hz, outside what bareio can use; no timer\n",
             (unsigned long long)hz);
        return;
    }
    timer_hz = hz;
}

void apic_timer_arm(int vector, uint64_t ns)
{
    if (!apic_up || timer_hz == 0) {
        klog(LOG_ERR, "apic: timer not available (not calibrated); a %llu ns shot cannot be armed\n",
             (unsigned long long)ns);
        return;
    }
    if (vector < 16 || vector > 255) {
        /* §11.5.3: vectors 0-15 are illegal and only set an ESR bit. */
        klog(LOG_ERR, "apic: timer vector %d is not a usable vector\n", vector);
        return;
    }
    /* Calibration error must only ever make the shot late: pad by 1/1024 and
     * one tick, then round up at the divider. */
    uint64_t ticks = scale_apply(&ns_to_timer_ticks, ns);
    ticks += ticks / 1024 + 1;
    unsigned shift = 0;
    while (shift < TIMER_MAX_DIVIDE_SHIFT && ((ticks + (1ull << shift) - 1) >> shift) > UINT32_MAX)
        shift++;
    uint64_t count = (ticks + (1ull << shift) - 1) >> shift;
    if (count > UINT32_MAX) {
        klog(LOG_WARN, "apic: %llu ns is beyond the timer's range; clamped\n", (unsigned long long)ns);
        count = UINT32_MAX;
    }
    uint64_t flags = irq_save();
    /* §11.5.4: set mode and divider first; writing the initial count starts it. */
    apic_write(APIC_REG_TIMER_INITIAL, 0);
    apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | (uint32_t)(vector & 0xff));
    apic_write(APIC_REG_TIMER_DIVIDE, timer_divide_config[shift]);
    struct cpu_local *c = shot_record();
    c->timer_divide_shift = (uint8_t)shift;
    c->timer_vector = (uint8_t)vector;
    apic_write(APIC_REG_TIMER_INITIAL, (uint32_t)count);
    irq_restore(flags);
}

void apic_timer_oneshot_ns(uint64_t ns)
{
    apic_timer_arm(IRQ_VECTOR_LAPIC_TIMER, ns);
}

void apic_timer_cancel(void)
{
    if (!apic_up)
        return;
    /* §11.5.4: an initial count of 0 stops the timer. */
    apic_write(APIC_REG_TIMER_INITIAL, 0);
    apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | (uint32_t)shot_vector(shot_record()));
}

uint64_t apic_timer_remaining_ns(void)
{
    if (!apic_up || timer_hz == 0)
        return 0;
    uint64_t current = apic_read(APIC_REG_TIMER_CURRENT);
    return scale_apply(&timer_ticks_to_ns, current << shot_record()->timer_divide_shift);
}

int apic_timer_vector(void)
{
    return shot_vector(shot_record());
}

uint64_t apic_timer_frequency_hz(void)
{
    return timer_hz;
}

/* ---- interrupts ---- */

uint32_t apic_id(void)
{
    return lapic_id_value;
}

void apic_eoi(void)
{
    /* §11.8.5: any write to the EOI register; 0 for future compatibility. */
    apic_write(APIC_REG_EOI, 0);
}

static bool apic_wait_icr_idle(void)
{
    if (mode == APIC_MODE_X2APIC)
        return true;            /* §11.12.9: no delivery status in x2APIC mode */
    uint64_t deadline = deadline_after_us(ICR_IDLE_TIMEOUT_US);
    while (apic_read(APIC_REG_ICR_LOW) & APIC_ICR_DELIVERY_PENDING) {
        if (deadline_passed(deadline)) {
            klog(LOG_ERR, "apic: ICR delivery status still 'send pending' after %u us (ICR %#x, ESR %#x)\n",
                 ICR_IDLE_TIMEOUT_US, apic_read(APIC_REG_ICR_LOW), apic_latch_error_status());
            return false;
        }
        cpu_pause();
    }
    return true;
}

bool apic_send_self_ipi(int vector)
{
    if (!apic_up || vector < 16 || vector > 255) {
        klog(LOG_ERR, "apic: cannot send a self-IPI on vector %d\n", vector);
        return false;
    }
    uint64_t flags = irq_save();
    bool ok = apic_wait_icr_idle();
    if (ok) {
        /* §11.6.1: the high half holds the destination, ignored with the
         * "self" shorthand; writing the low half sends. */
        uint32_t low = APIC_ICR_SHORTHAND_SELF | APIC_ICR_LEVEL_ASSERT |
                       APIC_ICR_DELIVERY_FIXED | (uint32_t)vector;
        if (mode == APIC_MODE_X2APIC) {
            wrmsr(x2apic_msr(APIC_REG_ICR_LOW), low);   /* one 64-bit MSR, §11.12.9 */
        } else {
            apic_write(APIC_REG_ICR_HIGH, 0);
            apic_write(APIC_REG_ICR_LOW, low);
        }
        ok = apic_wait_icr_idle();
    }
    irq_restore(flags);
    return ok;
}

/* ---- IPIs to other CPUs (kernel/smp.c) ---- */

bool apic_is_x2apic(void) { return mode == APIC_MODE_X2APIC; }

/* One IPI to one physical destination. xAPIC: destination in ICR high bits
 * 31:24, the low write sends, then delivery status is watched until idle
 * (bounded). x2APIC: one 64-bit write of MSR 0x830 with the destination in
 * bits 63:32, no delivery status to watch (§11.12.9) — untested here, QEMU
 * 7.2's TCG having no x2APIC. */
static bool apic_send_ipi(uint32_t destination, uint32_t low)
{
    if (!apic_up)
        return false;
    if (mode == APIC_MODE_XAPIC && destination > XAPIC_MAX_ID) {
        klog(LOG_ERR, "apic: apic id %u cannot be addressed in xAPIC mode (8-bit destination)\n",
             destination);
        return false;
    }
    uint64_t flags = irq_save();
    bool ok = apic_wait_icr_idle();
    if (ok) {
        if (mode == APIC_MODE_X2APIC) {
            wrmsr(x2apic_msr(APIC_REG_ICR_LOW),
                  ((uint64_t)destination << APIC_ICR_X2APIC_DEST_SHIFT) | low);
        } else {
            apic_write(APIC_REG_ICR_HIGH, destination << APIC_ICR_XAPIC_DEST_SHIFT);
            apic_write(APIC_REG_ICR_LOW, low);
        }
        ok = apic_wait_icr_idle();
    }
    irq_restore(flags);
    return ok;
}

bool apic_send_init(uint32_t destination)
{
    /* §8.4.4.1 / MP spec B.4: INIT, level-triggered, asserted. No de-assert
     * follows: only the 82489DX needed one, and x2APIC mode has none. */
    return apic_send_ipi(destination, APIC_ICR_DELIVERY_INIT | APIC_ICR_LEVEL_ASSERT |
                                      APIC_ICR_TRIGGER_LEVEL);
}

bool apic_send_startup(uint32_t destination, uint8_t page_vector)
{
    /* The vector is the start page: the AP begins in real mode at
     * CS:IP = (vector << 8):0000, i.e. physical vector << 12. */
    return apic_send_ipi(destination, APIC_ICR_DELIVERY_STARTUP | APIC_ICR_LEVEL_ASSERT | page_vector);
}

bool apic_send_nmi(uint32_t destination)
{
    return apic_send_ipi(destination, APIC_ICR_DELIVERY_NMI | APIC_ICR_LEVEL_ASSERT);
}

bool apic_send_fixed(uint32_t destination, int vector)
{
    return apic_send_ipi(destination, APIC_ICR_DELIVERY_FIXED | APIC_ICR_LEVEL_ASSERT |
                                      ((uint32_t)vector & 0xff));
}

uint32_t apic_error_status_clear(void)
{
    if (!apic_up)
        return 0;
    apic_latch_error_status();
    return apic_latch_error_status();
}

/* The running CPU's LAPIC id, read from its own register. */
uint32_t apic_read_id(void)
{
    return mode == APIC_MODE_X2APIC ? apic_read(APIC_REG_ID) : apic_read(APIC_REG_ID) >> APIC_ID_SHIFT;
}

uint32_t apic_ap_init(void)
{
    /* After INIT the AP's LAPIC is in xAPIC mode at the reset base (EN set,
     * EXTD clear; §11.4.4, §11.12.5); x2APIC is one legal step from there. */
    uint64_t msr = rdmsr(MSR_IA32_APIC_BASE);
    if (!(msr & APIC_BASE_EN)) {
        msr = (msr & ~APIC_BASE_EXTD) | APIC_BASE_EN;     /* disabled -> xAPIC first */
        wrmsr(MSR_IA32_APIC_BASE, msr);
    }
    if (mode == APIC_MODE_X2APIC && !(msr & APIC_BASE_EXTD))
        wrmsr(MSR_IA32_APIC_BASE, msr | APIC_BASE_EXTD);
    uint32_t max_lvt = APIC_VERSION_MAX_LVT(apic_read(APIC_REG_VERSION));
    /* Every LVT masked, LINT0 and LINT1 included: an AP takes no interrupt
     * yet, and on PCs only the BSP's LINT pins are wired (MP spec §5.1). */
    apic_setup_lvt(max_lvt, APIC_LVT_MASKED, APIC_LVT_MASKED);
    apic_write(APIC_REG_TPR, 0);
    apic_write(APIC_REG_SVR, APIC_SVR_SOFTWARE_ENABLE | IRQ_VECTOR_SPURIOUS);
    apic_latch_error_status();
    return apic_read_id();
}

uint32_t apic_msi_address(void)
{
    /* Redirection hint 0 and destination mode 0: physical, this CPU only. */
    return MSI_ADDRESS_BASE | ((lapic_id_value & 0xff) << MSI_ADDRESS_DEST_ID_SHIFT);
}

uint32_t apic_msi_address_for(uint32_t apic_id)
{
    if (apic_id > XAPIC_MAX_ID)
        return 0;
    return MSI_ADDRESS_BASE | (apic_id << MSI_ADDRESS_DEST_ID_SHIFT);
}

uint32_t apic_msi_data(int vector)
{
    return MSI_DATA_TRIGGER_EDGE | MSI_DATA_DELIVERY_FIXED | ((uint32_t)vector & 0xff);
}

bool apic_vector_in_service(int vector)
{
    return apic_up && vector >= 0 && vector <= 255 && (apic_read(APIC_REG_ISR(vector / 32)) >> (vector % 32)) & 1;
}

bool apic_vector_requested(int vector)
{
    return apic_up && vector >= 0 && vector <= 255 && (apic_read(APIC_REG_IRR(vector / 32)) >> (vector % 32)) & 1;
}

uint32_t apic_error_status(void)
{
    return apic_up ? apic_latch_error_status() : 0;
}

uint32_t apic_spurious_register(void)
{
    return apic_up ? apic_read(APIC_REG_SVR) : 0;
}

void apic_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(d & CPUID_1_EDX_APIC))
        panic("apic: CPUID.1:EDX.APIC[bit 9] is clear: no local APIC");

    lapic_phys = apic_enable_mode();
    bool have_pics = apic_check_madt(lapic_phys);
    if (mode == APIC_MODE_XAPIC) {
        lapic = mmio_map(lapic_phys, APIC_REGISTER_BLOCK_SIZE);
        if (!lapic)
            panic("apic: cannot map the local APIC registers at %#llx",
                  (unsigned long long)lapic_phys);
    }

    uint32_t version = apic_read(APIC_REG_VERSION);
    if (version == 0xffffffffu)
        panic("apic: version register reads all ones at %#llx: nothing decodes there",
              (unsigned long long)lapic_phys);
    /* §11.12.5.1: x2APIC mode has the whole 32-bit ID in the register. */
    lapic_id_value = mode == APIC_MODE_X2APIC ? apic_read(APIC_REG_ID)
                                              : apic_read(APIC_REG_ID) >> APIC_ID_SHIFT;
    if (lapic_id_value > 0xff)
        klog(LOG_WARN, "apic: x2APIC id %u does not fit an MSI address's 8-bit destination: "
             "device interrupts cannot reach this CPU without interrupt remapping; the drivers "
             "must poll (nvme.irq=poll ahci.irq=poll)\n", lapic_id_value);

    if (have_pics)
        pic_remap_and_mask();
    apic_setup_lvt(APIC_VERSION_MAX_LVT(version), APIC_LVT_MASKED | APIC_LVT_DELIVERY_EXTINT,
                   APIC_LVT_DELIVERY_NMI);
    apic_write(APIC_REG_TPR, 0);                  /* accept every priority class */
    apic_write(APIC_REG_SVR, APIC_SVR_SOFTWARE_ENABLE | IRQ_VECTOR_SPURIOUS);
    apic_latch_error_status();
    uint32_t esr = apic_latch_error_status();
    if (esr)
        klog(LOG_WARN, "apic: error status %#x right after enabling\n", esr);
    apic_drain_in_service();
    irq_eoi_hook = apic_eoi;
    apic_up = true;

    timer_calibrate();
    kprintf("apic: LAPIC id %u, %s mode at %#llx, version %#x, %u LVT entries, timer %llu.%03llu MHz; "
            "8259 PICs %s\n", lapic_id_value, mode == APIC_MODE_X2APIC ? "x2APIC" : "xAPIC",
            (unsigned long long)lapic_phys,
            APIC_VERSION_VERSION(version), APIC_VERSION_MAX_LVT(version) + 1,
            (unsigned long long)(timer_hz / 1000000), (unsigned long long)(timer_hz / 1000 % 1000),
            have_pics ? "remapped to 32-47 and masked" : "absent (MADT PCAT_COMPAT clear)");
}
