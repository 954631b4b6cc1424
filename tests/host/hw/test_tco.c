/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_tco.c — the TCO watchdog driver (drivers/tco) on a
 * register model of the ICH9 parts it touches: the LPC bridge's PMBASE,
 * ACPI_CNTL and RCBA, GCS in the chipset configuration space, and the TCO
 * I/O registers with a timer that runs on the fake clock in 0.6 s ticks and
 * resets "the machine" at its second timeout unless NO_REBOOT is set.
 * What QEMU cannot show: a board strap that pins NO_REBOOT (QEMU 7.2's
 * noreboot strap leaves GCS writable), a timer that does not start, firmware
 * that left the PM I/O space or RCBA off, another chipset at 00:1f.0, a
 * SECOND_TO_STS left from the boot before. */
#include "tests/host/hw/hw.h"
#include "drivers/tco/tco.h"
#include "kernel/watchdog.h"

#define PMBASE      0x0600u
#define TCO         (PMBASE + 0x60u)
#define RCBA_PHYS   0xfed1c000u
#define TICK_NS     (600 * FAKE_MS)

struct ich9 {
    uint32_t gcs;
    bool strap_no_reboot;       /* NO_REBOOT reads 1 whatever is written */
    bool halt_stuck;            /* TCO_TMR_HLT cannot be cleared */
    uint16_t sts1, sts2, cnt1, tmr;
    uint64_t reload_ns;         /* when the count last started from tmr */
    unsigned timeouts;          /* since the last reload write */
    bool reset;                 /* the second timeout reset the machine */
    uint64_t reset_ns;
    unsigned kicks;
};

static bool running(const struct ich9 *m) { return !(m->cnt1 & (1u << 11)) && m->tmr > 1; }

/* Brings the timer up to the fake clock: each expiry sets TIMEOUT and
 * reloads; the second resets unless NO_REBOOT. */
static void advance(struct ich9 *m)
{
    while (running(m) && !m->reset && fake_now() >= m->reload_ns + m->tmr * TICK_NS) {
        m->reload_ns += m->tmr * TICK_NS;
        m->sts1 |= 1u << 3;
        if (++m->timeouts == 2) {
            m->sts2 |= 1u << 1;
            m->timeouts = 0;
            if (!(m->gcs & (1u << 5)) && !m->strap_no_reboot) {
                m->reset = true;
                m->reset_ns = m->reload_ns;
            }
        }
    }
}

static uint32_t port_in(void *model, uint16_t port, unsigned size)
{
    struct ich9 *m = model;
    (void)size;
    advance(m);
    switch (port - TCO) {
    case 0x04: return m->sts1;
    case 0x06: return m->sts2;
    case 0x08: return m->cnt1;
    case 0x12: return m->tmr;
    }
    fake_model_error("ich9: read of port %#x", port);
    return 0xffff;
}

static void port_out(void *model, uint16_t port, unsigned size, uint32_t value)
{
    struct ich9 *m = model;
    (void)size;
    advance(m);
    switch (port - TCO) {
    case 0x00:                  /* TCO_RLD: any write reloads */
        m->kicks++;
        m->timeouts = 0;
        m->reload_ns = fake_now();
        return;
    case 0x04: m->sts1 &= (uint16_t)~value; return;         /* write 1 to clear */
    case 0x06: m->sts2 &= (uint16_t)~value; return;
    case 0x08: {
        bool was = running(m);
        m->cnt1 = (uint16_t)value;
        if (m->halt_stuck)
            m->cnt1 |= 1u << 11;
        if (!was && running(m))
            m->reload_ns = fake_now();
        return;
    }
    case 0x12: m->tmr = (uint16_t)(value & 0x3ff); return;
    }
    fake_model_error("ich9: write of %#x to port %#x", value, port);
}

static const struct fake_port_ops ports = { port_in, port_out };

static uint32_t rcba_read(void *model, uint32_t offset, unsigned size)
{
    struct ich9 *m = model;
    (void)size;
    if (offset == 0x3410)
        return m->gcs | (m->strap_no_reboot ? 1u << 5 : 0);
    return 0;
}

static void rcba_write(void *model, uint32_t offset, unsigned size, uint32_t value)
{
    struct ich9 *m = model;
    (void)size;
    if (offset == 0x3410)
        m->gcs = value;
}

static const struct fake_mmio_ops rcba_ops = { rcba_read, rcba_write, NULL };

/* An ICH9 as firmware leaves it: PM I/O on at 0x600, RCBA on, NO_REBOOT
 * set, the timer halted at its default of 4 ticks. */
static struct pci_device *ich9_add(struct ich9 *m, uint16_t device_id)
{
    *m = (struct ich9){ .gcs = 1u << 5, .cnt1 = 1u << 11, .tmr = 4 };
    fake_port_model(&ports, m);
    fake_mmio_region_at(RCBA_PHYS, 0x4000, &rcba_ops, m);
    struct pci_device *d = fake_pci_add_at(31, 0, 0x8086, device_id, 0x06, 0x01);
    uint8_t *c = fake_pci_config(d);
    c[0x40] = (uint8_t)(PMBASE | 1);    /* bit 0 reads 1: an I/O space indicator */
    c[0x41] = (uint8_t)(PMBASE >> 8);
    c[0x44] = 0x80;                     /* ACPI_EN */
    uint32_t rcba = RCBA_PHYS | 1;
    memcpy(c + 0xf0, &rcba, 4);
    return d;
}

static const struct hw_watchdog *probe(const char *line)
{
    HT_EXPECT(fake_cmdline(line));
    tco_probe();
    return watchdog_start() ? watchdog_armed() : NULL;
}

/* Kicks every `every` ns for `for_ns`, as the harness's timer does. */
static void kick_for(uint64_t every, uint64_t for_ns)
{
    for (uint64_t t = 0; t < for_ns; t += every) {
        fake_advance(every);
        watchdog_kick();
    }
}

HTEST(tco_kept_alive_by_kicks_resets_36_s_after_the_last)
{
    struct ich9 m;
    ich9_add(&m, 0x2918);
    const struct hw_watchdog *w = probe("watchdog=600");
    HT_EXPECT(w != NULL);
    if (!w)
        return;
    HT_EXPECT(!(m.gcs & (1u << 5)));                /* NO_REBOOT cleared */
    HT_EXPECT_EQ(m.tmr, 30);
    HT_EXPECT(running(&m));
    HT_EXPECT_EQ(w->kick_interval_ns, 5 * FAKE_S);
    HT_EXPECT_EQ(w->reboot_after_ns, 36 * FAKE_S);
    kick_for(w->kick_interval_ns, 120 * FAKE_S);   /* two minutes of kicks: alive */
    advance(&m);
    HT_EXPECT(!m.reset);
    HT_EXPECT(m.kicks >= 24);
    uint64_t last = fake_now();
    fake_advance(35 * FAKE_S);                      /* the kicks stop */
    advance(&m);
    HT_EXPECT(!m.reset);
    HT_EXPECT(m.sts1 & (1u << 3));                  /* the first timeout came */
    fake_advance(2 * FAKE_S);
    advance(&m);
    HT_EXPECT(m.reset);
    HT_EXPECT_EQ(m.reset_ns - last, 36 * FAKE_S);
}

HTEST(tco_stopped_at_exit_never_resets)
{
    struct ich9 m;
    ich9_add(&m, 0x2918);
    HT_EXPECT(probe("watchdog=60") != NULL);
    watchdog_stop();
    HT_EXPECT(m.cnt1 & (1u << 11));                 /* halted */
    HT_EXPECT(m.gcs & (1u << 5));                   /* NO_REBOOT back on */
    HT_EXPECT(watchdog_armed() == NULL);
    fake_advance(600 * FAKE_S);
    advance(&m);
    HT_EXPECT(!m.reset);
    HT_EXPECT(fake_log_find("stopped") != NULL);
}

HTEST(tco_pinned_no_reboot_is_not_armed)
{
    struct ich9 m;
    ich9_add(&m, 0x2916);
    m.strap_no_reboot = true;
    HT_EXPECT(probe("watchdog=60") == NULL);
    HT_EXPECT(fake_log_find("GCS.NO_REBOOT stays set") != NULL);
    HT_EXPECT(!running(&m));
}

HTEST(tco_timer_that_will_not_start_is_not_armed)
{
    struct ich9 m;
    ich9_add(&m, 0x3a18);
    m.halt_stuck = true;
    HT_EXPECT(probe("watchdog=60") == NULL);
    HT_EXPECT(fake_log_find("TCO_TMR_HLT stays set") != NULL);
}

HTEST(tco_firmware_left_pm_io_or_rcba_off)
{
    struct ich9 m;
    struct pci_device *d = ich9_add(&m, 0x2918);
    fake_pci_config(d)[0x44] = 0;                   /* ACPI_EN clear */
    HT_EXPECT(probe("watchdog=60") == NULL);
    HT_EXPECT(fake_log_find("left its PM I/O space off") != NULL);
    HT_EXPECT(!running(&m));
}

HTEST(tco_rcba_off)
{
    struct ich9 m;
    struct pci_device *d = ich9_add(&m, 0x2918);
    fake_pci_config(d)[0xf0] &= (uint8_t)~1u;
    HT_EXPECT(probe("watchdog=60") == NULL);
    HT_EXPECT(fake_log_find("NO_REBOOT cannot be cleared") != NULL);
}

HTEST(tco_other_chipset_named)
{
    struct ich9 m;
    ich9_add(&m, 0xa304);                           /* a 300-series PCH LPC: TCO elsewhere */
    HT_EXPECT(probe("watchdog=60") == NULL);
    HT_EXPECT(fake_log_find("8086:a304, not an ICH9/ICH10") != NULL);
    HT_EXPECT(m.kicks == 0 && !running(&m));
}

HTEST(tco_reports_the_reset_of_the_boot_before)
{
    struct ich9 m;
    ich9_add(&m, 0x2918);
    m.sts2 = (1u << 1) | (1u << 2);
    HT_EXPECT(probe("watchdog=60") != NULL);
    HT_EXPECT(fake_log_find("previous boot was ended by the TCO watchdog") != NULL);
    HT_EXPECT(watchdog_previous_reset() != NULL);
    HT_EXPECT_EQ(m.sts2, 0);
}

HTEST(tco_not_touched_without_watchdog_key)
{
    struct ich9 m;
    ich9_add(&m, 0x2918);
    HT_EXPECT(fake_cmdline(""));
    HT_EXPECT(!watchdog_hw_wanted());
    HT_EXPECT(fake_cmdline("watchdog=60 watchdog.hw=off"));
    HT_EXPECT(!watchdog_hw_wanted());
}
