/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_mmio_wait.c — the one bounded register wait
 * (kernel/mmio.h) on a register that changes on the fake clock: it ends when
 * the masked bits reach the value, not before and not long after; at its
 * bound with the last value read; at once on all ones (a device gone); and,
 * with a stop mask, at once on the error bit even though the wanted state
 * never came. */
#include "tests/host/hw/hw.h"
#include "kernel/mmio.h"
#include "kernel/time.h"

/* A status register: `value` until `at_ns`, then `later`. */
struct reg_model {
    uint32_t value, later;
    uint64_t at_ns;
    unsigned reads;
};

static uint32_t reg_read(void *m, uint32_t offset, unsigned size)
{
    struct reg_model *r = m;
    (void)size;
    r->reads++;
    if (offset != 0x14)
        return 0;
    return fake_now() >= r->at_ns ? r->later : r->value;
}

static void reg_write(void *m, uint32_t offset, unsigned size, uint32_t value)
{
    (void)m;
    (void)offset;
    (void)size;
    (void)value;
}

static const struct fake_mmio_ops reg_ops = { reg_read, reg_write, NULL };

static volatile void *region(struct reg_model *r) { return fake_mmio_region(0x100, &reg_ops, r); }

HTEST(mmio_wait_ends_when_the_bits_arrive)
{
    struct reg_model r = { .value = 0x10, .later = 0x11, .at_ns = fake_now() + 5 * FAKE_MS };
    volatile void *base = region(&r);
    uint32_t last = 0;
    uint64_t start = time_ns();
    HT_EXPECT_EQ(mmio_wait32(base, 0x14, 0x1, 0x1, 100, &last), MMIO_WAIT_OK);
    HT_EXPECT_EQ(last, 0x11);
    uint64_t took = time_ns() - start;
    HT_EXPECT(took >= 5 * FAKE_MS);
    HT_EXPECT(took < 6 * FAKE_MS);          /* polled every 10 us, not every millisecond */
    /* Already there: one read, no wait. */
    r.reads = 0;
    HT_EXPECT_EQ(mmio_wait32(base, 0x14, 0x11, 0x11, 100, NULL), MMIO_WAIT_OK);
    HT_EXPECT_EQ(r.reads, 1);
}

HTEST(mmio_wait_times_out_at_its_bound_with_the_last_value)
{
    struct reg_model r = { .value = 0x2, .later = 0x2, .at_ns = 0 };
    volatile void *base = region(&r);
    uint32_t last = 0;
    uint64_t start = time_ns();
    HT_EXPECT_EQ(mmio_wait32(base, 0x14, 0x1, 0x1, 50, &last), MMIO_WAIT_TIMEOUT);
    HT_EXPECT_EQ(last, 0x2);
    uint64_t took = time_ns() - start;
    HT_EXPECT(took >= 50 * FAKE_MS);
    HT_EXPECT(took < 51 * FAKE_MS);
    HT_EXPECT_STREQ(mmio_wait_name(MMIO_WAIT_TIMEOUT), "timed out");
}

HTEST(mmio_wait_ends_at_once_on_all_ones)
{
    /* Waiting for a bit to be set: all ones would "have" it; it is a device gone. */
    struct reg_model r = { .value = 0xffffffffu, .later = 0xffffffffu };
    volatile void *base = region(&r);
    uint32_t last = 0;
    uint64_t start = time_ns();
    HT_EXPECT_EQ(mmio_wait32(base, 0x14, 0x1, 0x1, 1000, &last), MMIO_WAIT_GONE);
    HT_EXPECT_EQ(last, 0xffffffffu);
    HT_EXPECT(time_ns() - start < FAKE_MS);
}

HTEST(mmio_wait_until_stops_on_the_error_bit)
{
    /* RDY (bit 0) never comes; CFS (bit 1) comes after 3 ms. */
    struct reg_model r = { .value = 0x0, .later = 0x2, .at_ns = fake_now() + 3 * FAKE_MS };
    volatile void *base = region(&r);
    uint32_t last = 0;
    uint64_t start = time_ns();
    HT_EXPECT_EQ(mmio_wait32_until(base, 0x14, 0x1, 0x1, 0x2, 1000, &last), MMIO_WAIT_STOPPED);
    HT_EXPECT_EQ(last, 0x2);
    HT_EXPECT(time_ns() - start < 4 * FAKE_MS);
    /* Without the stop mask the same register is waited on to the bound. */
    HT_EXPECT_EQ(mmio_wait32(base, 0x14, 0x1, 0x1, 20, &last), MMIO_WAIT_TIMEOUT);
}

/* The 8-bit wait: one-byte reads only (virtio's device_status), and 0xff is
 * the all-ones of a byte. */
static unsigned wide_reads;
static uint32_t byte_reg_read(void *m, uint32_t offset, unsigned size)
{
    if (size != 1)
        wide_reads++;
    return reg_read(m, offset, size);
}
static const struct fake_mmio_ops byte_ops = { byte_reg_read, reg_write, NULL };

HTEST(mmio_wait8_reads_bytes_and_knows_a_byte_of_ones)
{
    struct reg_model r = { .value = 0x0f, .later = 0x00, .at_ns = fake_now() + 2 * FAKE_MS };
    volatile void *base = fake_mmio_region(0x100, &byte_ops, &r);
    uint8_t last = 0xaa;
    wide_reads = 0;
    HT_EXPECT_EQ(mmio_wait8(base, 0x14, 0xff, 0x00, 100, &last), MMIO_WAIT_OK);
    HT_EXPECT_EQ(last, 0x00);
    HT_EXPECT_EQ(wide_reads, 0);
    r = (struct reg_model){ .value = 0xff, .later = 0xff };
    uint64_t start = time_ns();
    HT_EXPECT_EQ(mmio_wait8(base, 0x14, 0xff, 0x00, 100, &last), MMIO_WAIT_GONE);
    HT_EXPECT(time_ns() - start < FAKE_MS);
    r = (struct reg_model){ .value = 0x01, .later = 0x01 };
    HT_EXPECT_EQ(mmio_wait8(base, 0x14, 0xff, 0x00, 30, &last), MMIO_WAIT_TIMEOUT);
    HT_EXPECT_EQ(last, 0x01);
}
