/* SPDX-License-Identifier: MIT */
/* kernel/acpi.h — the ACPI tables bareio reads (ACPI 6.4 §5.2): RSDP, RSDT/XSDT
 * with checksums checked, and the tables other parts look up by signature.
 * The fixed-layout parts others need (MADT, MCFG, SPCR, FADT reset register,
 * HPET) are parsed once by acpi_init() into the small structures below. */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/serial.h"

struct acpi_sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "ACPI 6.4 §5.2.6");

/* Generic Address Structure (ACPI 6.4 §5.2.3.2). */
struct acpi_gas {
    uint8_t address_space_id;       /* ACPI_GAS_SPACE_* */
    uint8_t register_bit_width;
    uint8_t register_bit_offset;
    uint8_t access_size;            /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "ACPI 6.4 §5.2.3.2");

#define ACPI_GAS_SPACE_SYSTEM_MEMORY 0x00
#define ACPI_GAS_SPACE_SYSTEM_IO     0x01
#define ACPI_GAS_SPACE_PCI_CONFIG    0x02

/* Finds the RSDP (Multiboot2 copy, else the BIOS areas), walks the XSDT (or
 * RSDT), checks every checksum, prints one line per table and parses MADT,
 * MCFG, SPCR, FADT and HPET. Returns false when there is no valid RSDP. */
bool acpi_init(void);
/* The instance'th table with this signature whose checksum is valid, or NULL.
 * Besides the tables the XSDT/RSDT lists, the DSDT (from the FADT) is found. */
const struct acpi_sdt_header *acpi_find_table(const char *signature, unsigned instance);

/* What acpi_init() saw, for tests and diagnostics. */
struct acpi_rsdp_info {
    bool found;
    uint64_t phys;              /* where it was found; 0 for the Multiboot2 copy */
    const char *source;         /* "multiboot2", "ebda" or "bios" */
    uint8_t revision;
    bool checksum_ok;           /* first 20 bytes */
    bool extended_checksum_ok;  /* whole structure; only meaningful for revision >= 2 */
    uint64_t root_phys;         /* the XSDT or RSDT used */
    bool using_xsdt;
};
const struct acpi_rsdp_info *acpi_rsdp(void);
/* Every table the root table lists (valid or not), plus the DSDT. */
struct acpi_table_entry {
    uint64_t phys;
    const struct acpi_sdt_header *table;   /* NULL when it could not be mapped */
    bool checksum_ok;
};
unsigned acpi_table_count(void);
const struct acpi_table_entry *acpi_table_at(unsigned index);
/* The 8-bit sum of `len` bytes; a valid ACPI structure sums to 0. */
uint8_t acpi_checksum(const void *data, size_t len);

/* MADT (ACPI 6.4 §5.2.12). */
#define ACPI_MAX_IOAPICS 64
#define ACPI_MAX_ISO     64
struct acpi_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};
/* Interrupt Source Override: ISA IRQ `source` arrives on `gsi` with `flags`
 * (polarity bits 1:0, trigger mode bits 3:2; ACPI 6.4 §5.2.12.5). */
struct acpi_irq_override {
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
};
struct acpi_madt_info {
    uint64_t lapic_address;     /* after any Local APIC Address Override */
    bool pcat_compat;           /* legacy 8259 PICs present (must be masked) */
    unsigned cpu_count;         /* enabled Local APIC and x2APIC entries */
    unsigned ioapic_count;
    struct acpi_ioapic ioapic[ACPI_MAX_IOAPICS];
    unsigned override_count;
    struct acpi_irq_override override[ACPI_MAX_ISO];
};
/* False when there is no valid MADT. */
bool acpi_madt(struct acpi_madt_info *out);
/* An enabled processor (Processor Local APIC or Local x2APIC entry, flags
 * bit 0; ACPI 6.4 §5.2.12.2, §5.2.12.12). */
struct acpi_cpu {
    uint32_t apic_id;
    uint32_t processor_uid;
    bool x2apic_entry;
};
/* Fills out[0..max) with the enabled processors in table order and returns
 * how many the MADT lists (cpu_count; more than max when out is short). */
unsigned acpi_madt_cpus(struct acpi_cpu *out, unsigned max);
unsigned acpi_parse_madt_cpus(const struct acpi_sdt_header *table, struct acpi_cpu *out, unsigned max);
bool acpi_parse_madt(const struct acpi_sdt_header *table, struct acpi_madt_info *out);

/* MCFG (PCI Firmware 3.2 §4.1.2): one ECAM window per allocation. `base` is
 * the address of bus 0's space even when start_bus is not 0. */
struct acpi_mcfg_info {
    uint64_t base;
    uint16_t segment;
    uint8_t start_bus;
    uint8_t end_bus;
};
/* The index'th allocation; false when there is no MCFG or no such entry. */
bool acpi_mcfg(unsigned index, struct acpi_mcfg_info *out);

/* SPCR (Microsoft Serial Port Console Redirection table, rev 2-4): fills a
 * serial_port for a 16550-compatible UART (interface types 0x00, 0x01, 0x12).
 * False when there is no SPCR, it describes another kind of UART, or it says
 * console redirection is disabled (base address 0). */
bool acpi_spcr_console(struct serial_port *out);
bool acpi_parse_spcr(const struct acpi_sdt_header *table, struct serial_port *out);
/* The [console] boot step: moves the console to the SPCR's UART (kmain
 * calls it only when console= was not given). True when it switched. */
bool acpi_console_from_spcr(void);

/* HPET (IA-PC HPET 1.0a §3.2.4): the event timer block's physical address, 0 when none. */
uint64_t acpi_hpet_base(void);

/* FADT RESET_REG and RESET_VALUE (ACPI 6.4 §5.2.9, §4.8.3.6); false unless the
 * FADT is long enough and its flags set RESET_REG_SUP. */
bool acpi_reset_register(struct acpi_gas *reg, uint8_t *value);

#endif
