/* kernel/acpi.h — the ACPI tables bareio reads (ACPI 6.4 §5.2): RSDP, RSDT/XSDT
 * with checksums checked, and the tables other parts look up by signature. */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H
#include <stdbool.h>
#include <stdint.h>

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

/* Finds the RSDP (Multiboot2 copy, else the BIOS areas), walks the XSDT (or
 * RSDT), checks every checksum and prints one line per table. */
bool acpi_init(void);
/* The instance'th table with this signature whose checksum is valid, or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char *signature, unsigned instance);

#endif
