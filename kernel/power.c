/* SPDX-License-Identifier: MIT */
/* kernel/power.c — ACPI soft-off (ACPI 6.4 §7.4.2 \_S5, §4.8.3.2.1 PM1
 * control, §4.8.3.7 sleep control register, §16.1.7 entering S5).
 *
 * Without an AML interpreter the sleep type comes from \_S5's constant
 * package (lib/aml_sleep.h); what a method would compute is refused by name.
 * The sequence: when the firmware left the machine in legacy mode (SCI_EN
 * clear) and the FADT names an SMI command port, write ACPI_ENABLE there and
 * wait for SCI_EN (bounded: the spec gives no figure, firmware takes
 * milliseconds; 3 s is far beyond any); then write SLP_TYPx with SLP_EN to
 * PM1a_CNT and, when the FADT has one, PM1b_CNT — or, on a hardware-reduced
 * platform, SLP_TYPx and SLP_EN to the sleep control register. A machine
 * still running 5 s later did not power off: the caller says so and halts.
 * Everything is read at boot, so the exit path only writes registers. */
#include "kernel/power.h"
#include "kernel/acpi.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/time.h"
#include "lib/aml_sleep.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stddef.h>

/* The FADT fields this file reads (ACPI 6.4 Table 5.9 offsets). */
#define FADT_SMI_CMD            48
#define FADT_ACPI_ENABLE        52
#define FADT_PM1A_CNT_BLK       64
#define FADT_PM1B_CNT_BLK       68
#define FADT_FLAGS              112
#define FADT_X_PM1A_CNT_BLK     172
#define FADT_X_PM1B_CNT_BLK     184
#define FADT_SLEEP_CONTROL_REG  244
#define FADT_HW_REDUCED_ACPI    (1u << 20)      /* Table 5.10 */

#define PM1_CNT_SCI_EN          (1u << 0)       /* Table 4.13 */
#define PM1_CNT_SLP_TYP_SHIFT   10
#define PM1_CNT_SLP_TYP_MASK    (7u << 10)
#define PM1_CNT_SLP_EN          (1u << 13)
#define SLEEP_CTL_SLP_TYP_SHIFT 2               /* §4.8.3.7 */
#define SLEEP_CTL_SLP_EN        (1u << 5)

#define ACPI_ENABLE_WAIT_MS     3000
#define POWEROFF_WAIT_MS        5000

struct reg {
    bool present;
    struct acpi_gas gas;
    volatile void *mmio;            /* mapped at boot for a memory-space register */
};

static struct reg pm1a, pm1b, sleep_ctl;
static uint32_t smi_cmd;
static uint8_t acpi_enable_value;
static struct aml_sleep_type s5;
static bool ready;

static uint32_t fadt_u32(const uint8_t *f, size_t off) { uint32_t v; memcpy(&v, f + off, 4); return v; }

/* A register from the FADT: the 64-bit GAS when the table is long enough and
 * its address is set (it takes precedence, §5.2.9), else the 32-bit port. */
static bool reg_from_fadt(const struct acpi_sdt_header *fadt, size_t x_off, size_t legacy_off,
                          unsigned width, struct reg *out)
{
    const uint8_t *f = (const uint8_t *)fadt;
    memset(out, 0, sizeof(*out));
    if (x_off && fadt->length >= x_off + sizeof(struct acpi_gas)) {
        memcpy(&out->gas, f + x_off, sizeof(out->gas));
        if (out->gas.address)
            goto have;
    }
    if (!legacy_off || fadt->length < legacy_off + 4 || !fadt_u32(f, legacy_off))
        return false;
    memset(&out->gas, 0, sizeof(out->gas));
    out->gas.address_space_id = ACPI_GAS_SPACE_SYSTEM_IO;
    out->gas.register_bit_width = (uint8_t)width;
    out->gas.address = fadt_u32(f, legacy_off);
have:
    if (out->gas.address_space_id == ACPI_GAS_SPACE_SYSTEM_IO) {
        if (out->gas.address > 0xffff - 1)
            return false;
    } else if (out->gas.address_space_id == ACPI_GAS_SPACE_SYSTEM_MEMORY) {
        out->mmio = mmio_map(out->gas.address, 2);
        if (!out->mmio)
            return false;
    } else {
        return false;
    }
    out->present = true;
    return true;
}

static uint16_t reg_read(const struct reg *r)
{
    if (r->mmio)
        return r->gas.register_bit_width == 8 ? mmio_read8(r->mmio, 0) : mmio_read16(r->mmio, 0);
    return r->gas.register_bit_width == 8 ? inb((uint16_t)r->gas.address)
                                          : inw((uint16_t)r->gas.address);
}

static void reg_write(const struct reg *r, uint16_t v)
{
    if (r->mmio) {
        if (r->gas.register_bit_width == 8)
            mmio_write8(r->mmio, 0, (uint8_t)v);
        else
            mmio_write16(r->mmio, 0, v);
    } else if (r->gas.register_bit_width == 8) {
        outb((uint16_t)r->gas.address, (uint8_t)v);
    } else {
        outw((uint16_t)r->gas.address, v);
    }
}

static void reg_name(char *buf, size_t n, const char *what, const struct reg *r)
{
    snprintf(buf, n, "%s %s %#llx", what, r->mmio ? "memory" : "I/O",
             (unsigned long long)r->gas.address);
}

/* \_S5 in the DSDT, else in the SSDTs; the DSDT's own answer is the one
 * reported when none has it. */
static enum aml_sleep_status find_s5(void)
{
    enum aml_sleep_status first = AML_SLEEP_NOT_FOUND;
    const struct acpi_sdt_header *t = acpi_find_table("DSDT", 0);
    for (unsigned i = 0; t; t = acpi_find_table("SSDT", i++)) {
        if (t->length > sizeof(*t)) {
            enum aml_sleep_status st = aml_sleep_type((const uint8_t *)(t + 1),
                                                      t->length - sizeof(*t), "_S5_", &s5);
            if (st == AML_SLEEP_OK)
                return st;
            if (first == AML_SLEEP_NOT_FOUND)
                first = st;
        }
    }
    return first;
}

static void wait_ms(uint64_t ms)
{
    uint64_t deadline = deadline_after_ms(ms);
    while (!deadline_passed(deadline))
        cpu_pause();
}

/* Legacy mode to ACPI mode (§16.3.1), bounded. */
static void acpi_mode_enable(void)
{
    if (reg_read(&pm1a) & PM1_CNT_SCI_EN)
        return;
    if (!smi_cmd || !acpi_enable_value) {
        kprintf("bareio: SCI_EN is clear and the FADT names no SMI command; trying S5 as is\n");
        return;
    }
    outb((uint16_t)smi_cmd, acpi_enable_value);
    uint64_t deadline = deadline_after_ms(ACPI_ENABLE_WAIT_MS);
    while (!(reg_read(&pm1a) & PM1_CNT_SCI_EN)) {
        if (deadline_passed(deadline)) {
            kprintf("bareio: ACPI mode not entered %u ms after ACPI_ENABLE (%#x to port %#x); "
                    "trying S5 as is\n", ACPI_ENABLE_WAIT_MS, acpi_enable_value, smi_cmd);
            return;
        }
        cpu_pause();
    }
}

static void pm1_sleep(const struct reg *r, uint8_t typ)
{
    uint16_t v = reg_read(r);
    v = (uint16_t)((v & ~PM1_CNT_SLP_TYP_MASK) | ((unsigned)typ << PM1_CNT_SLP_TYP_SHIFT));
    reg_write(r, v);
    reg_write(r, (uint16_t)(v | PM1_CNT_SLP_EN));
}

static void power_off(void)
{
    char where[64];
    if (!ready)
        return;
    if (sleep_ctl.present) {
        reg_name(where, sizeof(where), "sleep control", &sleep_ctl);
        kprintf("bareio: powering off through ACPI S5 (%s <- SLP_TYP %u)\n", where, s5.typ_a);
        reg_write(&sleep_ctl, (uint16_t)(((unsigned)s5.typ_a << SLEEP_CTL_SLP_TYP_SHIFT) |
                                         SLEEP_CTL_SLP_EN));
    } else {
        acpi_mode_enable();
        reg_name(where, sizeof(where), "PM1a_CNT", &pm1a);
        kprintf("bareio: powering off through ACPI S5 (%s <- SLP_TYP %u)\n", where, s5.typ_a);
        pm1_sleep(&pm1a, s5.typ_a);
        if (pm1b.present)
            pm1_sleep(&pm1b, s5.typ_b);
    }
    wait_ms(POWEROFF_WAIT_MS);
    kprintf("bareio: still running %u ms after the S5 request: this machine did not power "
            "off\n", POWEROFF_WAIT_MS);
}

bool power_off_possible(void) { return ready; }

void power_init(void)
{
    const struct acpi_sdt_header *fadt = acpi_find_table("FACP", 0);
    const char *why = NULL;
    char detail[96];

    if (!fadt) {
        why = "no valid FADT";
    } else {
        const uint8_t *f = (const uint8_t *)fadt;
        bool reduced = fadt->length >= FADT_FLAGS + 4 &&
                       (fadt_u32(f, FADT_FLAGS) & FADT_HW_REDUCED_ACPI);
        enum aml_sleep_status st = find_s5();
        if (st != AML_SLEEP_OK) {
            snprintf(detail, sizeof(detail), "\\_S5: %s", aml_sleep_status_name(st));
            why = detail;
        } else if (reduced) {
            if (!reg_from_fadt(fadt, FADT_SLEEP_CONTROL_REG, 0, 8, &sleep_ctl))
                why = "hardware-reduced ACPI without a usable sleep control register";
        } else if (!reg_from_fadt(fadt, FADT_X_PM1A_CNT_BLK, FADT_PM1A_CNT_BLK, 16, &pm1a)) {
            why = "no usable PM1a control register in the FADT";
        } else {
            reg_from_fadt(fadt, FADT_X_PM1B_CNT_BLK, FADT_PM1B_CNT_BLK, 16, &pm1b);
            if (fadt->length >= FADT_ACPI_ENABLE + 1) {
                smi_cmd = fadt_u32(f, FADT_SMI_CMD);
                acpi_enable_value = f[FADT_ACPI_ENABLE];
                if (smi_cmd > 0xffff)
                    smi_cmd = 0;
            }
        }
    }
    if (why) {
        exit_set_poweroff_unavailable(why);
        klog(LOG_INFO, "power: exit=poweroff cannot work here: %s\n", why);
        return;
    }
    ready = true;
    exit_set_poweroff_hook(power_off);
    klog(LOG_INFO, "power: ACPI S5 SLP_TYP %u/%u through %s\n", s5.typ_a, s5.typ_b,
         sleep_ctl.present ? "the sleep control register" : pm1b.present ? "PM1a_CNT and PM1b_CNT"
                                                                          : "PM1a_CNT");
}
