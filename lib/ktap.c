/* SPDX-License-Identifier: MIT */
/* lib/ktap.c — KTAP v1 line formatting. Test names and SKIP reasons must not
 * contain '#' or line breaks (they would start a directive or a new line), so
 * those characters are replaced rather than trusted. */
#include "lib/ktap.h"
#include "lib/format.h"
#include "lib/string.h"

#define KTAP_MAX_DEPTH 8

struct line {
    char buf[KTAP_LINE_MAX];
    size_t len;
};

static void line_indent(struct line *l, unsigned depth)
{
    if (depth > KTAP_MAX_DEPTH)
        depth = KTAP_MAX_DEPTH;
    l->len = 0;
    for (unsigned i = 0; i < depth * 2; i++)
        l->buf[l->len++] = ' ';
    l->buf[l->len] = '\0';
}

/* Appends text; `clean` replaces characters that would break the line's meaning. */
static void line_append(struct line *l, const char *text, bool clean)
{
    for (; *text && l->len + 1 < sizeof(l->buf); text++) {
        char c = *text;
        if (clean && (c == '#' || c == '\n' || c == '\r'))
            c = '_';
        l->buf[l->len++] = c;
    }
    l->buf[l->len] = '\0';
}

static void line_emit(struct ktap_writer *w, struct line *l)
{
    w->sink(w->ctx, l->buf);
}

void ktap_version(struct ktap_writer *w, unsigned depth)
{
    struct line l;
    line_indent(&l, depth);
    line_append(&l, "KTAP version 1", false);
    line_emit(w, &l);
}

void ktap_plan(struct ktap_writer *w, unsigned depth, unsigned count)
{
    struct line l;
    char num[16];
    line_indent(&l, depth);
    snprintf(num, sizeof(num), "1..%u", count);
    line_append(&l, num, false);
    line_emit(w, &l);
}

static void ktap_subtest_header(struct ktap_writer *w, unsigned depth, const char *name)
{
    struct line l;
    line_indent(&l, depth);
    line_append(&l, "# Subtest: ", false);
    line_append(&l, name, true);
    line_emit(w, &l);
}

/* The version line comes first (KTAP v1's examples, KUnit): kunit_tool takes
 * a header before it for a test of its own and reports the suite crashed. */
void ktap_subtest_begin(struct ktap_writer *w, unsigned depth, const char *name, unsigned count)
{
    ktap_version(w, depth);
    ktap_subtest_header(w, depth, name);
    ktap_plan(w, depth, count);
}

void ktap_result(struct ktap_writer *w, unsigned depth, bool ok, unsigned number,
                 const char *name, const char *skip_reason)
{
    struct line l;
    char head[24];
    line_indent(&l, depth);
    snprintf(head, sizeof(head), "%s %u ", (ok || skip_reason) ? "ok" : "not ok", number);
    line_append(&l, head, false);
    line_append(&l, name, true);
    if (skip_reason) {
        line_append(&l, " # SKIP ", false);
        line_append(&l, skip_reason, true);
    }
    line_emit(w, &l);
}

void ktap_diag(struct ktap_writer *w, unsigned depth, const char *text)
{
    do {
        struct line l;
        line_indent(&l, depth);
        line_append(&l, "# ", false);
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        for (size_t i = 0; i < n && l.len + 1 < sizeof(l.buf); i++) {
            char c = text[i] == '\r' ? ' ' : text[i];
            l.buf[l.len++] = c;
        }
        l.buf[l.len] = '\0';
        line_emit(w, &l);
        text = nl ? nl + 1 : text + n;
    } while (*text);
}
