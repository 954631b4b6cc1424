/* SPDX-License-Identifier: MIT */
/* tests/host/test_nvme_identify.c — Identify Namespace data checked before
 * the block layer sees it (drivers/nvme/nvme_identify.c): the usable case,
 * inactive NSIDs, fields that contradict each other, LBA formats bareio
 * cannot drive, a size whose bytes overflow 64 bits (clamped) and escaped
 * Identify strings; nvme_ns_decide, one case per rule: each refusal, each
 * clamp, 512 B / 4 KiB / 64 KiB blocks, the caps, write protection and the
 * command set. */
#include "tests/host/htest.h"
#include "drivers/nvme/nvme.h"

static struct nvme_id_ns ns;

#define IMPOSSIBLE BLK_IMPOSSIBLE_WORDS ": "

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
    char why[240];
    sample_ns(0, 9);
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_INACTIVE);
    sample_ns(1000, 9);
    ns.ncap = 1001;
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, IMPOSSIBLE "NCAP = 1001 exceeds NSZE = 1000");
    sample_ns(1000, 9);
    ns.nuse = 1001;
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_IMPOSSIBLE);
    sample_ns(1000, 9);
    ns.flbas = 5;                       /* format 5 of 2 */
    HT_EXPECT_EQ(nvme_ns_geometry(&ns, &g, why, sizeof why), NVME_NS_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, IMPOSSIBLE "FLBAS = 0x05 selects LBA format 5 of 2 (NLBAF = 1)");
}

HTEST(nvme_ns_geometry_block_sizes_512_to_64k_only)
{
    struct nvme_ns_geometry g;
    char why[240];
    for (unsigned lbads = 0; lbads < 32; lbads++) {
        sample_ns(1000, lbads);
        enum nvme_ns_verdict v = nvme_ns_geometry(&ns, &g, why, sizeof why);
        /* Below 512 bytes the spec rules it out; above 64 KiB bareio does not drive it. */
        HT_EXPECT_EQ(v, lbads < 9 ? NVME_NS_IMPOSSIBLE : lbads <= 16 ? NVME_NS_USABLE
                                                                    : NVME_NS_UNUSABLE);
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

/* ---- nvme_ns_decide: one case per rule ---- */

/* A controller like QEMU's: Write Zeroes and DSM, a write cache, MDTS 512 KiB. */
static const struct nvme_ns_ctrl_facts qemu_like = {
    .oncs = NVME_ONCS_WRITE_ZEROES | NVME_ONCS_DSM, .vwc = NVME_VWC_PRESENT,
    .max_transfer_bytes = 512 * 1024,
};
static const struct nvme_ns_ctrl_facts bare = { .max_transfer_bytes = 4u << 20 };

static struct nvme_ns_decision decide(const struct nvme_ns_ctrl_facts *facts)
{
    struct nvme_ns_decision d;
    memset(&d, 0x5a, sizeof d);         /* every field must be set, whatever was there */
    nvme_ns_decide(&ns, facts, &d);
    return d;
}

/* A refusal says why and leaves nothing else set. */
static void expect_refused(const struct nvme_ns_decision *d, enum nvme_ns_verdict v,
                           const char *why)
{
    HT_EXPECT_EQ(d->verdict, v);
    HT_EXPECT_STREQ(d->why, why);
    HT_EXPECT_EQ(d->block_size, 0);
    HT_EXPECT_EQ(d->geometry.nblocks, 0);
    HT_EXPECT_EQ(d->caps, 0);
    HT_EXPECT_EQ(d->max_transfer, 0);
    HT_EXPECT_STREQ(d->read_only_reason, "");
}

HTEST(nvme_ns_decide_512_byte_blocks_on_a_qemu_like_controller)
{
    sample_ns(131072, 9);               /* FLBAS 1: format 1 of 2, 512 B */
    ns.dlfeat = NVME_DLFEAT_READ_ZEROES;
    struct nvme_ns_decision d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_STREQ(d.why, "");
    HT_EXPECT_EQ(d.geometry.format, 1);
    HT_EXPECT_EQ(d.formats, 2);
    HT_EXPECT_EQ(d.block_size, 512);
    HT_EXPECT_EQ(d.geometry.lba_shift, 9);
    HT_EXPECT_EQ(d.geometry.nblocks, 131072);
    HT_EXPECT_EQ(d.nsze, 131072);
    HT_EXPECT(!d.geometry.clamped);
    HT_EXPECT_EQ(d.max_transfer, 1024);  /* 512 KiB of 512 B blocks */
    HT_EXPECT_EQ(d.caps, BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64 | BLK_CAP_WRITE_ZEROES |
                         BLK_CAP_TRIM | BLK_CAP_TRIM_ZEROES | BLK_CAP_WRITE_CACHE);
    HT_EXPECT_STREQ(d.read_only_reason, "");
}

HTEST(nvme_ns_decide_4096_and_64k_byte_blocks)
{
    sample_ns(16384, 12);
    struct nvme_ns_decision d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_EQ(d.block_size, 4096);
    HT_EXPECT_EQ(d.max_transfer, 128);
    HT_EXPECT_EQ(d.geometry.nblocks, 16384);
    sample_ns(1024, 16);
    d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_EQ(d.block_size, 65536);
    HT_EXPECT_EQ(d.max_transfer, 8);
    d = decide(&bare);                  /* bareio's own 4 MiB cap: 64 blocks */
    HT_EXPECT_EQ(d.max_transfer, 64);
}

/* Flush and FUA always; the rest only as the controller and DLFEAT say. */
HTEST(nvme_ns_decide_caps_follow_oncs_vwc_and_dlfeat)
{
    sample_ns(1000, 9);
    struct nvme_ns_decision d = decide(&bare);
    HT_EXPECT_EQ(d.caps, BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64);
    struct nvme_ns_ctrl_facts f = bare;
    f.oncs = NVME_ONCS_DSM;
    d = decide(&f);
    HT_EXPECT_EQ(d.caps, BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64 | BLK_CAP_TRIM);
    f.oncs = NVME_ONCS_WRITE_ZEROES;
    f.vwc = NVME_VWC_PRESENT;
    d = decide(&f);
    HT_EXPECT_EQ(d.caps, BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64 | BLK_CAP_WRITE_ZEROES |
                         BLK_CAP_WRITE_CACHE);
    /* DLFEAT 2:0 = 010b: deallocated blocks read all ones, not zeroes. */
    ns.dlfeat = 2;
    HT_EXPECT(!(decide(&qemu_like).caps & BLK_CAP_TRIM_ZEROES));
    /* Bits above 2:0 (Write Zeroes deallocates, guard field) do not matter. */
    ns.dlfeat = 0x18 | NVME_DLFEAT_READ_ZEROES;
    HT_EXPECT(decide(&qemu_like).caps & BLK_CAP_TRIM_ZEROES);
}

HTEST(nvme_ns_decide_nsze_zero_is_an_inactive_nsid)
{
    sample_ns(0, 9);
    struct nvme_ns_decision d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_INACTIVE, "size 0 (inactive)");
}

HTEST(nvme_ns_decide_refuses_contradictory_sizes)
{
    sample_ns(1000, 9);
    ns.ncap = 1001;
    struct nvme_ns_decision d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_IMPOSSIBLE, IMPOSSIBLE "NCAP = 1001 exceeds NSZE = 1000");
    sample_ns(1000, 9);
    ns.ncap = 500;
    ns.nuse = 501;
    d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_IMPOSSIBLE, IMPOSSIBLE "NUSE = 501 exceeds NCAP = 500");
}

HTEST(nvme_ns_decide_refuses_flbas_beyond_nlbaf)
{
    sample_ns(1000, 9);
    ns.flbas = 2;                       /* format 2; NLBAF 1: formats 0 and 1 */
    struct nvme_ns_decision d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_IMPOSSIBLE, IMPOSSIBLE "FLBAS = 0x02 selects LBA format 2 of 2 (NLBAF = 1)");
    /* Bits 6:5 are the upper index bits only with more than 16 formats. */
    sample_ns(1000, 9);
    ns.flbas = 0x21;                    /* bits 3:0 = 1, bits 6:5 = 01b */
    d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_EQ(d.geometry.format, 1);
    ns.nlbaf = 19;                      /* 20 formats: index 17 */
    ns.lbaf[17].lbads = 12;
    d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_EQ(d.geometry.format, 17);
    HT_EXPECT_EQ(d.block_size, 4096);
    HT_EXPECT_EQ(d.formats, 20);
    ns.nlbaf = 16;                      /* 17 formats: index 17 is beyond */
    d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_IMPOSSIBLE, IMPOSSIBLE "FLBAS = 0x21 selects LBA format 17 of 17 (NLBAF = 16)");
}

/* Metadata, in the data buffer (extended LBA) or apart, and so protection
 * information, which lives in the metadata: bareio transfers data only. */
HTEST(nvme_ns_decide_refuses_metadata_and_protection_information_formats)
{
    sample_ns(1000, 9);
    ns.lbaf[1].ms = 8;
    struct nvme_ns_decision d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_UNUSABLE, "LBA format 1 has 8 metadata bytes per block "
                   "(separate buffer); bareio transfers data only");
    ns.flbas |= 0x10;                   /* metadata at the end of each LBA */
    d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_UNUSABLE, "LBA format 1 has 8 metadata bytes per block "
                   "(extended LBA); bareio transfers data only");
    sample_ns(1000, 12);                /* PI type 1 in 8 bytes of 4096 + 8 */
    ns.lbaf[1].ms = 8;
    ns.dps = 1;
    d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_UNUSABLE, "LBA format 1 has 8 metadata bytes per block "
                   "(separate buffer); bareio transfers data only");
}

HTEST(nvme_ns_decide_refuses_blocks_outside_512_to_64k)
{
    sample_ns(1000, 8);
    struct nvme_ns_decision d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_IMPOSSIBLE, IMPOSSIBLE "LBA format 1 LBADS = 8 (blocks of 2^8 bytes: "
                   "the minimum is 9, 512 bytes)");
    sample_ns(1000, 17);
    d = decide(&qemu_like);
    expect_refused(&d, NVME_NS_UNUSABLE, "LBA format 1 has 2^17-byte blocks (bareio takes "
                   "512 B..64 KiB)");
    sample_ns(1000, 0);                 /* LBADS 0: an LBA format that is not there */
    d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_IMPOSSIBLE);
}

/* A block larger than MDTS: no command could move one, so no I/O at all. */
HTEST(nvme_ns_decide_refuses_blocks_larger_than_one_command)
{
    sample_ns(1000, 16);
    struct nvme_ns_ctrl_facts f = qemu_like;
    f.max_transfer_bytes = 32 * 1024;
    struct nvme_ns_decision d = decide(&f);
    expect_refused(&d, NVME_NS_UNUSABLE, "LBA format 1 has 65536-byte blocks, more than one "
                   "command may move (32768 bytes, MDTS)");
    f.max_transfer_bytes = 64 * 1024;   /* exactly one block per command */
    d = decide(&f);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_EQ(d.max_transfer, 1);
}

/* An absurd NSZE: clamped so that its bytes fit 64 bits, the reported size kept. */
HTEST(nvme_ns_decide_clamps_an_absurd_nsze)
{
    sample_ns(UINT64_MAX, 9);
    struct nvme_ns_decision d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT(d.geometry.clamped);
    HT_EXPECT_EQ(d.geometry.nblocks, UINT64_MAX >> 9);
    HT_EXPECT_EQ(d.nsze, UINT64_MAX);
    sample_ns(1ull << 48, 16);          /* 2^64 bytes exactly: one block too many */
    d = decide(&qemu_like);
    HT_EXPECT(d.geometry.clamped);
    HT_EXPECT_EQ(d.geometry.nblocks, (1ull << 48) - 1);
    sample_ns(1, 16);                   /* the smallest */
    d = decide(&qemu_like);
    HT_EXPECT(!d.geometry.clamped);
    HT_EXPECT_EQ(d.geometry.nblocks, 1);
}

HTEST(nvme_ns_decide_write_protected_namespace_is_read_only)
{
    sample_ns(1000, 9);
    ns.nsattr = NVME_NSATTR_WRITE_PROTECTED;
    struct nvme_ns_decision d = decide(&qemu_like);
    HT_EXPECT_EQ(d.verdict, NVME_NS_USABLE);
    HT_EXPECT_STREQ(d.read_only_reason, "the namespace is write protected (Identify Namespace "
                    "NSATTR bit 0)");
    ns.nsattr = 0xfe;                   /* every other (reserved) bit: writable */
    d = decide(&qemu_like);
    HT_EXPECT_STREQ(d.read_only_reason, "");
}

/* The command set comes from the descriptor list: NVM (or none) changes
 * nothing, any other set makes the namespace read-only, before write
 * protection. */
HTEST(nvme_ns_decide_command_set_other_than_nvm_is_read_only)
{
    sample_ns(8192, 9);
    struct nvme_ns_decision d = decide(&qemu_like);
    nvme_ns_decide_command_set(&d, -1, 0);
    HT_EXPECT_STREQ(d.read_only_reason, "");
    nvme_ns_decide_command_set(&d, NVME_CSI_NVM, 0);
    HT_EXPECT_STREQ(d.read_only_reason, "");
    nvme_ns_decide_command_set(&d, NVME_CSI_ZONED, 256);
    HT_EXPECT_STREQ(d.read_only_reason, "zoned namespace (NVMe ZNS), 32 zones of 256 blocks: "
                    "its writes must follow zone write pointers, which bareio does not drive");
    d = decide(&qemu_like);
    nvme_ns_decide_command_set(&d, NVME_CSI_ZONED, 0);
    HT_EXPECT_STREQ(d.read_only_reason, "zoned namespace (NVMe ZNS): its writes must follow "
                    "zone write pointers, which bareio does not drive");
    d = decide(&qemu_like);
    nvme_ns_decide_command_set(&d, NVME_CSI_KV, 0);
    HT_EXPECT_STREQ(d.read_only_reason, "a key value namespace, not the NVM command set bareio "
                    "drives");
    ns.nsattr = NVME_NSATTR_WRITE_PROTECTED;
    d = decide(&qemu_like);
    nvme_ns_decide_command_set(&d, 0x30, 0);
    HT_EXPECT_STREQ(d.read_only_reason, "a command set 30h namespace, not the NVM command set "
                    "bareio drives");
    d = decide(&qemu_like);
    nvme_ns_decide_command_set(&d, NVME_CSI_NVM, 0);   /* NVM: write protection stays */
    HT_EXPECT(strstr(d.read_only_reason, "write protected") != NULL);
}

/* A namespace left out stays left out whatever its command set. */
HTEST(nvme_ns_decide_command_set_leaves_a_refusal_alone)
{
    sample_ns(1000, 9);
    ns.lbaf[1].ms = 16;
    struct nvme_ns_decision d = decide(&qemu_like);
    nvme_ns_decide_command_set(&d, NVME_CSI_ZONED, 256);
    HT_EXPECT_EQ(d.verdict, NVME_NS_UNUSABLE);
    HT_EXPECT_STREQ(d.read_only_reason, "");
}

/* ---- CAP, VS and Identify Controller (nvme_cap_check, nvme_id_ctrl_check) ---- */

/* QEMU's: MQES 2047, CQR, TO 15 (7.5 s), CSS NVM, MPSMIN 0, MPSMAX 4. */
#define CAP_QEMU (0x7ffull | NVME_CAP_CQR | (15ull << 24) | (1ull << 37) | (4ull << 52))
#define VS_1_4 0x00010400u

static enum blk_cause cap_check(uint64_t cap, uint32_t vs, char *why)
{
    memset(why, 0x5a, 240);
    why[239] = 0;
    return nvme_cap_check(cap, vs, why, 240);
}

HTEST(nvme_cap_check_accepts_real_controllers)
{
    char why[240];
    HT_EXPECT_EQ(cap_check(CAP_QEMU, VS_1_4, why), BLK_OK);
    HT_EXPECT_EQ(cap_check(CAP_QEMU, 0x00010000, why), BLK_OK);       /* 1.0 */
    HT_EXPECT_EQ(cap_check(CAP_QEMU, 0x00020100, why), BLK_OK);       /* 2.1 */
    /* The smallest legal values: MQES 1 (two entries), TO 1 (500 ms), MPSMAX = MPSMIN. */
    uint64_t small = 1ull | (1ull << 24) | (1ull << 37);
    HT_EXPECT_EQ(cap_check(small, VS_1_4, why), BLK_OK);
}

HTEST(nvme_cap_check_names_each_impossible_field)
{
    static const struct { uint64_t cap; uint32_t vs; const char *why; } cases[] = {
        { CAP_QEMU, 0, "VS = 0x00000000 (NVMe 0.0: there is no version 0)" },
        { CAP_QEMU, 0x00000103, "VS = 0x00000103 (NVMe 0.1: there is no version 0)" },
        { CAP_QEMU, 0x00030000, "VS = 0x00030000 (NVMe 3.0: newer than any published version, 2.x)" },
        { CAP_QEMU & ~0xffffull, VS_1_4, "CAP.MQES = 0 (queues of one entry: the minimum is 1, two entries)" },
        { CAP_QEMU & ~(0xffull << 24), VS_1_4, "CAP.TO = 0 (no time at all for CSTS.RDY to follow CC.EN)" },
        { (CAP_QEMU & ~(0xffull << 48)) | (3ull << 48) | (2ull << 52), VS_1_4,
          "CAP.MPSMAX = 2 is below CAP.MPSMIN = 3" },
        { CAP_QEMU & ~(0xffull << 37), VS_1_4, "CAP.CSS = 0 (no command set at all)" },
    };
    char why[240], want[240];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        HT_EXPECT_EQ(cap_check(cases[i].cap, cases[i].vs, why), BLK_CAUSE_IMPOSSIBLE);
        snprintf(want, sizeof want, IMPOSSIBLE "%s", cases[i].why);
        HT_EXPECT_STREQ(why, want);
    }
}

/* Legal, but not what bareio drives; and a controller that does not answer. */
HTEST(nvme_cap_check_tells_unsupported_and_gone_from_impossible)
{
    char why[240];
    HT_EXPECT_EQ(cap_check((CAP_QEMU & ~(0xffull << 37)) | (1ull << 43), VS_1_4, why),
                 BLK_CAUSE_UNSUPPORTED);                    /* CSS: I/O command sets, no NVM */
    HT_EXPECT(strncmp(why, "CAP.CSS lacks the NVM command set", 33) == 0);
    HT_EXPECT_EQ(cap_check(CAP_QEMU | (1ull << 48), VS_1_4, why), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT(strncmp(why, "4 KiB memory pages are outside", 30) == 0);
    HT_EXPECT_EQ(cap_check(~0ull, 0xffffffffu, why), BLK_CAUSE_NOT_READY);
    HT_EXPECT_STREQ(why, "VS reads 0xffffffff: the controller does not answer on its BAR");
}

HTEST(nvme_id_ctrl_check_rules)
{
    struct nvme_id_ctrl id;
    char why[240];
    memset(&id, 0, sizeof id);
    id.sqes = 0x66;
    id.cqes = 0x44;
    id.nn = 1;
    HT_EXPECT_EQ(nvme_id_ctrl_check(&id, why, sizeof why), BLK_OK);
    id.sqes = 0x76;                     /* 64 required, 128 allowed: fine */
    HT_EXPECT_EQ(nvme_id_ctrl_check(&id, why, sizeof why), BLK_OK);
    id.nn = 0;
    HT_EXPECT_EQ(nvme_id_ctrl_check(&id, why, sizeof why), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, IMPOSSIBLE "Identify Controller NN = 0 (an I/O controller with room for "
                    "no namespace)");
    id.nn = 1;
    id.sqes = 0x67;                     /* requires 128, allows at most 64 */
    HT_EXPECT_EQ(nvme_id_ctrl_check(&id, why, sizeof why), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, IMPOSSIBLE "Identify Controller SQES = 0x67, CQES = 0x44 (a required entry "
                    "size above the maximum)");
    id.sqes = 0x66;
    id.cqes = 0x45;
    HT_EXPECT_EQ(nvme_id_ctrl_check(&id, why, sizeof why), BLK_CAUSE_IMPOSSIBLE);
    id.cqes = 0x55;                     /* 32-byte entries only: legal, not bareio's */
    HT_EXPECT_EQ(nvme_id_ctrl_check(&id, why, sizeof why), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT_STREQ(why, "queue entry sizes SQES 0x66 CQES 0x55 exclude 64/16 bytes");
}
