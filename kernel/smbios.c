/* SPDX-License-Identifier: MIT */
/* kernel/smbios.c — finding the SMBIOS tables and naming the machine (see
 * smbios.h). The entry point is taken from the Multiboot2 tag when GRUB gave
 * one (under UEFI the F segment holds none), else from the F segment; the
 * table is mapped before it is read (firmware-reserved RAM is not), and at
 * most SMBIOS_TABLE_MAX bytes of it are read, said when cut. */
#include "kernel/smbios.h"
#include "kernel/bootinfo.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/mmio.h"
#include "lib/format.h"
#include "lib/smbios.h"
#include "lib/string.h"

#define SMBIOS_TABLE_MAX (1u << 20)
#define F_SEGMENT 0xf0000u
#define F_SEGMENT_SIZE 0x10000u

static const uint8_t *map(uint64_t phys, uint64_t len)
{
    return (const uint8_t *)(uintptr_t)mmio_map(phys, len);
}

/* Under UEFI: the System Table's configuration table names the entry
 * points (SMBIOS 3 preferred). Offsets of the x86-64 System Table: the
 * entry count at 104, the table's address at 112. */
#define EFI_CONFIG_MAX 512u
static bool find_entry_efi(struct smbios_entry *e, const char **where, char *why, size_t size)
{
    const uint8_t *st = map(boot_info.efi_system_table, 120);
    uint64_t sig, count, table;
    memcpy(&sig, st, 8);
    memcpy(&count, st + 104, 8);
    memcpy(&table, st + 112, 8);
    *where = "EFI configuration table";
    if (sig != EFI_SYSTEM_TABLE_SIGNATURE || table == 0) {
        snprintf(why, size, "the EFI System Table at 0x%llx has no valid signature or table",
                 (unsigned long long)boot_info.efi_system_table);
        return false;
    }
    if (count > EFI_CONFIG_MAX)
        count = EFI_CONFIG_MAX;        /* more than any firmware has: the first ones */
    uint64_t smbios3, smbios;
    smbios_efi_config_find(map(table, count * 24), (uint32_t)count, &smbios3, &smbios);
    if (smbios3 && smbios_entry_parse(map(smbios3, 32), 32, e, why, size))
        return true;
    if (smbios && smbios_entry_parse(map(smbios, 32), 32, e, why, size))
        return true;
    if (!smbios3 && !smbios)
        snprintf(why, size, "the EFI configuration table (%llu entries) names no SMBIOS table",
                 (unsigned long long)count);
    return false;
}

/* The entry point, and where it was found; false with `why`. */
static bool find_entry(struct smbios_entry *e, const char **where, char *why, size_t size)
{
    if (boot_info.have_smbios) {
        *where = "multiboot2 tag";
        return smbios_entry_parse(boot_info.smbios, sizeof(boot_info.smbios), e, why, size);
    }
    if (boot_info.efi_system_table)
        return find_entry_efi(e, where, why, size);
    const uint8_t *f = map(F_SEGMENT, F_SEGMENT_SIZE);
    *where = "F segment";
    /* Two passes: the 3.0 entry point wins where a firmware offers both. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t off = 0; off + 32 <= F_SEGMENT_SIZE; off += 16) {
            const char *anchor = pass == 0 ? "_SM3_" : "_SM_";
            if (memcmp(f + off, anchor, strlen(anchor)) != 0)
                continue;
            if (smbios_entry_parse(f + off, F_SEGMENT_SIZE - off, e, why, size))
                return true;
        }
    }
    snprintf(why, size, "no valid SMBIOS entry point in the F segment%s",
             boot_info.efi ? " (booted through UEFI, and the loader passed none)" : "");
    return false;
}

static void cpu_brand(char *buf, size_t size)
{
    uint32_t a, b, c, d, r[12];
    cpuid(0x80000000u, 0, &a, &b, &c, &d);
    if (a < 0x80000004u) {
        snprintf(buf, size, "(no brand string: CPUID 0x80000004 absent)");
        return;
    }
    for (uint32_t i = 0; i < 3; i++)
        cpuid(0x80000002u + i, 0, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
    char raw[49];
    memcpy(raw, r, 48);
    raw[48] = '\0';
    const char *s = raw;
    while (*s == ' ')
        s++;
    format_escaped(buf, size, s, strlen(s));
}

static void say(void (*line)(void *, const char *), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(void (*line)(void *, const char *), void *ctx, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    line(ctx, buf);
}

bool machine_identity(struct smbios_identity *out)
{
    struct smbios_entry e;
    const char *where = "";
    char why[160];

    memset(out, 0, sizeof(*out));
    if (!find_entry(&e, &where, why, sizeof(why)))
        return false;
    uint32_t len = e.length < SMBIOS_TABLE_MAX ? e.length : SMBIOS_TABLE_MAX;
    smbios_identity_parse(map(e.table, len), len, e.major, e.minor, out);
    return true;
}

void machine_describe(void (*line)(void *ctx, const char *text), void *ctx)
{
    struct smbios_entry e;
    static struct smbios_identity id;
    const char *where = "";
    char why[160], brand[200];

    if (find_entry(&e, &where, why, sizeof(why))) {
        uint32_t len = e.length < SMBIOS_TABLE_MAX ? e.length : SMBIOS_TABLE_MAX;
        smbios_identity_parse(map(e.table, len), len, e.major, e.minor, &id);
        say(line, ctx, "machine: system \"%s\" product \"%s\" version \"%s\" serial \"%s\" uuid %s",
            id.sys_vendor, id.product, id.version, id.serial, id.uuid[0] ? id.uuid : "(not set)");
        say(line, ctx, "machine: board \"%s\" product \"%s\" serial \"%s\"", id.board_vendor,
            id.board_product, id.board_serial);
        say(line, ctx, "machine: bios \"%s\" version \"%s\" date \"%s\"", id.bios_vendor,
            id.bios_version, id.bios_date);
        say(line, ctx, "machine: SMBIOS %u.%u from the %s, %u structures at 0x%llx%s%s", e.major,
            e.minor, where, id.structures, (unsigned long long)e.table,
            e.length > SMBIOS_TABLE_MAX ? ", table cut at 1 MiB" : "",
            id.truncated ? ", table ends inside a structure (firmware bug)" : "");
    } else {
        say(line, ctx, "machine: no SMBIOS identity (%s): %s", where, why);
    }
    cpu_brand(brand, sizeof(brand));
    say(line, ctx, "machine: cpu \"%s\", memory %llu MiB usable", brand,
        (unsigned long long)((memory_total_below_4g() + memory_total_above_4g()) >> 20));
}
