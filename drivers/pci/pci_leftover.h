/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci_leftover.h — what the firmware left undone on a PCI
 * function, in words for the person at the machine: a memory BAR it did not
 * place (address 0 — for a 64-bit BAR, most often because Above 4G Decoding
 * is off and the BAR did not fit below 4 GiB), and interrupts a driver cannot
 * receive: no MSI or MSI-X capability at all (completions are then polled),
 * MSI-X enabled with the whole function masked, MSI enabled with its first
 * vector masked, an MSI-X table in a BAR that was not placed.
 *
 * Pure: the caller reads the BAR and the capability registers
 * (pci_irq_state() in pci.c) and hands them over; host-tested on crafted
 * values (tests/host/test_pci_leftover.c); the preflight suite runs it on
 * the machine (tests/kernel/test_preflight.c). */
#ifndef DRIVERS_PCI_PCI_LEFTOVER_H
#define DRIVERS_PCI_PCI_LEFTOVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_bar;

/* True when `bar` (index `index`) is a memory BAR the firmware did not
 * place: implemented (size > 0) but at address 0. `why` then says which,
 * how large, and what to change. */
bool pci_bar_unplaced(const struct pci_bar *bar, unsigned index, char *why, size_t size);

/* The interrupt capabilities of a function as read from config space. */
struct pci_irq_state {
    bool pcie;                  /* a PCI Express function: it must have MSI or MSI-X */
    bool msi, msix;             /* the capabilities exist */
    uint16_t msi_control, msix_control;     /* their Message Control registers */
    bool msi_per_vector_mask;   /* MSI Per-Vector Masking Capable */
    uint32_t msi_mask_bits;     /* Mask Bits, when per-vector masking is capable */
    int msix_table_bar;         /* the BAR the MSI-X table lives in, -1 without MSI-X */
    bool msix_table_bar_placed; /* that BAR is implemented and placed */
};

enum pci_irq_verdict {
    PCI_IRQ_OK,                 /* interrupts can arrive (or none are enabled yet) */
    PCI_IRQ_POLLED,             /* no MSI or MSI-X: a driver must poll (a diagnostic) */
    PCI_IRQ_BLOCKED,            /* enabled but masked, or a table nobody can reach */
};
enum pci_irq_verdict pci_irq_check(const struct pci_irq_state *s, char *why, size_t size);

#endif
