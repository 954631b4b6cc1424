/* SPDX-License-Identifier: MIT */
/* tests/host/test_aml_hid.c — devices of one _HID out of AML (lib/aml_hid.h):
 * QEMU microvm's virtio-mmio devices (Name(_HID, "LNRO0005") and a _CRS with
 * Memory32Fixed), one whose _CRS is no template (no range, never a guess),
 * a device of another _HID between them, more devices than room, AML cut
 * short anywhere (never read past the table), and a descriptor that runs
 * into the next device (no range). */
#include "tests/host/htest.h"
#include "lib/aml_hid.h"
#include <stdlib.h>
#include <string.h>

/* Device (VRnn) { Name (_HID, "LNRO0005") Name (_UID, n) Name (_CRS,
 * ResourceTemplate () { Memory32Fixed (ReadWrite, base, 0x200) Interrupt ... }) } */
static size_t virtio_mmio_device(uint8_t *p, const char *hid, uint32_t base, int with_crs)
{
    size_t n = 0;
    static const uint8_t head[] = { 0x5b, 0x82, 0x30, 'V', 'R', '0', '0' };
    memcpy(p + n, head, sizeof(head));
    n += sizeof(head);
    p[n++] = 0x08;
    memcpy(p + n, "_HID", 4);
    n += 4;
    p[n++] = 0x0d;
    memcpy(p + n, hid, strlen(hid) + 1);
    n += strlen(hid) + 1;
    static const uint8_t uid[] = { 0x08, '_', 'U', 'I', 'D', 0x00 };
    memcpy(p + n, uid, sizeof(uid));
    n += sizeof(uid);
    if (with_crs) {
        static const uint8_t crs[] = { 0x08, '_', 'C', 'R', 'S', 0x11, 0x17, 0x0a, 0x14 };
        memcpy(p + n, crs, sizeof(crs));
        n += sizeof(crs);
        uint8_t mem[12] = { 0x86, 0x09, 0x00, 0x01 };
        for (int i = 0; i < 4; i++) {
            mem[4 + i] = (uint8_t)(base >> (8 * i));
            mem[8 + i] = (uint8_t)(0x200u >> (8 * i));
        }
        memcpy(p + n, mem, sizeof(mem));
        n += sizeof(mem);
        static const uint8_t irq[] = { 0x89, 0x06, 0x00, 0x01, 0x01, 0x10, 0, 0, 0, 0x79, 0x00 };
        memcpy(p + n, irq, sizeof(irq));
        n += sizeof(irq);
    } else {
        /* Method (_CRS) { Return (...) }: nothing to read without running AML. */
        static const uint8_t method[] = { 0x14, 0x08, '_', 'C', 'R', 'S', 0x00, 0xa4, 0x00 };
        memcpy(p + n, method, sizeof(method));
        n += sizeof(method);
    }
    return n;
}

HTEST(aml_hid_finds_microvm_virtio_mmio_ranges)
{
    uint8_t aml[512];
    size_t n = 0;
    n += virtio_mmio_device(aml + n, "LNRO0005", 0xfeb00000, 1);
    n += virtio_mmio_device(aml + n, "PNP0501", 0x3f8, 1);      /* another _HID between */
    n += virtio_mmio_device(aml + n, "LNRO0005", 0, 0);         /* _CRS a method */
    n += virtio_mmio_device(aml + n, "LNRO0005", 0xfeb00e00, 1);
    struct aml_hid_device d[4];
    HT_EXPECT_EQ(aml_find_hid(aml, n, "LNRO0005", d, 4), 3);
    HT_EXPECT_EQ(d[0].base, 0xfeb00000u);
    HT_EXPECT_EQ(d[0].length, 0x200u);
    HT_EXPECT_EQ(d[1].base, 0);         /* not the next device's range */
    HT_EXPECT_EQ(d[1].length, 0);
    HT_EXPECT_EQ(d[2].base, 0xfeb00e00u);
    HT_EXPECT(d[0].offset < d[1].offset && d[1].offset < d[2].offset);
    /* A prefix of the _HID is not the _HID. */
    HT_EXPECT_EQ(aml_find_hid(aml, n, "LNRO000", d, 4), 0);
    HT_EXPECT_EQ(aml_find_hid(aml, n, "PNP0501", d, 4), 1);
    HT_EXPECT_EQ(d[0].base, 0x3f8u);
    /* More devices than room: all counted, the first ones kept. */
    HT_EXPECT_EQ(aml_find_hid(aml, n, "LNRO0005", d, 1), 3);
    HT_EXPECT_EQ(d[0].base, 0xfeb00000u);
    HT_EXPECT_EQ(aml_find_hid(NULL, 0, "LNRO0005", d, 4), 0);
}

HTEST(aml_hid_cut_short_reads_nothing_past_the_table)
{
    uint8_t full[128];
    size_t n = virtio_mmio_device(full, "LNRO0005", 0xfeb00000, 1);
    for (size_t cut = 0; cut < n; cut++) {
        /* A copy of exactly `cut` bytes on the heap: ASan catches a read past it. */
        uint8_t *aml = malloc(cut ? cut : 1);
        memcpy(aml, full, cut);
        struct aml_hid_device d[2];
        unsigned found = aml_find_hid(aml, cut, "LNRO0005", d, 2);
        HT_EXPECT(found <= 1);
        if (found && d[0].base)
            HT_EXPECT_EQ(d[0].base, 0xfeb00000u);   /* a range is whole or none */
        free(aml);
    }
}

/* A Memory32Fixed tag whose twelve bytes run into the next device's
 * Name(_HID, ...) is not a range: its "base" would be that name's bytes
 * (found by fuzz_aml_hid). */
HTEST(aml_hid_range_running_into_the_next_device_is_none)
{
    uint8_t aml[256];
    size_t n = 0;
    static const uint8_t head[] = { 0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0',
                                    '0', '5', 0x00 };
    memcpy(aml + n, head, sizeof(head));
    n += sizeof(head);
    static const uint8_t cut_tag[] = { 0x86, 0x09, 0x00, 0x01, 0xaa, 0xbb };
    memcpy(aml + n, cut_tag, sizeof(cut_tag));
    n += sizeof(cut_tag);
    memcpy(aml + n, head, sizeof(head));        /* the next device's _HID, 6 bytes on */
    n += sizeof(head);
    static const uint8_t mem[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0xb0, 0xfe, 0x00, 0x02,
                                   0x00, 0x00 };
    memcpy(aml + n, mem, sizeof(mem));
    n += sizeof(mem);
    struct aml_hid_device d[2];
    HT_EXPECT_EQ(aml_find_hid(aml, n, "LNRO0005", d, 2), 2);
    HT_EXPECT_EQ(d[0].base, 0);
    HT_EXPECT_EQ(d[0].length, 0);
    HT_EXPECT_EQ(d[1].base, 0xfeb00200u);
}
