/* SPDX-License-Identifier: MIT */
/* tests/host/test_ktap.c — the KTAP writer produces exactly the lines KTAP v1
 * and tools/ktap-check expect. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/ktap.h"

struct capture {
    char text[KTAP_LINE_MAX * 2];
    size_t len;
    int lines;
};

static void capture_line(void *ctx, const char *line)
{
    struct capture *c = ctx;
    size_t n = strlen(line);
    memcpy(c->text + c->len, line, n);
    c->len += n;
    c->text[c->len++] = '\n';
    c->text[c->len] = '\0';
    c->lines++;
}

HTEST(ktap_document_shape)
{
    struct capture c = { .len = 0 };
    struct ktap_writer w = { capture_line, &c };
    ktap_version(&w, 0);
    ktap_plan(&w, 0, 1);
    ktap_subtest_begin(&w, 1, "lib", 3);
    ktap_result(&w, 1, true, 1, "crc32c_vectors", NULL);
    ktap_diag(&w, 1, "lib.c:10: expected x == y");
    ktap_result(&w, 1, false, 2, "format_hex", NULL);
    ktap_result(&w, 1, false, 3, "needs_ram_above_4g", "no RAM above 4 GiB");
    ktap_result(&w, 0, false, 1, "lib", NULL);
    HT_EXPECT_STREQ(c.text,
                    "KTAP version 1\n"
                    "1..1\n"
                    "  KTAP version 1\n"
                    "  # Subtest: lib\n"
                    "  1..3\n"
                    "  ok 1 crc32c_vectors\n"
                    "  # lib.c:10: expected x == y\n"
                    "  not ok 2 format_hex\n"
                    "  ok 3 needs_ram_above_4g # SKIP no RAM above 4 GiB\n"
                    "not ok 1 lib\n");
}

HTEST(ktap_names_cannot_inject_directives)
{
    struct capture c = { .len = 0 };
    struct ktap_writer w = { capture_line, &c };
    ktap_result(&w, 0, true, 7, "evil # SKIP\nnot ok 8", NULL);
    HT_EXPECT_STREQ(c.text, "ok 7 evil _ SKIP_not ok 8\n");
    HT_EXPECT_EQ(c.lines, 1);
}

HTEST(ktap_multiline_diag_becomes_several_lines)
{
    struct capture c = { .len = 0 };
    struct ktap_writer w = { capture_line, &c };
    ktap_diag(&w, 2, "first\nsecond");
    HT_EXPECT_STREQ(c.text, "    # first\n    # second\n");
    HT_EXPECT_EQ(c.lines, 2);
}

HTEST(ktap_long_lines_are_truncated_not_split)
{
    struct capture c = { .len = 0 };
    struct ktap_writer w = { capture_line, &c };
    char name[KTAP_LINE_MAX * 2];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    ktap_result(&w, 0, true, 1, name, NULL);
    HT_EXPECT_EQ(c.lines, 1);
    HT_EXPECT_EQ(c.len, KTAP_LINE_MAX);     /* KTAP_LINE_MAX - 1 characters and '\n' */
}

HTEST(ktap_subtest_begin_puts_the_version_line_first_at_the_nested_depth)
{
    struct capture c = { .len = 0 };
    struct ktap_writer w = { capture_line, &c };
    ktap_subtest_begin(&w, 2, "odd # name\nok 1 x", 1);
    HT_EXPECT_STREQ(c.text,
                    "    KTAP version 1\n"
                    "    # Subtest: odd _ name_ok 1 x\n"
                    "    1..1\n");
    HT_EXPECT_EQ(c.lines, 3);
}
