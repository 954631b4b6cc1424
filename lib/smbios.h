/* SPDX-License-Identifier: MIT */
/* lib/smbios.h — the machine's identity from its SMBIOS tables (DMTF DSP0134
 * 3.x; issue 14): system manufacturer, product, version, serial number and
 * UUID (type 1), baseboard manufacturer, product and serial (type 2), BIOS
 * vendor, version and date (type 0), so that every report names the
 * machine it came from.
 *
 * Entry points: the 2.1 one ("_SM_", 31 bytes or more, two checksums, the
 * intermediate "_DMI_" anchor, a 32-bit table address and length) and the
 * 3.0 one ("_SM3_", 24 bytes, a 64-bit address and a maximum table size).
 * Structures: type, length (at least 4), handle, the formatted area, then
 * strings numbered from 1, each NUL-terminated, the set ended by a second
 * NUL. Firmware data is not trusted: every offset is checked against the
 * bytes given, a string index that does not exist reads as empty, strings
 * are escaped to printable ASCII (lib/format.h), a table that ends inside a
 * structure stops the walk with `truncated` set. Pure; host-tested
 * (tests/host/test_smbios.c). */
#ifndef LIB_SMBIOS_H
#define LIB_SMBIOS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMBIOS_TEXT_MAX 65      /* one field, escaped and cut (64 characters) */

struct smbios_entry {
    unsigned major, minor;      /* SMBIOS version the entry point says */
    uint64_t table;             /* physical address of the structure table */
    uint32_t length;            /* its length (3.x: the maximum size) */
    bool v3;
};

/* Checks an entry point at `p` (len bytes readable): anchor, length and
 * checksums. false with `why` set when it is not a valid one. */
bool smbios_entry_parse(const uint8_t *p, size_t len, struct smbios_entry *out, char *why,
                        size_t why_size);

struct smbios_identity {
    char sys_vendor[SMBIOS_TEXT_MAX], product[SMBIOS_TEXT_MAX], version[SMBIOS_TEXT_MAX];
    char serial[SMBIOS_TEXT_MAX];
    char uuid[37];              /* "" when absent, all zeroes or all ones (not set) */
    char board_vendor[SMBIOS_TEXT_MAX], board_product[SMBIOS_TEXT_MAX];
    char board_serial[SMBIOS_TEXT_MAX];
    char bios_vendor[SMBIOS_TEXT_MAX], bios_version[SMBIOS_TEXT_MAX], bios_date[SMBIOS_TEXT_MAX];
    unsigned structures;        /* walked */
    bool truncated;             /* the table ended inside a structure */
};

/* Walks the structure table (`len` bytes at `table`) and fills *out. The
 * UUID's first three fields are little-endian from SMBIOS 2.6 on (DSP0134
 * §7.2.1), big-endian before: `major`/`minor` say which. */
void smbios_identity_parse(const uint8_t *table, size_t len, unsigned major, unsigned minor,
                           struct smbios_identity *out);

/* The EFI System Table's configuration table (`count` entries of a 16-byte
 * GUID and a 64-bit pointer, UEFI 2.x §4.6): where the SMBIOS 3 and SMBIOS
 * entry points are (0 when the table has none). Under UEFI these, not the F
 * segment, hold them. */
#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ull  /* "IBI SYST" */
void smbios_efi_config_find(const uint8_t *entries, uint32_t count, uint64_t *smbios3,
                            uint64_t *smbios);

#endif
