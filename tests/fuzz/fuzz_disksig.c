/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_disksig.c — lib/disksig.c on any disk head (also cut
 * short): the first signature is the first of all of them, offsets lie
 * inside the bytes, the ISO volume id is terminated and trimmed. */
#include "tests/fuzz/fuzz.h"
#include "lib/disksig.h"
#include "lib/string.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct disksig all[16];
    unsigned n = disksig_probe_all(data, size, all, 16);
    struct disksig first = disksig_probe(data, size);
    FUZZ_ASSERT(n <= DISKSIG_KINDS);
    FUZZ_ASSERT(n ? first.kind == all[0].kind && first.offset == all[0].offset
                  : first.kind == DISKSIG_NONE);
    for (unsigned i = 0; i < n && i < 16; i++) {
        FUZZ_ASSERT(all[i].kind != DISKSIG_NONE && all[i].offset < size);
        FUZZ_ASSERT(disksig_name(all[i].kind)[0] != '?');
    }
    char volid[33];
    disksig_iso9660_volume_id(data, size, volid);
    size_t len = strlen(volid);
    FUZZ_ASSERT(len <= 32 && (len == 0 || volid[len - 1] != ' '));
    if (disksig_mbr_protective(data, size))
        FUZZ_ASSERT(n > 0);
    return 0;
}
