/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci_leftover.c — the firmware's leftovers on one function, in
 * words (pci_leftover.h). A BAR at address 0 is never a real placement on a
 * PC (the first page of memory is RAM and the interrupt vector table), so it
 * means "not assigned". Interrupt masking follows PCI Local Bus 3.0 §6.8.1.3
 * (MSI Message Control: bit 0 Enable, bit 8 Per-Vector Masking Capable) and
 * §6.8.2.3 (MSI-X Message Control: bit 14 Function Mask, bit 15 Enable);
 * PCI Express Base 4.0 §6.1.4 requires a PCIe function that interrupts to
 * have MSI or MSI-X. */
#include "drivers/pci/pci_leftover.h"
#include "drivers/pci/pci.h"
#include "lib/format.h"

#define MSI_ENABLE          (1u << 0)
#define MSIX_FUNCTION_MASK  (1u << 14)
#define MSIX_ENABLE         (1u << 15)

/* "256 MiB", "16 KiB", "8 GiB": a BAR size is a power of two. */
static void size_words(uint64_t size, char *buf, size_t len)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    unsigned u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && size >= 1024 && !(size & 1023)) {
        size >>= 10;
        u++;
    }
    snprintf(buf, len, "%llu %s", (unsigned long long)size, units[u]);
}

bool pci_bar_unplaced(const struct pci_bar *bar, unsigned index, char *why, size_t size)
{
    if ((bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64) || bar->size == 0 ||
        bar->phys != 0)
        return false;
    char bytes[24];
    size_words(bar->size, bytes, sizeof(bytes));
    if (bar->type == PCI_BAR_MEM64)
        snprintf(why, size, "BAR%u (64-bit memory, %s) was not placed (address 0): the firmware "
                 "could not fit it — enable Above 4G Decoding (or \"64-bit BAR\" / \"MMIO above "
                 "4G\") in the firmware setup", index, bytes);
    else
        snprintf(why, size, "BAR%u (32-bit memory, %s) was not assigned (address 0): the "
                 "firmware ran out of space below 4 GiB or skipped the device — update the "
                 "firmware, disable devices you do not need, or move the card", index, bytes);
    return true;
}

enum pci_irq_verdict pci_irq_check(const struct pci_irq_state *s, char *why, size_t size)
{
    if (s->msix && (s->msix_control & MSIX_ENABLE) && (s->msix_control & MSIX_FUNCTION_MASK)) {
        snprintf(why, size, "MSI-X is enabled with the whole function masked (Message Control "
                 "0x%04x): no MSI-X interrupt can arrive", s->msix_control);
        return PCI_IRQ_BLOCKED;
    }
    if (s->msix && (s->msix_control & MSIX_ENABLE) && !s->msix_table_bar_placed) {
        snprintf(why, size, "MSI-X is enabled but its table lives in BAR%d, which was not "
                 "placed: no vector can be programmed", s->msix_table_bar);
        return PCI_IRQ_BLOCKED;
    }
    if (s->msi && (s->msi_control & MSI_ENABLE) && s->msi_per_vector_mask && (s->msi_mask_bits & 1)) {
        snprintf(why, size, "MSI is enabled with vector 0 masked (Mask Bits 0x%08x): no MSI "
                 "interrupt can arrive", s->msi_mask_bits);
        return PCI_IRQ_BLOCKED;
    }
    if (!s->msi && !s->msix) {
        snprintf(why, size, "no MSI or MSI-X capability%s: interrupts only through the INTx pin, "
                 "so bareio polls for completions", s->pcie ? " (a PCI Express function must "
                 "have one: the firmware may hide it, or the device is faulty)" : "");
        return PCI_IRQ_POLLED;
    }
    const char *mode = s->msix && (s->msix_control & MSIX_ENABLE) ? "MSI-X enabled"
                     : s->msi && (s->msi_control & MSI_ENABLE) ? "MSI enabled"
                     : "MSI/MSI-X present, not enabled (INTx or polled)";
    const char *caps = s->msix && s->msi ? "MSI-X and MSI" : s->msix ? "MSI-X" : "MSI";
    snprintf(why, size, "%s capable; %s", caps, mode);
    return PCI_IRQ_OK;
}
