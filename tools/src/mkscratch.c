/* SPDX-License-Identifier: MIT */
/* tools/src/mkscratch.c — make a disk image or block device a bareio scratch
 * target: write the scratch label (lib/scratch.h) into its first 512 bytes,
 * or with --gpt a GPT whose one partition has bareio's type GUID (lib/gpt.h).
 *
 *   mkscratch TARGET [--force] [--data-offset BYTES] [--size BYTES] [--new-uuid]
 *   mkscratch --gpt TARGET [--force] [--block-size 512|4096] [--new-uuid]
 *
 * Safety: a target whose first sectors show a partition table, a file system,
 * LVM, swap, LUKS or an ISO 9660 image (lib/disksig.h, every signature named)
 * is refused unless --force, and so is a GPT with any partition that is not
 * bareio's, and a file system (volume, table) at the start of a scratch range
 * — the one a label or bareio partition already opens, or the one about to be
 * opened — where the kernel's rule looks and would keep the disk read-only
 * (drivers/blk/access.h); a mounted block device (or one with a mounted
 * partition, or one the kernel holds open exclusively) is refused even with
 * --force. What is bareio's own may be remade without --force: a scratch label
 * (it keeps its UUID and data range unless told otherwise) that nothing has
 * been written beside, and a GPT holding bareio partitions only, with no GPT
 * header at another block size that is not such a GPT's (--gpt keeps the first
 * one's unique GUID; a label replaces the GPT). Whenever the target showed a
 * signature (--force, or a bareio GPT turned into a label) the first 72 KiB
 * and the backup GPT header are zeroed with the write, and with --force so are
 * the first 72 KiB of each scratch range start that showed one, so what is
 * left is a clean scratch disk, not a label beside (or over) an old file
 * system, which the kernel keeps read-only. A target too small for the label
 * and one 4 KiB block of data is refused. Exit: 0 written, 1 refused (in use,
 * too small) or failed, 2 usage (including a data range that does not fit).
 *
 * Test-only options make the label reproducible: --uuid HEX, --created SECONDS,
 * --note TEXT. Built with lib/ (tests/host/rename.h renames lib's string
 * functions, so libc keeps its own). */
#define _GNU_SOURCE
#include "drivers/blk/access.h"
#include "lib/cmdline.h"
#include "lib/disksig.h"
#include "lib/gpt.h"
#include "lib/scratch.h"
#include "tools/src/toolkit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define MAX_SIGNATURES 16
#define MIN_DATA 4096u          /* the least data a label may open: one 4 KiB block */

struct options {
    const char *target;
    bool force, new_uuid, gpt;
    bool have_offset, have_size, have_uuid, have_created;
    uint64_t data_offset, data_size, created, block_size;
    uint8_t uuid[16];
    const char *note;
};

struct target {
    const char *path;
    int fd;
    bool is_block_device;
    dev_t rdev;
    uint64_t bytes;
    uint8_t head[DISKSIG_SPAN];
    size_t head_len;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: mkscratch TARGET [--force] [--data-offset BYTES] [--size BYTES] [--new-uuid]\n"
            "                        [--note TEXT] [--uuid HEX] [--created SECONDS]\n"
            "       mkscratch --gpt TARGET [--force] [--block-size 512|4096] [--new-uuid]\n"
            "Writes the bareio scratch label (or a GPT with one bareio partition) so the\n"
            "harness may write TARGET. Refuses a target that looks in use (any partition\n"
            "table, file system, ..., or a GPT partition that is not bareio's) unless\n"
            "--force, which erases what is there; never writes a mounted block device.\n"
            "BYTES: decimal or 0x hex, optional K/M/G suffix; offset and size multiples\n"
            "of 4096. Exit: 0 written, 1 refused or failed, 2 usage.\n");
    exit(EXIT_USAGE);
}

/* Byte counts: decimal or 0x hex with an optional K/M/G suffix (powers of
 * 1024), the kernel command line's number syntax (lib/cmdline.h): no sign,
 * no blanks, nothing that does not fit 64 bits. A leading 0 is refused rather
 * than read as decimal: strtoull would have read it as octal, and a person
 * who wrote 010000 meant one of the two. */
static uint64_t parse_bytes(const char *opt, const char *text)
{
    uint64_t v;
    size_t len = strlen(text);
    bool octal_looking = len > 1 && text[0] == '0' && text[1] >= '0' && text[1] <= '9';

    if (octal_looking || cmdline_parse_number(text, len, &v) != CMDLINE_NUMBER_OK)
        tool_fail(EXIT_USAGE, "%s '%s': not a byte count (decimal without leading zeros, 0x hex, "
                  "K/M/G suffix, at most 2^64-1)", opt, text);
    return v;
}

static void parse_uuid(const char *text, uint8_t out[16])
{
    if (!tool_parse_hex16(text, out))
        tool_fail(EXIT_USAGE, "--uuid %s: not 32 hex digits", text);
}

static void format_uuid(char *buf, const uint8_t u[16])
{
    char *o = buf;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        o += sprintf(o, "%02x", u[i]);
    }
}

static bool is_value_option(const char *a)
{
    static const char *const names[] = { "--data-offset", "--size", "--block-size", "--uuid",
                                         "--created", "--note" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(a, names[i]))
            return true;
    return false;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->block_size = 512;
    o->note = "made by tools/mkscratch";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--force")) o->force = true, takes = false;
        else if (!strcmp(a, "--new-uuid")) o->new_uuid = true, takes = false;
        else if (!strcmp(a, "--gpt")) o->gpt = true, takes = false;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
        else if (a[0] != '-') {
            if (o->target)
                tool_fail(EXIT_USAGE, "one target only (%s and %s)", o->target, a);
            o->target = a, takes = false;
        } else if (!is_value_option(a)) tool_fail(EXIT_USAGE, "unknown option %s (see --help)", a);
        else if (!val) tool_fail(EXIT_USAGE, "%s needs a value", a);
        else if (!strcmp(a, "--data-offset"))
            o->data_offset = parse_bytes(a, val), o->have_offset = true;
        else if (!strcmp(a, "--size")) o->data_size = parse_bytes(a, val), o->have_size = true;
        else if (!strcmp(a, "--block-size")) o->block_size = parse_bytes(a, val);
        else if (!strcmp(a, "--uuid")) parse_uuid(val, o->uuid), o->have_uuid = true;
        else if (!strcmp(a, "--created")) o->created = parse_bytes(a, val), o->have_created = true;
        else o->note = val;                             /* --note */
        if (takes)
            i++;
    }
    if (!o->target)
        usage();
    if (strlen(o->note) > 64)
        tool_fail(EXIT_USAGE, "--note: at most 64 characters");
    if (o->gpt && (o->have_offset || o->have_size))
        tool_fail(EXIT_USAGE,
                  "--gpt makes one partition over the whole disk: no --data-offset/--size");
    if (o->block_size != 512 && o->block_size != 4096)
        tool_fail(EXIT_USAGE, "--block-size %llu: 512 or 4096", (unsigned long long)o->block_size);
}

/* ---- is the target in use by the running system? ---- */

/* True when a file system on device `dev` is mounted (/proc/self/mountinfo,
 * field 3 is the st_dev of the mount's source). */
static bool dev_mounted(dev_t dev, char *where, size_t size)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    bool found = false;

    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned maj, min;
        char mnt[1024];
        if (sscanf(line, "%*u %*u %u:%u %*s %1023s", &maj, &min, mnt) == 3 &&
            makedev(maj, min) == dev) {
            snprintf(where, size, "%s", mnt);
            found = true;
        }
    }
    fclose(f);
    return found;
}

static bool read_dev_file(const char *path, dev_t *out)
{
    FILE *f = fopen(path, "r");
    unsigned maj, min;
    bool ok = f && fscanf(f, "%u:%u", &maj, &min) == 2;
    if (f)
        fclose(f);
    if (ok)
        *out = makedev(maj, min);
    return ok;
}

/* True when a swap area in /proc/swaps is this device. */
static bool dev_swapping(dev_t dev)
{
    FILE *f = fopen("/proc/swaps", "r");
    char name[1024], rest[256];
    struct stat st;
    bool found = false;

    if (!f)
        return false;
    if (!fgets(rest, sizeof(rest), f)) {    /* the header line */
        fclose(f);
        return false;
    }
    while (!found && fscanf(f, "%1023s %255[^\n]", name, rest) == 2)
        found = stat(name, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev;
    fclose(f);
    return found;
}

/* The device itself or any of its partitions mounted or used as swap, or held
 * by another driver (device mapper, md): sysfs lists a disk's partitions as
 * subdirectories of /sys/dev/block/M:m with a "partition" file. */
static void refuse_if_mounted(const struct options *o, const struct target *t)
{
    char where[1024], dir[128], path[512];
    DIR *d;
    struct dirent *e;

    if (dev_mounted(t->rdev, where, sizeof(where)))
        tool_fail(EXIT_REFUSED, "%s is mounted on %s: refusing even with --force", o->target,
                  where);
    if (dev_swapping(t->rdev))
        tool_fail(EXIT_REFUSED, "%s is in use as swap: refusing even with --force", o->target);
    snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(t->rdev), minor(t->rdev));
    d = opendir(dir);
    if (!d)
        return;
    while ((e = readdir(d))) {
        dev_t part;
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/partition", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/dev", dir, e->d_name);
        if (read_dev_file(path, &part) && (dev_mounted(part, where, sizeof(where)) || dev_swapping(part))) {
            closedir(d);
            tool_fail(EXIT_REFUSED, "%s: its partition %s is mounted on %s or used as swap: "
                      "refusing even with --force", o->target, e->d_name, where);
        }
    }
    closedir(d);
}

/* ---- reading the target ---- */

static void open_target(const struct options *o, struct target *t)
{
    struct stat st;
    ssize_t n;

    memset(t, 0, sizeof(*t));
    if (stat(o->target, &st) != 0)
        tool_fail(EXIT_REFUSED, "%s: %s%s", o->target, strerror(errno),
                  errno == ENOENT ? " (make an image first, e.g. truncate -s 64M IMAGE)" : "");
    t->is_block_device = S_ISBLK(st.st_mode);
    if (!t->is_block_device && !S_ISREG(st.st_mode))
        tool_fail(EXIT_REFUSED, "%s: neither a regular file nor a block device", o->target);
    if (t->is_block_device) {
        t->rdev = st.st_rdev;
        refuse_if_mounted(o, t);
    }
    /* O_EXCL on a block device fails with EBUSY while the kernel uses it
     * (mounted, swap, device mapper): the last word on "in use". */
    t->path = o->target;
    t->fd = open(o->target, O_RDWR | (t->is_block_device ? O_EXCL : 0));
    if (t->fd < 0)
        tool_fail(EXIT_REFUSED, "%s: %s%s", o->target, strerror(errno),
                  errno == EBUSY ? " (in use by the running system: refusing even with --force)"
                                 : "");
    if (t->is_block_device) {
        uint64_t bytes = 0;
        if (ioctl(t->fd, BLKGETSIZE64, &bytes) != 0)
            tool_fail(EXIT_REFUSED, "%s: cannot get its size: %s", o->target, strerror(errno));
        t->bytes = bytes;
    } else {
        t->bytes = (uint64_t)st.st_size;
    }
    size_t want = t->bytes < DISKSIG_SPAN ? (size_t)t->bytes : DISKSIG_SPAN;
    n = pread(t->fd, t->head, want, 0);
    if (n < 0 || (size_t)n != want)
        tool_fail(EXIT_REFUSED, "%s: reading the first %zu bytes failed: %s", o->target, want,
                  n < 0 ? strerror(errno) : "short read");
    t->head_len = want;
}

static void write_at(const struct options *o, const struct target *t, const void *buf, size_t len,
                     uint64_t offset)
{
    ssize_t n = pwrite(t->fd, buf, len, (off_t)offset);
    if (n < 0 || (size_t)n != len)
        tool_fail(EXIT_REFUSED, "%s: writing %zu bytes at %llu failed: %s", o->target, len,
                  (unsigned long long)offset, n < 0 ? strerror(errno) : "short write");
}

static void finish(const struct options *o, const struct target *t)
{
    if (fsync(t->fd) != 0)
        tool_fail(EXIT_REFUSED, "%s: fsync failed: %s", o->target, strerror(errno));
    close(t->fd);
}

/* ---- the decision ---- */

/* What the target's first bytes show, and how much of it is bareio's own. */
struct survey {
    enum scratch_status label_status;
    struct scratch_label label;         /* when label_status is SCRATCH_OK */
    unsigned nsigs;                     /* every signature found (sigs holds the first few) */
    struct disksig sigs[MAX_SIGNATURES];
    unsigned gpts, gpts_ours;           /* GPT headers (parsed or not); GPTs of bareio's only */
    uint64_t gpt_at[DISKSIG_GPT_BLOCK_SIZES];   /* where each header is */
    unsigned nbackups;
    struct {
        uint64_t offset;                /* byte offset of a parsed header's backup */
        uint32_t block_size;
    } gpt_backup[DISKSIG_GPT_BLOCK_SIZES];
    bool have_bareio_part;
    struct gpt_partition bareio_part;   /* the first bareio partition of a GPT that is ours */
    uint32_t bareio_part_block_size;
    struct disksig inside;              /* the first sign of use where a scratch range starts */
    uint64_t inside_at;                 /* its byte offset on the target */
    unsigned nused;                     /* range starts that showed one, for --force to erase */
    uint64_t used_starts[2 * DISKSIG_GPT_BLOCK_SIZES];
    char others[768];                   /* partitions that are not bareio's, for the refusal */
};

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    if (n + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
}

/* Names each used entry that is not bareio's ("partition 2 "home" (type
 * 0fc63daf-..., LBA 16384..65502)") and returns how many there are. */
static unsigned list_other_partitions(const struct gpt_header *h, const uint8_t *entries,
                                      struct survey *s)
{
    struct gpt_partition p;
    unsigned others = 0;
    char type[40];

    for (unsigned i = 0; gpt_next_partition(h, entries, i, &p) == GPT_OK; i = p.index + 1) {
        if (!memcmp(p.type_guid, gpt_type_bareio, 16))
            continue;
        gpt_guid_format(type, p.type_guid);
        append(s->others, sizeof(s->others), "%spartition %u \"%s\" (type %s, LBA %llu..%llu)",
               others ? ", " : "", p.index + 1, p.name, type, (unsigned long long)p.first_lba,
               (unsigned long long)p.last_lba);
        others++;
    }
    return others;
}

/* The GPT whose header is at LBA 1 for block size bs, if any. Every header
 * counts, whether it parses or not: the kernel's rule keeps a disk with GPT
 * headers at two block sizes read-only. It is ours when its header and entry
 * array check out (the array inside what was read), its first bareio
 * partition is valid (inside the usable LBAs, overlapping nothing) and no
 * used entry is of another type. */
static void survey_gpt(const struct target *t, uint32_t bs, struct survey *s)
{
    struct gpt_header h;
    struct gpt_partition p;

    if (!disksig_gpt_header_at(t->head, t->head_len, bs))
        return;
    s->gpt_at[s->gpts++] = bs;
    const uint8_t *entries;
    enum gpt_status st = gpt_locate(t->head, t->head_len, bs, t->bytes / bs, &h, &entries);
    if (st != GPT_OK && st != GPT_ENTRIES_UNREAD)
        return;
    s->gpt_backup[s->nbackups].offset = h.alternate_lba * bs;
    s->gpt_backup[s->nbackups++].block_size = bs;
    if (st != GPT_OK)
        return;
    st = gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p);
    if (st == GPT_BAD_ENTRIES_CRC)
        return;
    if (list_other_partitions(&h, entries, s) || st != GPT_OK)
        return;
    s->gpts_ours++;
    if (!s->have_bareio_part) {
        s->bareio_part = p;
        s->bareio_part_block_size = bs;
        s->have_bareio_part = true;
    }
}

/* The bytes the kernel's rule looks at where a scratch range starts
 * (drivers/blk/access.h, blk_access_check_data): a file system made there
 * after the disk was marked makes it read-only, so it is a sign of use. */
static size_t range_head_len(const struct target *t, uint64_t start)
{
    return t->bytes - start < BLK_ACCESS_SPAN ? (size_t)(t->bytes - start) : BLK_ACCESS_SPAN;
}

static void survey_range_start(const struct target *t, uint64_t start, struct survey *s)
{
    static uint8_t buf[BLK_ACCESS_SPAN];
    if (!start || start >= t->bytes)
        return;
    size_t want = range_head_len(t, start);
    ssize_t n = pread(t->fd, buf, want, (off_t)start);
    if (n < 0 || (size_t)n != want)
        tool_fail(EXIT_REFUSED, "%s: reading %zu bytes at %llu failed: %s", t->path, want,
                  (unsigned long long)start, n < 0 ? strerror(errno) : "short read");
    struct disksig sig = blk_access_data_signature(buf, want);
    if (sig.kind == DISKSIG_NONE)
        return;
    if (s->inside.kind == DISKSIG_NONE) {
        s->inside = sig;
        s->inside_at = start + sig.offset;
    }
    if (s->nused < sizeof(s->used_starts) / sizeof(s->used_starts[0]))
        s->used_starts[s->nused++] = start;
}

/* A label's range starts at the first whole block at or after data_offset,
 * for whichever block size the device has (512 B..64 KiB), as the rule
 * rounds it; a GPT partition at its first LBA. */
static void survey_label_range(const struct target *t, uint64_t data_offset, struct survey *s)
{
    uint64_t last = 0;
    for (unsigned k = 0; k < DISKSIG_GPT_BLOCK_SIZES; k++) {
        uint64_t bs = 512u << k;
        if (data_offset > UINT64_MAX - bs)
            break;
        uint64_t start = (data_offset + bs - 1) / bs * bs;
        if (start != last)
            survey_range_start(t, start, s);
        last = start;
    }
}

static void survey_target(const struct target *t, struct survey *s)
{
    memset(s, 0, sizeof(*s));
    s->label_status = t->head_len >= SCRATCH_LABEL_SIZE
                          ? scratch_label_parse(t->head, t->bytes, &s->label) : SCRATCH_NO_LABEL;
    s->nsigs = disksig_probe_all(t->head, t->head_len, s->sigs, MAX_SIGNATURES);
    for (unsigned k = 0; k < DISKSIG_GPT_BLOCK_SIZES; k++)
        survey_gpt(t, 512u << k, s);
    if (s->label_status == SCRATCH_OK)
        survey_label_range(t, s->label.data_offset, s);
    else if (s->have_bareio_part)
        survey_range_start(t, s->bareio_part.first_lba * s->bareio_part_block_size, s);
}

/* A signature that needs no word of its own: a GPT of bareio's own, and a
 * protective MBR beside any GPT (it is the GPT's; a hybrid MBR describes
 * partitions of its own and is named). */
static bool explained_by_gpt(const struct target *t, const struct survey *s,
                             const struct disksig *sig)
{
    if (!s->gpts)
        return false;
    if (sig->kind == DISKSIG_MBR)
        return disksig_mbr_protective(t->head, t->head_len);
    return sig->kind == DISKSIG_GPT && s->gpts_ours == s->gpts;
}

/* "an ext2/3/4 file system (signature at byte 1080), Linux swap (...)" for
 * every signature explained_by_gpt() leaves; returns how many. */
static unsigned describe_in_use(const struct target *t, const struct survey *s, char *buf,
                                size_t size)
{
    unsigned n = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < s->nsigs && i < MAX_SIGNATURES; i++) {
        if (explained_by_gpt(t, s, &s->sigs[i]))
            continue;
        append(buf, size, "%s%s (signature at byte %llu)", n ? ", " : "",
               disksig_name(s->sigs[i].kind), (unsigned long long)s->sigs[i].offset);
        if (s->sigs[i].kind == DISKSIG_GPT && s->others[0])
            append(buf, size, " with partitions that are not bareio's: %s", s->others);
        if (s->sigs[i].kind == DISKSIG_GPT && s->gpts > 1) {
            append(buf, size, ", one of %u GPT headers (at bytes", s->gpts);
            for (unsigned g = 0; g < s->gpts; g++)
                append(buf, size, "%s %llu", g ? "," : "", (unsigned long long)s->gpt_at[g]);
            append(buf, size, ": the kernel keeps a disk with more than one read-only)");
        }
        n++;
    }
    if (s->nsigs > MAX_SIGNATURES)
        append(buf, size, " and %u more signatures", s->nsigs - MAX_SIGNATURES);
    if (s->inside.kind != DISKSIG_NONE) {
        append(buf, size, "%s%s inside its scratch range (signature at byte %llu)", n ? ", " : "",
               disksig_name(s->inside.kind), (unsigned long long)s->inside_at);
        n++;
    }
    return n;
}

/* Refuses (exit 1) a target that looks in use, unless --force: a damaged
 * label, or any signature but those of a GPT of ours (beside a label too:
 * the disk was used after it was labelled). */
static void check_in_use(const struct options *o, const struct target *t, const struct survey *s)
{
    char what[1536];

    if (s->label_status != SCRATCH_OK && s->label_status != SCRATCH_NO_LABEL && !o->force)
        tool_fail(EXIT_REFUSED, "%s holds a %s; refusing to overwrite it without --force",
                  o->target, scratch_status_name(s->label_status));
    if (!describe_in_use(t, s, what, sizeof(what)))
        return;
    if (!o->force)
        tool_fail(EXIT_REFUSED, "%s holds %s%s: it looks in use. Refusing to make it scratch; "
                  "--force overwrites it and destroys what is there", o->target,
                  s->label_status == SCRATCH_OK ? "a scratch label beside " : "", what);
    fprintf(stderr, "%s: %s held %s; overwriting it as told (--force)\n", tool_name, o->target,
            what);
}

static void new_uuid(uint8_t u[16])
{
    if (getrandom(u, 16, 0) != 16)
        tool_fail(EXIT_REFUSED, "no random bytes for the UUID: %s", strerror(errno));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);     /* RFC 9562 version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);     /* variant 10 */
}

/* ---- writing ---- */

/* Zeroes each backup GPT header the survey found (the primary goes with the
 * first 72 KiB): a stale backup is what partitioning tools "repair" a GPT
 * from. Only a block that still reads "EFI PART" is touched. */
static void wipe_backup_headers(const struct options *o, const struct target *t,
                                const struct survey *s)
{
    static const uint8_t zero[65536];
    for (unsigned i = 0; i < s->nbackups; i++) {
        char sig[8];
        uint64_t at = s->gpt_backup[i].offset;
        if (pread(t->fd, sig, sizeof(sig), (off_t)at) == (ssize_t)sizeof(sig) &&
            !memcmp(sig, "EFI PART", 8))
            write_at(o, t, zero, s->gpt_backup[i].block_size, at);
    }
}

/* Zeroes what the rule would look at where each range start that showed a
 * sign of use begins (--force: the file system made in the scratch range
 * goes too, or the disk would stay read-only). Done before the new tables
 * are written, which a range start below 72 KiB may share blocks with. */
static void wipe_used_range_starts(const struct options *o, const struct target *t,
                                   const struct survey *s)
{
    static const uint8_t zero[BLK_ACCESS_SPAN];
    for (unsigned i = 0; i < s->nused; i++)
        write_at(o, t, zero, range_head_len(t, s->used_starts[i]), s->used_starts[i]);
}

/* The label's data range against the target: offset and size multiples of
 * 4096 (block-aligned for every sector size), offset at least 4096, the range
 * inside the target with at least one 4 KiB block, no sum that wraps. A range
 * the user chose that does not fit is a usage error; a target too small for
 * even the default layout is refused. */
static void check_fit(const struct options *o, const struct target *t, const struct scratch_label *l)
{
    const char *why = NULL;
    uint64_t off = l->data_offset, size = l->data_size, bytes = t->bytes;

    if (off < MIN_DATA || off % 4096 || size % 4096)
        why = "offset and size must be multiples of 4096, offset at least 4096";
    else if (size && (size > bytes || off > bytes - size))
        why = "the range runs past the end of the target";
    else if (!size && (off > bytes || bytes - off < MIN_DATA))
        why = "no 4 KiB block of data between the offset and the end of the target";
    if (!why)
        return;
    if (!o->have_offset && !o->have_size)
        tool_fail(EXIT_REFUSED, "%s is %llu bytes: too small for a scratch label and one 4 KiB "
                  "block of data at byte %llu (at least %llu bytes)", o->target,
                  (unsigned long long)bytes, (unsigned long long)off,
                  (unsigned long long)(off + MIN_DATA));
    tool_fail(EXIT_USAGE, "data range %llu+%llu does not fit %s (%llu bytes): %s",
              (unsigned long long)off, (unsigned long long)size, o->target,
              (unsigned long long)bytes, why);
}

static void write_label(const struct options *o, struct target *t)
{
    struct survey s;
    struct scratch_label l;
    char uuid[40], check[64];

    survey_target(t, &s);
    bool relabel = s.label_status == SCRATCH_OK;
    memset(&l, 0, sizeof(l));
    l.data_offset = o->have_offset ? o->data_offset
                    : relabel ? s.label.data_offset : SCRATCH_DEFAULT_DATA_OFFSET;
    l.data_size = o->have_size ? o->data_size : relabel && !o->have_offset ? s.label.data_size : 0;
    if (o->have_uuid)
        memcpy(l.uuid, o->uuid, 16);
    else if (relabel && !o->new_uuid)
        memcpy(l.uuid, s.label.uuid, 16);
    else
        new_uuid(l.uuid);
    l.created = o->have_created ? o->created : (uint64_t)time(NULL);
    snprintf(l.note, sizeof(l.note), "%s", o->note);
    if (!relabel || l.data_offset != s.label.data_offset)
        survey_label_range(t, l.data_offset, &s);   /* the range the label will open */
    check_in_use(o, t, &s);
    check_fit(o, t, &l);

    /* Whatever showed a signature goes with the label (--force, or a GPT of
     * ours): zeroes up to 72 KiB, the label in front, one write. */
    size_t len = s.nsigs ? t->head_len : SCRATCH_LABEL_SIZE;
    uint8_t *buf = calloc(1, len);
    if (!buf)
        tool_fail(EXIT_REFUSED, "out of memory");
    scratch_label_build(buf, &l);
    struct scratch_label parsed;
    if (scratch_label_parse(buf, t->bytes, &parsed) != SCRATCH_OK)     /* check_fit's promise */
        tool_fail(EXIT_REFUSED, "internal error: the label built does not parse");
    if (s.nsigs)
        wipe_backup_headers(o, t, &s);
    wipe_used_range_starts(o, t, &s);
    write_at(o, t, buf, len, 0);
    free(buf);
    finish(o, t);
    format_uuid(uuid, l.uuid);
    uint64_t end = l.data_size ? l.data_offset + l.data_size : t->bytes;
    snprintf(check, sizeof(check), "%llu..%llu", (unsigned long long)l.data_offset,
             (unsigned long long)end);
    printf("%s: %s: scratch label %s (uuid %s, data bytes %s)\n", tool_name, o->target,
           relabel ? "rewritten" : "written", uuid, check);
}

static void write_gpt(const struct options *o, struct target *t)
{
    struct survey s;
    struct gpt_layout l;
    uint32_t bs = (uint32_t)o->block_size;
    char guid[40];

    survey_target(t, &s);
    memset(&l, 0, sizeof(l));
    l.block_size = bs;
    l.nblocks = t->bytes / bs;
    new_uuid(l.disk_guid);
    /* Remaking a GPT of ours keeps the device's identity, as a relabel does. */
    if (o->have_uuid)
        memcpy(l.part_guid, o->uuid, 16);
    else if (s.have_bareio_part && s.gpts_ours == s.gpts && !o->new_uuid)
        memcpy(l.part_guid, s.bareio_part.unique_guid, 16);
    else
        new_uuid(l.part_guid);
    l.type = gpt_type_bareio;
    l.name = "bareio scratch";

    uint64_t pri_len = gpt_primary_blocks(bs) * bs, bak_len = gpt_backup_blocks(bs) * bs;
    /* The primary tables and the zeroes up to 72 KiB, in one write: the
     * partition starts at 1 MiB, so nothing in it is touched. */
    size_t head_len = t->head_len > pri_len ? t->head_len : pri_len;
    uint8_t *pri = calloc(1, head_len), *bak = malloc(bak_len);
    if (!pri || !bak)
        tool_fail(EXIT_REFUSED, "out of memory");
    if (!gpt_build(&l, pri, bak))
        tool_fail(EXIT_REFUSED, "%s is %llu bytes: too small for a GPT with a 1 MiB-aligned "
                  "partition", o->target, (unsigned long long)t->bytes);
    struct gpt_header h;
    struct gpt_partition part;
    const uint8_t *entries;
    if (gpt_locate(pri, head_len, bs, l.nblocks, &h, &entries) != GPT_OK ||
        gpt_find_partition(&h, entries, gpt_type_bareio, 0, &part) != GPT_OK)
        tool_fail(EXIT_REFUSED, "internal error: the GPT built does not parse");
    uint64_t start = part.first_lba * bs;
    if (!s.have_bareio_part || start != s.bareio_part.first_lba * s.bareio_part_block_size)
        survey_range_start(t, start, &s);           /* the partition it will open */
    check_in_use(o, t, &s);
    wipe_backup_headers(o, t, &s);
    wipe_used_range_starts(o, t, &s);
    write_at(o, t, pri, head_len, 0);
    write_at(o, t, bak, bak_len, (l.nblocks - gpt_backup_blocks(bs)) * bs);
    finish(o, t);
    free(pri);
    free(bak);
    gpt_guid_format(guid, l.part_guid);
    printf("%s: %s: GPT written (%u-byte sectors), one bareio partition, unique GUID %s\n",
           tool_name, o->target, bs, guid);
}

int main(int argc, char **argv)
{
    struct options o;
    static struct target t;

    tool_name = "mkscratch";
    parse_args(argc, argv, &o);
    open_target(&o, &t);
    if (o.gpt)
        write_gpt(&o, &t);
    else
        write_label(&o, &t);
    return 0;
}
