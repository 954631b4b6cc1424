/* SPDX-License-Identifier: MIT */
/* kernel/pit.c — 8254 PIT channel 2 as a polled one-shot (Intel 8254 data
 * sheet: mode 0 "interrupt on terminal count"; port 0x61 is the chipset's NMI
 * Status and Control register: bit 0 timer 2 gate, bit 1 speaker data enable,
 * bit 5 timer 2 OUT). Channel 0 and its IRQ 0 are left alone: bareio never
 * unmasks the 8259s. Mode 0 starts counting when the count's high byte is
 * written with the gate already high, so this works whether or not the board
 * (or QEMU, which ignores the gate in mode 0) retriggers on a gate edge.
 *
 * OUT2 is read through port 0x61 where the chipset has one. A machine without
 * it (QEMU's microvm: no speaker port, the read is 0xff) shows OUT2 high the
 * moment the count is loaded; then the 8254's own read-back command (status
 * byte bit 7 = OUT) is used, and a channel whose OUT reads high both ways
 * right after arming is reported as unusable instead of timing nothing. */
#include "kernel/pit.h"
#include "kernel/io.h"
#include "kernel/time.h"
#include "lib/scale.h"

#define PIT_PORT_CHANNEL2 0x42
#define PIT_PORT_COMMAND  0x43
#define PORT_NMI_SC       0x61

/* Read-back (8254 data sheet, "Read-Back Command"): D7-D6 = 11, D5 = 1 (do
 * not latch the count), D4 = 0 (latch the status), D3 = counter 2. The
 * status byte's D7 is OUT. */
#define PIT_CMD_READBACK_STATUS_CH2 0xe8
#define PIT_STATUS_OUT              (1u << 7)

/* Control word: SC = 10 (counter 2), RW = 11 (LSB then MSB), M = 000 (mode 0), BCD = 0. */
#define PIT_CMD_CHANNEL2_LOHI_MODE0 0xb0

#define NMI_SC_TIMER2_GATE   (1u << 0)
#define NMI_SC_SPEAKER_DATA  (1u << 1)
#define NMI_SC_TIMER2_OUT    (1u << 5)
/* Bits 4-7 are read-only status; writes must keep bits 2-3 as read. */
#define NMI_SC_WRITABLE      0x0fu

uint16_t pit_count_for_us(uint64_t us)
{
    uint64_t count = us * PIT_INPUT_HZ / 1000000;
    if (count == 0 || count > PIT_MAX_COUNT)
        return 0;
    return (uint16_t)count;
}

uint64_t pit_count_to_ns(uint64_t count)
{
    return count * NS_PER_SECOND / PIT_INPUT_HZ;
}

static void nmi_sc_write_gate(bool gate)
{
    uint8_t v = inb(PORT_NMI_SC) & NMI_SC_WRITABLE;
    v &= (uint8_t)~(NMI_SC_SPEAKER_DATA | NMI_SC_TIMER2_GATE);
    if (gate)
        v |= NMI_SC_TIMER2_GATE;
    outb(PORT_NMI_SC, v);
}

static enum pit_out_path out_path = PIT_OUT_NMI_SC;
static uint8_t nmi_sc_seen;

static bool out_via_readback(void)
{
    outb(PIT_PORT_COMMAND, PIT_CMD_READBACK_STATUS_CH2);
    return (inb(PIT_PORT_CHANNEL2) & PIT_STATUS_OUT) != 0;
}

/* Just after arming OUT2 is low: the first path that says so is used from
 * then on (decided at each arming, so a path that worked keeps being checked). */
static enum pit_out_path choose_out_path(void)
{
    nmi_sc_seen = inb(PORT_NMI_SC);
    if (!(nmi_sc_seen & NMI_SC_TIMER2_OUT))
        return PIT_OUT_NMI_SC;
    if (!out_via_readback())
        return PIT_OUT_READBACK;
    return PIT_OUT_NONE;
}

/* A host that stalls the CPU past the whole count right after arming also
 * reads OUT high: only PIT_ARMINGS armings in a row say "no usable PIT". */
bool pit_oneshot_start_stamped(uint16_t count, uint64_t *tsc_before, uint64_t *tsc_after)
{
    for (unsigned arming = 0; arming < PIT_ARMINGS; arming++) {
        if (arming)
            pit_oneshot_stop();
        nmi_sc_write_gate(true);
        outb(PIT_PORT_COMMAND, PIT_CMD_CHANNEL2_LOHI_MODE0);   /* OUT goes low */
        outb(PIT_PORT_CHANNEL2, (uint8_t)count);
        *tsc_before = tsc_read();
        outb(PIT_PORT_CHANNEL2, (uint8_t)(count >> 8));        /* counting starts */
        *tsc_after = tsc_read();
        out_path = choose_out_path();
        if (out_path != PIT_OUT_NONE)
            return true;
    }
    return false;
}

bool pit_oneshot_start(uint16_t count)
{
    uint64_t before, after;
    return pit_oneshot_start_stamped(count, &before, &after);
}

enum pit_out_path pit_out_path(void)
{
    return out_path;
}

uint8_t pit_nmi_sc_seen(void)
{
    return nmi_sc_seen;
}

bool pit_oneshot_expired(void)
{
    if (out_path == PIT_OUT_READBACK)
        return out_via_readback();
    return (inb(PORT_NMI_SC) & NMI_SC_TIMER2_OUT) != 0;
}

bool pit_oneshot_wait(uint64_t max_polls)
{
    for (uint64_t i = 0; i < max_polls; i++)
        if (pit_oneshot_expired())
            return true;
    return false;
}

void pit_oneshot_stop(void)
{
    nmi_sc_write_gate(false);
}
