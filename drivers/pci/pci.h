/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci.h — PCI configuration access, the device table and MSI/MSI-X.
 *
 * pci_init() enumerates every function once at boot (ECAM from ACPI MCFG, else
 * the legacy 0xCF8/0xCFC ports), sizes the BARs, finds the capabilities and
 * prints one line per function. Drivers then look devices up here:
 *
 *   struct pci_device *dev = pci_find_class(0x01, 0x08, 0x02, 0);   // NVMe
 *   volatile void *regs = pci_map_bar(dev, 0);
 *   pci_enable(dev, true, false, true);
 *   int vec = irq_alloc_vector(handler, ctx);
 *   pci_msix_enable(dev, 0, (uint8_t)vec);
 */
#ifndef DRIVERS_PCI_PCI_H
#define DRIVERS_PCI_PCI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Type 0/1 configuration header registers (PCI Local Bus 3.0 §6.1, PCI-PCI
 * Bridge 1.2 §3.2). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_PROG_IF             0x09
#define PCI_SUBCLASS            0x0a
#define PCI_CLASS_CODE          0x0b
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_PRIMARY_BUS         0x18    /* type 1 */
#define PCI_SECONDARY_BUS       0x19    /* type 1 */
#define PCI_SUBORDINATE_BUS     0x1a    /* type 1 */
#define PCI_CAPABILITIES_PTR    0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

#define PCI_COMMAND_IO               (1u << 0)
#define PCI_COMMAND_MEMORY           (1u << 1)
#define PCI_COMMAND_BUS_MASTER       (1u << 2)
#define PCI_COMMAND_INTX_DISABLE     (1u << 10)
#define PCI_STATUS_CAPABILITIES_LIST (1u << 4)
#define PCI_HEADER_TYPE_MASK         0x7f
#define PCI_HEADER_MULTIFUNCTION     0x80

/* Capability IDs (PCI Code and ID Assignment 1.11 §2). */
#define PCI_CAP_ID_PM       0x01
#define PCI_CAP_ID_MSI      0x05
#define PCI_CAP_ID_VENDOR   0x09
#define PCI_CAP_ID_PCIE     0x10
#define PCI_CAP_ID_MSIX     0x11
#define PCI_CAP_ID_SATA     0x12

enum pci_bar_type {
    PCI_BAR_NONE,           /* not implemented, or the upper half of a 64-bit BAR */
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64,
};

struct pci_bar {
    enum pci_bar_type type;
    bool prefetchable;
    uint64_t phys;          /* as the firmware assigned it (port number for I/O) */
    uint64_t size;          /* from sizing; 0 when not implemented */
};

struct pci_device {
    uint16_t segment;
    uint8_t bus, device, function;
    uint16_t vendor_id, device_id;
    uint8_t class_code, subclass, prog_if, revision_id;
    uint8_t header_type;            /* without the multi-function bit: 0 or 1 */
    uint8_t secondary_bus, subordinate_bus;     /* bridges (type 1) */
    uint8_t interrupt_line, interrupt_pin;
    unsigned bar_count;             /* 6 for type 0, 2 for type 1 */
    struct pci_bar bar[6];
    /* Config-space offsets of capabilities, 0 when absent. */
    uint8_t cap_pm, cap_msi, cap_msix, cap_pcie;
    /* MSI-X table, mapped on first use. */
    volatile void *msix_table;
    uint16_t msix_table_size;       /* entries */
};

#define PCI_MAX_DEVICES 4096     /* functions listed; more is reported as left out */

struct pci_address {
    uint16_t segment;
    uint8_t bus, device, function;
};

/* Enumerates with ECAM when ACPI has an MCFG, else legacy port I/O. */
void pci_init(void);
/* The same, optionally forcing legacy config access. Clears the table first;
 * returns the number of functions found. */
size_t pci_init_with(bool force_legacy);
/* "ecam" or "legacy": the access method of the current table. */
const char *pci_access_method(void);

/* The device table. */
size_t pci_device_count(void);
struct pci_device *pci_device_at(size_t index);
/* The instance'th function with this class and subclass, and prog-if unless
 * prog_if is negative. NULL when there is none. */
struct pci_device *pci_find_class(uint8_t class_code, uint8_t subclass, int prog_if,
                                  unsigned instance);
struct pci_device *pci_find_id(uint16_t vendor_id, uint16_t device_id, unsigned instance);
struct pci_device *pci_find_address(uint16_t segment, uint8_t bus, uint8_t device,
                                    uint8_t function);

/* Configuration space of a function in the table (offset < 4096 with ECAM,
 * < 256 with legacy access; beyond that reads all ones, writes are dropped). */
uint8_t pci_read8(const struct pci_device *dev, uint16_t offset);
uint16_t pci_read16(const struct pci_device *dev, uint16_t offset);
uint32_t pci_read32(const struct pci_device *dev, uint16_t offset);
void pci_write8(const struct pci_device *dev, uint16_t offset, uint8_t value);
void pci_write16(const struct pci_device *dev, uint16_t offset, uint16_t value);
void pci_write32(const struct pci_device *dev, uint16_t offset, uint32_t value);

/* One method explicitly, by address (for tests comparing the two). The ECAM
 * read returns all ones when no MCFG window covers the address. */
uint32_t pci_ecam_read32(uint16_t segment, uint8_t bus, uint8_t device, uint8_t function,
                         uint16_t offset);
uint32_t pci_legacy_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset);
bool pci_ecam_available(void);
/* Walks the buses again with one method (legacy, or ECAM when there is one),
 * touching neither the device table nor any device: stores up to `max`
 * addresses of the functions found and returns how many there were. */
size_t pci_probe_addresses(bool legacy, struct pci_address *out, size_t max);

/* The BAR, or NULL when the index is out of range or the BAR is not implemented. */
const struct pci_bar *pci_get_bar(const struct pci_device *dev, unsigned index);
/* Maps a memory BAR uncached; NULL for I/O or missing BARs. */
volatile void *pci_map_bar(const struct pci_device *dev, unsigned index);

/* Sets (never clears) the COMMAND bits asked for and reads them back.
 * Returns false, after logging which bit did not stick, when one did not. */
bool pci_enable(struct pci_device *dev, bool memory, bool io, bool bus_master);

/* Offset of the instance'th capability with this ID, 0 when absent. The walk
 * stops after 48 entries (the most that fit in 192 bytes) so a looped list
 * cannot hang. */
uint8_t pci_find_capability(const struct pci_device *dev, uint8_t id, unsigned instance);

/* MSI and MSI-X (PCI Local Bus 3.0 §6.8). Messages go to the bootstrap CPU's
 * local APIC as apic_msi_address()/apic_msi_data() compose them: address
 * 0xFEE00000 | APIC ID << 12, data = vector, fixed delivery, edge triggered
 * (Intel SDM vol. 3 §11.11). Messages are memory
 * writes by the device: it needs bus mastering (pci_enable) to send any.
 * Enabling either also sets COMMAND.INTx Disable. */
bool pci_msi_enable(struct pci_device *dev, uint8_t vector);
void pci_msi_disable(struct pci_device *dev);
/* Programs table entry `table_index` and unmasks it; enables MSI-X (and
 * clears the function mask) if it was off. */
bool pci_msix_enable(struct pci_device *dev, uint16_t table_index, uint8_t vector);
bool pci_msix_mask(struct pci_device *dev, uint16_t table_index, bool masked);
/* Points an enabled entry at the CPU with this APIC id (its vector kept),
 * masked while it changes; a message pending meanwhile goes to the new CPU.
 * False, said, when no plain MSI can name that CPU. */
bool pci_msix_retarget(struct pci_device *dev, uint16_t table_index, uint32_t apic_id);
void pci_msix_disable(struct pci_device *dev);
/* The interrupt capabilities' registers as they are now, for
 * pci_irq_check() (drivers/pci/pci_leftover.h). Reads only. */
struct pci_irq_state;
void pci_irq_state(const struct pci_device *dev, struct pci_irq_state *out);

/* "SATA controller (AHCI)", "Non-Volatile memory controller (NVMe)", ...:
 * the most specific name known for the class triple; never NULL. */
const char *pci_class_name(uint8_t class_code, uint8_t subclass, uint8_t prog_if);
/* The boot line for a function, without the "pci: " prefix and newline:
 * "00:1f.2 8086:2922 01.06.01 SATA controller (AHCI) BAR5 mem32 0xfebf1000 [4K]". */
int pci_describe(const struct pci_device *dev, char *buf, size_t size);

#endif
