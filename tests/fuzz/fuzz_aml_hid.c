/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_aml_hid.c — lib/aml_hid.c on any bytes as a DSDT/SSDT's
 * AML (firmware's, so hostile as any disk): the first input byte picks the
 * _HID looked for, the rest is the AML. Every device found names that _HID
 * where it says, in AML order; the count is the same whatever room the
 * caller gives, and the first `max` are the same too; devices do not
 * overlap; a range found is a Memory32Fixed descriptor of those values after
 * its _HID and before the next device's (little-endian host assumed, as
 * every host test here). ASan sees any read past the table. */
#include "tests/fuzz/fuzz.h"
#include "lib/aml_hid.h"
#include <stdbool.h>

#define ROOM 8

static const char *const hids[] = { "LNRO0005", "PNP0A03", "A" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const char *hid = hids[data[0] % (sizeof(hids) / sizeof(hids[0]))];
    const uint8_t *aml = data + 1;
    size_t len = size - 1;
    size_t hlen = strlen(hid);

    struct aml_hid_device d[ROOM], few[2];
    unsigned n = aml_find_hid(aml, len, hid, d, ROOM);
    FUZZ_ASSERT(aml_find_hid(aml, len, hid, NULL, 0) == n);
    FUZZ_ASSERT(aml_find_hid(aml, len, hid, few, 2) == n);
    unsigned kept = n < ROOM ? n : ROOM;
    size_t need = 1 + 4 + 1 + hlen + 1;
    for (unsigned i = 0; i < kept; i++) {
        /* NameOp "_HID" StringPrefix hid NUL, all inside the AML. */
        size_t off = d[i].offset;
        FUZZ_ASSERT(off + need <= len);
        FUZZ_ASSERT(aml[off] == 0x08 && memcmp(aml + off + 1, "_HID", 4) == 0);
        FUZZ_ASSERT(aml[off + 5] == 0x0d);
        FUZZ_ASSERT(memcmp(aml + off + 6, hid, hlen) == 0 && aml[off + 6 + hlen] == 0);
        if (i)
            FUZZ_ASSERT(off >= d[i - 1].offset + need);
        if (i < 2)
            FUZZ_ASSERT(few[i].offset == off && few[i].base == d[i].base &&
                        few[i].length == d[i].length);
        /* A range found is a Memory32Fixed descriptor after the _HID and
         * before the next device's (86h, 09h 00h, the write flag 0 or 1). */
        if (d[i].base || d[i].length) {
            size_t end = i + 1 < kept ? d[i + 1].offset : len;
            bool seen = false;
            for (size_t j = off + need; !seen && j + 12 <= end; j++) {
                uint32_t b, l;
                memcpy(&b, aml + j + 4, 4);
                memcpy(&l, aml + j + 8, 4);
                seen = aml[j] == 0x86 && aml[j + 1] == 9 && aml[j + 2] == 0 && aml[j + 3] <= 1 &&
                       b == d[i].base && l == d[i].length;
            }
            FUZZ_ASSERT(seen);
        }
    }
    return 0;
}
