/* SPDX-License-Identifier: MIT */
/* tests/host/test_format.c — lib/format.c against the C standard's rules. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/format.h"

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char buf[128];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

HTEST(format_integers)
{
    HT_EXPECT_STREQ(fmt("%d %i %u", -42, 7, 4000000000u), "-42 7 4000000000");
    HT_EXPECT_STREQ(fmt("%lld", (long long)-9223372036854775807LL - 1), "-9223372036854775808");
    HT_EXPECT_STREQ(fmt("%llu", 18446744073709551615ULL), "18446744073709551615");
    HT_EXPECT_STREQ(fmt("%hhu %hd", 300, 70000), "44 4464");
    HT_EXPECT_STREQ(fmt("%zu %o", (size_t)12, 8), "12 10");
}

HTEST(format_hex_and_pointer)
{
    HT_EXPECT_STREQ(fmt("%x %X %#x %#x", 0xbeef, 0xbeef, 0x1f, 0), "beef BEEF 0x1f 0");
    HT_EXPECT_STREQ(fmt("%08x|%-6x|%6x", 0xab, 0xab, 0xab), "000000ab|ab    |    ab");
    HT_EXPECT_STREQ(fmt("%#010x", 0x1234), "0x00001234");
    HT_EXPECT_STREQ(fmt("%p", (void *)0x1000), "0x1000");
}

HTEST(format_width_precision_flags)
{
    HT_EXPECT_STREQ(fmt("%5d|%-5d|%05d", 42, 42, -42), "   42|42   |-0042");
    HT_EXPECT_STREQ(fmt("%+d % d %.3d", 5, 5, 7), "+5  5 007");
    HT_EXPECT_STREQ(fmt("%.0d|", 0), "|");
    HT_EXPECT_STREQ(fmt("%*d|%-*d|", 4, 1, 3, 2), "   1|2  |");
}

HTEST(format_strings_and_chars)
{
    HT_EXPECT_STREQ(fmt("%s|%8s|%-8s|", "ab", "ab", "ab"), "ab|      ab|ab      |");
    HT_EXPECT_STREQ(fmt("%.3s", "abcdef"), "abc");
    /* precision bounds the read: the source need not be terminated */
    char unterminated[4] = { 'w', 'x', 'y', 'z' };
    HT_EXPECT_STREQ(fmt("%.4s", unterminated), "wxyz");
    const char *volatile null_string = NULL;
    HT_EXPECT_STREQ(fmt("%s", null_string), "(null)");
    HT_EXPECT_STREQ(fmt("%c%c %%", 'o', 'k'), "ok %");
}

HTEST(format_truncates_and_counts)
{
    char buf[6];
    int n = snprintf(buf, sizeof buf, "%s", "0123456789");
    HT_EXPECT_EQ(n, 10);
    HT_EXPECT_STREQ(buf, "01234");
    n = snprintf(NULL, 0, "%d", 12345);
    HT_EXPECT_EQ(n, 5);
}

/* Conversions the command-line messages depend on (lib/cmdline.c). */
HTEST(format_star_precision_cuts_strings)
{
    HT_EXPECT_STREQ(fmt("[%.*s]", 3, "console=ttyS0"), "[con]");
    HT_EXPECT_STREQ(fmt("[%.*s]", 0, "x"), "[]");
    /* The span need not be terminated: only `precision` bytes are read. */
    char span[3] = { 'a', 'b', 'c' };
    HT_EXPECT_STREQ(fmt("[%.*s]", 2, span), "[ab]");
}

HTEST(format_left_justified_column_overflows_cleanly)
{
    HT_EXPECT_STREQ(fmt("%-6s|", "exit"), "exit  |");
    HT_EXPECT_STREQ(fmt("%-3s|", "loglevel"), "loglevel|");
    HT_EXPECT_STREQ(fmt("%#llx %llu", 0xffffffffffffffffull, 0ull), "0xffffffffffffffff 0");
    HT_EXPECT_STREQ(fmt("%zu%c", (size_t)7, 'K'), "7K");
}

HTEST(format_escaped_keeps_only_printable_ascii)
{
    char buf[64];
    HT_EXPECT_EQ(format_escaped(buf, sizeof buf, "plain text", 10), 10);
    HT_EXPECT_STREQ(buf, "plain text");
    HT_EXPECT_EQ(format_escaped(buf, sizeof buf, "a\x1b[2J\r\n\\\x7f\xff", 10), 26);
    HT_EXPECT_STREQ(buf, "a\\x1b[2J\\x0d\\x0a\\\\\\x7f\\xff");
    /* A NUL inside the text is shown, not an end. */
    HT_EXPECT_EQ(format_escaped(buf, sizeof buf, "a\0b", 3), 6);
    HT_EXPECT_STREQ(buf, "a\\x00b");
}

HTEST(format_escaped_never_cuts_an_escape)
{
    char buf[6];
    /* "ab" fits, "\x01" (4) would need bytes 2..5 plus the terminator. */
    HT_EXPECT_EQ(format_escaped(buf, sizeof buf, "ab\x01", 3), 6);
    HT_EXPECT_STREQ(buf, "ab");
    HT_EXPECT_EQ(format_escaped(buf, 1, "abc", 3), 3);
    HT_EXPECT_STREQ(buf, "");
    HT_EXPECT_EQ(format_escaped(NULL, 0, "abc", 3), 3);
}
