/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_manifest.c — libFuzzer target for tools/verify-image's
 * manifest parser (tools/src/manifest.c): the input is a whole serial log.
 * It is parsed twice, whole and cut in two where its first byte says, and
 * both parses must agree (a line split across two reads is still one line);
 * what the parser accepts must keep the promises of manifest.h (block a
 * power of two in 512..65536, ranges non-empty, sorted, disjoint, inside
 * blocks; names and serials terminated; a refusal names a line and a
 * reason); and every accepted manifest goes through verify-image's range
 * check against a small labelled disk held in memory, whose verdict must
 * agree with a plain recomputation. Any broken promise aborts, which
 * libFuzzer reports with the input.
 *
 * Built outside the Makefile, e.g.:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -DBAREIO_HOST_TEST \
 *       -include tests/host/rename.h tests/fuzz/fuzz_manifest.c tools/src/manifest.c \
 *       $(find lib -name '*.c') drivers/blk/access.c -o /tmp/fuzz_manifest
 *   mkdir -p /tmp/manifest-corpus
 *   /tmp/fuzz_manifest -max_total_time=60 -max_len=8192 -dict=tests/fuzz/manifest.dict \
 *       /tmp/manifest-corpus tests/fuzz/corpus/manifest
 * (libFuzzer adds what it finds to the first directory: a scratch one, so the
 * seed corpus in the tree stays the handful of cases it is; -max_len above
 * MANIFEST_LINE_MAX lets it reach overlong lines). */
#include "drivers/blk/access.h"
#include "lib/scratch.h"
#include "lib/string.h"
#include "tools/src/manifest.h"

#include <stdint.h>
#include <stdlib.h>

#define DISK_BYTES (8u << 20)       /* the in-memory disk: 8 MiB, label, data from 1 MiB */

static uint8_t disk_head[BLK_ACCESS_SPAN];

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void label_disk(void)
{
    struct scratch_label l;

    memset(&l, 0, sizeof(l));
    memset(l.uuid, 0xa5, sizeof(l.uuid));
    l.data_offset = SCRATCH_DEFAULT_DATA_OFFSET;
    scratch_label_build(disk_head, &l);
}

static bool parse(struct manifest_log *log, const uint8_t *data, size_t size, size_t cut)
{
    manifest_log_init(log);
    return manifest_log_feed(log, data, cut) && manifest_log_feed(log, data + cut, size - cut) &&
           manifest_log_finish(log);
}

static void check_manifest(const struct manifest *m)
{
    check(m->block >= MANIFEST_BLOCK_MIN && m->block <= MANIFEST_BLOCK_MAX &&
          (m->block & (m->block - 1)) == 0 && m->blocks > 0);
    check(strnlen(m->device, MANIFEST_DEVICE_MAX) < MANIFEST_DEVICE_MAX && m->device[0]);
    check(strnlen(m->serial, MANIFEST_SERIAL_MAX) < MANIFEST_SERIAL_MAX);
    check(m->nranges <= m->cap && (m->nranges == 0 || m->ranges));
    uint64_t next = 0, sum = 0;
    for (size_t i = 0; i < m->nranges; i++) {
        const struct manifest_range *r = &m->ranges[i];
        check(r->count > 0 && r->lba >= next && r->count <= m->blocks &&
              r->lba <= m->blocks - r->count);
        check(r->kind == MANIFEST_STAMPED || r->kind == MANIFEST_DEALLOCATED ||
              (r->kind == MANIFEST_ZERO && r->gen == 0));
        next = r->lba + r->count;
        sum += r->count;
    }
    check(sum == m->range_blocks && sum <= m->blocks);
}

/* verify-image's check: the ranges outside the disk's scratch blocks. */
static void check_ranges(const struct manifest *m)
{
    struct blk_access a;
    char text[96];

    blk_access_rule(m->block, DISK_BYTES / m->block, disk_head, sizeof(disk_head), false, NULL, &a);
    check(a.writable && a.write_first >= 1 && a.write_end <= DISK_BYTES / m->block);
    size_t i = 0;
    for (size_t out = manifest_range_outside(m, 0, a.write_first, a.write_end);; i++) {
        if (i == m->nranges) {
            check(out == m->nranges);
            break;
        }
        const struct manifest_range *r = &m->ranges[i];
        bool inside = r->lba >= a.write_first && r->lba < a.write_end &&
                      r->count <= a.write_end - r->lba;
        check(inside == (i != out));
        if (i == out)
            out = manifest_range_outside(m, i + 1, a.write_first, a.write_end);
        manifest_range_format(text, sizeof(text), r);
        check(strnlen(text, sizeof(text)) < sizeof(text));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct manifest_log whole, cut;
    static bool labelled;

    if (!labelled) {
        label_disk();
        labelled = true;
    }
    size_t at = size ? data[0] % (size + 1) : 0;
    bool ok = parse(&whole, data, size, size);
    bool ok_cut = parse(&cut, data, size, at);
    check(ok == ok_cut && whole.n == cut.n);
    if (!ok) {
        check(whole.failed && whole.error_line >= 1 && whole.error[0] &&
              strnlen(whole.error, sizeof(whole.error)) < sizeof(whole.error));
        check(whole.error_line == cut.error_line && !strcmp(whole.error, cut.error));
    }
    for (size_t i = 0; i < whole.n; i++) {
        check(whole.m[i].nranges == cut.m[i].nranges && whole.m[i].ended == cut.m[i].ended);
        check_manifest(&whole.m[i]);
        if (ok)
            check_ranges(&whole.m[i]);
    }
    manifest_log_free(&whole);
    manifest_log_free(&cut);
    return 0;
}
