/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_gpt.c — lib/gpt.c on any header and entry array: a header
 * it accepts has usable LBAs inside the disk and clear of LBA 0, the header,
 * both entry arrays and the backup header; a partition it returns lies
 * inside the usable LBAs. */
#include "tests/fuzz/fuzz.h"
#include "lib/gpt.h"
#include "lib/string.h"

static int check(const uint8_t *disk, size_t len, uint32_t bs, uint64_t nblocks);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint8_t choice = fuzz_u8(&in);
    uint32_t bs = 512u << (choice % 8);
    uint64_t nblocks = fuzz_edgy64(&in);
    if (in.n < bs)
        return 0;
    /* LBA 0 is not fuzzed: the header is block 1 of this copy, the entries
     * follow as LBA 2.. (so the reseal finds them where the header says). */
    size_t len = bs + in.n;
    uint8_t *disk = calloc(1, len);
    if (!disk)
        return 0;
    memcpy(disk + bs, in.p, in.n);
    if (choice & 8)
        fuzz_reseal_gpt(disk, len, bs);
    int rc = check(disk, len, bs, nblocks);
    free(disk);
    return rc;
}

static int check(const uint8_t *disk, size_t len, uint32_t bs, uint64_t nblocks)
{
    const uint8_t *block = disk + bs;
    struct gpt_header h;
    if (gpt_parse_header(block, bs, nblocks, &h) != GPT_OK)
        return 0;
    uint64_t eb = (gpt_entries_bytes(&h) + bs - 1) / bs;
    FUZZ_ASSERT(h.my_lba == 1 && h.entries_lba >= 2);
    FUZZ_ASSERT(h.entries_lba + eb <= h.first_usable_lba);
    FUZZ_ASSERT(h.first_usable_lba <= h.last_usable_lba && h.last_usable_lba < nblocks);
    FUZZ_ASSERT(h.alternate_lba < nblocks && h.alternate_lba - eb > h.last_usable_lba);
    FUZZ_ASSERT(gpt_entries_bytes(&h) <= 1024 * 1024);
    if (h.entries_lba > len / bs || gpt_entries_bytes(&h) > len - h.entries_lba * bs)
        return 0;
    const uint8_t *entries = disk + h.entries_lba * bs;
    struct gpt_partition p;
    for (unsigned start = 0; start < h.entry_count; start = p.index + 1) {
        if (gpt_find_partition(&h, entries, gpt_type_bareio, start, &p) != GPT_OK)
            break;
        FUZZ_ASSERT(p.first_lba >= h.first_usable_lba && p.last_lba <= h.last_usable_lba);
        FUZZ_ASSERT(p.first_lba <= p.last_lba && strlen(p.name) <= 36);
    }
    return 0;
}
