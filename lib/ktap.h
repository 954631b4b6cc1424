/* SPDX-License-Identifier: MIT */
/* lib/ktap.h — writes KTAP version 1 lines (the kernel's test report format,
 * Documentation/dev-tools/ktap.rst in Linux): version lines, plans, results
 * with SKIP directives, nested documents with their "# Subtest:" headers and
 * diagnostics, indented two spaces per nesting level. Pure formatting: the
 * caller supplies the sink, and each call hands it complete lines only. */
#ifndef LIB_KTAP_H
#define LIB_KTAP_H
#include <stdbool.h>

/* Long enough for a benchmark job's JSON line (tests/harness/bench.h). */
#define KTAP_LINE_MAX 2048

typedef void (*ktap_line_sink)(void *ctx, const char *line);

struct ktap_writer {
    ktap_line_sink sink;
    void *ctx;
};

void ktap_version(struct ktap_writer *w, unsigned depth);
void ktap_plan(struct ktap_writer *w, unsigned depth, unsigned count);
/* Opens a nested document at `depth` (its parent's lines are at depth - 1) as
 * KUnit writes one and kunit_tool reads it: "KTAP version 1", then
 * "# Subtest: name", then "1..count", all three at `depth`. The parent's
 * ktap_result() for `name`, at depth - 1, closes it. */
void ktap_subtest_begin(struct ktap_writer *w, unsigned depth, const char *name, unsigned count);
/* `skip_reason` non-NULL makes it "ok N name # SKIP reason" (ok is then ignored). */
void ktap_result(struct ktap_writer *w, unsigned depth, bool ok, unsigned number,
                 const char *name, const char *skip_reason);
/* One "# " line per line of `text`, so multi-line messages stay diagnostics. */
void ktap_diag(struct ktap_writer *w, unsigned depth, const char *text);

#endif
