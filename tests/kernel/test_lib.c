/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_lib.c — suite `lib`: the freestanding library as the
 * kernel build compiles it (no SSE, -fno-builtin, kernel code model), which
 * the host unit tests cannot show: string functions, formatting, CRCs, the
 * PRNG, glob matching and the command-line parser. The parser runs on a
 * private key table, so the live settings (tests=, console=, ...) are not
 * touched; the cases check that too. */
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/bootinfo.h"
#include "tests/harness/ktest.h"
#include "lib/cmdline.h"
#include "lib/crc.h"
#include "lib/format.h"
#include "lib/glob.h"
#include "lib/rng.h"
#include "lib/string.h"

/* ---- string ---- */

static void lib_memory_functions(struct ktest *t)
{
    char buf[16];
    memset(buf, 'x', sizeof buf);
    KT_EXPECT_EQ(t, buf[0], 'x');
    KT_EXPECT_EQ(t, buf[15], 'x');
    memcpy(buf, "abcdef", 6);
    KT_EXPECT_EQ(t, memcmp(buf, "abcdefxx", 8), 0);
    KT_EXPECT(t, memcmp("abc", "abd", 3) < 0);
    KT_EXPECT(t, memcmp("abd", "abc", 3) > 0);
    KT_EXPECT(t, memcmp("\x80", "\x01", 1) > 0);       /* compared as unsigned char */

    /* Overlapping moves in both directions. */
    memcpy(buf, "0123456789", 10);
    memmove(buf + 2, buf, 6);
    KT_EXPECT_EQ(t, memcmp(buf, "0101234589", 10), 0);
    memcpy(buf, "0123456789", 10);
    memmove(buf, buf + 3, 7);
    KT_EXPECT_EQ(t, memcmp(buf, "3456789789", 10), 0);
}

static void lib_string_functions(struct ktest *t)
{
    KT_EXPECT_EQ(t, strlen(""), 0);
    KT_EXPECT_EQ(t, strlen("bareio"), 6);
    KT_EXPECT_EQ(t, strnlen("bareio", 3), 3);
    KT_EXPECT_EQ(t, strnlen("ab", 10), 2);
    KT_EXPECT(t, strcmp("abc", "abc") == 0);
    KT_EXPECT(t, strcmp("abc", "abd") < 0);
    KT_EXPECT(t, strcmp("ab", "abc") < 0);
    KT_EXPECT(t, strncmp("nvme0", "nvme1", 4) == 0);
    KT_EXPECT(t, strncmp("nvme0", "nvme1", 5) < 0);
    const char *s = "a=b=c";
    KT_EXPECT(t, strchr(s, '=') == s + 1);
    KT_EXPECT(t, strchr(s, 'z') == NULL);
    KT_EXPECT(t, strchr(s, '\0') == s + 5);

    char small[4];
    KT_EXPECT_EQ(t, strlcpy(small, "abcdef", sizeof small), 6);
    KT_EXPECT_STREQ(t, small, "abc");
    KT_EXPECT_EQ(t, strlcpy(small, "ab", sizeof small), 2);
    KT_EXPECT_STREQ(t, small, "ab");
}

/* ---- format ---- */

static void lib_format_conversions(struct ktest *t)
{
    char buf[96];
    snprintf(buf, sizeof buf, "%d|%5u|%-4x|%#010llx|%s|%c|%%", -12, 34u, 0xabu,
             0x1234abcdull, "ok", 'z');
    KT_EXPECT_STREQ(t, buf, "-12|   34|ab  |0x1234abcd|ok|z|%");
    snprintf(buf, sizeof buf, "%zu %lld %llu", (size_t)4096, -9000000000ll, 18446744073709551615ull);
    KT_EXPECT_STREQ(t, buf, "4096 -9000000000 18446744073709551615");
    int n = snprintf(buf, 5, "%s", "truncated");
    KT_EXPECT_EQ(t, n, 9);
    KT_EXPECT_STREQ(t, buf, "trun");
}

/* ---- crc ---- */

static void lib_crc32_known_vectors(struct ktest *t)
{
    KT_EXPECT_EQ(t, crc32("123456789", 9), 0xcbf43926);
    KT_EXPECT_EQ(t, crc32("The quick brown fox jumps over the lazy dog", 43), 0x414fa339);
    KT_EXPECT_EQ(t, crc32("", 0), 0);
}

static void lib_crc32c_known_vectors(struct ktest *t)
{
    uint8_t block[32];
    KT_EXPECT_EQ(t, crc32c("123456789", 9), 0xe3069283);
    memset(block, 0, sizeof block);
    KT_EXPECT_EQ(t, crc32c(block, sizeof block), 0x8a9136aa);     /* RFC 3720 B.4 */
    for (int i = 0; i < 32; i++)
        block[i] = (uint8_t)i;
    KT_EXPECT_EQ(t, crc32c(block, sizeof block), 0x46dd794e);
}

/* Checks the slicing path against the byte-at-a-time path on a data block
 * the size the disk tests stamp, and reports the cost for the record. */
static void lib_crc32c_block_incremental(struct ktest *t)
{
    static uint8_t block[4096 + 5];
    struct rng r;
    rng_seed(&r, 0xb10c);
    rng_fill(&r, block, sizeof block);

    uint32_t whole = crc32c(block + 5, 4096);      /* also builds the tables */
    uint64_t start = rdtsc();
    uint32_t again = crc32c(block + 5, 4096);
    uint64_t cycles = rdtsc() - start;
    KT_EXPECT_EQ(t, again, whole);
    uint32_t pieces = 0;
    for (size_t off = 0; off < 4096; off += 509)
        pieces = crc32c_update(pieces, block + 5 + off, 4096 - off < 509 ? 4096 - off : 509);
    KT_EXPECT_EQ(t, pieces, whole);
    uint32_t bytewise = 0;
    for (size_t i = 0; i < 4096; i++)
        bytewise = crc32c_update(bytewise, block + 5 + i, 1);
    KT_EXPECT_EQ(t, bytewise, whole);
    ktest_diag(t, "crc32c of 4 KiB: %llu TSC cycles (under TCG this measures the emulator)",
               (unsigned long long)cycles);
}

/* ---- rng ---- */

static void lib_rng_deterministic(struct ktest *t)
{
    /* Same words as tests/host/test_rng.c: same seed, same data, any machine. */
    struct rng r;
    rng_seed(&r, 0);
    KT_EXPECT_EQ(t, rng_next_u64(&r), 0x99ec5f36cb75f2b4ull);
    KT_EXPECT_EQ(t, rng_next_u64(&r), 0xbf6e1f784956452aull);
    KT_EXPECT_EQ(t, rng_next_u64(&r), 0x1a5f849d4933e6e0ull);
    struct rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    KT_EXPECT(t, rng_next_u64(&a) != rng_next_u64(&b));
}

static void lib_rng_bounded(struct ktest *t)
{
    struct rng r;
    rng_seed(&r, 77);
    unsigned seen = 0, outside = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = rng_below(&r, 10);
        if (v >= 10)
            outside++;
        else
            seen |= 1u << v;
    }
    KT_EXPECT_EQ(t, outside, 0);
    KT_EXPECT_EQ(t, seen, 0x3ff);
}

/* ---- glob ---- */

static void lib_glob_patterns(struct ktest *t)
{
    KT_EXPECT(t, glob_match("lib.*", "lib.glob_patterns"));
    KT_EXPECT(t, !glob_match("lib.*", "lib"));
    KT_EXPECT(t, glob_match("pci.*_bar*", "pci.read_bar_sizes"));
    KT_EXPECT(t, glob_match("nvme?", "nvme0"));
    KT_EXPECT(t, !glob_match("nvme?", "nvme10"));
    KT_EXPECT(t, glob_match("*a*b", "xaxxab"));
    KT_EXPECT_EQ(t, glob_list_match("lib.*,memory", "memory"), GLOB_LIST_LITERAL);
    KT_EXPECT_EQ(t, glob_list_match("lib.*,memory", "lib.crc"), GLOB_LIST_WILDCARD);
    KT_EXPECT_EQ(t, glob_list_match("lib.*,memory", "time"), GLOB_LIST_NONE);
}

/* ---- cmdline, on a private table ---- */

struct private_settings {
    int mode;
    uint32_t depth;
    char tests[32];
    bool flag;
};

static const struct cmdline_word private_modes[] = { { "poll", 1 }, { "msix", 2 } };

static void private_table(struct cmdline_key keys[4], struct private_settings *s)
{
    memset(keys, 0, 4 * sizeof keys[0]);
    keys[0] = (struct cmdline_key){ .name = "t.irq", .kind = CMDLINE_ENUM, .storage = &s->mode,
                                    .size = sizeof s->mode, .words = private_modes, .word_count = 2 };
    keys[1] = (struct cmdline_key){ .name = "t.depth", .kind = CMDLINE_UINT, .storage = &s->depth,
                                    .size = sizeof s->depth, .min = 1, .max = 64 * 1024 };
    keys[2] = (struct cmdline_key){ .name = "tests", .kind = CMDLINE_GLOBS, .storage = s->tests,
                                    .size = sizeof s->tests };
    keys[3] = (struct cmdline_key){ .name = "t.flag", .kind = CMDLINE_BOOL, .flags = CMDLINE_FLAG,
                                    .storage = &s->flag, .size = sizeof s->flag };
}

struct captured {
    unsigned count;
    char first[160];
};

static void capture(void *ctx, const char *message)
{
    struct captured *c = ctx;
    if (c->count++ == 0)
        strlcpy(c->first, message, sizeof c->first);
}

static void lib_cmdline_private_table(struct ktest *t)
{
    const char *live_tests = cmdline_tests();
    /* As long as the live tests= value can be (kernel/cmdline.c). */
    char live_before[BOOT_CMDLINE_MAX];
    KT_ASSERT(t, strlcpy(live_before, live_tests, sizeof live_before) < sizeof live_before);
    enum log_level live_level = console_level();

    struct cmdline_key keys[4];
    struct private_settings s = { .mode = 2, .depth = 32, .tests = "*", .flag = false };
    private_table(keys, &s);
    struct captured c = { 0 };
    KT_ASSERT_EQ(t, cmdline_table_check(keys, 4, capture, &c), 0);
    KT_EXPECT_EQ(t, cmdline_parse(keys, 4, "t.irq=poll t.depth=64K tests=\"lib.*,memory\" t.flag",
                               capture, &c), 0);
    KT_EXPECT_EQ(t, c.count, 0);
    KT_EXPECT_EQ(t, s.mode, 1);
    KT_EXPECT_EQ(t, s.depth, 64 * 1024);
    KT_EXPECT_STREQ(t, s.tests, "lib.*,memory");
    KT_EXPECT(t, s.flag);

    /* The private `tests` key must not have reached the live one. */
    KT_EXPECT(t, cmdline_tests() == live_tests);
    KT_EXPECT_STREQ(t, cmdline_tests(), live_before);
    KT_EXPECT_EQ(t, console_level(), live_level);
}

static void lib_cmdline_bad_line_changes_nothing(struct ktest *t)
{
    struct cmdline_key keys[4];
    struct private_settings s = { .mode = 2, .depth = 32, .tests = "*", .flag = false };
    private_table(keys, &s);
    struct captured c = { 0 };
    KT_EXPECT_EQ(t, cmdline_parse(keys, 4, "t.irq=poll t.depth=65537 tests=lib t.irq=msix tset=x",
                               capture, &c), 3);
    KT_EXPECT_EQ(t, c.count, 3);
    KT_EXPECT_STREQ(t, c.first, "cmdline: t.depth=65537: out of range 1..64K");
    KT_EXPECT_EQ(t, s.mode, 2);
    KT_EXPECT_EQ(t, s.depth, 32);
    KT_EXPECT_STREQ(t, s.tests, "*");
    KT_EXPECT(t, !s.flag);
}

static const struct ktest_case lib_cases[] = {
    KTEST_CASE(lib_memory_functions),
    KTEST_CASE(lib_string_functions),
    KTEST_CASE(lib_format_conversions),
    KTEST_CASE(lib_crc32_known_vectors),
    KTEST_CASE(lib_crc32c_known_vectors),
    KTEST_CASE(lib_crc32c_block_incremental),
    KTEST_CASE(lib_rng_deterministic),
    KTEST_CASE(lib_rng_bounded),
    KTEST_CASE(lib_glob_patterns),
    KTEST_CASE(lib_cmdline_private_table),
    KTEST_CASE(lib_cmdline_bad_line_changes_nothing),
};
KTEST_SUITE(lib, 10, lib_cases);
