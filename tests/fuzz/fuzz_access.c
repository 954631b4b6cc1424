/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_access.c — the write rule (drivers/blk/access.c) on any
 * disk head and geometry: a writable answer is a non-empty range inside the
 * device that never includes LBA 0 unless allow_write= opened a blank disk
 * whole, never on the boot medium; every answer has a reason. (The
 * property test in tests/host/test_blk_access_property.c checks the exact
 * answer against a model; this one looks for any input that breaks the
 * invariants or the memory rules.) */
#include "tests/fuzz/fuzz.h"
#include "drivers/blk/access.h"
#include "lib/scratch.h"
#include "lib/string.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint32_t bs = 512u << (fuzz_u8(&in) % 8);
    uint64_t nblocks = fuzz_edgy64(&in);
    uint8_t flags = fuzz_u8(&in);
    bool allowed = flags & 1;
    const char *boot_id = flags & 2 ? "0123456789ABCDEF" : "";
    /* The head as the kernel reads it: whole blocks, at most the device. */
    uint64_t blocks = (BLK_ACCESS_SPAN + bs - 1) / bs;
    if (nblocks && blocks > nblocks)
        blocks = nblocks;
    size_t len = (size_t)(blocks * bs);
    uint8_t *head = calloc(1, len ? len : 1);
    if (!head)
        return 0;
    memcpy(head, in.p, in.n < len ? in.n : len);
    if (flags & 4)
        fuzz_reseal_label(head, len);
    if (flags & 8)
        fuzz_reseal_gpt(head, len, bs);
    struct blk_access a;
    blk_access_rule(bs, nblocks, head, len, allowed, boot_id, &a);
    FUZZ_ASSERT(a.reason[0] != '\0' && memchr(a.reason, '\0', sizeof a.reason));
    struct scratch_label label;
    if (a.writable) {
        FUZZ_ASSERT(!a.boot_device);
        FUZZ_ASSERT(a.write_first < a.write_end && a.write_end <= nblocks);
        FUZZ_ASSERT(a.write_first > 0 || (allowed && a.write_end == nblocks));
        /* A label's range: whole blocks inside the bytes it names, no more. */
        if (scratch_label_parse(head, 0, &label) == SCRATCH_OK) {
            FUZZ_ASSERT(a.write_first >= label.data_offset / bs);
            FUZZ_ASSERT(a.write_first - label.data_offset / bs <= 1);
            FUZZ_ASSERT((a.write_first - label.data_offset / bs == 1) == (label.data_offset % bs != 0));
            if (label.data_size)
                FUZZ_ASSERT(a.write_end <= (label.data_offset + label.data_size) / bs);
        }
    } else {
        FUZZ_ASSERT(a.write_first == 0 && a.write_end == 0);
    }
    free(head);
    return 0;
}
