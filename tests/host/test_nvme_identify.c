/* SPDX-License-Identifier: MIT */
/* tests/host/test_nvme_identify.c — Identify Namespace data checked before
 * the block layer sees it (drivers/nvme/nvme_identify.c): the usable case,
 * inactive NSIDs, fields that contradict each other, LBA formats bareio
 * cannot drive, a size whose bytes overflow 64 bits (clamped) and escaped
 * Identify strings. */
#include "tests/host/htest.h"
#include "drivers/nvme/nvme.h"

static struct nvme_id_ns ns;

static void sample_ns(uint64_t nsze, unsigned lbads)
{
    memset(&ns, 0, sizeof(ns));
    ns.nsze = ns.ncap = ns.nuse = nsze;
    ns.nlbaf = 1;
    ns.flbas = 1;
    ns.lbaf[0].lbads = 9;
    ns.lbaf[1].lbads = (uint8_t)lbads;
}

HTEST(nvme_ns_geometry_usable)
{
    struct nvme_ns_geometry g;
    char why[160];
    sample_ns(131072, 12);
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_USABLE);
    HT_EXPECT_EQ(g.format, 1);
    HT_EXPECT_EQ(g.lba_shift, 12);
    HT_EXPECT_EQ(g.nblocks, 131072);
    HT_EXPECT(!g.clamped);
    ns.ncap = 1000;                     /* thin provisioning: NCAP < NSZE is fine */
    ns.nuse = 10;
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_USABLE);
    HT_EXPECT_EQ(g.nblocks, 131072);
}

HTEST(nvme_ns_geometry_refuses_contradictions)
{
    struct nvme_ns_geometry g;
    char why[160];
    sample_ns(0, 9);
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_INACTIVE);
    sample_ns(1000, 9);
    ns.ncap = 1001;
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_UNUSABLE);
    HT_EXPECT_STREQ(why, "NCAP 1001 exceeds NSZE 1000, which the spec forbids");
    sample_ns(1000, 9);
    ns.nuse = 1001;
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_UNUSABLE);
    sample_ns(1000, 9);
    ns.flbas = 5;                       /* format 5 of 2 */
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_UNUSABLE);
    HT_EXPECT_STREQ(why, "FLBAS selects LBA format 5 of 2");
}

HTEST(nvme_ns_geometry_block_sizes_512_to_64k_only)
{
    struct nvme_ns_geometry g;
    char why[160];
    for (unsigned lbads = 0; lbads < 32; lbads++) {
        sample_ns(1000, lbads);
        enum nvme_ns_verdict v = nvme_ns_geometry(&ns, &g, why, sizeof why);
        HT_EXPECT_EQ(v, lbads >= 9 && lbads <= 16 ? NVME_NS_USABLE : NVME_NS_UNUSABLE);
    }
    sample_ns(1000, 12);
    ns.lbaf[1].ms = 8;
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_UNUSABLE);
}

HTEST(nvme_ns_geometry_clamps_sizes_beyond_2_64_bytes)
{
    struct nvme_ns_geometry g;
    char why[160];
    sample_ns(UINT64_MAX, 16);
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_USABLE);
    HT_EXPECT(g.clamped);
    HT_EXPECT_EQ(g.nblocks, UINT64_MAX >> 16);
    HT_EXPECT(g.nblocks <= UINT64_MAX / 65536);
    sample_ns(UINT64_MAX >> 9, 9);      /* exactly fits */
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_USABLE);
    HT_EXPECT(!g.clamped);
    HT_EXPECT_EQ(g.nblocks, UINT64_MAX >> 9);
    sample_ns((UINT64_MAX >> 12) + 1, 12);  /* one block more than fits */
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_USABLE);
    HT_EXPECT(g.clamped);
    HT_EXPECT_EQ(g.nblocks, UINT64_MAX >> 12);
}

HTEST(nvme_id_string_trims_and_escapes)
{
    char out[4 * 20 + 1];
    static const char sn[20] = "SN\x1b]0;pwn\x07        ";   /* 20 bytes, blank-padded */
    nvme_id_string(out, sizeof out, sn, sizeof sn);
    HT_EXPECT_STREQ(out, "SN\\x1b]0;pwn\\x07");
    char all[20];
    memset(all, 0x9b, sizeof all);      /* CSI, 8-bit */
    nvme_id_string(out, sizeof out, all, sizeof all);
    HT_EXPECT_EQ(strlen(out), 80);
}

HTEST(nvme_ns_descriptor_csi_found_or_not)
{
    static uint8_t page[4096];
    memset(page, 0, sizeof page);
    HT_EXPECT_EQ(nvme_ns_descriptor_csi(page), -1);             /* empty list */
    /* A UUID descriptor (type 3, 16 bytes), then the CSI (type 4, 1 byte). */
    page[0] = 3;
    page[1] = 16;
    page[20] = 4;
    page[21] = 1;
    page[24] = NVME_CSI_ZONED;
    HT_EXPECT_EQ(nvme_ns_descriptor_csi(page), NVME_CSI_ZONED);
    page[24] = NVME_CSI_NVM;
    HT_EXPECT_EQ(nvme_ns_descriptor_csi(page), NVME_CSI_NVM);
    /* A CSI descriptor of the wrong length is not believed. */
    page[21] = 2;
    HT_EXPECT_EQ(nvme_ns_descriptor_csi(page), -1);
    /* A descriptor whose length runs past the page ends the walk. */
    memset(page, 0, sizeof page);
    page[4092] = 3;
    page[4093] = 200;
    HT_EXPECT_EQ(nvme_ns_descriptor_csi(page), -1);
    /* A list filling the page with 1-byte descriptors terminates. */
    for (unsigned at = 0; at + 5 <= 4096; at += 5) {
        page[at] = 7;
        page[at + 1] = 1;
    }
    HT_EXPECT_EQ(nvme_ns_descriptor_csi(page), -1);
}

HTEST(nvme_zns_zone_size_from_the_lba_format_extension)
{
    static uint8_t page[4096];
    memset(page, 0, sizeof page);
    page[2816 + 16 * 1] = 0x00;
    page[2816 + 16 * 1 + 1] = 0x20;                             /* format 1: 8192 blocks */
    HT_EXPECT_EQ(nvme_zns_zone_size(page, 1), 8192);
    HT_EXPECT_EQ(nvme_zns_zone_size(page, 0), 0);
    HT_EXPECT_EQ(nvme_zns_zone_size(page, 16), 0);              /* no such format */
    HT_EXPECT_STREQ(nvme_csi_name(NVME_CSI_ZONED), "zoned (NVMe ZNS)");
    HT_EXPECT_STREQ(nvme_csi_name(0x30), "command set 30h");
}
