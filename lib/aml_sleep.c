/* SPDX-License-Identifier: MIT */
/* lib/aml_sleep.c — reading \_Sx packages out of AML (see lib/aml_sleep.h).
 * The scan is byte-wise: AML has no index, and a named package may sit in
 * any scope. Only a NameOp directly before the name counts, so the same four
 * characters inside a string, a method body's reference or a longer name
 * path are not taken for the definition. */
#include "lib/aml_sleep.h"
#include "lib/string.h"

/* AML opcodes (ACPI 6.4 §20.3). */
#define AML_ZERO_OP         0x00
#define AML_ONE_OP          0x01
#define AML_NAME_OP         0x08
#define AML_BYTE_PREFIX     0x0a
#define AML_WORD_PREFIX     0x0b
#define AML_DWORD_PREFIX    0x0c
#define AML_QWORD_PREFIX    0x0e
#define AML_PACKAGE_OP      0x12
#define AML_ROOT_CHAR       0x5c    /* '\' */
#define AML_ONES_OP         0xff

#define SLP_TYP_MAX 7u              /* a 3-bit field (§4.8.3.2.1) */

const char *aml_sleep_status_name(enum aml_sleep_status s)
{
    switch (s) {
    case AML_SLEEP_OK: return "ok";
    case AML_SLEEP_NOT_FOUND: return "not defined in the DSDT or an SSDT";
    case AML_SLEEP_NOT_PACKAGE: return "not a named package (a method needs an AML interpreter)";
    case AML_SLEEP_TRUNCATED: return "package runs past the end of its table";
    case AML_SLEEP_NOT_CONSTANT: return "package element is not a constant integer";
    case AML_SLEEP_TOO_FEW: return "package has no elements";
    case AML_SLEEP_OUT_OF_RANGE: return "sleep type does not fit 3 bits";
    }
    return "unknown";
}

/* PkgLength (§20.2.4): bits 7:6 of the lead byte count the bytes that follow;
 * with none, bits 5:0 are the length, else bits 3:0 are its low nibble and
 * each following byte adds 8 bits above. The length counts itself. */
static bool pkg_length(const uint8_t *p, size_t avail, size_t *len, size_t *used)
{
    if (avail < 1)
        return false;
    unsigned follow = p[0] >> 6;
    if (avail < 1 + (size_t)follow)
        return false;
    size_t v = follow ? (p[0] & 0x0f) : (p[0] & 0x3f);
    for (unsigned i = 0; i < follow; i++)
        v |= (size_t)p[1 + i] << (4 + 8 * i);
    *len = v;
    *used = 1 + follow;
    return true;
}

/* One package element as a constant: returns the bytes it takes (which may
 * be more than `avail`: the caller's to check), 0 when it is not one. */
static size_t constant(const uint8_t *p, size_t avail, uint64_t *value)
{
    size_t n;
    switch (p[0]) {
    case AML_ZERO_OP: *value = 0; return 1;
    case AML_ONE_OP: *value = 1; return 1;
    case AML_ONES_OP: *value = UINT64_MAX; return 1;
    case AML_BYTE_PREFIX: n = 1; break;
    case AML_WORD_PREFIX: n = 2; break;
    case AML_DWORD_PREFIX: n = 4; break;
    case AML_QWORD_PREFIX: n = 8; break;
    default: return 0;
    }
    if (avail < 1 + n)
        return 1 + n;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[1 + i] << (8 * i);
    *value = v;
    return 1 + n;
}

static enum aml_sleep_status read_package(const uint8_t *p, size_t avail,
                                          struct aml_sleep_type *out)
{
    size_t plen, used;
    if (avail < 1 || p[0] != AML_PACKAGE_OP)
        return AML_SLEEP_NOT_PACKAGE;
    p++, avail--;
    if (!pkg_length(p, avail, &plen, &used) || plen > avail || plen < used + 1)
        return AML_SLEEP_TRUNCATED;
    const uint8_t *end = p + plen;
    unsigned count = p[used];
    p += used + 1;
    if (count == 0)
        return AML_SLEEP_TOO_FEW;
    uint64_t v[2];
    unsigned want = count < 2 ? 1 : 2;
    for (unsigned i = 0; i < want; i++) {
        if (p >= end)
            return AML_SLEEP_TRUNCATED;
        size_t n = constant(p, (size_t)(end - p), &v[i]);
        if (!n)
            return AML_SLEEP_NOT_CONSTANT;
        if (n > (size_t)(end - p))
            return AML_SLEEP_TRUNCATED;
        if (v[i] > SLP_TYP_MAX)
            return AML_SLEEP_OUT_OF_RANGE;
        p += n;
    }
    out->typ_a = (uint8_t)v[0];
    out->typ_b = (uint8_t)(want == 2 ? v[1] : v[0]);
    return AML_SLEEP_OK;
}

enum aml_sleep_status aml_sleep_type(const uint8_t *aml, size_t len, const char name[4],
                                     struct aml_sleep_type *out)
{
    enum aml_sleep_status first = AML_SLEEP_NOT_FOUND;
    bool seen = false;      /* the name, but not after a NameOp: a method, a reference */
    for (size_t i = 1; i + 4 <= len; i++) {
        if (memcmp(aml + i, name, 4) != 0)
            continue;
        size_t op = i - 1;
        if (aml[op] == AML_ROOT_CHAR && op > 0)
            op--;
        if (aml[op] != AML_NAME_OP) {
            seen = true;
            continue;
        }
        enum aml_sleep_status st = read_package(aml + i + 4, len - i - 4, out);
        if (st == AML_SLEEP_OK)
            return st;
        if (first == AML_SLEEP_NOT_FOUND)
            first = st;     /* reported when no later definition reads */
    }
    return first == AML_SLEEP_NOT_FOUND && seen ? AML_SLEEP_NOT_PACKAGE : first;
}
