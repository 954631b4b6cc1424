/* SPDX-License-Identifier: MIT */
/* lib/glob.c — wildcard matching without recursion. On a mismatch the match
 * resumes just after the most recent `*`, with that star swallowing one more
 * text character; earlier stars never need revisiting, because anything a
 * later star cannot absorb an earlier one could not either. Time is
 * O(pattern × text) at worst, stack constant. */
#include "lib/glob.h"

bool glob_match_n(const char *pattern, size_t pattern_len, const char *text)
{
    size_t p = 0, t = 0;
    size_t star_p = (size_t)-1;     /* pattern index after the last '*' */
    size_t star_t = 0;              /* text index that star resumes from */

    while (text[t]) {
        if (p < pattern_len && pattern[p] == '*') {
            star_p = ++p;
            star_t = t;
        } else if (p < pattern_len && (pattern[p] == '?' || pattern[p] == text[t])) {
            p++;
            t++;
        } else if (star_p != (size_t)-1) {
            p = star_p;
            t = ++star_t;
        } else {
            return false;
        }
    }
    while (p < pattern_len && pattern[p] == '*')
        p++;
    return p == pattern_len;
}

bool glob_match(const char *pattern, const char *text)
{
    size_t len = 0;
    while (pattern[len])
        len++;
    return glob_match_n(pattern, len, text);
}

bool glob_is_literal(const char *pattern, size_t pattern_len)
{
    for (size_t i = 0; i < pattern_len; i++)
        if (pattern[i] == '*' || pattern[i] == '?')
            return false;
    return true;
}

enum glob_list_match glob_list_match(const char *list, const char *text)
{
    enum glob_list_match best = GLOB_LIST_NONE;
    const char *start = list;
    for (;;) {
        const char *end = start;
        while (*end && *end != ',')
            end++;
        size_t len = (size_t)(end - start);
        if (len && glob_match_n(start, len, text)) {
            if (glob_is_literal(start, len))
                return GLOB_LIST_LITERAL;
            best = GLOB_LIST_WILDCARD;
        }
        if (!*end)
            return best;
        start = end + 1;
    }
}
