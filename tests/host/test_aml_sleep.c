/* SPDX-License-Identifier: MIT */
/* tests/host/test_aml_sleep.c — \_S5 out of AML (lib/aml_sleep.h): the forms
 * firmware writes (QEMU's Package(4){0,0,0,0}, a real board's BytePrefix
 * values, a rooted name inside a scope), and what must not be taken for a
 * sleep type: a method, a reference, a value too large, a package cut short
 * by the table's end, PkgLength bytes that claim more than there is. */
#include "tests/host/htest.h"
#include "lib/aml_sleep.h"
#include <string.h>

static enum aml_sleep_status s5(const uint8_t *aml, size_t len, struct aml_sleep_type *t)
{
    memset(t, 0xee, sizeof(*t));
    return aml_sleep_type(aml, len, "_S5_", t);
}

HTEST(aml_sleep_qemu_package_of_zeros)
{
    /* Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) */
    static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0 };
    struct aml_sleep_type t;
    HT_EXPECT_EQ(s5(aml, sizeof(aml), &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 0);
    HT_EXPECT_EQ(t.typ_b, 0);
}

HTEST(aml_sleep_byte_prefix_rooted_in_a_scope)
{
    /* Scope (\) { Name (\_S4, ...) Name (\_S5, Package (2) { 0x07, 0x05 }) } */
    static const uint8_t aml[] = {
        0x10, 0x16, 0x5c, 0x00,
        0x08, 0x5c, '_', 'S', '4', '_', 0x12, 0x06, 0x02, 0x0a, 0x06, 0x0a, 0x06,
        0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x07, 0x0a, 0x05,
    };
    struct aml_sleep_type t;
    HT_EXPECT_EQ(s5(aml, sizeof(aml), &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 7);
    HT_EXPECT_EQ(t.typ_b, 5);
    /* The other state of the same table. */
    HT_EXPECT_EQ(aml_sleep_type(aml, sizeof(aml), "_S4_", &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 6);
}

HTEST(aml_sleep_one_element_and_wide_constants)
{
    static const uint8_t one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x01 };
    static const uint8_t word[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x02,
                                    0x0b, 0x03, 0x00, 0x0c, 0x02, 0, 0, 0 };
    struct aml_sleep_type t;
    HT_EXPECT_EQ(s5(one, sizeof(one), &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 1);
    HT_EXPECT_EQ(t.typ_b, 1);
    HT_EXPECT_EQ(s5(word, sizeof(word), &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 3);
    HT_EXPECT_EQ(t.typ_b, 2);
}

HTEST(aml_sleep_two_byte_pkg_length)
{
    /* PkgLength 0x41 0x01: follow 1, low nibble 1, then 0x01 << 4 = 0x11. */
    uint8_t aml[5 + 1 + 0x11];
    memset(aml, 0, sizeof(aml));
    memcpy(aml, "\x08_S5_\x12\x41\x01\x02\x0a\x05\x0a\x05", 13);
    struct aml_sleep_type t;
    HT_EXPECT_EQ(s5(aml, sizeof(aml), &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 5);
    /* The same claim one byte past the end of the table. */
    HT_EXPECT_EQ(s5(aml, sizeof(aml) - 1, &t), AML_SLEEP_TRUNCATED);
}

HTEST(aml_sleep_refuses_what_is_not_a_constant_package)
{
    struct aml_sleep_type t;
    /* Method (_S5, 0) { ... }: not readable without an interpreter. */
    static const uint8_t method[] = { 0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xa4, 0x00 };
    HT_EXPECT_EQ(s5(method, sizeof(method), &t), AML_SLEEP_NOT_PACKAGE);
    /* Name (_S5, 5): an integer. */
    static const uint8_t integer[] = { 0x08, '_', 'S', '5', '_', 0x0a, 0x05 };
    HT_EXPECT_EQ(s5(integer, sizeof(integer), &t), AML_SLEEP_NOT_PACKAGE);
    /* An element that is a name reference. */
    static const uint8_t ref[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x01, 'S', 'L', 'P', 'A' };
    HT_EXPECT_EQ(s5(ref, sizeof(ref), &t), AML_SLEEP_NOT_CONSTANT);
    /* A value SLP_TYP cannot hold. */
    static const uint8_t big[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x08, 0x00 };
    HT_EXPECT_EQ(s5(big, sizeof(big), &t), AML_SLEEP_OUT_OF_RANGE);
    static const uint8_t ones[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0xff };
    HT_EXPECT_EQ(s5(ones, sizeof(ones), &t), AML_SLEEP_OUT_OF_RANGE);
    /* No elements. */
    static const uint8_t empty[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00 };
    HT_EXPECT_EQ(s5(empty, sizeof(empty), &t), AML_SLEEP_TOO_FEW);
    /* NumElements says 2, the package holds 1. */
    static const uint8_t short_pkg[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0a, 0x05,
                                         0x0a, 0x05 };
    HT_EXPECT_EQ(s5(short_pkg, sizeof(short_pkg), &t), AML_SLEEP_TRUNCATED);
    /* A constant cut by the table's end. */
    static const uint8_t cut[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0c, 0x05 };
    HT_EXPECT_EQ(s5(cut, sizeof(cut), &t), AML_SLEEP_TRUNCATED);
    /* Nothing at all, and the name alone at the very end. */
    HT_EXPECT_EQ(s5((const uint8_t *)"\x08_S4_", 5, &t), AML_SLEEP_NOT_FOUND);
    HT_EXPECT_EQ(s5((const uint8_t *)"\x08_S5_", 5, &t), AML_SLEEP_NOT_PACKAGE);
    HT_EXPECT_EQ(s5((const uint8_t *)"", 0, &t), AML_SLEEP_NOT_FOUND);
    /* A name path ending in _S5_ (\_SB_._S5_ would be DualNamePrefix): not a NameOp. */
    static const uint8_t dual[] = { 0x08, 0x2e, '_', 'S', 'B', '_', '_', 'S', '5', '_', 0x12, 0x03,
                                    0x01, 0x00 };
    HT_EXPECT_EQ(s5(dual, sizeof(dual), &t), AML_SLEEP_NOT_PACKAGE);
}

HTEST(aml_sleep_later_good_definition_wins)
{
    /* A broken first definition (in a conditional branch, say), a good second one. */
    static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x0a, 0x05,
                                   0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x01 };
    struct aml_sleep_type t;
    HT_EXPECT_EQ(s5(aml, sizeof(aml), &t), AML_SLEEP_OK);
    HT_EXPECT_EQ(t.typ_a, 0);
    HT_EXPECT_EQ(t.typ_b, 1);
}
