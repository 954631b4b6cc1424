/* SPDX-License-Identifier: MIT */
/* lib/smbios.c — SMBIOS entry points and the identity structures (see
 * smbios.h). Offsets are DSP0134's: entry points §5.2.1 (2.1) and §5.2.2
 * (3.0); types 0, 1 and 2 in §7.1-§7.3. */
#include "lib/smbios.h"
#include "lib/format.h"
#include "lib/string.h"

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

bool smbios_entry_parse(const uint8_t *p, size_t len, struct smbios_entry *out, char *why,
                        size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (len >= 24 && memcmp(p, "_SM3_", 5) == 0) {
        uint8_t n = p[6];
        if (n < 24 || n > len) {
            snprintf(why, why_size, "SMBIOS 3 entry point length %u (24 or more expected)", n);
            return false;
        }
        if (sum8(p, n) != 0) {
            snprintf(why, why_size, "SMBIOS 3 entry point checksum does not add up to 0");
            return false;
        }
        out->v3 = true;
        out->major = p[7];
        out->minor = p[8];
        out->length = le32(p + 12);
        out->table = le64(p + 16);
    } else if (len >= 31 && memcmp(p, "_SM_", 4) == 0) {
        uint8_t n = p[5];
        /* 31 bytes; some firmware says 30 (a known SMBIOS 2.1 mistake). */
        if (n < 30 || n > len) {
            snprintf(why, why_size, "SMBIOS 2 entry point length %u (31 expected)", n);
            return false;
        }
        if (sum8(p, n) != 0) {
            snprintf(why, why_size, "SMBIOS 2 entry point checksum does not add up to 0");
            return false;
        }
        if (memcmp(p + 0x10, "_DMI_", 5) != 0 || sum8(p + 0x10, 15) != 0) {
            snprintf(why, why_size, "SMBIOS 2 entry point: no valid _DMI_ intermediate anchor");
            return false;
        }
        out->major = p[6];
        out->minor = p[7];
        out->length = le16(p + 0x16);
        out->table = le32(p + 0x18);
    } else {
        snprintf(why, why_size, "no _SM_ or _SM3_ anchor");
        return false;
    }
    if (out->length == 0 || out->table == 0) {
        snprintf(why, why_size, "SMBIOS %u.%u entry point gives a table of %u bytes at 0x%llx",
                 out->major, out->minor, out->length, (unsigned long long)out->table);
        return false;
    }
    return true;
}

/* String `index` (from 1) of the string set at [s, end), escaped into dst;
 * "" when 0 or absent. */
static void string_at(const uint8_t *s, const uint8_t *end, unsigned index, char *dst, size_t size)
{
    dst[0] = '\0';
    if (index == 0)
        return;
    for (unsigned i = 1; s < end && *s; i++) {
        const uint8_t *e = s;
        while (e < end && *e)
            e++;
        if (i == index) {
            size_t n = (size_t)(e - s);
            /* A longer string is cut, and says so ("..."). */
            if (format_escaped(dst, size, s, n) >= size) {
                size_t l = strlen(dst);
                if (l >= 3)
                    memcpy(dst + l - 3, "...", 4);
            }
            /* Trailing blanks are padding some firmware leaves. */
            for (size_t k = strlen(dst); k > 0 && dst[k - 1] == ' '; k--)
                dst[k - 1] = '\0';
            return;
        }
        s = e + 1;
    }
}

static void uuid_text(const uint8_t *u, bool little_endian, char *dst)
{
    bool zero = true, ones = true;
    for (unsigned i = 0; i < 16; i++) {
        zero &= u[i] == 0;
        ones &= u[i] == 0xff;
    }
    if (zero || ones) {
        dst[0] = '\0';
        return;
    }
    static const uint8_t le_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    size_t n = 0;
    for (unsigned i = 0; i < 16; i++) {
        unsigned b = u[little_endian ? le_order[i] : i];
        if (i == 4 || i == 6 || i == 8 || i == 10)
            dst[n++] = '-';
        n += (size_t)snprintf(dst + n, 3, "%02x", b);
    }
    dst[n] = '\0';
}

void smbios_identity_parse(const uint8_t *table, size_t len, unsigned major, unsigned minor,
                           struct smbios_identity *out)
{
    memset(out, 0, sizeof(*out));
    const uint8_t *p = table, *end = table + len;
    bool le_uuid = major > 2 || (major == 2 && minor >= 6);
    while (p + 4 <= end) {
        uint8_t type = p[0], flen = p[1];
        if (flen < 4 || p + flen > end) {
            out->truncated = true;
            return;
        }
        /* The string set: up to the double NUL (an empty set is two NULs). */
        const uint8_t *s = p + flen, *q = s;
        while (q + 1 < end && !(q[0] == 0 && q[1] == 0))
            q++;
        if (q + 1 >= end) {
            out->truncated = true;
            return;
        }
        out->structures++;
        switch (type) {
        case 0:
            if (flen >= 0x09) {
                string_at(s, q + 1, p[0x04], out->bios_vendor, sizeof(out->bios_vendor));
                string_at(s, q + 1, p[0x05], out->bios_version, sizeof(out->bios_version));
                string_at(s, q + 1, p[0x08], out->bios_date, sizeof(out->bios_date));
            }
            break;
        case 1:
            if (flen >= 0x08) {
                string_at(s, q + 1, p[0x04], out->sys_vendor, sizeof(out->sys_vendor));
                string_at(s, q + 1, p[0x05], out->product, sizeof(out->product));
                string_at(s, q + 1, p[0x06], out->version, sizeof(out->version));
                string_at(s, q + 1, p[0x07], out->serial, sizeof(out->serial));
            }
            if (flen >= 0x18)
                uuid_text(p + 0x08, le_uuid, out->uuid);
            break;
        case 2:
            if (flen >= 0x08) {
                string_at(s, q + 1, p[0x04], out->board_vendor, sizeof(out->board_vendor));
                string_at(s, q + 1, p[0x05], out->board_product, sizeof(out->board_product));
                string_at(s, q + 1, p[0x07], out->board_serial, sizeof(out->board_serial));
            }
            break;
        default:
            break;
        }
        p = q + 2;
        if (type == 127)        /* end of table */
            return;
    }
    out->truncated = p < end;   /* bytes left that hold no structure header */
}

void smbios_efi_config_find(const uint8_t *entries, uint32_t count, uint64_t *smbios3,
                            uint64_t *smbios)
{
    /* EFI_GUIDs as they lie in memory: Data1..Data3 little-endian, Data4 as is. */
    static const uint8_t guid3[16] = { 0x44, 0x15, 0xfd, 0xf2, 0x94, 0x97, 0x2c, 0x4a,
                                       0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94 };
    static const uint8_t guid2[16] = { 0x31, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
                                       0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };
    *smbios3 = *smbios = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = entries + (size_t)i * 24;
        if (!*smbios3 && memcmp(e, guid3, 16) == 0)
            *smbios3 = le64(e + 16);
        else if (!*smbios && memcmp(e, guid2, 16) == 0)
            *smbios = le64(e + 16);
    }
}
