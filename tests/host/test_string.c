/* SPDX-License-Identifier: MIT */
/* tests/host/test_string.c — lib/string.c against the C standard's contract
 * (C11 §7.24) and strlcpy's (OpenBSD): overlap, sign of comparisons, bounds,
 * termination. The lib_ versions are under test (tests/host/rename.h). */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/string.h"

HTEST(string_memcpy_copies_exactly_n)
{
    char dst[8] = "........";
    HT_EXPECT(memcpy(dst + 1, "abc", 3) == dst + 1);
    HT_EXPECT(memcmp(dst, ".abc....", 8) == 0);
    memcpy(dst, "zzz", 0);
    HT_EXPECT_EQ(dst[0], '.');
}

HTEST(string_memmove_handles_overlap_both_ways)
{
    char buf[11] = "0123456789";
    HT_EXPECT(memmove(buf + 2, buf, 6) == buf + 2);
    HT_EXPECT(memcmp(buf, "0101234589", 10) == 0);
    memcpy(buf, "0123456789", 10);
    memmove(buf, buf + 3, 7);
    HT_EXPECT(memcmp(buf, "3456789789", 10) == 0);
    memmove(buf, buf, 10);
    HT_EXPECT(memcmp(buf, "3456789789", 10) == 0);
}

HTEST(string_memset_uses_low_byte)
{
    unsigned char buf[5] = { 1, 2, 3, 4, 5 };
    HT_EXPECT(memset(buf, 0x1ab, 4) == buf);
    HT_EXPECT_EQ(buf[0], 0xab);
    HT_EXPECT_EQ(buf[3], 0xab);
    HT_EXPECT_EQ(buf[4], 5);
}

HTEST(string_memcmp_is_unsigned_and_bounded)
{
    HT_EXPECT(memcmp("abc", "abd", 3) < 0);
    HT_EXPECT(memcmp("abd", "abc", 3) > 0);
    HT_EXPECT(memcmp("abc", "abd", 2) == 0);
    HT_EXPECT(memcmp("\x80", "\x7f", 1) > 0);
    HT_EXPECT(memcmp("x", "y", 0) == 0);
}

HTEST(string_lengths)
{
    HT_EXPECT_EQ(strlen(""), 0);
    HT_EXPECT_EQ(strlen("nvme"), 4);
    HT_EXPECT_EQ(strnlen("nvme", 2), 2);
    HT_EXPECT_EQ(strnlen("nvme", 9), 4);
    char unterminated[3] = { 'a', 'b', 'c' };
    HT_EXPECT_EQ(strnlen(unterminated, 3), 3);      /* reads no further than max */
}

HTEST(string_comparisons)
{
    HT_EXPECT(strcmp("", "") == 0);
    HT_EXPECT(strcmp("a", "b") < 0);
    HT_EXPECT(strcmp("ab", "a") > 0);
    HT_EXPECT(strcmp("\xff", "a") > 0);             /* unsigned char, as C11 says */
    HT_EXPECT(strncmp("ahci0", "ahci1", 4) == 0);
    HT_EXPECT(strncmp("ahci0", "ahci1", 5) < 0);
    HT_EXPECT(strncmp("ab", "ab\0zz", 5) == 0);     /* stops at the terminator */
    HT_EXPECT(strncmp("a", "b", 0) == 0);
}

HTEST(string_strchr_finds_first_and_terminator)
{
    const char *s = "a.b.c";
    HT_EXPECT(strchr(s, '.') == s + 1);
    HT_EXPECT(strchr(s, 'c') == s + 4);
    HT_EXPECT(strchr(s, 'z') == NULL);
    HT_EXPECT(strchr(s, '\0') == s + 5);
}

HTEST(string_strstr_finds_first_occurrence)
{
    const char *s = "PxTFD STS 41h ERR";
    HT_EXPECT(strstr(s, "STS") == s + 6);
    HT_EXPECT(strstr(s, "ERR") == s + 14);
    HT_EXPECT(strstr(s, "ERRX") == NULL);
    HT_EXPECT(strstr(s, "") == s);
    HT_EXPECT(strstr("", "a") == NULL);
    const char *t = "aab";
    HT_EXPECT(strstr(t, "ab") == t + 1);      /* a partial match does not skip the restart */
}

HTEST(string_strlcpy_truncates_and_terminates)
{
    char buf[4] = "zzz";
    HT_EXPECT_EQ(strlcpy(buf, "abcdef", sizeof buf), 6);
    HT_EXPECT_STREQ(buf, "abc");
    HT_EXPECT_EQ(strlcpy(buf, "x", sizeof buf), 1);
    HT_EXPECT_STREQ(buf, "x");
    char untouched[2] = { 'q', 'q' };
    HT_EXPECT_EQ(strlcpy(untouched, "abc", 0), 3);
    HT_EXPECT_EQ(untouched[0], 'q');
}
