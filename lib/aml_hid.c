/* SPDX-License-Identifier: MIT */
/* lib/aml_hid.c — see lib/aml_hid.h. */
#include <stdbool.h>
#include "lib/aml_hid.h"
#include "lib/string.h"

#define AML_NAME_OP        0x08
#define AML_STRING_PREFIX  0x0d
#define MEM32_FIXED_TAG    0x86         /* large item 06h: 32-bit fixed memory range */
#define MEM32_FIXED_LEN    9            /* §6.4.3.4: the length field, always 9 */
#define MEM32_FIXED_BYTES  (3 + MEM32_FIXED_LEN)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Name(_HID, "hid") at i: NameOp, "_HID", StringPrefix, the string, NUL. */
static size_t hid_at(const uint8_t *aml, size_t len, size_t i, const char *hid, size_t hid_len)
{
    size_t need = 1 + 4 + 1 + hid_len + 1;
    if (len - i < need || aml[i] != AML_NAME_OP || memcmp(aml + i + 1, "_HID", 4) != 0 ||
        aml[i + 5] != AML_STRING_PREFIX || memcmp(aml + i + 6, hid, hid_len) != 0 ||
        aml[i + 6 + hid_len] != 0)
        return 0;
    return need;
}

/* Any Name(_HID, ...) at i (the end of this device's part of the scan). */
static bool any_hid_at(const uint8_t *aml, size_t len, size_t i)
{
    return len - i >= 5 && aml[i] == AML_NAME_OP && memcmp(aml + i + 1, "_HID", 4) == 0;
}

/* The device's part of the AML ends at the next Name(_HID, ...); a
 * descriptor must lie wholly inside it (one whose bytes ran into the next
 * _HID would be that name read as a base and length). */
static void first_mem32(const uint8_t *aml, size_t len, size_t from, struct aml_hid_device *d)
{
    d->base = d->length = 0;
    size_t end = from;
    while (end < len && !any_hid_at(aml, len, end))
        end++;
    for (size_t i = from; i + MEM32_FIXED_BYTES <= end; i++) {
        if (aml[i] == MEM32_FIXED_TAG &&
            aml[i + 1] == MEM32_FIXED_LEN && aml[i + 2] == 0 && aml[i + 3] <= 1) {
            d->base = le32(aml + i + 4);
            d->length = le32(aml + i + 8);
            return;
        }
    }
}

unsigned aml_find_hid(const uint8_t *aml, size_t len, const char *hid, struct aml_hid_device *out,
                      unsigned max)
{
    size_t hid_len = strlen(hid);
    unsigned n = 0;
    if (!aml || !hid_len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        size_t used = hid_at(aml, len, i, hid, hid_len);
        if (!used)
            continue;
        if (n < max) {
            out[n].offset = i;
            first_mem32(aml, len, i + used, &out[n]);
        }
        n++;
        i += used - 1;
    }
    return n;
}
