/* SPDX-License-Identifier: MIT */
/* drivers/tco/tco.c — the Intel TCO watchdog of ICH9/ICH10-class chipsets
 * (Intel I/O Controller Hub 9 datasheet §13.9 TCO registers, §13.1 LPC
 * configuration, §10.1.75 GCS), which QEMU's q35 emulates: the hardware
 * half of watchdog= (kernel/watchdog.h).
 *
 * The TCO timer counts down in 0.6 s ticks from TCO_TMR; a write to TCO_RLD
 * reloads it. The first time it reaches zero it sets TCO1_STS.TIMEOUT (and
 * raises an SMI, or on some chipsets and QEMU an NMI); the second time it
 * sets TCO2_STS.SECOND_TO_STS and resets the machine — unless GCS.NO_REBOOT
 * is set, which firmware often leaves set and a board strap can pin. So the
 * driver clears NO_REBOOT and reads it back: a bit that stays set is the
 * strap, and a watchdog that cannot reset is not armed (said, not assumed).
 *
 * Probed at boot (stage 15, after PCI) when watchdog= is given; armed by
 * the harness when the run starts (watchdog_start), so a long device
 * bring-up before the run is not cut short. TCO_TMR is 30 ticks (18 s):
 * kicks come at least every 5 s, the machine resets 36 s after the last one.
 * A SECOND_TO_STS found set at boot (it survives the reset it caused) is
 * reported: the previous run was ended by this watchdog. */
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/stage.h"
#include "kernel/watchdog.h"
#include "drivers/tco/tco.h"
#include "drivers/pci/pci.h"
#include "lib/format.h"

/* LPC bridge (D31:F0) configuration space. */
#define LPC_DEVICE          31
#define LPC_PMBASE          0x40        /* ACPI base address, bits 15:7 */
#define LPC_PMBASE_MASK     0xff80u
#define LPC_ACPI_CNTL       0x44
#define LPC_ACPI_EN         (1u << 7)
#define LPC_RCBA            0xf0        /* root complex base address, bits 31:14 */
#define LPC_RCBA_MASK       0xffffc000u
#define LPC_RCBA_EN         (1u << 0)

/* Chipset configuration registers (memory at RCBA). */
#define RCBA_SIZE           0x4000
#define GCS                 0x3410      /* general control and status */
#define GCS_NO_REBOOT       (1u << 5)

/* TCO registers: I/O at PMBASE + 0x60. */
#define TCO_OFFSET          0x60
#define TCO_RLD             0x00
#define TCO1_STS            0x04
#define TCO1_STS_TIMEOUT    (1u << 3)
#define TCO2_STS            0x06
#define TCO2_STS_SECOND_TO  (1u << 1)
#define TCO2_STS_BOOT       (1u << 2)
#define TCO1_CNT            0x08
#define TCO1_CNT_TMR_HLT    (1u << 11)
#define TCO_TMR             0x12
#define TCO_TMR_MASK        0x3ffu      /* 10 bits; 0 and 1 are ignored by the chipset */

#define TCO_TICK_NS         600000000ull
#define TCO_TICKS           30u
#define TCO_KICK_NS         5000000000ull
_Static_assert(TCO_KICK_NS * 2 < TCO_TICKS * TCO_TICK_NS, "a kick comes well before the first timeout");

/* LPC device IDs of the ICH9 and ICH10 families (Intel's datasheets and
 * specification updates): the chipsets whose TCO sits where this file
 * looks. Another Intel LPC keeps its TCO elsewhere (the PCH's SMBus
 * function, the PMC): named, not guessed at. */
static const uint16_t lpc_ids[] = {
    0x2910, 0x2912, 0x2914, 0x2916, 0x2917, 0x2918, 0x2919,     /* ICH9 */
    0x3a14, 0x3a16, 0x3a18, 0x3a1a,                             /* ICH10 */
};

static uint16_t tco_base;
static volatile void *rcba;
static char name[64];

static void tco_kick(void) { outw((uint16_t)(tco_base + TCO_RLD), 1); }

static void tco_halt(void)
{
    outw((uint16_t)(tco_base + TCO1_CNT),
         (uint16_t)(inw((uint16_t)(tco_base + TCO1_CNT)) | TCO1_CNT_TMR_HLT));
}

static void tco_stop(void)
{
    tco_halt();
    /* NO_REBOOT back on: a later timer start by someone else cannot reset. */
    mmio_write32(rcba, GCS, mmio_read32(rcba, GCS) | GCS_NO_REBOOT);
}

static bool tco_start(void)
{
    uint32_t gcs = mmio_read32(rcba, GCS);
    mmio_write32(rcba, GCS, gcs & ~GCS_NO_REBOOT);
    if (mmio_read32(rcba, GCS) & GCS_NO_REBOOT) {
        kprintf("watchdog: %s: GCS.NO_REBOOT stays set (a board strap pins it): the timer "
                "cannot reset this machine; not armed (watchdog= bounds the run in software "
                "only)\n", name);
        return false;
    }
    tco_halt();
    outw((uint16_t)(tco_base + TCO1_STS), TCO1_STS_TIMEOUT);           /* write 1 to clear */
    outw((uint16_t)(tco_base + TCO_TMR),
         (uint16_t)((inw((uint16_t)(tco_base + TCO_TMR)) & ~TCO_TMR_MASK) | TCO_TICKS));
    tco_kick();
    outw((uint16_t)(tco_base + TCO1_CNT),
         (uint16_t)(inw((uint16_t)(tco_base + TCO1_CNT)) & ~TCO1_CNT_TMR_HLT));
    if (inw((uint16_t)(tco_base + TCO1_CNT)) & TCO1_CNT_TMR_HLT) {
        kprintf("watchdog: %s: TCO_TMR_HLT stays set: the timer did not start; not armed\n", name);
        return false;
    }
    return true;
}

static const struct hw_watchdog tco = {
    .name = name,
    .start = tco_start,
    .kick = tco_kick,
    .stop = tco_stop,
    .kick_interval_ns = TCO_KICK_NS,
    .reboot_after_ns = 2ull * TCO_TICKS * TCO_TICK_NS,
};

static bool known_lpc(const struct pci_device *d)
{
    if (d->vendor_id != 0x8086)
        return false;
    for (unsigned i = 0; i < sizeof(lpc_ids) / sizeof(lpc_ids[0]); i++)
        if (d->device_id == lpc_ids[i])
            return true;
    return false;
}

void tco_probe(void)
{
    struct pci_device *d = pci_find_address(0, 0, LPC_DEVICE, 0);
    if (!d || !known_lpc(d)) {
        if (d)
            kprintf("watchdog: no hardware watchdog: the LPC bridge 00:1f.0 is %04x:%04x, not "
                    "an ICH9/ICH10 (watchdog= bounds the run in software only)\n",
                    d->vendor_id, d->device_id);
        else
            kprintf("watchdog: no hardware watchdog: no device at 00:1f.0 (no ICH9/ICH10 "
                    "chipset; watchdog= bounds the run in software only)\n");
        return;
    }
    uint32_t pmbase = pci_read32(d, LPC_PMBASE) & LPC_PMBASE_MASK;
    uint32_t rcba_reg = pci_read32(d, LPC_RCBA);
    if (!(pci_read8(d, LPC_ACPI_CNTL) & LPC_ACPI_EN) || !pmbase || pmbase > 0xffff - 0x80) {
        kprintf("watchdog: ICH LPC %04x: the firmware left its PM I/O space off (PMBASE %#x): "
                "no TCO watchdog\n", d->device_id, pmbase);
        return;
    }
    if (!(rcba_reg & LPC_RCBA_EN) || !(rcba_reg & LPC_RCBA_MASK)) {
        kprintf("watchdog: ICH LPC %04x: the chipset configuration space (RCBA %#x) is off: "
                "NO_REBOOT cannot be cleared; no TCO watchdog\n", d->device_id, rcba_reg);
        return;
    }
    rcba = mmio_map(rcba_reg & LPC_RCBA_MASK, RCBA_SIZE);
    if (!rcba) {
        kprintf("watchdog: ICH LPC %04x: RCBA %#x could not be mapped; no TCO watchdog\n",
                d->device_id, rcba_reg & LPC_RCBA_MASK);
        return;
    }
    tco_base = (uint16_t)(pmbase + TCO_OFFSET);
    snprintf(name, sizeof(name), "Intel TCO (LPC %04x at 00:1f.0, I/O %#x)", d->device_id,
             tco_base);
    uint16_t sts2 = inw((uint16_t)(tco_base + TCO2_STS));
    if (sts2 & TCO2_STS_SECOND_TO) {
        kprintf("watchdog: the previous boot was ended by the TCO watchdog (SECOND_TO_STS set)\n");
        watchdog_note_previous_reset(name);
        outw((uint16_t)(tco_base + TCO2_STS), TCO2_STS_SECOND_TO | TCO2_STS_BOOT);
    }
    tco_halt();             /* stopped until the run starts */
    if (watchdog_register(&tco))
        kprintf("watchdog: %s found; armed when the run starts\n", name);
}

static int tco_stage(void)
{
    if (watchdog_hw_wanted())
        tco_probe();
    return KERNEL_STAGE_CONTINUE;
}
KERNEL_STAGE(15, watchdog, tco_stage);
