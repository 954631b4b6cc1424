/* SPDX-License-Identifier: MIT */
/* tests/fuzz/reseal.c — the CRC fix-ups of tests/fuzz/fuzz.h: the
 * scratch label's CRC-32C (lib/scratch.h, bytes 508..511) and a GPT's
 * HeaderCRC32 and PartitionEntryArrayCRC32 (UEFI 2.10 §5.3.2), recomputed
 * over whatever the fuzzer put there. Linked into every target. */
#include "tests/fuzz/fuzz.h"
#include "lib/crc.h"
#include "lib/endian.h"

void fuzz_reseal_label(uint8_t *head, size_t len)
{
    if (len >= 512)
        le32_put(head + 508, crc32c(head, 508));
}

void fuzz_reseal_gpt(uint8_t *head, size_t len, uint32_t bs)
{
    if (len < 2 * (size_t)bs)
        return;
    uint8_t *h = head + bs;
    uint64_t entries_lba = le64_get(h + 72);
    uint64_t bytes = (uint64_t)le32_get(h + 80) * le32_get(h + 84);
    if (entries_lba <= len / bs && bytes <= len - entries_lba * bs)
        le32_put(h + 88, crc32(head + entries_lba * bs, bytes));
    uint32_t size = le32_get(h + 12);
    if (size < 20 || size > bs)
        return;
    le32_put(h + 16, 0);
    le32_put(h + 16, crc32(h, size));
}
