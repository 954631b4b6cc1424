/* tools/src/mkscratch.c — make a disk image or block device a bareio scratch
 * target: write the scratch label (lib/scratch.h) into its first 512 bytes,
 * or with --gpt a GPT whose one partition has bareio's type GUID (lib/gpt.h).
 *
 *   mkscratch TARGET [--force] [--data-offset BYTES] [--size BYTES] [--new-uuid]
 *   mkscratch --gpt TARGET [--force] [--block-size 512|4096]
 *
 * Safety: a target whose first sectors show a partition table, a file system,
 * LVM, swap, LUKS or an ISO 9660 image (lib/disksig.h) is refused unless
 * --force; a mounted block device (or one with a mounted partition, or one the
 * kernel holds open exclusively) is refused even with --force. Re-labelling a
 * bareio scratch label is always allowed and keeps its UUID and data range
 * unless told otherwise. Exit: 0 written, 1 refused or failed, 2 usage.
 *
 * Test-only options make the label reproducible: --uuid HEX, --created SECONDS,
 * --note TEXT. Built with lib/ (tests/host/rename.h renames lib's string
 * functions, so libc keeps its own). */
#define _GNU_SOURCE
#include "lib/disksig.h"
#include "lib/gpt.h"
#include "lib/scratch.h"

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

struct options {
    const char *target;
    bool force, new_uuid, gpt;
    bool have_offset, have_size, have_uuid, have_created;
    uint64_t data_offset, data_size, created;
    uint32_t block_size;
    uint8_t uuid[16];
    const char *note;
};

struct target {
    int fd;
    bool is_block_device;
    dev_t rdev;
    uint64_t bytes;
    uint8_t head[DISKSIG_SPAN];
    size_t head_len;
};

static const char *prog = "mkscratch";

static void usage(void)
{
    fprintf(stderr,
            "usage: mkscratch TARGET [--force] [--data-offset BYTES] [--size BYTES] [--new-uuid]\n"
            "                        [--note TEXT] [--uuid HEX] [--created SECONDS]\n"
            "       mkscratch --gpt TARGET [--force] [--block-size 512|4096]\n"
            "Writes the bareio scratch label (or a GPT with one bareio partition) so the\n"
            "harness may write TARGET. Refuses a target that looks in use unless --force;\n"
            "never writes a mounted block device.\n");
    exit(EXIT_USAGE);
}

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

/* Byte counts: decimal, or with a K/M/G suffix (powers of 1024). */
static uint64_t parse_bytes(const char *opt, const char *text)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    if (errno || end == text || *end || text[0] == '-' || (shift && v >> (64 - shift)))
        fail(EXIT_USAGE, "%s %s: not a byte count (decimal, 0x hex, K/M/G suffix)", opt, text);
    return (uint64_t)v << shift;
}

static void parse_uuid(const char *text, uint8_t out[16])
{
    unsigned n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '-')
            continue;
        int v = (*p >= '0' && *p <= '9') ? *p - '0' : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f'
                ? (*p | 0x20) - 'a' + 10 : -1;
        if (v < 0 || n >= 32)
            fail(EXIT_USAGE, "--uuid %s: not 32 hex digits", text);
        out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
        n++;
    }
    if (n != 32)
        fail(EXIT_USAGE, "--uuid %s: not 32 hex digits", text);
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
                fail(EXIT_USAGE, "one target only (%s and %s)", o->target, a);
            o->target = a, takes = false;
        } else if (!is_value_option(a)) fail(EXIT_USAGE, "unknown option %s (see --help)", a);
        else if (!val) fail(EXIT_USAGE, "%s needs a value", a);
        else if (!strcmp(a, "--data-offset"))
            o->data_offset = parse_bytes(a, val), o->have_offset = true;
        else if (!strcmp(a, "--size")) o->data_size = parse_bytes(a, val), o->have_size = true;
        else if (!strcmp(a, "--block-size")) o->block_size = (uint32_t)parse_bytes(a, val);
        else if (!strcmp(a, "--uuid")) parse_uuid(val, o->uuid), o->have_uuid = true;
        else if (!strcmp(a, "--created")) o->created = parse_bytes(a, val), o->have_created = true;
        else o->note = val;                             /* --note */
        if (takes)
            i++;
    }
    if (!o->target)
        usage();
    if (strlen(o->note) > 64)
        fail(EXIT_USAGE, "--note: at most 64 characters");
    if (o->gpt && (o->have_offset || o->have_size))
        fail(EXIT_USAGE, "--gpt makes one partition over the whole disk: no --data-offset/--size");
    if (o->block_size != 512 && o->block_size != 4096)
        fail(EXIT_USAGE, "--block-size %u: 512 or 4096", o->block_size);
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
        fail(EXIT_REFUSED, "%s is mounted on %s: refusing even with --force", o->target, where);
    if (dev_swapping(t->rdev))
        fail(EXIT_REFUSED, "%s is in use as swap: refusing even with --force", o->target);
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
            fail(EXIT_REFUSED, "%s: its partition %s is mounted on %s or used as swap: refusing "
                 "even with --force", o->target, e->d_name, where);
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
        fail(EXIT_REFUSED, "%s: %s%s", o->target, strerror(errno),
             errno == ENOENT ? " (make an image first, e.g. truncate -s 64M IMAGE)" : "");
    t->is_block_device = S_ISBLK(st.st_mode);
    if (!t->is_block_device && !S_ISREG(st.st_mode))
        fail(EXIT_REFUSED, "%s: neither a regular file nor a block device", o->target);
    if (t->is_block_device) {
        t->rdev = st.st_rdev;
        refuse_if_mounted(o, t);
    }
    /* O_EXCL on a block device fails with EBUSY while the kernel uses it
     * (mounted, swap, device mapper): the last word on "in use". */
    t->fd = open(o->target, O_RDWR | (t->is_block_device ? O_EXCL : 0));
    if (t->fd < 0)
        fail(EXIT_REFUSED, "%s: %s%s", o->target, strerror(errno),
             errno == EBUSY ? " (in use by the running system: refusing even with --force)" : "");
    if (t->is_block_device) {
        uint64_t bytes = 0;
        if (ioctl(t->fd, BLKGETSIZE64, &bytes) != 0)
            fail(EXIT_REFUSED, "%s: cannot get its size: %s", o->target, strerror(errno));
        t->bytes = bytes;
    } else {
        t->bytes = (uint64_t)st.st_size;
    }
    size_t want = t->bytes < DISKSIG_SPAN ? (size_t)t->bytes : DISKSIG_SPAN;
    n = pread(t->fd, t->head, want, 0);
    if (n < 0 || (size_t)n != want)
        fail(EXIT_REFUSED, "%s: reading the first %zu bytes failed: %s", o->target, want,
             n < 0 ? strerror(errno) : "short read");
    t->head_len = want;
}

static void write_at(const struct options *o, const struct target *t, const void *buf, size_t len,
                     uint64_t offset)
{
    ssize_t n = pwrite(t->fd, buf, len, (off_t)offset);
    if (n < 0 || (size_t)n != len)
        fail(EXIT_REFUSED, "%s: writing %zu bytes at %llu failed: %s", o->target, len,
             (unsigned long long)offset, n < 0 ? strerror(errno) : "short write");
}

static void finish(const struct options *o, const struct target *t)
{
    if (fsync(t->fd) != 0)
        fail(EXIT_REFUSED, "%s: fsync failed: %s", o->target, strerror(errno));
    close(t->fd);
}

/* ---- the decision ---- */

/* A GPT whose header and entries check out and that holds a bareio partition:
 * ours to remake. */
static bool is_bareio_gpt(const struct target *t, uint32_t bs)
{
    struct gpt_header h;
    struct gpt_partition p;
    if (t->head_len < 2 * bs || gpt_parse_header(t->head + bs, bs, t->bytes / bs, &h) != GPT_OK ||
        h.entries_lba * bs + gpt_entries_bytes(&h) > t->head_len)
        return false;
    return gpt_find_partition(&h, t->head + h.entries_lba * bs, gpt_type_bareio, 0, &p) == GPT_OK;
}

/* Refuses (exit 1) a target that looks in use, unless --force; returns the
 * existing label's status so a relabel can keep its UUID and range. */
static enum scratch_status check_in_use(const struct options *o, const struct target *t,
                                        struct scratch_label *old)
{
    enum scratch_status st = t->head_len >= SCRATCH_LABEL_SIZE
                                 ? scratch_label_parse(t->head, t->bytes, old) : SCRATCH_NO_LABEL;
    if (st == SCRATCH_OK)
        return st;
    if (st != SCRATCH_NO_LABEL && !o->force)
        fail(EXIT_REFUSED, "%s holds a %s; refusing to overwrite it without --force", o->target,
             scratch_status_name(st));
    if (is_bareio_gpt(t, 512) || is_bareio_gpt(t, 4096))
        return st;
    struct disksig sig = disksig_probe(t->head, t->head_len);
    if (sig.kind != DISKSIG_NONE && !o->force)
        fail(EXIT_REFUSED, "%s holds %s (signature at byte %llu): it looks in use. Refusing to "
             "make it scratch; --force overwrites it and destroys what is there", o->target,
             disksig_name(sig.kind), (unsigned long long)sig.offset);
    if (sig.kind != DISKSIG_NONE)
        fprintf(stderr, "%s: %s held %s; overwriting it as told (--force)\n", prog, o->target,
                disksig_name(sig.kind));
    return st;
}

static void new_uuid(uint8_t u[16])
{
    if (getrandom(u, 16, 0) != 16)
        fail(EXIT_REFUSED, "no random bytes for the UUID: %s", strerror(errno));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);     /* RFC 9562 version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);     /* variant 10 */
}

static void write_label(const struct options *o, struct target *t)
{
    struct scratch_label old, l;
    uint8_t buf[SCRATCH_LABEL_SIZE];
    char uuid[40], check[64];
    bool relabel = check_in_use(o, t, &old) == SCRATCH_OK;

    memset(&l, 0, sizeof(l));
    l.data_offset = o->have_offset ? o->data_offset
                    : relabel ? old.data_offset : SCRATCH_DEFAULT_DATA_OFFSET;
    l.data_size = o->have_size ? o->data_size : relabel && !o->have_offset ? old.data_size : 0;
    if (o->have_uuid)
        memcpy(l.uuid, o->uuid, 16);
    else if (relabel && !o->new_uuid)
        memcpy(l.uuid, old.uuid, 16);
    else
        new_uuid(l.uuid);
    l.created = o->have_created ? o->created : (uint64_t)time(NULL);
    snprintf(l.note, sizeof(l.note), "%s", o->note);

    scratch_label_build(buf, &l);
    /* The label's own check of the range, against this target's size. */
    struct scratch_label parsed;
    enum scratch_status st = scratch_label_parse(buf, t->bytes, &parsed);
    if (st != SCRATCH_OK)
        fail(EXIT_USAGE, "data range %llu+%llu does not fit %s (%llu bytes; offset and size must "
             "be multiples of 4096, offset at least 4096): %s", (unsigned long long)l.data_offset,
             (unsigned long long)l.data_size, o->target, (unsigned long long)t->bytes,
             scratch_status_name(st));
    write_at(o, t, buf, sizeof(buf), 0);
    finish(o, t);
    format_uuid(uuid, l.uuid);
    uint64_t end = l.data_size ? l.data_offset + l.data_size : t->bytes;
    snprintf(check, sizeof(check), "%llu..%llu", (unsigned long long)l.data_offset,
             (unsigned long long)end);
    printf("%s: %s: scratch label %s (uuid %s, data bytes %s)\n", prog, o->target,
           relabel ? "rewritten" : "written", uuid, check);
}

static void write_gpt(const struct options *o, struct target *t)
{
    struct scratch_label old;
    struct gpt_layout l;
    uint32_t bs = o->block_size;
    char guid[40];

    check_in_use(o, t, &old);
    memset(&l, 0, sizeof(l));
    l.block_size = bs;
    l.nblocks = t->bytes / bs;
    new_uuid(l.disk_guid);
    if (o->have_uuid)
        memcpy(l.part_guid, o->uuid, 16);
    else
        new_uuid(l.part_guid);
    l.type = gpt_type_bareio;
    l.name = "bareio scratch";

    uint64_t pri_len = gpt_primary_blocks(bs) * bs, bak_len = gpt_backup_blocks(bs) * bs;
    uint8_t *pri = malloc(pri_len), *bak = malloc(bak_len);
    if (!pri || !bak)
        fail(EXIT_REFUSED, "out of memory");
    if (!gpt_build(&l, pri, bak))
        fail(EXIT_USAGE, "%s: %llu bytes is too small for a GPT with a 1 MiB-aligned partition",
             o->target, (unsigned long long)t->bytes);
    write_at(o, t, pri, pri_len, 0);
    write_at(o, t, bak, bak_len, (l.nblocks - gpt_backup_blocks(bs)) * bs);
    finish(o, t);
    free(pri);
    free(bak);
    gpt_guid_format(guid, l.part_guid);
    printf("%s: %s: GPT written (%u-byte sectors), one bareio partition, unique GUID %s\n", prog,
           o->target, bs, guid);
}

int main(int argc, char **argv)
{
    struct options o;
    static struct target t;

    parse_args(argc, argv, &o);
    open_target(&o, &t);
    if (o.gpt)
        write_gpt(&o, &t);
    else
        write_label(&o, &t);
    return 0;
}
