/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz.h — what every libFuzzer target in tests/fuzz/ shares: a
 * reader that takes typed values off the fuzzer's input (zero once it is
 * used up, so every input is a valid sequence of choices), and FUZZ_ASSERT,
 * which turns a broken invariant into a crash the fuzzer reports and keeps.
 * The targets link lib/ and the drivers' pure files, built for the host as
 * the host tests build them (tests/host/rename.h); `make fuzz` runs each for
 * a while, `make fuzz-regress` (part of `make test`) replays the corpus in
 * tests/fuzz/corpus/<target>/ and fuzzes a few seconds more. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint8_t b = 0;
        if (in->n) {
            b = *in->p++;
            in->n--;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in) { return (uint8_t)fuzz_take(in, 1); }
static inline uint32_t fuzz_u32(struct fuzz_in *in) { return (uint32_t)fuzz_take(in, 4); }
static inline uint64_t fuzz_u64(struct fuzz_in *in) { return fuzz_take(in, 8); }

/* A value that is often at an edge: 0, 1, max, max-1, or anything. */
static inline uint64_t fuzz_edgy64(struct fuzz_in *in)
{
    switch (fuzz_u8(in) & 7) {
    case 0: return 0;
    case 1: return 1;
    case 2: return UINT64_MAX;
    case 3: return UINT64_MAX - 1;
    case 4: return fuzz_u8(in);
    default: return fuzz_u64(in);
    }
}

/* Checksums are where fuzzers stall: a mutated field almost never comes with
 * its CRC. These make one right again, so the checks behind the CRC (ranges,
 * layouts) are what the fuzzer meets. `head` holds `len` bytes. */
void fuzz_reseal_label(uint8_t *head, size_t len);
void fuzz_reseal_gpt(uint8_t *head, size_t len, uint32_t block_size);

#define FUZZ_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
