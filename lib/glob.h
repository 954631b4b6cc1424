/* SPDX-License-Identifier: MIT */
/* lib/glob.h — shell-style wildcard matching for test selection (`tests=`):
 * `*` matches any run of characters (also none), `?` exactly one character,
 * every other character itself (case-sensitive). No character classes and no
 * escapes: suite and case names are identifiers with dots. */
#ifndef LIB_GLOB_H
#define LIB_GLOB_H
#include <stdbool.h>
#include <stddef.h>

/* The whole of `text` against the first `pattern_len` bytes of `pattern`. */
bool glob_match_n(const char *pattern, size_t pattern_len, const char *text);
bool glob_match(const char *pattern, const char *text);
/* True when the pattern has no wildcard and therefore names one thing exactly. */
bool glob_is_literal(const char *pattern, size_t pattern_len);

/* A comma-separated list of patterns ("lib.*,memory"). Empty elements never
 * match. Returns the best match: a literal one wins over a wildcard one, so a
 * caller can run cases that must be named explicitly only on a literal match. */
enum glob_list_match {
    GLOB_LIST_NONE = 0,
    GLOB_LIST_WILDCARD,
    GLOB_LIST_LITERAL,
};
enum glob_list_match glob_list_match(const char *list, const char *text);

#endif
