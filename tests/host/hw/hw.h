/* SPDX-License-Identifier: MIT */
/* tests/host/hw/hw.h — what the fake-hardware tests share: bringing
 * a driver up on its model with a command line, and data that names its own
 * block so a read that returns another block's data is caught. */
#ifndef TESTS_HOST_HW_HW_H
#define TESTS_HOST_HW_HW_H
#include "tests/host/htest.h"
#include "tests/host/fake/fake.h"
#include "lib/format.h"
#include <stdlib.h>

/* The drivers start polled, with a 1 s command deadline and every disk
 * writable; `extra` adds keys. NULL when the line is refused. */
static inline struct blk_dev *drivers_start(const char *device, const char *extra)
{
    char line[512];
    snprintf(line, sizeof(line), "nvme.irq=poll ahci.irq=poll blk.timeout=1000 allow_write=* %s",
             extra ? extra : "");
    if (!fake_cmdline(line))
        return NULL;
    fake_blk_start();
    return blk_find(device);
}

/* Block i of buf holds (lba + i, tag) in every dword. */
static inline void pattern_fill(void *buf, uint64_t lba, uint32_t count, uint32_t block,
                                uint32_t tag)
{
    uint32_t *w = buf;
    for (uint64_t i = 0; i < count; i++)
        for (uint32_t j = 0; j < block / 4; j += 2) {
            w[i * block / 4 + j] = (uint32_t)(lba + i);
            w[i * block / 4 + j + 1] = tag;
        }
}

/* The first block that does not hold its pattern, or -1. */
static inline long pattern_check(const void *buf, uint64_t lba, uint32_t count, uint32_t block,
                                 uint32_t tag)
{
    const uint32_t *w = buf;
    for (uint64_t i = 0; i < count; i++)
        for (uint32_t j = 0; j < block / 4; j += 2)
            if (w[i * block / 4 + j] != (uint32_t)(lba + i) || w[i * block / 4 + j + 1] != tag)
                return (long)i;
    return -1;
}

#define HT_ASSERT(cond) do { if (!(cond)) { HT_EXPECT(cond); return; } } while (0)
#define HT_NO_MODEL_ERRORS() \
    HT_EXPECT_STREQ(fake_model_first_error(), "")

#endif
