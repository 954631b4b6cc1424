/* SPDX-License-Identifier: MIT */
/* tools/src/verify-image.c — the host half of bareio's data proof.
 *
 *   verify-image SERIAL_LOG IMAGE [--device NAME] [--allow-write]
 *       Finds the manifest (bareio-manifest: begin/stamped/zero/deallocated/incomplete/end
 *       lines, printed by tests/harness/dio.c; grammar in tools/src/manifest.h) that
 *       the kernel printed for the device backed by IMAGE — the one whose
 *       identity is IMAGE's scratch label UUID (or bareio GPT partition GUID),
 *       or the one named by --device — and checks it: IMAGE must be scratch
 *       by the kernel's own write rule (drivers/blk/access.c; --allow-write
 *       stands for allow_write= naming the disk) and every range must lie
 *       inside its scratch blocks (a range outside is a write the kernel must
 *       never have made); then `stamped` blocks must hold the stamp
 *       (lib/stamp.h) of their LBA with that seed and generation, `zero`
 *       blocks must read back as zeroes, `deallocated` blocks as zeroes or
 *       exactly the stamps of their generation (deallocation is advisory: a
 *       device may keep the data; how many kept it is said, not failed).
 *       Prints one line per group of bad blocks (LBAs, classification, first
 *       differing byte) or "verify-image: DEV: N ranges, M blocks OK". A malformed manifest line
 *       is exit 2 with LOG:LINE and what is wrong; time and memory stay
 *       bounded by the log and the image, whatever they hold.
 *   verify-image --seed IMAGE --lba A --count N --seed-value S --gen G
 *                [--block-size B] [--identity HEX] [--allow-write]
 *       Writes stamped blocks into IMAGE (identity from its label or bareio
 *       partition) for a kernel run that reads and verifies them
 *       (dio.expect=A:N:S:G) — only where the kernel itself would write, by
 *       the same rule: a disk in use or unlabelled is refused (exit 1) and
 *       blocks outside the scratch range are a usage error, both before
 *       anything is written. With --allow-write the whole disk, if it shows
 *       no sign of use (--identity is then needed).
 *
 * Exit: 0 everything matches / seeded, 1 a mismatch (or no manifest for the
 * image) / seeding refused, 2 usage (bad arguments, unreadable files, a
 * malformed manifest). Reads the image with pread, so it works on an image
 * file or a block device alike. */
#define _GNU_SOURCE
#include "drivers/blk/access.h"
#include "lib/stamp.h"
#include "tools/src/manifest.h"
#include "tools/src/toolkit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_MISMATCH 1
#define EXIT_USAGE 2
#define MAX_GROUPS_SHOWN 40

static void usage(void)
{
    fprintf(stderr,
            "usage: verify-image SERIAL_LOG IMAGE [--device NAME] [--allow-write]\n"
            "       verify-image --seed IMAGE --lba A --count N --seed-value S --gen G\n"
            "                    [--block-size B] [--identity HEX] [--allow-write]\n"
            "Checks that IMAGE holds what the kernel's manifest in SERIAL_LOG says it wrote,\n"
            "and that it wrote only inside IMAGE's scratch range; or seeds IMAGE with stamped\n"
            "blocks for a kernel dio.expect= run. Both follow the kernel's write rule: a\n"
            "scratch label or bareio GPT partition; --allow-write, as the kernel's\n"
            "allow_write=, opens a whole disk that shows no sign of use.\n"
            "Numbers: decimal or 0x hex. Exit: 0 match (seeded), 1 mismatch (refused),\n"
            "2 usage or a malformed manifest (LOG:LINE says what is wrong).\n");
    exit(EXIT_USAGE);
}

/* ---- small parsers ---- */

/* Numbers on the command line are written as in the manifest. */
static bool parse_u64(const char *text, uint64_t *out)
{
    return manifest_parse_u64(text, strlen(text), out);
}

static void hex16(char *buf, const uint8_t id[16])
{
    for (int i = 0; i < 16; i++)
        sprintf(buf + 2 * i, "%02x", id[i]);
}

/* ---- the image ---- */

struct image {
    const char *path;
    int fd;
    uint64_t bytes;
    bool allow_write;               /* --allow-write: as allow_write= naming the device */
    /* The rule's verdict per block size (512 << i), worked out when asked. */
    bool decided[8];
    struct blk_access access[8];
};

static void image_read(const struct image *im, void *buf, size_t len, uint64_t offset)
{
    ssize_t n = pread(im->fd, buf, len, (off_t)offset);
    if (n < 0 || (size_t)n != len)
        tool_fail(EXIT_USAGE, "%s: reading %zu bytes at %llu failed: %s", im->path, len,
                  (unsigned long long)offset, n < 0 ? strerror(errno) : "short read");
}

static void image_open(struct image *im, const char *path, bool writable, bool allow_write)
{
    struct stat st;

    memset(im, 0, sizeof(*im));
    im->path = path;
    im->allow_write = allow_write;
    im->fd = open(path, writable ? O_RDWR : O_RDONLY);
    if (im->fd < 0 || fstat(im->fd, &st) != 0)
        tool_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(im->fd, 0, SEEK_END);
        if (end < 0)
            tool_fail(EXIT_USAGE, "%s: cannot find its size: %s", path, strerror(errno));
        im->bytes = (uint64_t)end;
    } else {
        im->bytes = (uint64_t)st.st_size;
    }
}

/* The rule's reads: whole blocks of the image (the kernel reads the same). */
struct rule_read {
    const struct image *im;
    uint32_t block_size;
};

static bool rule_read(void *ctx, uint64_t lba, uint32_t count, uint8_t *buf)
{
    const struct rule_read *r = ctx;
    uint64_t bytes = (uint64_t)count * r->block_size;
    if (lba > r->im->bytes / r->block_size || bytes > r->im->bytes - lba * r->block_size)
        return false;
    ssize_t n = pread(r->im->fd, buf, (size_t)bytes, (off_t)(lba * r->block_size));
    return n >= 0 && (uint64_t)n == bytes;
}

/* What the kernel's rule (drivers/blk/access.h) decides for IMAGE as a
 * device of block_size-byte blocks (a power of two in 512..65536): whether
 * it is scratch, its identity and its scratch blocks [write_first,
 * write_end), which never reach past the image. */
static const struct blk_access *image_access(struct image *im, uint32_t block_size)
{
    unsigned i = 0;
    while (i < 7 && (512u << i) < block_size)
        i++;
    if (!im->decided[i]) {
        static uint8_t buf[BLK_ACCESS_HEAD_MAX];
        struct rule_read r = { im, 512u << i };
        blk_access_decide_device(512u << i, im->bytes >> (9 + i), rule_read, &r, buf,
                                 im->allow_write, NULL, &im->access[i]);
        im->decided[i] = true;
    }
    return &im->access[i];
}

/* ---- the manifest ---- */

static void parse_log(const char *path, struct manifest_log *log)
{
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    size_t n;
    bool ok = true;

    if (!f)
        tool_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
    manifest_log_init(log);
    while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        ok = manifest_log_feed(log, buf, n);
    if (ok && ferror(f))
        tool_fail(EXIT_USAGE, "%s: reading failed: %s", path, strerror(errno));
    fclose(f);
    if (!ok || !manifest_log_finish(log))
        tool_fail(EXIT_USAGE, "%s:%u: malformed manifest line: %s", path, log->error_line,
                  log->error);
}

/* The last manifest for --device NAME, else the last one whose identity is
 * the one the rule gives the image for that manifest's block size. */
static struct manifest *choose(struct manifest_log *all, struct image *im, const char *device,
                               const char *log)
{
    struct manifest *found = NULL;
    bool any_identity = false;
    char want[40];

    for (size_t i = 0; i < all->n; i++) {
        struct manifest *m = &all->m[i];
        const struct blk_access *a = image_access(im, m->block);
        any_identity |= a->has_identity;
        if (device ? !strcmp(m->device, device)
                   : a->has_identity && !memcmp(m->identity, a->identity, 16))
            found = m;
    }
    if (found)
        return found;
    if (device)
        tool_fail(EXIT_MISMATCH, "%s has no manifest for device %s (%zu manifest%s)", log, device,
                  all->n, all->n == 1 ? "" : "s");
    const struct blk_access *a = image_access(im, 512);
    if (!any_identity && !a->has_identity)
        tool_fail(EXIT_USAGE, "%s has no scratch label or bareio GPT partition to identify it "
                  "(%s): name the device with --device", im->path, a->reason);
    hex16(want, a->identity);
    tool_fail(EXIT_MISMATCH, "%s has no manifest with identity %s (of %s, %s): the run never "
              "wrote this image, or did not finish", log, want, im->path, a->reason);
}

/* ---- checking ---- */

/* A run of consecutive bad blocks with the same classification. */
struct group {
    bool open;
    const char *what;               /* classification word */
    uint64_t first, last;
    char detail[200];               /* about the first block of the group */
};

struct tally {
    const struct manifest *m;
    uint64_t bad_blocks, groups_shown, groups;
    uint64_t deallocated_blocks, kept_blocks;   /* kept: the old stamp still there */
    struct group g;
};

static void group_flush(struct tally *t)
{
    if (!t->g.open)
        return;
    t->groups++;
    if (t->groups_shown < MAX_GROUPS_SHOWN) {
        t->groups_shown++;
        uint64_t n = t->g.last - t->g.first + 1;
        printf("%s: %s: lba %llu", tool_name, t->m->device, (unsigned long long)t->g.first);
        if (n > 1)
            printf("..%llu (%llu blocks)", (unsigned long long)t->g.last, (unsigned long long)n);
        printf(": %s: %s\n", t->g.what, t->g.detail);
    }
    t->g.open = false;
}

static void block_bad(struct tally *t, uint64_t lba, const char *what, const char *detail)
{
    t->bad_blocks++;
    if (t->g.open && t->g.last + 1 == lba && !strcmp(t->g.what, what)) {
        t->g.last = lba;
        return;
    }
    group_flush(t);
    t->g.open = true;
    t->g.what = what;
    t->g.first = t->g.last = lba;
    snprintf(t->g.detail, sizeof(t->g.detail), "%s", detail);
}

static void block_good(struct tally *t)
{
    group_flush(t);
}

static void describe_stamp(char *buf, size_t size, const struct stamp_result *r)
{
    int n = snprintf(buf, size, "%s", stamp_status_describe(r->status));
    if (r->status == STAMP_TORN)
        n += snprintf(buf + n, size - (size_t)n, " from byte %u", r->first_bad_offset);
    if (r->status == STAMP_MISDIRECTED || r->status == STAMP_LOST || r->status == STAMP_TORN)
        n += snprintf(buf + n, size - (size_t)n, " (holds lba %llu gen %llu seed 0x%llx%s)",
                      (unsigned long long)r->found_lba, (unsigned long long)r->found_gen,
                      (unsigned long long)r->found_seed,
                      r->found_other_device ? " of another device" : "");
    snprintf(buf + n, size - (size_t)n, "; first difference at byte %u: expected 0x%02x, actual 0x%02x",
             r->offset, r->expected, r->actual);
}

static void check_zero_block(struct tally *t, const uint8_t *b, uint64_t lba)
{
    uint32_t bs = t->m->block;
    size_t nz = stamp_first_nonzero(b, bs);
    char detail[200];
    struct stamp_header h;

    if (nz == bs) {
        block_good(t);
        return;
    }
    if (stamp_parse_header(b, &h))
        snprintf(detail, sizeof(detail), "should read as zeroes, holds a stamp of lba %llu gen %llu "
                 "(trim/write-zeroes lost); first non-zero byte %zu: 0x%02x",
                 (unsigned long long)h.lba, (unsigned long long)h.gen, nz, b[nz]);
    else
        snprintf(detail, sizeof(detail), "should read as zeroes; first non-zero byte %zu: 0x%02x",
                 nz, b[nz]);
    block_bad(t, lba, "not zero", detail);
}

/* A deallocated block: zeroes, or exactly the stamp it held before. */
static void check_deallocated_block(struct tally *t, const uint8_t *b, uint64_t lba,
                                    const struct stamp_key *previous)
{
    struct stamp_result res;
    char detail[200];
    bool kept;
    int n;

    t->deallocated_blocks++;
    if (stamp_check_deallocated(b, t->m->block, previous, lba, &res, &kept) == STAMP_OK) {
        t->kept_blocks += kept;
        block_good(t);
        return;
    }
    n = snprintf(detail, sizeof(detail), "deallocated, expected zeroes or gen %llu: ",
                 (unsigned long long)previous->gen);
    describe_stamp(detail + n, sizeof(detail) - (size_t)n, &res);
    block_bad(t, lba, stamp_status_name(res.status), detail);
}

/* One range, read 1 MiB at a time. verify() has made sure it lies inside
 * the image's scratch blocks, so every block read is in the image and the
 * work is bounded by the image's size. */
static void check_range(struct tally *t, const struct image *im, const struct manifest_range *r)
{
    const struct manifest *m = t->m;
    const uint64_t chunk_blocks = (1u << 20) / m->block;   /* >= 16: block <= 64 KiB */
    uint8_t *buf = malloc(chunk_blocks * m->block);
    struct stamp_key key;

    if (!buf)
        tool_fail(EXIT_USAGE, "out of memory");
    memcpy(key.identity, m->identity, 16);
    key.seed = m->seed;
    key.gen = r->gen;
    for (uint64_t done = 0; done < r->count;) {
        uint64_t lba = r->lba + done, n = r->count - done;
        if (n > chunk_blocks)
            n = chunk_blocks;
        image_read(im, buf, n * m->block, lba * m->block);
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *b = buf + i * m->block;
            struct stamp_result res;
            char detail[200];
            if (r->kind == MANIFEST_ZERO) {
                check_zero_block(t, b, lba + i);
                continue;
            }
            if (r->kind == MANIFEST_DEALLOCATED) {
                check_deallocated_block(t, b, lba + i, &key);
                continue;
            }
            if (stamp_check(b, m->block, &key, lba + i, &res) == STAMP_OK) {
                block_good(t);
                continue;
            }
            describe_stamp(detail, sizeof(detail), &res);
            block_bad(t, lba + i, stamp_status_name(res.status), detail);
        }
        done += n;
    }
    group_flush(t);
    free(buf);
}

/* What must hold before a single block is read: the run finished, its
 * manifest is whole, it is this image's, the image is scratch by the
 * kernel's rule and every range lies inside its scratch blocks. */
static bool manifest_fits_image(const struct manifest *m, struct image *im, const char *log)
{
    const struct blk_access *a = image_access(im, m->block);
    char x[40], y[40], range[96];

    if (m->has_machine) {
        const struct manifest_machine *mm = &m->machine;
        printf("%s: %s: from machine \"%s\" product \"%s\" serial \"%s\" uuid %s, board "
               "\"%s\" serial \"%s\", bios \"%s\" %s (log line %u)\n", tool_name, m->device,
               mm->system, mm->product, mm->serial, mm->uuid, mm->board_product, mm->board_serial,
               mm->bios, mm->bios_version, mm->line);
    }
    if (!m->ended) {
        printf("%s: %s: the manifest (line %u) has no end line: the run did not finish\n",
               tool_name, m->device, m->line);
        return false;
    }
    if (m->incomplete) {
        printf("%s: %s: the manifest is incomplete (the kernel's extent map overflowed): "
               "what the run wrote cannot be proven\n", tool_name, m->device);
        return false;
    }
    if (m->end_ranges != m->nranges) {
        printf("%s: %s: the manifest lists %zu ranges, its end line says %llu\n", tool_name,
               m->device, m->nranges, (unsigned long long)m->end_ranges);
        return false;
    }
    if (!a->writable) {
        printf("%s: %s: %s is not scratch by bareio's rule (%s): the run must not have written "
               "it%s\n", tool_name, m->device, im->path, a->reason,
               im->allow_write ? "" : " (--allow-write if the run had allow_write= for it)");
        return false;
    }
    if (a->has_identity && memcmp(a->identity, m->identity, 16) != 0) {
        hex16(x, a->identity);
        hex16(y, m->identity);
        printf("%s: %s: wrong image: %s's identity %s (%s) is not the manifest's %s\n", tool_name,
               m->device, im->path, x, a->reason, y);
        return false;
    }
    size_t outside = 0;
    for (size_t i = manifest_range_outside(m, 0, a->write_first, a->write_end); i < m->nranges;
         i = manifest_range_outside(m, i + 1, a->write_first, a->write_end)) {
        if (outside++ < MAX_GROUPS_SHOWN) {
            manifest_range_format(range, sizeof(range), &m->ranges[i]);
            printf("%s: %s: %s (%s:%u) is outside %s's scratch range, blocks %llu..%llu (%s)\n",
                   tool_name, m->device, range, log, m->ranges[i].line, im->path,
                   (unsigned long long)a->write_first, (unsigned long long)a->write_end - 1,
                   a->reason);
        }
    }
    if (outside) {
        printf("%s: %s: %zu of %zu ranges outside the scratch range: the run wrote where it must "
               "not\n", tool_name, m->device, outside, m->nranges);
        return false;
    }
    return true;
}

static int verify(const char *log, const char *path, const char *device, bool allow_write)
{
    static struct image im;
    struct manifest_log all;
    struct tally t;

    image_open(&im, path, false, allow_write);
    parse_log(log, &all);
    struct manifest *m = choose(&all, &im, device, log);
    if (!manifest_fits_image(m, &im, log))
        return EXIT_MISMATCH;
    if (m->blocks > im.bytes / m->block || m->blocks * m->block != im.bytes)
        fprintf(stderr, "%s: warning: %s is %llu bytes, %s had %llu blocks of %u\n", tool_name,
                path, (unsigned long long)im.bytes, m->device, (unsigned long long)m->blocks,
                m->block);
    memset(&t, 0, sizeof(t));
    t.m = m;
    for (size_t i = 0; i < m->nranges; i++)
        check_range(&t, &im, &m->ranges[i]);
    if (t.groups > t.groups_shown)
        printf("%s: %s: ... %llu more groups of bad blocks not shown\n", tool_name, m->device,
               (unsigned long long)(t.groups - t.groups_shown));
    if (t.kept_blocks)
        printf("%s: %s: %llu of %llu deallocated blocks still hold their previous data: deallocate "
               "not honoured (advisory)\n", tool_name, m->device, (unsigned long long)t.kept_blocks,
               (unsigned long long)t.deallocated_blocks);
    if (t.bad_blocks) {
        printf("%s: %s: %llu of %llu blocks bad in %zu ranges\n", tool_name, m->device,
               (unsigned long long)t.bad_blocks, (unsigned long long)m->range_blocks, m->nranges);
        return EXIT_MISMATCH;
    }
    printf("%s: %s: %zu ranges, %llu blocks OK\n", tool_name, m->device, m->nranges,
           (unsigned long long)m->range_blocks);
    return 0;
}

/* ---- seeding ---- */

struct seed_args {
    const char *image;
    uint64_t lba, count, seed, gen, block_size;
    bool have[5];                   /* lba, count, seed-value, gen, identity */
    bool allow_write;               /* as the kernel's allow_write= naming the disk */
    uint8_t identity[16];
};

/* Writes only what the kernel itself would write on this image: a disk the
 * rule keeps read-only is refused (exit 1), a range that is not inside its
 * scratch blocks [write_first, write_end) is a usage error; every check is
 * made before the first write, in blocks, so nothing wraps. */
static int seed(const struct seed_args *s)
{
    static struct image im;
    struct stamp_key key;
    uint32_t bs = (uint32_t)s->block_size;
    char id[40];

    image_open(&im, s->image, true, s->allow_write);
    const struct blk_access a = *image_access(&im, bs);
    if (!a.writable)
        tool_fail(EXIT_MISMATCH, "%s is not scratch by bareio's rule (%s): nothing written%s",
                  s->image, a.reason,
                  s->allow_write ? "" : " (--allow-write stands for the kernel's allow_write=)");
    if (s->have[4])
        memcpy(key.identity, s->identity, 16);
    else if (a.has_identity)
        memcpy(key.identity, a.identity, 16);
    else
        tool_fail(EXIT_USAGE, "%s has no scratch label or bareio GPT partition: give --identity "
                  "HEX (the kernel's identity for the device)", s->image);
    if (s->lba < a.write_first || s->lba >= a.write_end || s->count > a.write_end - s->lba)
        tool_fail(EXIT_USAGE, "lba %llu count %llu is outside %s's scratch range, blocks "
                  "%llu..%llu of %u bytes (%s): nothing written", (unsigned long long)s->lba,
                  (unsigned long long)s->count, s->image, (unsigned long long)a.write_first,
                  (unsigned long long)a.write_end - 1, bs, a.reason);
    key.seed = s->seed;
    key.gen = s->gen;
    uint8_t *buf = malloc(bs);
    if (!buf)
        tool_fail(EXIT_USAGE, "out of memory");
    for (uint64_t i = 0; i < s->count; i++) {
        stamp_fill(buf, bs, &key, s->lba + i);
        ssize_t n = pwrite(im.fd, buf, bs, (off_t)((s->lba + i) * bs));
        if (n != (ssize_t)bs)
            tool_fail(EXIT_MISMATCH, "%s: writing lba %llu failed: %s", s->image,
                      (unsigned long long)(s->lba + i), n < 0 ? strerror(errno) : "short write");
    }
    free(buf);
    if (fsync(im.fd) != 0)
        tool_fail(EXIT_MISMATCH, "%s: fsync: %s", s->image, strerror(errno));
    close(im.fd);
    hex16(id, key.identity);
    printf("%s: %s: seeded lba %llu..%llu (%llu blocks of %u) seed 0x%llx gen %llu identity %s\n",
           tool_name, s->image, (unsigned long long)s->lba,
           (unsigned long long)(s->lba + s->count - 1), (unsigned long long)s->count, bs,
           (unsigned long long)s->seed,
           (unsigned long long)s->gen, id);
    return 0;
}

static int seed_main(int argc, char **argv)
{
    static const char *const names[] = { "--lba", "--count", "--seed-value", "--gen", "--identity" };
    struct seed_args s;

    memset(&s, 0, sizeof(s));
    s.block_size = 512;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t *dst[] = { &s.lba, &s.count, &s.seed, &s.gen };
        int k;
        if (!strcmp(a, "--allow-write")) {
            s.allow_write = true;
            continue;
        }
        if (a[0] != '-') {
            if (s.image)
                tool_fail(EXIT_USAGE, "--seed takes one image (%s and %s)", s.image, a);
            s.image = a;
            continue;
        }
        if (!v)
            tool_fail(EXIT_USAGE, "%s needs a value", a);
        for (k = 0; k < 5 && strcmp(a, names[k]); k++)
            ;
        if (k == 4) {
            if (!tool_parse_hex16(v, s.identity))
                tool_fail(EXIT_USAGE, "--identity %s: not 32 hex digits", v);
        } else if (k < 4) {
            if (!parse_u64(v, dst[k]))
                tool_fail(EXIT_USAGE, "%s '%s': not a number (decimal without leading zeros, or 0x "
                          "hex, at most 2^64-1)", a, v);
        } else if (!strcmp(a, "--block-size")) {
            if (!parse_u64(v, &s.block_size) || s.block_size < 512 || s.block_size > 65536 ||
                (s.block_size & (s.block_size - 1)))
                tool_fail(EXIT_USAGE, "--block-size %s: a power of two, 512..65536", v);
            k = -1;
        } else {
            tool_fail(EXIT_USAGE, "unknown option %s (see --help)", a);
        }
        if (k >= 0)
            s.have[k] = true;
        i++;
    }
    if (!s.image)
        tool_fail(EXIT_USAGE, "--seed needs an IMAGE");
    for (int k = 0; k < 4; k++)
        if (!s.have[k])
            tool_fail(EXIT_USAGE, "--seed needs %s", names[k]);
    if (s.count == 0 || s.count > (1u << 24))
        tool_fail(EXIT_USAGE, "--count %llu: 1..16777216 blocks", (unsigned long long)s.count);
    return seed(&s);
}

int main(int argc, char **argv)
{
    const char *positional[2] = { NULL, NULL }, *device = NULL;
    bool allow_write = false;
    int npos = 0;

    tool_name = "verify-image";
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        usage();
    if (argc > 1 && !strcmp(argv[1], "--seed"))
        return seed_main(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--allow-write")) {
            allow_write = true;
        } else if (!strcmp(argv[i], "--device")) {
            if (i + 1 >= argc)
                tool_fail(EXIT_USAGE, "--device needs a name");
            device = argv[++i];
        } else if (argv[i][0] == '-') {
            tool_fail(EXIT_USAGE, "unknown option %s (see --help)", argv[i]);
        } else if (npos < 2) {
            positional[npos++] = argv[i];
        } else {
            usage();
        }
    }
    if (npos != 2)
        usage();
    return verify(positional[0], positional[1], device, allow_write);
}
