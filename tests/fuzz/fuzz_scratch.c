/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_scratch.c — the scratch label (lib/scratch.c): a label it
 * accepts has a 4 KiB-aligned range above the label and inside the device,
 * and building it again gives the same bytes back. */
#include "tests/fuzz/fuzz.h"
#include "lib/scratch.h"
#include "lib/string.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    bool reseal = fuzz_u8(&in) & 1;
    uint64_t device = fuzz_edgy64(&in);
    uint8_t label[SCRATCH_LABEL_SIZE] = { 0 };
    memcpy(label, in.p, in.n < sizeof label ? in.n : sizeof label);
    if (reseal)
        fuzz_reseal_label(label, sizeof label);
    struct scratch_label l;
    if (scratch_label_parse(label, device, &l) != SCRATCH_OK)
        return 0;
    FUZZ_ASSERT(l.data_offset >= SCRATCH_LABEL_SIZE && l.data_offset % 4096 == 0);
    FUZZ_ASSERT(l.data_size % 4096 == 0);
    if (device) {
        FUZZ_ASSERT(l.data_offset < device);
        FUZZ_ASSERT(l.data_size <= device - l.data_offset);
    } else {
        FUZZ_ASSERT(l.data_size <= UINT64_MAX - l.data_offset);
    }
    uint8_t again[SCRATCH_LABEL_SIZE];
    scratch_label_build(again, &l);
    struct scratch_label l2;
    FUZZ_ASSERT(scratch_label_parse(again, device, &l2) == SCRATCH_OK);
    FUZZ_ASSERT(l2.data_offset == l.data_offset && l2.data_size == l.data_size);
    FUZZ_ASSERT(memcmp(l2.uuid, l.uuid, 16) == 0);
    return 0;
}
