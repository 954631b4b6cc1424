/* SPDX-License-Identifier: MIT */
/* tests/host/test_scratch.c — the scratch label: a round trip, and every way a
 * label is refused (no magic, damaged, unknown version, impossible range). */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/crc.h"
#include "lib/scratch.h"

static void sample(struct scratch_label *l)
{
    memset(l, 0, sizeof(*l));
    for (int i = 0; i < 16; i++)
        l->uuid[i] = (uint8_t)(0xa0 + i);
    l->data_offset = SCRATCH_DEFAULT_DATA_OFFSET;
    l->data_size = 0;
    l->created = 1700000000;
    strcpy(l->note, "made by a test");
}

static void reseal(uint8_t *buf)
{
    uint32_t c = crc32c(buf, 508);
    for (int i = 0; i < 4; i++)
        buf[508 + i] = (uint8_t)(c >> (8 * i));
}

HTEST(scratch_label_round_trip)
{
    struct scratch_label in, out;
    uint8_t buf[512];
    sample(&in);
    scratch_label_build(buf, &in);
    HT_EXPECT(memcmp(buf, "BAREIO-SCRATCH", 14) == 0);
    HT_EXPECT(!(buf[510] == 0x55 && buf[511] == 0xaa));
    HT_EXPECT_EQ(scratch_label_parse(buf, 64ull << 20, &out), SCRATCH_OK);
    HT_EXPECT(memcmp(out.uuid, in.uuid, 16) == 0);
    HT_EXPECT_EQ(out.data_offset, SCRATCH_DEFAULT_DATA_OFFSET);
    HT_EXPECT_EQ(out.data_size, 0);
    HT_EXPECT_EQ(out.created, 1700000000);
    HT_EXPECT_STREQ(out.note, "made by a test");
}

HTEST(scratch_label_refusals)
{
    struct scratch_label in, out;
    uint8_t buf[512];
    sample(&in);

    memset(buf, 0, sizeof(buf));
    HT_EXPECT_EQ(scratch_label_parse(buf, 0, &out), SCRATCH_NO_LABEL);

    scratch_label_build(buf, &in);
    buf[200] ^= 1;                              /* one flipped bit */
    HT_EXPECT_EQ(scratch_label_parse(buf, 0, &out), SCRATCH_BAD_CRC);

    scratch_label_build(buf, &in);
    buf[16] = 2;                                /* version 2 */
    reseal(buf);
    HT_EXPECT_EQ(scratch_label_parse(buf, 0, &out), SCRATCH_BAD_VERSION);

    in.data_offset = 4096 + 512;                /* not 4 KiB aligned */
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, 0, &out), SCRATCH_BAD_RANGE);

    in.data_offset = 0;                         /* would overwrite the label */
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, 0, &out), SCRATCH_BAD_RANGE);

    in.data_offset = 1 << 20;                   /* runs past a 2 MiB device */
    in.data_size = 2 << 20;
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, 2 << 20, &out), SCRATCH_BAD_RANGE);
    HT_EXPECT_EQ(scratch_label_parse(buf, 3 << 20, &out), SCRATCH_OK);
}

/* The range against the device end, to the block: exactly at the end is a
 * range, one 4 KiB block past it is not, and no sum may wrap. */
HTEST(scratch_label_range_edges)
{
    struct scratch_label in, out;
    uint8_t buf[512];
    const uint64_t dev = 64ull << 20;
    sample(&in);
    in.data_offset = 1 << 20;
    in.data_size = dev - (1 << 20);
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, dev, &out), SCRATCH_OK);
    in.data_size += 4096;
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, dev, &out), SCRATCH_BAD_RANGE);
    in.data_offset = dev;                   /* offset at the end: nothing left */
    in.data_size = 0;
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, dev, &out), SCRATCH_BAD_RANGE);
    in.data_offset = dev - 4096;
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, dev, &out), SCRATCH_OK);
    in.data_offset = 1 << 20;               /* offset + size wraps to a small number */
    in.data_size = UINT64_MAX - 4095;
    scratch_label_build(buf, &in);
    HT_EXPECT_EQ(scratch_label_parse(buf, dev, &out), SCRATCH_BAD_RANGE);
    HT_EXPECT_EQ(scratch_label_parse(buf, 0, &out), SCRATCH_BAD_RANGE);
    HT_EXPECT_EQ(scratch_label_parse(buf, UINT64_MAX, &out), SCRATCH_BAD_RANGE);
}
