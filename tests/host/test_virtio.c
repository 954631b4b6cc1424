/* SPDX-License-Identifier: MIT */
/* tests/host/test_virtio.c — the virtio-blk driver's pure files on the host:
 * the PCI capability list (drivers/virtio/virtio_pci_caps.c) from config-space
 * images, modern, legacy-only, looped and malformed; feature and status words
 * (virtio_features.c); the split virtqueue (virtqueue.c) with the test
 * playing the device, through the 16-bit index wrap; and the block device's
 * decisions (virtio_blk_req.c): feature negotiation, limits from the
 * configuration (what virtio rules out refused as impossible, apart from
 * what bareio does not drive), queue 0's size, 512-byte sectors on
 * 4096-byte blocks, data mapped into descriptors and cut at block
 * boundaries, chains, and the status byte. */
#include "tests/host/htest.h"
#include "drivers/virtio/virtio_blk.h"

/* ---- capability list ---- */

static uint8_t cfg[256];
static struct virtio_pci_bar_info bars[6];

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* A vendor capability at `at` linked to `next`. */
static void cap(uint8_t at, uint8_t next, uint8_t type, uint8_t bar, uint32_t off, uint32_t len,
                uint8_t cap_len)
{
    cfg[at] = 0x09;
    cfg[at + 1] = next;
    cfg[at + 2] = cap_len;
    cfg[at + 3] = type;
    cfg[at + 4] = bar;
    put32(cfg + at + 8, off);
    put32(cfg + at + 12, len);
}

/* QEMU's modern virtio-blk-pci: an MSI-X cap first, then common, ISR,
 * device, notify (multiplier 4) and PCI cfg access, all in BAR4 (16 KiB). */
static void qemu_layout(void)
{
    memset(cfg, 0, sizeof(cfg));
    memset(bars, 0, sizeof(bars));
    bars[1] = (struct virtio_pci_bar_info){ true, 4096 };
    bars[4] = (struct virtio_pci_bar_info){ true, 16384 };
    cfg[0x06] = 0x10;           /* capabilities list */
    cfg[0x34] = 0x98;
    cfg[0x98] = 0x11;           /* MSI-X */
    cfg[0x99] = 0x84;
    cap(0x84, 0x70, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 20);
    cap(0x70, 0x60, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, 20);
    put32(cfg + 0x70 + 16, 4);
    cap(0x60, 0x50, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000, 16);
    cap(0x50, 0x40, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000, 16);
    cap(0x40, 0x00, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000, 16);
}

HTEST(virtio_caps_qemu_modern_layout)
{
    struct virtio_pci_layout l;
    char why[200];
    qemu_layout();
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_MODERN);
    HT_EXPECT(l.common.present && l.common.bar == 4 && l.common.offset == 0 &&
              l.common.length == 0x1000 && l.common.cap_offset == 0x40);
    HT_EXPECT(l.isr.present && l.isr.offset == 0x1000);
    HT_EXPECT(l.device.present && l.device.offset == 0x2000);
    HT_EXPECT(l.notify.present && l.notify.offset == 0x3000);
    HT_EXPECT_EQ(l.notify_off_multiplier, 4);
    HT_EXPECT_EQ(l.virtio_caps, 5);
    HT_EXPECT_EQ(l.passed_over, 1);     /* the PCI cfg access capability is not used */
}

HTEST(virtio_caps_none_is_legacy_only)
{
    struct virtio_pci_layout l;
    char why[200];
    qemu_layout();
    cfg[0x99] = 0;                      /* MSI-X only */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_LEGACY_ONLY);
    HT_EXPECT(strstr(why, "no virtio vendor-specific capability") != NULL);
    cfg[0x06] = 0;                      /* no capability list at all */
    cfg[0x99] = 0x84;
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_LEGACY_ONLY);
    /* A vendor capability too short to be virtio's is someone else's. */
    qemu_layout();
    static const uint8_t at[] = { 0x40, 0x50, 0x60, 0x70, 0x84 };
    for (unsigned i = 0; i < sizeof(at); i++)
        cfg[at[i] + 2] = 8;
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_LEGACY_ONLY);
}

HTEST(virtio_caps_looped_list_ends)
{
    struct virtio_pci_layout l;
    char why[200];
    qemu_layout();
    cfg[0x41] = 0x40;                   /* common cfg points at itself */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_MODERN);
    HT_EXPECT(l.common.present);
}

HTEST(virtio_caps_first_usable_instance_wins)
{
    struct virtio_pci_layout l;
    char why[200];
    qemu_layout();
    /* A notify cfg in an I/O BAR (0) before the memory one: passed over. */
    cfg[0x84 + 1] = 0xa8;
    cap(0xa8, 0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, 0, 0, 0x40, 20);
    cfg[0x84 + 1] = 0xa8;
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_MODERN);
    HT_EXPECT_EQ(l.notify.bar, 4);
    HT_EXPECT_EQ(l.passed_over, 2);
    /* Two usable common cfgs: the first in the list is taken. */
    qemu_layout();
    cap(0xb0, 0x40, VIRTIO_PCI_CAP_COMMON_CFG, 1, 0x100, 0x100, 16);
    cfg[0x50 + 1] = 0xb0;
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_MODERN);
    HT_EXPECT_EQ(l.common.bar, 1);
    HT_EXPECT_EQ(l.common.offset, 0x100);
}

HTEST(virtio_caps_unusable_named)
{
    struct virtio_pci_layout l;
    char why[200];
    qemu_layout();
    put32(cfg + 0x40 + 8, 0x3800);      /* common cfg runs past the 16 KiB BAR */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_UNUSABLE);
    HT_EXPECT(strstr(why, "no usable common cfg") && strstr(why, "runs past BAR4"));
    qemu_layout();
    put32(cfg + 0x40 + 12, 40);         /* shorter than the 56 bytes of virtio 1.0 */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_UNUSABLE);
    HT_EXPECT(strstr(why, "shorter") != NULL);
    qemu_layout();
    cfg[0x70 + 2] = 16;                 /* notify cap without its multiplier */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_UNUSABLE);
    HT_EXPECT(strstr(why, "notify_off_multiplier") != NULL);
    qemu_layout();
    cfg[0x60 + 4] = 6;                  /* reserved bar value: ignored */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_UNUSABLE);
    HT_EXPECT(strstr(why, "device cfg") && strstr(why, "reserved bar"));
    qemu_layout();
    put32(cfg + 0x60 + 8, 0x2002);      /* device cfg misaligned */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_UNUSABLE);
    qemu_layout();
    cfg[0x40 + 3] = VIRTIO_PCI_CAP_SHARED_MEMORY_CFG;   /* no common cfg at all */
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_UNUSABLE);
    HT_EXPECT(strstr(why, "no common cfg capability") != NULL);
}

HTEST(virtio_caps_past_config_space_ignored)
{
    struct virtio_pci_layout l;
    char why[200];
    qemu_layout();
    cfg[0x40 + 1] = 0xfc;               /* last, at 0xfc: it cannot hold 16 bytes */
    cfg[0xfc] = 0x09;
    cfg[0xfd] = 0;
    cfg[0xfe] = 16;
    cfg[0xff] = VIRTIO_PCI_CAP_COMMON_CFG;
    HT_EXPECT_EQ(virtio_pci_parse_layout(cfg, bars, &l, why, sizeof(why)), VIRTIO_PCI_MODERN);
    HT_EXPECT_EQ(l.virtio_caps, 5);
}

/* ---- words ---- */

HTEST(virtio_feature_words_named)
{
    char buf[200];
    virtio_feature_words(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
                         VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(50),
                         &virtio_blk_feature_names, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "SEG_MAX INDIRECT_DESC VERSION_1 bit50");
    virtio_feature_words(0, &virtio_blk_feature_names, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "none");
    virtio_feature_words(VIRTIO_BIT(3), NULL, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "bit3");
    char tiny[8];
    virtio_feature_words(~0ull, &virtio_blk_feature_names, tiny, sizeof(tiny));
    HT_EXPECT(strlen(tiny) < sizeof(tiny));
}

HTEST(virtio_status_words)
{
    char buf[200];
    virtio_status_describe(0x0f, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "0x0f ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK");
    virtio_status_describe(0x4f, buf, sizeof(buf));
    HT_EXPECT(strstr(buf, "DEVICE_NEEDS_RESET") != NULL);
    virtio_status_describe(0x83, buf, sizeof(buf));
    HT_EXPECT(strstr(buf, "FAILED") && strstr(buf, "DRIVER"));
    virtio_status_describe(0, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "0x00 (reset)");
    virtio_status_describe(0xff, buf, sizeof(buf));
    HT_EXPECT(strstr(buf, "all ones") != NULL);
    virtio_status_describe(0x13, buf, sizeof(buf));
    HT_EXPECT(strstr(buf, "reserved bits 0x10") != NULL);
}

/* ---- negotiation and limits ---- */

#define QEMU_OFFERED 0x10130006e54ull   /* virtio-blk-pci in QEMU 7.2, as it offers them */

HTEST(virtio_blk_negotiation)
{
    uint64_t acc;
    char why[200];
    HT_EXPECT(!virtio_blk_negotiate(QEMU_OFFERED & ~VIRTIO_BIT(VIRTIO_F_VERSION_1), &acc, why,
                                    sizeof(why)));
    HT_EXPECT(strstr(why, "VIRTIO_F_VERSION_1") != NULL);
    HT_EXPECT_EQ(acc, 0);
    HT_EXPECT(virtio_blk_negotiate(QEMU_OFFERED, &acc, why, sizeof(why)));
    HT_EXPECT_EQ(acc, VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
                      VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) |
                      VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
                      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_VERSION_1));
    /* Everything offered: only what bareio implements is taken. */
    HT_EXPECT(virtio_blk_negotiate(~0ull, &acc, why, sizeof(why)));
    HT_EXPECT_EQ(acc, VIRTIO_BLK_DRIVER_FEATURES);
    static const unsigned never[] = { VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_IN_ORDER,
                                      VIRTIO_F_NOTIFICATION_DATA, VIRTIO_F_RING_RESET,
                                      VIRTIO_BLK_F_MQ, VIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_ZONED,
                                      VIRTIO_BLK_F_SECURE_ERASE, VIRTIO_BLK_F_SCSI,
                                      VIRTIO_BLK_F_BARRIER, VIRTIO_F_ANY_LAYOUT };
    for (unsigned i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        HT_EXPECT(!(acc & VIRTIO_BIT(never[i])));
}

static struct virtio_blk_config qemu_config(uint32_t blk_size)
{
    return (struct virtio_blk_config){ .capacity = 131072, .seg_max = 254, .blk_size = blk_size,
                                       .max_discard_sectors = 4194303, .max_discard_seg = 1,
                                       .max_write_zeroes_sectors = 4194303,
                                       .max_write_zeroes_seg = 1 };
}

HTEST(virtio_blk_limits_512_and_4096)
{
    uint64_t f = VIRTIO_BLK_DRIVER_FEATURES;
    struct virtio_blk_config c = qemu_config(512);
    struct virtio_blk_limits l;
    char why[200];
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.block_size, 512);
    HT_EXPECT_EQ(l.nblocks, 131072);
    HT_EXPECT_EQ(l.seg_max, 254);
    HT_EXPECT_EQ(l.size_max, UINT32_MAX);
    HT_EXPECT_EQ(l.max_transfer, 2048);         /* bareio's 1 MiB */
    HT_EXPECT_EQ(l.max_discard, 4194303);
    c = qemu_config(4096);
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.block_size, 4096);
    HT_EXPECT_EQ(l.sectors_per_block, 8);
    HT_EXPECT_EQ(l.nblocks, 16384);             /* capacity stays in 512-byte sectors */
    HT_EXPECT_EQ(l.max_transfer, 256);
    HT_EXPECT_EQ(l.max_discard, 4194303 / 8);
    /* BLK_SIZE not negotiated: 512, whatever the field holds. */
    HT_EXPECT_EQ(virtio_blk_limits(f & ~VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE), &c, 256, &l, why,
                                   sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.block_size, 512);
    c = qemu_config(512);
    c.physical_block_exp = 3;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.phys_block_size, 4096);
}

HTEST(virtio_blk_limits_descriptors_and_bytes)
{
    uint64_t f = VIRTIO_BLK_DRIVER_FEATURES;
    struct virtio_blk_config c = qemu_config(512);
    struct virtio_blk_limits l;
    char why[200];
    /* No chain longer than the queue: 2 of 16 go to header and status. */
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 16, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.seg_max, 14);
    c.seg_max = 100000;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 1024, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.seg_max, VIRTIO_BLK_MAX_DATA_DESC);
    /* Without SEG_MAX one data segment is all the device promises. */
    HT_EXPECT_EQ(virtio_blk_limits(f & ~VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX), &c, 256, &l, why,
                                   sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.seg_max, 1);
    c = qemu_config(512);
    c.seg_max = 8;
    c.size_max = 4096;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.max_transfer, 64);           /* 8 x 4 KiB */
    c.seg_max = 2;
    c.size_max = 100;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT(strstr(why, "cannot carry one 512-byte block") != NULL);
    c = qemu_config(512);
    c.max_discard_seg = 0;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.max_discard, 0);
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 2, &l, why, sizeof(why)), BLK_CAUSE_UNSUPPORTED);
}

/* What bareio does not drive, though virtio allows it: a block above
 * 64 KiB, a capacity below one block. Unsupported, not impossible. */
HTEST(virtio_blk_limits_refuse_what_bareio_does_not_drive)
{
    uint64_t f = VIRTIO_BLK_DRIVER_FEATURES;
    struct virtio_blk_config c = qemu_config(131072);
    struct virtio_blk_limits l;
    char why[200];
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT_STREQ(why, "blk_size 131072 bytes: bareio takes a power of two from 512 to 65536 "
                    "bytes");
    c = qemu_config(65536);
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    c = qemu_config(4096);
    c.capacity = 7;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT(strstr(why, "less than one 4096-byte block") != NULL);
    HT_EXPECT(strstr(why, BLK_IMPOSSIBLE_WORDS) == NULL);
}

/* A negotiated blk_size below the protocol's 512-byte sector, 0 included,
 * or not a power of two: impossible, the field and value named. */
HTEST(virtio_blk_limits_impossible_blk_size)
{
    uint64_t f = VIRTIO_BLK_DRIVER_FEATURES;
    struct virtio_blk_limits l;
    char why[200];
    static const uint32_t below[] = { 0, 1, 256, 511 };
    for (unsigned i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
        struct virtio_blk_config c = qemu_config(below[i]);
        HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    }
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": blk_size = 511 bytes, below the 512-byte sector "
                    "of the protocol");
    static const uint32_t odd[] = { 1000, 520, 4097, 6144, 0xffffffffu };
    for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        struct virtio_blk_config c = qemu_config(odd[i]);
        HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    }
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": blk_size = 4294967295 bytes, not a power of two");
    HT_EXPECT(strlen(why) < 160);       /* fits blk_controller_fault.detail */
    /* Without BLK_SIZE negotiated the field means nothing: 512, accepted. */
    struct virtio_blk_config c = qemu_config(1000);
    HT_EXPECT_EQ(virtio_blk_limits(f & ~VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE), &c, 256, &l, why,
                                   sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.block_size, 512);
}

/* Capacity 0 is impossible whatever the block size; one sector is a legal
 * (tiny) 512-byte disk. */
HTEST(virtio_blk_limits_capacity_0_is_impossible)
{
    uint64_t f = VIRTIO_BLK_DRIVER_FEATURES;
    struct virtio_blk_limits l;
    char why[200];
    struct virtio_blk_config c = qemu_config(512);
    c.capacity = 0;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": capacity = 0 sectors");
    c = qemu_config(4096);
    c.capacity = 0;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_EQ(virtio_blk_limits(f & ~VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE), &c, 256, &l, why,
                                   sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    c = qemu_config(512);
    c.capacity = 1;
    HT_EXPECT_EQ(virtio_blk_limits(f, &c, 256, &l, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(l.nblocks, 1);
}

/* Queue 0 is the requestq every virtio-blk device has (§5.2.2): a
 * queue_size of 0 ("unavailable") for it is impossible; any other size is
 * the device's to offer (bareio caps it, and refuses fewer than three
 * descriptors in virtio_blk_limits as unsupported). */
HTEST(virtio_blk_requestq_size_0_is_impossible)
{
    char why[200] = "";
    HT_EXPECT_EQ(virtio_blk_requestq_check(1, 0, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": queue_size = 0 for queue 0, the requestq every "
                    "virtio-blk has (num_queues 1)");
    HT_EXPECT_EQ(virtio_blk_requestq_check(65535, 0, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT(strlen(why) < 160);
    HT_EXPECT_EQ(virtio_blk_requestq_check(1, 1, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(virtio_blk_requestq_check(1, 256, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(virtio_blk_requestq_check(4, 32768, why, sizeof(why)), BLK_OK);
}

/* ---- sectors ---- */

HTEST(virtio_blk_sectors_are_512_bytes)
{
    struct virtio_blk_req_header h;
    virtio_blk_header(&h, VIRTIO_BLK_T_IN, 5, 4096);
    HT_EXPECT_EQ(h.sector, 40);
    HT_EXPECT_EQ(h.type, VIRTIO_BLK_T_IN);
    HT_EXPECT_EQ(h.reserved, 0);
    virtio_blk_header(&h, VIRTIO_BLK_T_OUT, 5, 512);
    HT_EXPECT_EQ(h.sector, 5);
    virtio_blk_header(&h, VIRTIO_BLK_T_FLUSH, 5, 4096);
    HT_EXPECT_EQ(h.sector, 0);
    virtio_blk_header(&h, VIRTIO_BLK_T_DISCARD, 5, 4096);
    HT_EXPECT_EQ(h.sector, 0);
    struct virtio_blk_discard_write_zeroes r;
    virtio_blk_range(&r, 3, 2, 4096);
    HT_EXPECT_EQ(r.sector, 24);
    HT_EXPECT_EQ(r.num_sectors, 16);
    HT_EXPECT_EQ(r.flags, 0);
    HT_EXPECT(virtio_blk_inside_capacity(131071, 1, 512, 131072));
    HT_EXPECT(!virtio_blk_inside_capacity(131072, 1, 512, 131072));
    HT_EXPECT(!virtio_blk_inside_capacity(131071, 2, 512, 131072));
    HT_EXPECT(virtio_blk_inside_capacity(16383, 1, 4096, 131072));
    HT_EXPECT(!virtio_blk_inside_capacity(16383, 2, 4096, 131072));
    HT_EXPECT(!virtio_blk_inside_capacity(~0ull / 4, 1, 4096, ~0ull));     /* no wrap */
    HT_EXPECT(!virtio_blk_inside_capacity(0, 0xffffffffull, 65536, 1000));
}

/* ---- data into descriptors ---- */

HTEST(virtio_blk_map_one_segment)
{
    struct blk_seg s = { 0x10000, 4096, 0 };
    struct virtio_blk_cursor c = { 0, 0 };
    struct virtq_desc d[8];
    uint16_t n = 0;
    HT_EXPECT_EQ(virtio_blk_map_data(&s, 1, &c, 4096, 512, 8, UINT32_MAX, true, d, &n), 4096);
    HT_EXPECT_EQ(n, 1);
    HT_EXPECT_EQ(d[0].addr, 0x10000);
    HT_EXPECT_EQ(d[0].len, 4096);
    HT_EXPECT_EQ(d[0].flags, VIRTQ_DESC_F_WRITE);
    HT_EXPECT_EQ(c.seg, 1);
    /* size_max cuts a segment into descriptors; device-readable for a write. */
    c = (struct virtio_blk_cursor){ 0, 0 };
    HT_EXPECT_EQ(virtio_blk_map_data(&s, 1, &c, 4096, 512, 8, 1024, false, d, &n), 4096);
    HT_EXPECT_EQ(n, 4);
    HT_EXPECT_EQ(d[3].addr, 0x10000 + 3072);
    HT_EXPECT_EQ(d[3].flags, 0);
}

HTEST(virtio_blk_map_cut_at_block_boundary)
{
    /* Four 768-byte segments, 512-byte blocks, three descriptors per part:
     * 2304 bytes reach block boundary 2048, inside the third segment. */
    struct blk_seg s[4] = { { 0x10000, 768, 0 }, { 0x20000, 768, 0 }, { 0x30000, 768, 0 },
                            { 0x40000, 768, 0 } };
    struct virtio_blk_cursor c = { 0, 0 };
    struct virtq_desc d[8];
    uint16_t n = 0;
    HT_EXPECT_EQ(virtio_blk_map_data(s, 4, &c, 1u << 20, 512, 3, UINT32_MAX, false, d, &n), 2048);
    HT_EXPECT_EQ(n, 3);
    HT_EXPECT_EQ(d[2].addr, 0x30000);
    HT_EXPECT_EQ(d[2].len, 512);
    HT_EXPECT_EQ(c.seg, 2);
    HT_EXPECT_EQ(c.offset, 512);
    /* The next part starts there. */
    HT_EXPECT_EQ(virtio_blk_map_data(s, 4, &c, 1u << 20, 512, 3, UINT32_MAX, false, d, &n), 1024);
    HT_EXPECT_EQ(n, 2);
    HT_EXPECT_EQ(d[0].addr, 0x30000 + 512);
    HT_EXPECT_EQ(d[0].len, 256);
    HT_EXPECT_EQ(d[1].addr, 0x40000);
    HT_EXPECT_EQ(d[1].len, 768);
    HT_EXPECT_EQ(c.seg, 4);
}

HTEST(virtio_blk_map_max_bytes_and_fragmented_block)
{
    struct blk_seg s[2] = { { 0x10000, 4096, 0 }, { 0x20000, 4096, 0 } };
    struct virtio_blk_cursor c = { 0, 0 };
    struct virtq_desc d[8];
    uint16_t n = 0;
    HT_EXPECT_EQ(virtio_blk_map_data(s, 2, &c, 6144, 512, 8, UINT32_MAX, false, d, &n), 6144);
    HT_EXPECT_EQ(n, 2);
    HT_EXPECT_EQ(d[1].len, 2048);
    HT_EXPECT_EQ(c.seg, 1);
    HT_EXPECT_EQ(c.offset, 2048);
    /* A block in three pieces, two descriptors allowed: nothing fits. */
    struct blk_seg f[3] = { { 0x1000, 200, 0 }, { 0x2000, 200, 0 }, { 0x3000, 112, 0 } };
    c = (struct virtio_blk_cursor){ 0, 0 };
    HT_EXPECT_EQ(virtio_blk_map_data(f, 3, &c, 512, 512, 2, UINT32_MAX, false, d, &n), 0);
    HT_EXPECT_EQ(c.seg, 0);
    HT_EXPECT_EQ(c.offset, 0);
    HT_EXPECT_EQ(virtio_blk_map_data(f, 3, &c, 512, 512, 3, UINT32_MAX, false, d, &n), 512);
    /* 4096-byte blocks in 1000-byte segments: cut at 4096 inside the fifth. */
    struct blk_seg k[9];
    for (int i = 0; i < 9; i++)
        k[i] = (struct blk_seg){ 0x100000 + (uint64_t)i * 0x10000, 1000, 0 };
    c = (struct virtio_blk_cursor){ 0, 0 };
    HT_EXPECT_EQ(virtio_blk_map_data(k, 9, &c, 8192, 4096, 6, UINT32_MAX, false, d, &n), 4096);
    HT_EXPECT_EQ(n, 5);
    HT_EXPECT_EQ(d[4].len, 96);
    HT_EXPECT_EQ(c.seg, 4);
    HT_EXPECT_EQ(c.offset, 96);
}

HTEST(virtio_blk_chain_layout)
{
    struct virtq_desc t[6] = { 0 };
    t[1] = (struct virtq_desc){ 0x5000, 512, VIRTQ_DESC_F_WRITE, 0 };
    t[2] = (struct virtq_desc){ 0x6000, 512, VIRTQ_DESC_F_WRITE, 0 };
    HT_EXPECT_EQ(virtio_blk_chain_close(t, 0x1000, 2, 0x1020), 4);
    HT_EXPECT_EQ(t[0].addr, 0x1000);
    HT_EXPECT_EQ(t[0].len, 16);
    HT_EXPECT_EQ(t[0].flags, VIRTQ_DESC_F_NEXT);
    HT_EXPECT_EQ(t[0].next, 1);
    HT_EXPECT_EQ(t[1].flags, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
    HT_EXPECT_EQ(t[2].next, 3);
    HT_EXPECT_EQ(t[3].addr, 0x1020);
    HT_EXPECT_EQ(t[3].len, 1);
    HT_EXPECT_EQ(t[3].flags, VIRTQ_DESC_F_WRITE);     /* last: no NEXT */
    HT_EXPECT_EQ(virtio_blk_chain_close(t, 0x1000, 0, 0x1020), 2);   /* FLUSH */
    HT_EXPECT_EQ(t[0].next, 1);
    HT_EXPECT_EQ(t[1].flags, VIRTQ_DESC_F_WRITE);
}

HTEST(virtio_blk_status_byte_decoded)
{
    char w[200];
    HT_EXPECT_EQ(virtio_blk_status_cause(VIRTIO_BLK_T_IN, VIRTIO_BLK_S_OK, w, sizeof(w)), BLK_OK);
    HT_EXPECT_EQ(virtio_blk_status_cause(VIRTIO_BLK_T_IN, VIRTIO_BLK_S_IOERR, w, sizeof(w)),
                 BLK_CAUSE_MEDIA);
    HT_EXPECT(strstr(w, "VIRTIO_BLK_S_IOERR") && strstr(w, "read"));
    HT_EXPECT_EQ(virtio_blk_status_cause(VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_S_IOERR, w, sizeof(w)),
                 BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT_EQ(virtio_blk_status_cause(VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_S_UNSUPP, w, sizeof(w)),
                 BLK_CAUSE_INVALID);
    HT_EXPECT(strstr(w, "does not support DISCARD") != NULL);
    HT_EXPECT_EQ(virtio_blk_status_cause(VIRTIO_BLK_T_OUT, VIRTIO_BLK_STATUS_UNWRITTEN, w,
                                         sizeof(w)), BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT(strstr(w, "never written") && strstr(w, "device bug"));
    HT_EXPECT_EQ(virtio_blk_status_cause(VIRTIO_BLK_T_OUT, 7, w, sizeof(w)),
                 BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT(strstr(w, "0x07") != NULL);
}

HTEST(virtio_blk_id_string_escaped)
{
    char s[81];
    uint8_t id[VIRTIO_BLK_ID_BYTES] = "bareio-vblk0";           /* NUL-padded */
    virtio_blk_id_string(s, sizeof(s), id);
    HT_EXPECT_STREQ(s, "bareio-vblk0");
    memcpy(id, "0123456789abcdefghij", 20);                   /* 20 bytes: no NUL */
    virtio_blk_id_string(s, sizeof(s), id);
    HT_EXPECT_STREQ(s, "0123456789abcdefghij");
    memcpy(id, "ab\x1b[2Jcd\xff", 9);                          /* a terminal escape, a high byte */
    id[9] = 0;
    virtio_blk_id_string(s, sizeof(s), id);
    HT_EXPECT(strchr(s, 0x1b) == NULL && strstr(s, "\\x1b") && strstr(s, "\\xff"));
    memset(id, 0, sizeof(id));
    virtio_blk_id_string(s, sizeof(s), id);
    HT_EXPECT_STREQ(s, "");
}

/* ---- the split virtqueue, the test playing the device ---- */

#define QS 8
static struct virtq_desc ring_desc[QS];
static struct { uint16_t flags, idx, ring[QS], used_event; } avail_mem;
static struct { uint16_t flags, idx; struct virtq_used_elem ring[QS]; uint16_t avail_event; } used_mem;
static uint16_t lists[2 * QS];
static uint16_t device_avail;       /* the device's next avail entry */

static struct virtq vq_make(void)
{
    struct virtq vq = { .size = QS, .desc = ring_desc, .avail = (void *)&avail_mem,
                        .used = (void *)&used_mem, .free_next = lists, .chain_len = lists + QS };
    device_avail = 0;
    virtq_reset(&vq, false);
    return vq;
}

/* The device takes the next published chain and completes it with `len`. */
static uint16_t device_complete(uint32_t len)
{
    uint16_t head = avail_mem.ring[device_avail % QS];
    device_avail++;
    used_mem.ring[used_mem.idx % QS] = (struct virtq_used_elem){ head, len };
    used_mem.idx++;
    return head;
}

static const struct virtq_desc three[3] = {
    { 0x1000, 16, VIRTQ_DESC_F_NEXT, 1 }, { 0x2000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 },
    { 0x1010, 1, VIRTQ_DESC_F_WRITE, 0 },
};

HTEST(virtq_direct_chain_round_trip)
{
    struct virtq vq = vq_make();
    HT_EXPECT_EQ(vq.num_free, QS);
    uint16_t head = virtq_add(&vq, three, 3, false, 0);
    HT_EXPECT(head < QS);
    HT_EXPECT_EQ(vq.num_free, QS - 3);
    HT_EXPECT_EQ(avail_mem.idx, 0);                 /* not published yet */
    HT_EXPECT_EQ(virtq_publish(&vq), 1);
    HT_EXPECT_EQ(avail_mem.idx, 1);
    HT_EXPECT_EQ(virtq_publish(&vq), 0);
    /* The chain as linked in the ring. */
    uint16_t i = head;
    for (int k = 0; k < 3; k++) {
        HT_EXPECT_EQ(ring_desc[i].addr, three[k].addr);
        HT_EXPECT_EQ(!!(ring_desc[i].flags & VIRTQ_DESC_F_NEXT), k < 2);
        i = ring_desc[i].next;
    }
    uint32_t id, len;
    HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_NONE);
    HT_EXPECT_EQ(device_complete(513), head);
    HT_EXPECT_EQ(virtq_used_pending(&vq), 1);
    HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_OK);
    HT_EXPECT_EQ(id, head);
    HT_EXPECT_EQ(len, 513);
    HT_EXPECT_EQ(vq.num_free, QS);
    HT_EXPECT_EQ(vq.heads, 0);
}

HTEST(virtq_indirect_uses_one_descriptor)
{
    struct virtq vq = vq_make();
    HT_EXPECT(!virtq_has_room(&vq, QS + 1, false));
    HT_EXPECT(virtq_has_room(&vq, QS + 1, true));
    uint16_t head = virtq_add(&vq, three, 3, true, 0xabc0);
    HT_EXPECT_EQ(vq.num_free, QS - 1);
    HT_EXPECT_EQ(ring_desc[head].addr, 0xabc0);
    HT_EXPECT_EQ(ring_desc[head].len, 48);
    HT_EXPECT_EQ(ring_desc[head].flags, VIRTQ_DESC_F_INDIRECT);    /* never with NEXT */
    virtq_publish(&vq);
    device_complete(1);
    uint32_t id, len;
    HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_OK);
    HT_EXPECT_EQ(vq.num_free, QS);
}

HTEST(virtq_full_ring_and_bad_ids)
{
    struct virtq vq = vq_make();
    HT_EXPECT(virtq_add(&vq, three, 3, false, 0) != 0xffff);
    HT_EXPECT(virtq_add(&vq, three, 3, false, 0) != 0xffff);
    HT_EXPECT_EQ(virtq_add(&vq, three, 3, false, 0), 0xffff);      /* 2 left, 3 needed */
    HT_EXPECT_EQ(vq.heads, 2);
    /* The device names a descriptor that heads nothing, then one out of range. */
    uint32_t id, len;
    used_mem.ring[0] = (struct virtq_used_elem){ 7, 0 };
    used_mem.ring[1] = (struct virtq_used_elem){ 300, 0 };
    used_mem.idx = 2;
    HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_BAD_ID);
    HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_BAD_ID);
    HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_NONE);
    HT_EXPECT_EQ(vq.heads, 2);                     /* nothing freed */
}

HTEST(virtq_notify_and_interrupt_flags)
{
    struct virtq vq = vq_make();
    HT_EXPECT_EQ(avail_mem.flags, 0);
    HT_EXPECT(virtq_notify_wanted(&vq));
    used_mem.flags = VIRTQ_USED_F_NO_NOTIFY;
    HT_EXPECT(!virtq_notify_wanted(&vq));
    virtq_reset(&vq, true);                         /* polled: no interrupts wanted */
    HT_EXPECT_EQ(avail_mem.flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    HT_EXPECT_EQ(used_mem.flags, 0);
}

/* 70000 requests through an 8-entry queue, a few in flight at a time and
 * completed out of order: both 16-bit indices wrap at 65536 and every used
 * entry comes back for the chain it names. */
HTEST(virtq_indices_wrap)
{
    struct virtq vq = vq_make();
    uint32_t done = 0;
    while (done < 70000) {
        uint16_t heads[2];
        heads[0] = virtq_add(&vq, three, 3, false, 0);
        heads[1] = virtq_add(&vq, three, 2, false, 0);
        HT_EXPECT(heads[0] != 0xffff && heads[1] != 0xffff);
        HT_EXPECT_EQ(virtq_publish(&vq), 2);
        /* Out of order: the second first. */
        uint16_t a = avail_mem.ring[device_avail % QS], b = avail_mem.ring[(device_avail + 1) % QS];
        HT_EXPECT_EQ(a, heads[0]);
        HT_EXPECT_EQ(b, heads[1]);
        device_avail = (uint16_t)(device_avail + 2);
        used_mem.ring[used_mem.idx % QS] = (struct virtq_used_elem){ b, 2 };
        used_mem.ring[(uint16_t)(used_mem.idx + 1) % QS] = (struct virtq_used_elem){ a, 3 };
        used_mem.idx = (uint16_t)(used_mem.idx + 2);
        uint32_t id, len;
        HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_OK);
        HT_EXPECT_EQ(id, b);
        HT_EXPECT_EQ(len, 2);
        HT_EXPECT_EQ(virtq_take_used(&vq, &id, &len), VIRTQ_USED_OK);
        HT_EXPECT_EQ(id, a);
        HT_EXPECT_EQ(len, 3);
        HT_EXPECT_EQ(vq.num_free, QS);
        done += 2;
        if (vq.num_free != QS)
            break;
    }
    HT_EXPECT_EQ(vq.last_used, (uint16_t)70000);
    HT_EXPECT_EQ(avail_mem.idx, (uint16_t)70000);
}
