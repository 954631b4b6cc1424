/* SPDX-License-Identifier: MIT */
/* lib/aml_sleep.h — the sleep type values of one sleep state (\_S5 for soft
 * off) read out of a DSDT or SSDT's AML without an AML interpreter.
 *
 * ACPI 6.4 §7.4.2: the \_Sx object is a package whose first two integers
 * are the SLP_TYP values for PM1a_CNT and PM1b_CNT (or the sleep control
 * register). Every firmware bareio meets declares it as a plain named
 * package — NameOp, the name (optionally rooted '\'), PackageOp, PkgLength,
 * NumElements, then ZeroOp, OneOp or a Byte/Word/DWord constant per element
 * (§20.2.5.2, §20.2.3). A name that is a method or a package whose elements
 * are not constants cannot be read without running AML: that is an answer
 * (AML_SLEEP_NOT_CONSTANT), not a guess. The bytes come from firmware:
 * every length is checked against the table. Pure; host-tested
 * (tests/host/test_aml_sleep.c). */
#ifndef LIB_AML_SLEEP_H
#define LIB_AML_SLEEP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum aml_sleep_status {
    AML_SLEEP_OK,
    AML_SLEEP_NOT_FOUND,        /* no NameOp defines the name */
    AML_SLEEP_NOT_PACKAGE,      /* defined, but not as a package */
    AML_SLEEP_TRUNCATED,        /* the package runs past the table */
    AML_SLEEP_NOT_CONSTANT,     /* an element is not a constant integer */
    AML_SLEEP_TOO_FEW,          /* fewer than the one element needed */
    AML_SLEEP_OUT_OF_RANGE,     /* a value does not fit SLP_TYP's 3 bits */
};
const char *aml_sleep_status_name(enum aml_sleep_status s);

struct aml_sleep_type {
    uint8_t typ_a;              /* PM1a_CNT.SLP_TYP (or the sleep control register's) */
    uint8_t typ_b;              /* PM1b_CNT.SLP_TYP; typ_a when the package has one element */
};

/* Looks for `name` (four characters, e.g. "_S5_") in `aml`, the bytes after a
 * definition block's 36-byte header. */
enum aml_sleep_status aml_sleep_type(const uint8_t *aml, size_t len, const char name[4],
                                     struct aml_sleep_type *out);

#endif
