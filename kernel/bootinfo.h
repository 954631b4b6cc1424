/* SPDX-License-Identifier: MIT */
/* kernel/bootinfo.h — what the boot loader told us, copied out of its
 * structures at the very start so their memory can be reused. */
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

enum mem_type {
    MEM_USABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIMABLE = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
};

struct mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;          /* enum mem_type */
};

#define BOOT_MAX_REGIONS 256
#define BOOT_CMDLINE_MAX 2048

struct boot_info {
    const char *protocol;           /* "multiboot1" or "multiboot2" */
    char loader[64];                /* boot loader name when given */
    char cmdline[BOOT_CMDLINE_MAX];
    size_t cmdline_length;          /* as the loader gave it */
    bool cmdline_truncated;         /* longer than cmdline holds: the run is refused */
    struct mem_region mem[BOOT_MAX_REGIONS];
    unsigned mem_count;
    const char *mem_source;         /* "e820", "efi", "mb1 mmap", "mb1 mem_lower/upper" */
    bool have_rsdp;                 /* Multiboot2 passes a copy of the RSDP */
    uint8_t rsdp[36];
    bool efi;                       /* booted through UEFI firmware */
    uint64_t efi_system_table;      /* the EFI System Table (Multiboot2 EFI64 tag), or 0 */
    bool have_smbios;               /* Multiboot2 passes a copy of the SMBIOS entry point */
    uint8_t smbios[32];
    /* The Multiboot2 framebuffer info tag as the loader gave it (type and
     * size fields included), for kernel/screen.c to check; size 0: none. */
    uint8_t framebuffer_tag[64];
    size_t framebuffer_tag_size;
};

extern struct boot_info boot_info;

/* Returns false (after printing why) when the magic is unknown. */
bool bootinfo_parse(uint32_t magic, uint64_t info_phys);
const char *mem_type_name(uint32_t type);

#endif
