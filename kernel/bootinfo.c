/* SPDX-License-Identifier: MIT */
/* kernel/bootinfo.c — parses Multiboot 0.6.96 (from QEMU -kernel) and
 * Multiboot2 (from GRUB) information into struct boot_info: command line,
 * memory map (BIOS E820 or UEFI), loader name and the ACPI RSDP copy. */
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "lib/string.h"

#include <stdint.h>

#define MB1_BOOTLOADER_MAGIC 0x2BADB002
#define MB2_BOOTLOADER_MAGIC 0x36d76289

/* Multiboot 0.6.96 §3.3 */
struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
} __attribute__((packed));
_Static_assert(sizeof(struct mb1_info) == 68, "Multiboot 0.6.96 §3.3");

#define MB1_INFO_MEM      (1u << 0)
#define MB1_INFO_CMDLINE  (1u << 2)
#define MB1_INFO_MMAP     (1u << 6)
#define MB1_INFO_LOADER   (1u << 9)

struct mb1_mmap_entry {
    uint32_t size;          /* of the rest of the entry */
    uint64_t base;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "Multiboot 0.6.96 §3.3 mmap");

/* Multiboot2 §3.6 */
struct mb2_tag {
    uint32_t type;
    uint32_t size;
};
#define MB2_TAG_END        0
#define MB2_TAG_CMDLINE    1
#define MB2_TAG_LOADER     2
#define MB2_TAG_MMAP       6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI64      12
#define MB2_TAG_SMBIOS     13
#define MB2_TAG_ACPI_OLD   14
#define MB2_TAG_ACPI_NEW   15
#define MB2_TAG_EFI_MMAP   17
#define MB2_TAG_EFI_BS     18

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "Multiboot2 §3.6.8");

/* UEFI 2.9 §7.2 EFI_MEMORY_DESCRIPTOR */
struct efi_memory_descriptor {
    uint32_t type;
    uint32_t pad;
    uint64_t physical_start;
    uint64_t virtual_start;
    uint64_t pages;
    uint64_t attribute;
};
_Static_assert(sizeof(struct efi_memory_descriptor) == 40, "UEFI 2.9 §7.2");

struct boot_info boot_info;

const char *mem_type_name(uint32_t type)
{
    switch (type) {
    case MEM_USABLE: return "usable";
    case MEM_RESERVED: return "reserved";
    case MEM_ACPI_RECLAIMABLE: return "ACPI data";
    case MEM_ACPI_NVS: return "ACPI NVS";
    case MEM_BAD: return "bad";
    default: return "unknown";
    }
}

static void add_region(uint64_t base, uint64_t length, uint32_t type)
{
    if (!length)
        return;
    if (type < MEM_USABLE || type > MEM_BAD)
        type = MEM_RESERVED;    /* E820 types we do not know are not RAM */
    if (boot_info.mem_count == BOOT_MAX_REGIONS) {
        klog(LOG_WARN, "bootinfo: memory map has more than %d regions; ignoring the rest\n",
             BOOT_MAX_REGIONS);
        return;
    }
    struct mem_region *r = &boot_info.mem[boot_info.mem_count++];
    r->base = base;
    r->length = length;
    r->type = type;
}

/* A loader's string, bounded by `max` bytes of the source (a Multiboot2 tag
 * ends where its size says, terminated or not). Returns its length. */
static size_t copy_string(char *dst, size_t size, const char *src, size_t max, bool *truncated)
{
    size_t len = strnlen(src, max), n = len < size - 1 ? len : size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    if (truncated)
        *truncated = len > n;
    return len;
}

static uint32_t efi_type_to_mem_type(uint32_t efi_type)
{
    switch (efi_type) {
    case 1: case 2:         /* loader code/data */
    case 3: case 4:         /* boot services code/data: free after ExitBootServices */
    case 7:                 /* conventional */
        return MEM_USABLE;
    case 9: return MEM_ACPI_RECLAIMABLE;
    case 10: return MEM_ACPI_NVS;
    case 8: return MEM_BAD;
    default: return MEM_RESERVED;
    }
}

static void parse_mb1(const struct mb1_info *info)
{
    boot_info.protocol = "multiboot1";
    if (info->flags & MB1_INFO_CMDLINE) {
        /* Multiboot 0.6.96 loaders (QEMU -kernel, GRUB's `multiboot`) put the
         * kernel's file name first; Multiboot2 passes only the arguments. */
        const char *line = (const char *)(uintptr_t)info->cmdline;
        while (*line && *line != ' ')
            line++;
        while (*line == ' ')
            line++;
        boot_info.cmdline_length = copy_string(boot_info.cmdline, sizeof(boot_info.cmdline), line,
                                               SIZE_MAX, &boot_info.cmdline_truncated);
    }
    if (info->flags & MB1_INFO_LOADER)
        copy_string(boot_info.loader, sizeof(boot_info.loader),
                    (const char *)(uintptr_t)info->boot_loader_name, SIZE_MAX, NULL);
    if (info->flags & MB1_INFO_MMAP) {
        boot_info.mem_source = "e820 (multiboot1)";
        uintptr_t p = info->mmap_addr, end = (uintptr_t)info->mmap_addr + info->mmap_length;
        while (p + sizeof(struct mb1_mmap_entry) <= end) {
            const struct mb1_mmap_entry *e = (const void *)p;
            add_region(e->base, e->length, e->type);
            p += e->size + sizeof(e->size);
        }
    } else if (info->flags & MB1_INFO_MEM) {
        boot_info.mem_source = "mem_lower/mem_upper (multiboot1)";
        add_region(0, (uint64_t)info->mem_lower * 1024, MEM_USABLE);
        add_region(0x100000, (uint64_t)info->mem_upper * 1024, MEM_USABLE);
    }
}

static void parse_mb2(uintptr_t info)
{
    uint32_t total = *(const uint32_t *)info;
    const struct mb2_tag *efi_mmap = NULL;
    bool have_mmap = false;

    boot_info.protocol = "multiboot2";
    for (uintptr_t p = info + 8; p + sizeof(struct mb2_tag) <= info + total;) {
        const struct mb2_tag *tag = (const void *)p;
        if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag))
            break;
        const uint8_t *body = (const uint8_t *)(tag + 1);
        switch (tag->type) {
        case MB2_TAG_CMDLINE:
            boot_info.cmdline_length = copy_string(boot_info.cmdline, sizeof(boot_info.cmdline),
                                                   (const char *)body, tag->size - 8,
                                                   &boot_info.cmdline_truncated);
            break;
        case MB2_TAG_LOADER:
            copy_string(boot_info.loader, sizeof(boot_info.loader), (const char *)body,
                        tag->size - 8, NULL);
            break;
        case MB2_TAG_MMAP: {
            uint32_t entry_size = *(const uint32_t *)body;
            if (entry_size < sizeof(struct mb2_mmap_entry))
                break;
            have_mmap = true;
            boot_info.mem_source = "e820 (multiboot2)";
            for (uintptr_t e = (uintptr_t)body + 8; e + entry_size <= p + tag->size; e += entry_size) {
                const struct mb2_mmap_entry *m = (const void *)e;
                add_region(m->base, m->length, m->type);
            }
            break;
        }
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            size_t n = tag->size - sizeof(*tag);
            /* Prefer the ACPI 2.0+ copy (XSDT) when both are given. */
            if (!boot_info.have_rsdp || tag->type == MB2_TAG_ACPI_NEW) {
                memset(boot_info.rsdp, 0, sizeof(boot_info.rsdp));
                memcpy(boot_info.rsdp, body, n < sizeof(boot_info.rsdp) ? n : sizeof(boot_info.rsdp));
                boot_info.have_rsdp = true;
            }
            break;
        }
        case MB2_TAG_SMBIOS: {
            /* major, minor, 6 reserved bytes, then the entry point's copy. */
            size_t n = tag->size > sizeof(*tag) + 8 ? tag->size - sizeof(*tag) - 8 : 0;
            if (n) {
                memset(boot_info.smbios, 0, sizeof(boot_info.smbios));
                memcpy(boot_info.smbios, body + 8,
                       n < sizeof(boot_info.smbios) ? n : sizeof(boot_info.smbios));
                boot_info.have_smbios = true;
            }
            break;
        }
        case MB2_TAG_FRAMEBUFFER:
            /* Copied whole (what fits), checked by lib/fbmode.c when the screen starts. */
            boot_info.framebuffer_tag_size = tag->size < sizeof(boot_info.framebuffer_tag)
                                                 ? tag->size : sizeof(boot_info.framebuffer_tag);
            memcpy(boot_info.framebuffer_tag, tag, boot_info.framebuffer_tag_size);
            break;
        case MB2_TAG_EFI64:
            boot_info.efi = true;
            if (tag->size >= sizeof(*tag) + 8)
                memcpy(&boot_info.efi_system_table, body, 8);
            break;
        case MB2_TAG_EFI_MMAP:
            efi_mmap = tag;
            boot_info.efi = true;
            break;
        default:
            break;
        }
        p += (tag->size + 7) & ~7u;
    }

    /* GRUB gives an E820-style map on UEFI too; the raw EFI map is the fallback. */
    if (!have_mmap && efi_mmap) {
        const uint8_t *body = (const uint8_t *)(efi_mmap + 1);
        uint32_t desc_size = *(const uint32_t *)body;
        boot_info.mem_source = "efi";
        if (desc_size >= sizeof(struct efi_memory_descriptor)) {
            for (uintptr_t e = (uintptr_t)body + 8; e + desc_size <= (uintptr_t)efi_mmap + efi_mmap->size;
                 e += desc_size) {
                const struct efi_memory_descriptor *d = (const void *)e;
                add_region(d->physical_start, d->pages * 4096, efi_type_to_mem_type(d->type));
            }
        }
    }
}

bool bootinfo_parse(uint32_t magic, uint64_t info_phys)
{
    memset(&boot_info, 0, sizeof(boot_info));
    boot_info.mem_source = "none";
    if (magic == MB1_BOOTLOADER_MAGIC) {
        parse_mb1((const struct mb1_info *)(uintptr_t)info_phys);
        return true;
    }
    if (magic == MB2_BOOTLOADER_MAGIC) {
        parse_mb2((uintptr_t)info_phys);
        return true;
    }
    kprintf("bareio: unknown boot protocol (magic %#x); boot through Multiboot or Multiboot2\n", magic);
    return false;
}
