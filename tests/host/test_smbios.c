/* SPDX-License-Identifier: MIT */
/* tests/host/test_smbios.c — SMBIOS entry points and identity (lib/smbios.h)
 * on tables built here byte by byte: both entry point kinds with their
 * checksums, types 0, 1 and 2 with their strings and the UUID in both byte
 * orders, and what firmware gets wrong: a bad checksum, a missing _DMI_
 * anchor, a string index past the set, control bytes in a string, a
 * structure or string set cut by the table's end, a length below 4. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/smbios.h"
#include <string.h>

static uint8_t tbl[512];
static size_t tlen;

static void put(const void *p, size_t n)
{
    memcpy(tbl + tlen, p, n);
    tlen += n;
}

/* A structure: formatted area `f` (its length in f[1]), then the strings. */
static void structure(const uint8_t *f, const char *const *strings, unsigned n)
{
    put(f, f[1]);
    for (unsigned i = 0; i < n; i++)
        put(strings[i], strlen(strings[i]) + 1);
    if (n == 0)
        put("\0", 1);
    put("\0", 1);
}

static void build(void)
{
    tlen = 0;
    uint8_t t0[0x12] = { 0, 0x12, 0, 0, 1, 2, 0, 0, 3 };
    const char *s0[] = { "SeaBIOS", "1.16.0-debian  ", "04/01/2014" };
    structure(t0, s0, 3);
    uint8_t t1[0x1b] = { 1, 0x1b, 1, 0, 1, 2, 3, 4,
                         0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                         0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    const char *s1[] = { "Acme", "Rack\x01" "9", "v2", "SN-123" };
    structure(t1, s1, 4);
    uint8_t t2[0x0f] = { 2, 0x0f, 2, 0, 1, 2, 0, 9 };    /* serial index 9: not there */
    const char *s2[] = { "Acme Boards", "B-1" };
    structure(t2, s2, 2);
    uint8_t t127[4] = { 127, 4, 3, 0 };
    structure(t127, NULL, 0);
}

HTEST(smbios_identity_from_types_0_1_2)
{
    build();
    struct smbios_identity id;
    smbios_identity_parse(tbl, tlen, 3, 0, &id);
    HT_EXPECT_EQ(id.structures, 4u);
    HT_EXPECT(!id.truncated);
    HT_EXPECT_STREQ(id.bios_vendor, "SeaBIOS");
    HT_EXPECT_STREQ(id.bios_version, "1.16.0-debian");     /* trailing blanks dropped */
    HT_EXPECT_STREQ(id.bios_date, "04/01/2014");
    HT_EXPECT_STREQ(id.sys_vendor, "Acme");
    HT_EXPECT_STREQ(id.product, "Rack\\x019");              /* a control byte escaped */
    HT_EXPECT_STREQ(id.version, "v2");
    HT_EXPECT_STREQ(id.serial, "SN-123");
    HT_EXPECT_STREQ(id.uuid, "00112233-4455-6677-8899-aabbccddeeff");  /* 2.6+: LE fields */
    HT_EXPECT_STREQ(id.board_vendor, "Acme Boards");
    HT_EXPECT_STREQ(id.board_product, "B-1");
    HT_EXPECT_STREQ(id.board_serial, "");                  /* index past the set */
    smbios_identity_parse(tbl, tlen, 2, 8, &id);                      /* QEMU's 2.8 */
    HT_EXPECT_STREQ(id.uuid, "00112233-4455-6677-8899-aabbccddeeff");
    smbios_identity_parse(tbl, tlen, 2, 5, &id);
    HT_EXPECT_STREQ(id.uuid, "33221100-5544-7766-8899-aabbccddeeff");  /* before 2.6: as is */
}

/* A string longer than a field keeps its start and ends in "...", so a
 * report never shows a cut serial as if it were whole. */
HTEST(smbios_long_string_is_marked_cut)
{
    tlen = 0;
    char longname[200];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    uint8_t t1[0x08] = { 1, 0x08, 1, 0, 1, 0, 0, 0 };
    const char *s1[] = { longname };
    structure(t1, s1, 1);
    struct smbios_identity id;
    smbios_identity_parse(tbl, tlen, 3, 0, &id);
    HT_EXPECT_EQ(strlen(id.sys_vendor), (size_t)SMBIOS_TEXT_MAX - 1);
    HT_EXPECT(strncmp(id.sys_vendor, "AAAA", 4) == 0);
    HT_EXPECT_STREQ(id.sys_vendor + SMBIOS_TEXT_MAX - 4, "...");
}

HTEST(smbios_cut_tables_stop_the_walk)
{
    build();
    struct smbios_identity id;
    for (size_t cut = 0; cut < tlen; cut++) {
        smbios_identity_parse(tbl, cut, 3, 0, &id);
        HT_EXPECT(id.structures < 4);
        HT_EXPECT(id.truncated || cut == 0 || id.structures > 0);
    }
    memset(tbl, 0, sizeof tbl);
    tbl[0] = 1;
    tbl[1] = 2;                                 /* a length below 4 */
    smbios_identity_parse(tbl, 64, 3, 0, &id);
    HT_EXPECT(id.truncated);
    HT_EXPECT_EQ(id.structures, 0u);
    memset(tbl, 'x', sizeof tbl);               /* no double NUL anywhere */
    tbl[0] = 1;
    tbl[1] = 8;
    smbios_identity_parse(tbl, sizeof tbl, 3, 0, &id);
    HT_EXPECT(id.truncated);
    HT_EXPECT_STREQ(id.sys_vendor, "");
}

static void checksum(uint8_t *p, size_t n, size_t at)
{
    uint8_t s = 0;
    p[at] = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    p[at] = (uint8_t)-s;
}

HTEST(smbios_entry_points_2_and_3)
{
    uint8_t e2[31] = { '_', 'S', 'M', '_', 0, 31, 2, 8, 0, 0, 0, 0, 0, 0, 0, 0,
                       '_', 'D', 'M', 'I', '_', 0, 0x40, 0x01, 0x00, 0x10, 0x0f, 0x00, 9, 0, 0x28 };
    checksum(e2 + 0x10, 15, 5);
    checksum(e2, 31, 4);
    struct smbios_entry e;
    char why[96];
    HT_EXPECT(smbios_entry_parse(e2, sizeof e2, &e, why, sizeof why));
    HT_EXPECT(!e.v3 && e.major == 2 && e.minor == 8);
    HT_EXPECT_EQ(e.length, 0x140u);
    HT_EXPECT_EQ(e.table, 0xf1000ull);
    e2[0x17] ^= 1;                              /* the table length changes: both sums fail */
    HT_EXPECT(!smbios_entry_parse(e2, sizeof e2, &e, why, sizeof why));
    HT_EXPECT(strstr(why, "checksum") != NULL);
    e2[0x17] ^= 1;
    e2[0x10] = 'X';                             /* no _DMI_ */
    checksum(e2, 31, 4);
    HT_EXPECT(!smbios_entry_parse(e2, sizeof e2, &e, why, sizeof why));
    HT_EXPECT(strstr(why, "_DMI_") != NULL);

    uint8_t e3[24] = { '_', 'S', 'M', '3', '_', 0, 24, 3, 2, 0, 1, 0,
                       0x00, 0x10, 0, 0, 0x00, 0x00, 0x0f, 0x7f, 0x01, 0, 0, 0 };
    checksum(e3, 24, 5);
    HT_EXPECT(smbios_entry_parse(e3, sizeof e3, &e, why, sizeof why));
    HT_EXPECT(e.v3 && e.major == 3 && e.minor == 2);
    HT_EXPECT_EQ(e.length, 0x1000u);
    HT_EXPECT_EQ(e.table, 0x17f0f0000ull);
    e3[6] = 200;                                /* longer than what is readable */
    HT_EXPECT(!smbios_entry_parse(e3, sizeof e3, &e, why, sizeof why));
    HT_EXPECT(!smbios_entry_parse((const uint8_t *)"_SMX_ and nothing", 17, &e, why, sizeof why));
    HT_EXPECT(strstr(why, "anchor") != NULL);
}

/* UEFI: the configuration table's GUIDs name the entry points (SMBIOS 3
 * preferred by the caller); other GUIDs (ACPI's) and a table with neither
 * give nothing. */
HTEST(smbios_efi_configuration_table)
{
    static const uint8_t smbios3[16] = { 0x44, 0x15, 0xfd, 0xf2, 0x94, 0x97, 0x2c, 0x4a,
                                         0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94 };
    static const uint8_t smbios2[16] = { 0x31, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
                                         0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };
    static const uint8_t acpi20[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
                                        0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
    uint8_t t[3 * 24] = { 0 };
    uint64_t a = 0x7f000000, b = 0x7e000000, c = 0x7d000000;
    memcpy(t, acpi20, 16);
    memcpy(t + 16, &a, 8);
    memcpy(t + 24, smbios2, 16);
    memcpy(t + 40, &b, 8);
    memcpy(t + 48, smbios3, 16);
    memcpy(t + 64, &c, 8);
    uint64_t s3 = 1, s2 = 1;
    smbios_efi_config_find(t, 3, &s3, &s2);
    HT_EXPECT_EQ(s3, 0x7d000000ull);
    HT_EXPECT_EQ(s2, 0x7e000000ull);
    smbios_efi_config_find(t, 1, &s3, &s2);       /* only ACPI's */
    HT_EXPECT_EQ(s3, 0ull);
    HT_EXPECT_EQ(s2, 0ull);
}
