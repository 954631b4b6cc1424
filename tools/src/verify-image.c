/* tools/src/verify-image.c — the host half of bareio's data proof.
 *
 *   verify-image SERIAL_LOG IMAGE [--device NAME]
 *       Finds the manifest (bareio-manifest: begin/stamped/zero/end lines,
 *       see /tmp/contract.md and kernel/dio.c) that the kernel printed for the
 *       device backed by IMAGE — the one whose identity is IMAGE's scratch
 *       label UUID (or bareio GPT partition GUID), or the one named by
 *       --device — and checks every range: `stamped` blocks must hold the
 *       stamp (lib/stamp.h) of their LBA with that seed and generation, `zero`
 *       blocks must read back as zeroes. Prints one line per group of bad
 *       blocks (LBAs, classification, first differing byte) or
 *       "verify-image: DEV: N ranges, M blocks OK".
 *   verify-image --seed IMAGE --lba A --count N --seed-value S --gen G
 *                [--block-size B] [--identity HEX] [--allow-write]
 *       Writes stamped blocks into IMAGE (identity from its label or bareio
 *       partition) for a kernel run that reads and verifies them
 *       (dio.expect=A:N:S:G) — only where the kernel itself would write: the
 *       write rule is the kernel's own (drivers/blk/access.c), so a disk in
 *       use or unlabelled is refused (exit 1) and blocks outside the scratch
 *       range are a usage error, both before anything is written.
 *       --allow-write stands for the kernel's allow_write= naming the disk
 *       (the whole disk, if it shows no sign of use; --identity needed).
 *
 * Exit: 0 everything matches / seeded, 1 a mismatch (or no manifest for the
 * image) / seeding refused, 2 usage (bad arguments, unreadable files). Reads
 * the image with pread, so it works on an image file or a block device alike. */
#define _GNU_SOURCE
#include "drivers/blk/access.h"
#include "lib/gpt.h"
#include "lib/scratch.h"
#include "lib/stamp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_MISMATCH 1
#define EXIT_USAGE 2
#define MANIFEST_TAG "bareio-manifest: "
#define MAX_GROUPS_SHOWN 40

static const char *prog = "verify-image";

static void fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: verify-image SERIAL_LOG IMAGE [--device NAME]\n"
            "       verify-image --seed IMAGE --lba A --count N --seed-value S --gen G\n"
            "                    [--block-size B] [--identity HEX] [--allow-write]\n"
            "Checks that IMAGE holds what the kernel's manifest in SERIAL_LOG says it wrote,\n"
            "or seeds IMAGE with stamped blocks for a kernel dio.expect= run, only where the\n"
            "kernel would write (scratch label, bareio GPT partition; --allow-write: as the\n"
            "kernel's allow_write=, a whole disk that shows no sign of use).\n"
            "Numbers: decimal or 0x hex. Exit: 0 match (seeded), 1 mismatch (refused), 2 usage.\n");
    exit(EXIT_USAGE);
}

/* ---- small parsers ---- */

/* A number as the kernel prints it: decimal without leading zeros, or 0x
 * hex; no sign, no blanks, nothing that does not fit 64 bits (strtoull would
 * take " -1" and "026" as numbers, the second as octal). */
static bool parse_u64(const char *text, uint64_t *out)
{
    size_t i = 0, len = strlen(text);
    unsigned base = 10;
    uint64_t v = 0;

    if (len > 2 && text[0] == '0' && text[1] == 'x') {
        base = 16;
        i = 2;
    } else if (len > 1 && text[0] == '0') {
        return false;
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        int c = text[i] | 0x20;
        unsigned d = text[i] >= '0' && text[i] <= '9' ? (unsigned)(text[i] - '0')
                     : base == 16 && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : base;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static bool parse_hex16(const char *text, uint8_t out[16])
{
    unsigned n = 0;
    for (const char *p = text; *p; p++) {
        int c = *p | 0x20, v;
        if (*p == '-')
            continue;
        v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0 || n >= 32)
            return false;
        out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
        n++;
    }
    return n == 32;
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
    bool has_identity;
    const char *identity_from;      /* "scratch label", "GPT partition" */
    uint8_t identity[16];
    uint64_t write_first, write_end; /* bytes the label/partition opens */
};

static void image_read(const struct image *im, void *buf, size_t len, uint64_t offset)
{
    ssize_t n = pread(im->fd, buf, len, (off_t)offset);
    if (n < 0 || (size_t)n != len)
        fail(EXIT_USAGE, "%s: reading %zu bytes at %llu failed: %s", im->path, len,
             (unsigned long long)offset, n < 0 ? strerror(errno) : "short read");
}

/* The identity the kernel gives the device: the scratch label UUID, else the
 * unique GUID of the first bareio GPT partition (drivers/blk/blk.c). */
static void image_identity(struct image *im)
{
    uint8_t head[512];
    struct scratch_label l;

    if (im->bytes < 512)
        return;
    image_read(im, head, sizeof(head), 0);
    if (scratch_label_parse(head, im->bytes, &l) == SCRATCH_OK) {
        im->has_identity = true;
        im->identity_from = "scratch label";
        memcpy(im->identity, l.uuid, 16);
        im->write_first = l.data_offset;
        im->write_end = l.data_size ? l.data_offset + l.data_size : im->bytes;
        return;
    }
    static const uint32_t sizes[] = { 512, 4096 };
    for (unsigned i = 0; i < 2; i++) {
        uint32_t bs = sizes[i];
        uint8_t *blk = malloc(bs);
        struct gpt_header h;
        struct gpt_partition p;
        if (!blk)
            fail(EXIT_USAGE, "out of memory");
        if (im->bytes >= 2ull * bs) {
            image_read(im, blk, bs, bs);
            if (gpt_parse_header(blk, bs, im->bytes / bs, &h) == GPT_OK) {
                uint8_t *entries = malloc(gpt_entries_bytes(&h));
                if (!entries)
                    fail(EXIT_USAGE, "out of memory");
                image_read(im, entries, gpt_entries_bytes(&h), h.entries_lba * bs);
                if (gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p) == GPT_OK) {
                    im->has_identity = true;
                    im->identity_from = "GPT partition";
                    memcpy(im->identity, p.unique_guid, 16);
                    im->write_first = p.first_lba * bs;
                    im->write_end = (p.last_lba + 1) * bs;
                }
                free(entries);
            }
        }
        free(blk);
        if (im->has_identity)
            return;
    }
}

static void image_open(struct image *im, const char *path, bool writable)
{
    struct stat st;

    memset(im, 0, sizeof(*im));
    im->path = path;
    im->fd = open(path, writable ? O_RDWR : O_RDONLY);
    if (im->fd < 0 || fstat(im->fd, &st) != 0)
        fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(im->fd, 0, SEEK_END);
        if (end < 0)
            fail(EXIT_USAGE, "%s: cannot find its size: %s", path, strerror(errno));
        im->bytes = (uint64_t)end;
    } else {
        im->bytes = (uint64_t)st.st_size;
    }
    image_identity(im);
}

/* ---- the manifest ---- */

enum range_kind { RANGE_STAMPED, RANGE_ZERO };

struct range {
    enum range_kind kind;
    uint64_t lba, count, gen;
};

struct manifest {
    char device[32], serial[64];
    uint8_t identity[16];
    uint32_t block;
    uint64_t blocks, seed;
    bool ended;
    bool incomplete;                /* the kernel's extent map overflowed */
    uint64_t end_ranges;
    struct range *ranges;
    size_t nranges, cap;
    unsigned line;                  /* of the begin line, for messages */
};

struct manifests {
    struct manifest *m;
    size_t n, cap;
};

/* Finds key=VALUE in a space-separated line; copies VALUE into out. */
static bool field(const char *line, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = line; (p = strstr(p, key)); p += klen) {
        if ((p == line || p[-1] == ' ') && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, " \t\r\n");
            if (n >= size)
                return false;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

static bool field_u64(const char *line, const char *key, uint64_t *out)
{
    char buf[32];
    return field(line, key, buf, sizeof(buf)) && parse_u64(buf, out);
}

static void bad_line(const char *log, unsigned lineno, const char *what) __attribute__((noreturn));
static void bad_line(const char *log, unsigned lineno, const char *what)
{
    fail(EXIT_USAGE, "%s:%u: manifest line %s", log, lineno, what);
}

static void parse_begin(struct manifests *all, const char *text, const char *log, unsigned lineno)
{
    char id[40];
    uint64_t block = 0;

    if (all->n == all->cap) {
        all->cap = all->cap ? 2 * all->cap : 4;
        all->m = realloc(all->m, all->cap * sizeof(*all->m));
        if (!all->m)
            fail(EXIT_USAGE, "out of memory");
    }
    struct manifest *m = &all->m[all->n++];
    memset(m, 0, sizeof(*m));
    m->line = lineno;
    if (!field(text, "device", m->device, sizeof(m->device)) ||
        !field(text, "identity", id, sizeof(id)) || !parse_hex16(id, m->identity) ||
        !field_u64(text, "block", &block) || block < 512 || block % 512 ||
        !field_u64(text, "blocks", &m->blocks) || !field_u64(text, "seed", &m->seed))
        bad_line(log, lineno, "'begin' needs device=, identity=<32 hex>, block=, blocks=, seed=");
    m->block = (uint32_t)block;
    field(text, "serial", m->serial, sizeof(m->serial));
}

static void parse_range(struct manifest *m, enum range_kind kind, const char *text,
                        const char *log, unsigned lineno)
{
    struct range r = { kind, 0, 0, 0 };
    if (!m || m->ended)
        bad_line(log, lineno, "outside a begin..end block");
    if (!field_u64(text, "lba", &r.lba) || !field_u64(text, "count", &r.count) || r.count == 0 ||
        (kind == RANGE_STAMPED && !field_u64(text, "gen", &r.gen)))
        bad_line(log, lineno, kind == RANGE_STAMPED ? "'stamped' needs lba=, count=, gen="
                                                    : "'zero' needs lba=, count=");
    if (m->nranges == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->ranges = realloc(m->ranges, m->cap * sizeof(*m->ranges));
        if (!m->ranges)
            fail(EXIT_USAGE, "out of memory");
    }
    m->ranges[m->nranges++] = r;
}

static void parse_log(const char *log, struct manifests *all)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    unsigned lineno = 0;
    struct manifest *cur = NULL;

    if (!f)
        fail(EXIT_USAGE, "%s: %s", log, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        const char *tag = strstr(line, MANIFEST_TAG);
        if (!tag)
            continue;
        const char *text = tag + strlen(MANIFEST_TAG);
        if (!strncmp(text, "begin ", 6)) {
            parse_begin(all, text, log, lineno);
            cur = &all->m[all->n - 1];
        } else if (!strncmp(text, "stamped ", 8)) {
            parse_range(cur, RANGE_STAMPED, text, log, lineno);
        } else if (!strncmp(text, "zero ", 5)) {
            parse_range(cur, RANGE_ZERO, text, log, lineno);
        } else if (!strncmp(text, "incomplete ", 11)) {
            if (!cur || cur->ended)
                bad_line(log, lineno, "'incomplete' outside a begin..end block");
            cur->incomplete = true;
        } else if (!strncmp(text, "end ", 4) || !strncmp(text, "end\n", 4)) {
            if (!cur || cur->ended)
                bad_line(log, lineno, "'end' without 'begin'");
            if (!field_u64(text, "ranges", &cur->end_ranges))
                bad_line(log, lineno, "'end' needs ranges=");
            cur->ended = true;
        }
    }
    fclose(f);
}

/* The last manifest for --device NAME, else the last one whose identity is
 * the image's. */
static struct manifest *choose(struct manifests *all, const struct image *im, const char *device,
                               const char *log)
{
    struct manifest *found = NULL;
    char want[40];

    for (size_t i = 0; i < all->n; i++) {
        struct manifest *m = &all->m[i];
        if (device ? !strcmp(m->device, device)
                   : im->has_identity && !memcmp(m->identity, im->identity, 16))
            found = m;
    }
    if (found)
        return found;
    if (device)
        fail(EXIT_MISMATCH, "%s has no manifest for device %s (%zu manifest%s)", log, device,
             all->n, all->n == 1 ? "" : "s");
    if (!im->has_identity)
        fail(EXIT_USAGE, "%s has no scratch label or bareio GPT partition to identify it: name "
             "the device with --device", im->path);
    hex16(want, im->identity);
    fail(EXIT_MISMATCH, "%s has no manifest with identity %s (the %s of %s): the run never "
         "wrote this image, or did not finish", log, want, im->identity_from, im->path);
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
        printf("%s: %s: lba %llu", prog, t->m->device, (unsigned long long)t->g.first);
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

static void check_range(struct tally *t, const struct image *im, const struct range *r)
{
    const struct manifest *m = t->m;
    const uint64_t chunk_blocks = (1u << 20) / m->block;
    uint8_t *buf = malloc(chunk_blocks * m->block);
    struct stamp_key key;

    if (!buf)
        fail(EXIT_USAGE, "out of memory");
    memcpy(key.identity, m->identity, 16);
    key.seed = m->seed;
    key.gen = r->gen;
    for (uint64_t done = 0; done < r->count;) {
        uint64_t lba = r->lba + done, n = r->count - done;
        if (n > chunk_blocks)
            n = chunk_blocks;
        uint64_t in_image = im->bytes / m->block;
        if (lba < in_image && lba + n > in_image)
            n = in_image - lba;             /* check what is there, then report the rest */
        if (lba >= in_image) {
            char detail[160];
            snprintf(detail, sizeof(detail), "beyond the end of %s (%llu bytes)", im->path,
                     (unsigned long long)im->bytes);
            for (uint64_t i = 0; i < r->count - done; i++)
                block_bad(t, lba + i, "missing", detail);
            break;
        }
        image_read(im, buf, n * m->block, lba * m->block);
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *b = buf + i * m->block;
            struct stamp_result res;
            char detail[200];
            if (r->kind == RANGE_ZERO) {
                check_zero_block(t, b, lba + i);
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

static int verify(const char *log, const char *path, const char *device)
{
    struct manifests all = { NULL, 0, 0 };
    struct image im;
    struct tally t;
    uint64_t blocks = 0;
    char a[40], b[40];

    image_open(&im, path, false);
    parse_log(log, &all);
    struct manifest *m = choose(&all, &im, device, log);
    memset(&t, 0, sizeof(t));
    t.m = m;

    if (!m->ended) {
        printf("%s: %s: the manifest (line %u) has no end line: the run did not finish\n", prog,
               m->device, m->line);
        return EXIT_MISMATCH;
    }
    if (m->incomplete) {
        printf("%s: %s: the manifest is incomplete (the kernel's extent map overflowed): "
               "what the run wrote cannot be proven\n", prog, m->device);
        return EXIT_MISMATCH;
    }
    if (m->end_ranges != m->nranges) {
        printf("%s: %s: the manifest lists %zu ranges, its end line says %llu\n", prog, m->device,
               m->nranges, (unsigned long long)m->end_ranges);
        return EXIT_MISMATCH;
    }
    if (im.has_identity && memcmp(im.identity, m->identity, 16) != 0) {
        hex16(a, im.identity);
        hex16(b, m->identity);
        printf("%s: %s: wrong image: %s's %s identity %s is not the manifest's %s\n", prog,
               m->device, path, im.identity_from, a, b);
        return EXIT_MISMATCH;
    }
    if (m->blocks * m->block != im.bytes)
        fprintf(stderr, "%s: warning: %s is %llu bytes, %s had %llu blocks of %u\n", prog, path,
                (unsigned long long)im.bytes, m->device, (unsigned long long)m->blocks, m->block);
    for (size_t i = 0; i < m->nranges; i++) {
        check_range(&t, &im, &m->ranges[i]);
        blocks += m->ranges[i].count;
    }
    if (t.groups > t.groups_shown)
        printf("%s: %s: ... %llu more groups of bad blocks not shown\n", prog, m->device,
               (unsigned long long)(t.groups - t.groups_shown));
    if (t.bad_blocks) {
        printf("%s: %s: %llu of %llu blocks bad in %zu ranges\n", prog, m->device,
               (unsigned long long)t.bad_blocks, (unsigned long long)blocks, m->nranges);
        return EXIT_MISMATCH;
    }
    printf("%s: %s: %zu ranges, %llu blocks OK\n", prog, m->device, m->nranges,
           (unsigned long long)blocks);
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

/* What the kernel's rule (drivers/blk/access.h) decides for IMAGE as a
 * device of block_size-byte blocks, from its first BLK_ACCESS_SPAN bytes. */
static void image_access(const struct image *im, uint32_t block_size, bool allow_write,
                         struct blk_access *a)
{
    static uint8_t head[BLK_ACCESS_SPAN];
    size_t len = im->bytes < sizeof(head) ? (size_t)im->bytes : sizeof(head);

    image_read(im, head, len, 0);
    blk_access_rule(block_size, im->bytes / block_size, head, len, allow_write, NULL, a);
}

/* Writes only what the kernel itself would write on this image: a disk the
 * rule keeps read-only is refused (exit 1), a range that is not inside its
 * scratch blocks [write_first, write_end) is a usage error; every check is
 * made before the first write, in blocks, so nothing wraps. */
static int seed(const struct seed_args *s)
{
    struct image im;
    struct blk_access a;
    struct stamp_key key;
    uint32_t bs = (uint32_t)s->block_size;
    char id[40];

    image_open(&im, s->image, true);
    image_access(&im, bs, s->allow_write, &a);
    if (!a.writable)
        fail(EXIT_MISMATCH, "%s is not scratch by bareio's rule (%s): nothing written%s", s->image,
             a.reason, s->allow_write ? "" : " (--allow-write stands for the kernel's allow_write=)");
    if (s->have[4])
        memcpy(key.identity, s->identity, 16);
    else if (a.has_identity)
        memcpy(key.identity, a.identity, 16);
    else
        fail(EXIT_USAGE, "%s has no scratch label or bareio GPT partition: give --identity HEX "
             "(the kernel's identity for the device)", s->image);
    if (s->lba < a.write_first || s->lba >= a.write_end || s->count > a.write_end - s->lba)
        fail(EXIT_USAGE, "lba %llu count %llu is outside %s's scratch range, blocks %llu..%llu of "
             "%u bytes (%s): nothing written", (unsigned long long)s->lba,
             (unsigned long long)s->count, s->image, (unsigned long long)a.write_first,
             (unsigned long long)a.write_end - 1, bs, a.reason);
    key.seed = s->seed;
    key.gen = s->gen;
    uint8_t *buf = malloc(bs);
    if (!buf)
        fail(EXIT_USAGE, "out of memory");
    for (uint64_t i = 0; i < s->count; i++) {
        stamp_fill(buf, bs, &key, s->lba + i);
        ssize_t n = pwrite(im.fd, buf, bs, (off_t)((s->lba + i) * bs));
        if (n != (ssize_t)bs)
            fail(EXIT_MISMATCH, "%s: writing lba %llu failed: %s", s->image,
                 (unsigned long long)(s->lba + i), n < 0 ? strerror(errno) : "short write");
    }
    free(buf);
    if (fsync(im.fd) != 0)
        fail(EXIT_MISMATCH, "%s: fsync: %s", s->image, strerror(errno));
    close(im.fd);
    hex16(id, key.identity);
    printf("%s: %s: seeded lba %llu..%llu (%llu blocks of %u) seed 0x%llx gen %llu identity %s\n",
           prog, s->image, (unsigned long long)s->lba, (unsigned long long)(s->lba + s->count - 1),
           (unsigned long long)s->count, bs, (unsigned long long)s->seed,
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
                fail(EXIT_USAGE, "--seed takes one image (%s and %s)", s.image, a);
            s.image = a;
            continue;
        }
        if (!v)
            fail(EXIT_USAGE, "%s needs a value", a);
        for (k = 0; k < 5 && strcmp(a, names[k]); k++)
            ;
        if (k == 4) {
            if (!parse_hex16(v, s.identity))
                fail(EXIT_USAGE, "--identity %s: not 32 hex digits", v);
        } else if (k < 4) {
            if (!parse_u64(v, dst[k]))
                fail(EXIT_USAGE, "%s '%s': not a number (decimal without leading zeros, or 0x "
                     "hex, at most 2^64-1)", a, v);
        } else if (!strcmp(a, "--block-size")) {
            if (!parse_u64(v, &s.block_size) || s.block_size < 512 || s.block_size > 65536 ||
                (s.block_size & (s.block_size - 1)))
                fail(EXIT_USAGE, "--block-size %s: a power of two, 512..65536", v);
            k = -1;
        } else {
            fail(EXIT_USAGE, "unknown option %s (see --help)", a);
        }
        if (k >= 0)
            s.have[k] = true;
        i++;
    }
    if (!s.image)
        fail(EXIT_USAGE, "--seed needs an IMAGE");
    for (int k = 0; k < 4; k++)
        if (!s.have[k])
            fail(EXIT_USAGE, "--seed needs %s", names[k]);
    if (s.count == 0 || s.count > (1u << 24))
        fail(EXIT_USAGE, "--count %llu: 1..16777216 blocks", (unsigned long long)s.count);
    return seed(&s);
}

int main(int argc, char **argv)
{
    const char *positional[2] = { NULL, NULL }, *device = NULL;
    int npos = 0;

    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        usage();
    if (argc > 1 && !strcmp(argv[1], "--seed"))
        return seed_main(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device")) {
            if (i + 1 >= argc)
                fail(EXIT_USAGE, "--device needs a name");
            device = argv[++i];
        } else if (argv[i][0] == '-') {
            fail(EXIT_USAGE, "unknown option %s (see --help)", argv[i]);
        } else if (npos < 2) {
            positional[npos++] = argv[i];
        } else {
            usage();
        }
    }
    if (npos != 2)
        usage();
    return verify(positional[0], positional[1], device);
}
