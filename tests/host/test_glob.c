/* SPDX-License-Identifier: MIT */
/* tests/host/test_glob.c — lib/glob.c: the wildcards, anchoring at both ends,
 * the backtracking cases a naive matcher gets wrong, and comma-separated
 * lists as `tests=` uses them. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/glob.h"

HTEST(glob_literal_matches_only_itself)
{
    HT_EXPECT(glob_match("memory", "memory"));
    HT_EXPECT(!glob_match("memory", "memory.dma_alloc"));
    HT_EXPECT(!glob_match("memory", "memor"));
    HT_EXPECT(!glob_match("memory", "Memory"));
    HT_EXPECT(glob_match("", ""));
    HT_EXPECT(!glob_match("", "a"));
}

HTEST(glob_star_matches_any_run)
{
    HT_EXPECT(glob_match("*", ""));
    HT_EXPECT(glob_match("*", "anything.at_all"));
    HT_EXPECT(glob_match("lib.*", "lib.crc32c_known_vectors"));
    HT_EXPECT(glob_match("lib.*", "lib."));
    HT_EXPECT(!glob_match("lib.*", "lib"));
    HT_EXPECT(!glob_match("lib.*", "library.x"));
    HT_EXPECT(glob_match("*_bar*", "pci.config_bar64"));
    HT_EXPECT(glob_match("pci.*_bar*", "pci.read_bar_sizes"));
    HT_EXPECT(!glob_match("pci.*_bar*", "pci.read_bus"));
    HT_EXPECT(glob_match("**", "x"));
}

HTEST(glob_question_matches_one_character)
{
    HT_EXPECT(glob_match("nvme?", "nvme0"));
    HT_EXPECT(!glob_match("nvme?", "nvme"));
    HT_EXPECT(!glob_match("nvme?", "nvme10"));
    HT_EXPECT(glob_match("?", "a"));
    HT_EXPECT(!glob_match("?", ""));
    HT_EXPECT(glob_match("a?c*", "abcdef"));
}

HTEST(glob_backtracks_past_false_starts)
{
    HT_EXPECT(glob_match("*ab", "aab"));
    HT_EXPECT(glob_match("*aab", "aaab"));
    HT_EXPECT(glob_match("a*b*c", "abxbxc"));
    HT_EXPECT(!glob_match("a*b*c", "abxbx"));
    HT_EXPECT(glob_match("*.*.x", "a.b.c.x"));
    HT_EXPECT(!glob_match("*.x", "a.xy"));
    HT_EXPECT(glob_match("*?", "a"));
    HT_EXPECT(!glob_match("*??", "a"));
    /* Pathological for a recursive matcher; linear-ish here. */
    HT_EXPECT(!glob_match("a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

HTEST(glob_match_n_uses_only_the_prefix)
{
    HT_EXPECT(glob_match_n("lib,memory", 3, "lib"));
    HT_EXPECT(!glob_match_n("lib,memory", 3, "lib,memory"));
    HT_EXPECT(glob_match_n("m*,x", 2, "memory"));
}

HTEST(glob_is_literal_spots_wildcards)
{
    HT_EXPECT(glob_is_literal("lib.crc", 7));
    HT_EXPECT(!glob_is_literal("lib.*", 5));
    HT_EXPECT(!glob_is_literal("nvme?", 5));
    HT_EXPECT(glob_is_literal("lib*", 3));
}

HTEST(glob_list_picks_the_best_match)
{
    HT_EXPECT_EQ(glob_list_match("lib.*,memory", "memory"), GLOB_LIST_LITERAL);
    HT_EXPECT_EQ(glob_list_match("lib.*,memory", "lib.crc"), GLOB_LIST_WILDCARD);
    HT_EXPECT_EQ(glob_list_match("lib.*,memory", "time"), GLOB_LIST_NONE);
    HT_EXPECT_EQ(glob_list_match("*,pci.crash", "pci.crash"), GLOB_LIST_LITERAL);
    HT_EXPECT_EQ(glob_list_match("*", "pci.crash"), GLOB_LIST_WILDCARD);
    HT_EXPECT_EQ(glob_list_match("", "x"), GLOB_LIST_NONE);
    HT_EXPECT_EQ(glob_list_match("a,,b", ""), GLOB_LIST_NONE);
    HT_EXPECT_EQ(glob_list_match("a,b,", "b"), GLOB_LIST_LITERAL);
}
