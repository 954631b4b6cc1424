/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci_resources.h — firmware leftovers in the memory map that
 * make a controller unreachable or its registers someone else's: memory BARs
 * that overlap each other, overlap RAM or a platform window (LAPIC, IOAPIC,
 * HPET, the ECAM window), or lie beyond the CPU's physical address width.
 *
 * Pure: the caller lists the decoded BARs (of functions with memory decoding
 * on: a BAR of a function that does not decode means nothing) and the
 * windows; the detector says what collides, in words. Host-tested on crafted
 * tables (tests/host/test_pci_resources.c); the preflight suite runs it on
 * the machine. */
#ifndef DRIVERS_PCI_PCI_RESOURCES_H
#define DRIVERS_PCI_PCI_RESOURCES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One memory BAR as decoded. */
struct pci_res_bar {
    uint8_t bus, device, function;
    unsigned bar;           /* its index */
    uint64_t base, size;
};

/* Something a BAR must not cover: RAM from the memory map, a platform
 * device's registers. */
struct pci_res_window {
    const char *what;       /* "RAM", "LAPIC", "IOAPIC 0", "HPET", "ECAM" */
    uint64_t base, size;
};

enum pci_res_problem {
    PCI_RES_BARS_OVERLAP,       /* two BARs share addresses */
    PCI_RES_COVERS_WINDOW,      /* a BAR over RAM or a platform window */
    PCI_RES_BEYOND_PHYS,        /* a BAR ends past the CPU's physical address width */
    PCI_RES_WRAPS,              /* base + size wraps past 2^64 */
};

struct pci_res_finding {
    enum pci_res_problem problem;
    unsigned bar;               /* index into the BAR list */
    unsigned other;             /* the other BAR, or the window's index */
    char words[224];            /* the finding, naming both sides and their addresses */
};

/* Checks every BAR against the others, the windows and phys_limit (1 <<
 * MAXPHYADDR; 0: not known). Up to `max` findings go to out; returns how
 * many there were in all (more than max when some were not kept). */
unsigned pci_resource_check(const struct pci_res_bar *bars, unsigned nbars,
                            const struct pci_res_window *windows, unsigned nwindows,
                            uint64_t phys_limit, struct pci_res_finding *out, unsigned max);

#endif
