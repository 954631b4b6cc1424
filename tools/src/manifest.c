/* SPDX-License-Identifier: MIT */
/* tools/src/manifest.c — the manifest parser (grammar and limits in
 * manifest.h). Lines are cut at '\n' whatever their length: a line keeps its
 * first MANIFEST_LINE_MAX bytes and its true length, so an overlong manifest
 * line is refused instead of being cut into two lines the way fgets() with a
 * fixed buffer does (its second half would start with whatever text lay
 * there, a tag among it). Every record is read from the left with one cursor;
 * nothing searches a line for "key=", so text inside a field can never pass
 * for another field. */
#include "tools/src/manifest.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#define TAG_LEN (sizeof(MANIFEST_TAG) - 1)

enum key {
    KEY_DEVICE, KEY_SERIAL, KEY_IDENTITY, KEY_BLOCK, KEY_BLOCKS, KEY_SEED,
    KEY_LBA, KEY_COUNT, KEY_GEN, KEY_RANGES,
    KEY_SYSTEM, KEY_PRODUCT, KEY_VERSION, KEY_UUID, KEY_BOARD, KEY_BOARD_PRODUCT,
    KEY_BOARD_SERIAL, KEY_BIOS, KEY_BIOS_VERSION, KEY_BIOS_DATE, KEY_COUNT_OF_KEYS
};

static const char *const key_names[KEY_COUNT_OF_KEYS] = {
    "device", "serial", "identity", "block", "blocks", "seed", "lba", "count", "gen", "ranges",
    "system", "product", "version", "uuid", "board", "board_product", "board_serial", "bios",
    "bios_version", "bios_date",
};

#define BIT(k) (1u << (k))
/* The keys whose values are quoted text. */
#define QUOTED_KEYS (BIT(KEY_SERIAL) | BIT(KEY_SYSTEM) | BIT(KEY_PRODUCT) | BIT(KEY_VERSION) | \
                     BIT(KEY_BOARD) | BIT(KEY_BOARD_PRODUCT) | BIT(KEY_BOARD_SERIAL) |        \
                     BIT(KEY_BIOS) | BIT(KEY_BIOS_VERSION) | BIT(KEY_BIOS_DATE))
#define MACHINE_KEYS (QUOTED_KEYS | BIT(KEY_UUID))

/* A value as written: bare text, or serial's quoted text with escapes undone. */
struct field {
    bool present;
    const char *text;
    size_t len;
};

struct record {
    const char *name;               /* "begin", ... for messages */
    struct field f[KEY_COUNT_OF_KEYS];
    char quoted[KEY_COUNT_OF_KEYS][MANIFEST_SERIAL_MAX];    /* a quoted key's text, unescaped */
};

static bool fail(struct manifest_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct manifest_log *log, const char *fmt, ...)
{
    va_list ap;

    log->failed = true;
    log->error_line = log->lineno;
    va_start(ap, fmt);
    vsnprintf(log->error, sizeof(log->error), fmt, ap);
    va_end(ap);
    return false;
}

static bool printable(char c)
{
    return c >= 0x20 && c <= 0x7e;
}

/* ---- numbers ---- */

static unsigned digit(char c, unsigned base)
{
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
    return d < base ? d : 99;
}

bool manifest_parse_u64(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    size_t i = 0;
    uint64_t v = 0;

    if (len > 2 && s[0] == '0' && s[1] == 'x') {
        base = 16;
        i = 2;
    } else if (len > 1 && s[0] == '0') {
        return false;               /* "026": octal to strtoull, refused here */
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        unsigned d = digit(s[i], base);
        if (d == 99 || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static bool number(struct manifest_log *log, const struct record *r, enum key k, uint64_t *out)
{
    const struct field *f = &r->f[k];
    if (manifest_parse_u64(f->text, f->len, out))
        return true;
    return fail(log, "%s=%.*s: not a number (decimal without leading zeros, or 0x hex; 64-bit)",
                key_names[k], (int)(f->len > 40 ? 40 : f->len), f->text);
}

/* ---- fields ---- */

/* serial="..." (and machine's text fields): printable ASCII, \" and \\ the
 * only escapes. */
static bool quoted_value(struct manifest_log *log, struct record *r, enum key k, const char *t,
                         size_t len, size_t *pos)
{
    size_t i = *pos, n = 0;
    const char *name = key_names[k];
    char *out = r->quoted[k];

    if (i >= len || t[i] != '"')
        return fail(log, "%s= must be quoted (%s=\"...\")", name, name);
    for (i++; i < len && t[i] != '"'; i++) {
        char c = t[i];
        if (c == '\\') {
            if (i + 1 >= len || (t[i + 1] != '"' && t[i + 1] != '\\'))
                return fail(log, "%s=: bad escape (only \\\" and \\\\)", name);
            c = t[++i];
        } else if (!printable(c)) {
            return fail(log, "%s=: byte 0x%02x is not printable ASCII", name, (unsigned char)c);
        }
        if (n + 1 >= MANIFEST_SERIAL_MAX)
            return fail(log, "%s=: longer than %u characters", name, MANIFEST_SERIAL_MAX - 1);
        out[n++] = c;
    }
    if (i >= len)
        return fail(log, "%s=: no closing quote", name);
    if (i + 1 < len && t[i + 1] != ' ')
        return fail(log, "%s=: text after the closing quote (a quote inside is \\\")", name);
    out[n] = '\0';
    r->f[k].text = out;
    r->f[k].len = n;
    *pos = i + 1;
    return true;
}

/* A bare value: printable, no blank, no quote; it ends at a blank. */
static bool bare_value(struct manifest_log *log, struct record *r, enum key k, const char *t,
                       size_t len, size_t *pos)
{
    size_t i = *pos;

    while (i < len && t[i] != ' ') {
        if (!printable(t[i]) || t[i] == '"')
            return fail(log, "%s=: byte 0x%02x is not allowed in a value", key_names[k],
                        (unsigned char)t[i]);
        i++;
    }
    if (i == *pos)
        return fail(log, "%s=: empty value", key_names[k]);
    r->f[k].text = t + *pos;
    r->f[k].len = i - *pos;
    *pos = i;
    return true;
}

static int key_index(const char *t, size_t len)
{
    for (int k = 0; k < KEY_COUNT_OF_KEYS; k++)
        if (strlen(key_names[k]) == len && memcmp(key_names[k], t, len) == 0)
            return k;
    return -1;
}

/* An incomplete line may end in " (free text)": printable, closed by ')'. */
static bool comment(const char *t, size_t len, size_t pos)
{
    if (len - pos < 3 || t[pos] != ' ' || t[pos + 1] != '(' || t[len - 1] != ')')
        return false;
    for (size_t i = pos; i < len; i++)
        if (!printable(t[i]))
            return false;
    return true;
}

/* " key=value" pairs from t[pos] to the end: only keys in `allowed`, each
 * once; then every key in `allowed` must have been given. */
static bool fields(struct manifest_log *log, struct record *r, const char *t, size_t len,
                   size_t pos, unsigned allowed, bool may_comment)
{
    while (pos < len) {
        if (may_comment && comment(t, len, pos))
            break;
        if (t[pos] != ' ')
            return fail(log, "'%s': byte 0x%02x where one blank before key=value belongs", r->name,
                        (unsigned char)t[pos]);
        size_t k0 = ++pos;
        while (pos < len && ((t[pos] >= 'a' && t[pos] <= 'z') || t[pos] == '_'))
            pos++;
        if (pos == k0 || pos >= len || t[pos] != '=')
            return fail(log, "'%s': expected key=value at '%.*s'", r->name,
                        (int)(len - k0 > 20 ? 20 : len - k0), t + k0);
        int k = key_index(t + k0, pos - k0);
        if (k < 0 || !(allowed & BIT(k)))
            return fail(log, "'%s': unknown key '%.*s='", r->name, (int)(pos - k0 > 20 ? 20 : pos - k0),
                        t + k0);
        if (r->f[k].present)
            return fail(log, "'%s': %s= given twice", r->name, key_names[k]);
        r->f[k].present = true;
        pos++;
        if (!((QUOTED_KEYS & BIT(k)) ? quoted_value(log, r, (enum key)k, t, len, &pos)
                                     : bare_value(log, r, (enum key)k, t, len, &pos)))
            return false;
    }
    for (int k = 0; k < KEY_COUNT_OF_KEYS; k++)
        if ((allowed & BIT(k)) && !r->f[k].present)
            return fail(log, "'%s' needs %s=", r->name, key_names[k]);
    return true;
}

/* ---- records ---- */

static bool device_name(struct manifest_log *log, const struct field *f, char *out)
{
    if (f->len >= MANIFEST_DEVICE_MAX)
        return fail(log, "device=: longer than %u characters", MANIFEST_DEVICE_MAX - 1);
    for (size_t i = 0; i < f->len; i++) {
        char c = f->text[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok)
            return fail(log, "device=%.*s: a name is letters, digits, '_', '-' and '.'",
                        (int)f->len, f->text);
    }
    memcpy(out, f->text, f->len);
    out[f->len] = '\0';
    return true;
}

static bool identity(struct manifest_log *log, const struct field *f, uint8_t out[16])
{
    if (f->len != 32)
        return fail(log, "identity=: 32 hex digits, not %zu characters", f->len);
    for (unsigned i = 0; i < 32; i++) {
        unsigned d = digit(f->text[i], 16);
        if (d == 99)
            return fail(log, "identity=: '%c' is not a hex digit", f->text[i]);
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | d : d << 4);
    }
    return true;
}

static struct manifest *open_manifest(struct manifest_log *log)
{
    return log->is_open ? &log->m[log->open] : NULL;
}

static bool begin(struct manifest_log *log, struct record *r, const char *t, size_t len, size_t pos)
{
    struct manifest m;
    uint64_t block;

    memset(&m, 0, sizeof(m));
    if (!fields(log, r, t, len, pos, BIT(KEY_DEVICE) | BIT(KEY_SERIAL) | BIT(KEY_IDENTITY) |
                BIT(KEY_BLOCK) | BIT(KEY_BLOCKS) | BIT(KEY_SEED), false) ||
        !device_name(log, &r->f[KEY_DEVICE], m.device) ||
        !identity(log, &r->f[KEY_IDENTITY], m.identity) || !number(log, r, KEY_BLOCK, &block) ||
        !number(log, r, KEY_BLOCKS, &m.blocks) || !number(log, r, KEY_SEED, &m.seed))
        return false;
    if (block < MANIFEST_BLOCK_MIN || block > MANIFEST_BLOCK_MAX || (block & (block - 1)))
        return fail(log, "block=%llu: not a power of two in %u..%u", (unsigned long long)block,
                    MANIFEST_BLOCK_MIN, MANIFEST_BLOCK_MAX);
    if (m.blocks == 0)
        return fail(log, "blocks=0: a device of no blocks");
    m.block = (uint32_t)block;
    memcpy(m.serial, r->quoted[KEY_SERIAL], sizeof(m.serial));
    m.has_machine = log->has_machine;
    m.machine = log->machine;
    m.line = log->lineno;
    if (log->n == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 4;
        struct manifest *grown = cap < SIZE_MAX / sizeof(*grown) ? realloc(log->m, cap * sizeof(*grown))
                                                                 : NULL;
        if (!grown)
            return fail(log, "out of memory for %zu manifests", cap);
        log->m = grown;
        log->cap = cap;
    }
    /* A begin while another manifest is open leaves that one unended: a run
     * that was cut off, which verify-image reports as such when it is the
     * one asked for. */
    log->m[log->n] = m;
    log->open = log->n++;
    log->is_open = true;
    return true;
}

static bool add_range(struct manifest_log *log, struct manifest *m, const struct manifest_range *r)
{
    if (m->nranges) {
        const struct manifest_range *prev = &m->ranges[m->nranges - 1];
        if (r->lba < prev->lba)
            return fail(log, "lba=%llu: out of order, after lba=%llu (the kernel's ranges are "
                        "sorted)", (unsigned long long)r->lba, (unsigned long long)prev->lba);
        if (r->lba - prev->lba < prev->count)
            return fail(log, "lba=%llu: overlaps the previous range, lba=%llu count=%llu",
                        (unsigned long long)r->lba, (unsigned long long)prev->lba,
                        (unsigned long long)prev->count);
    }
    if (m->nranges == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        struct manifest_range *grown =
            cap < SIZE_MAX / sizeof(*grown) ? realloc(m->ranges, cap * sizeof(*grown)) : NULL;
        if (!grown)
            return fail(log, "out of memory for %zu ranges", cap);
        m->ranges = grown;
        m->cap = cap;
    }
    m->ranges[m->nranges++] = *r;
    m->range_blocks += r->count;    /* disjoint and inside blocks: cannot wrap */
    return true;
}

static bool range(struct manifest_log *log, struct record *r, enum manifest_range_kind kind,
                  const char *t, size_t len, size_t pos)
{
    struct manifest *m = open_manifest(log);
    struct manifest_range x = { kind, 0, 0, 0, log->lineno };
    bool has_gen = kind != MANIFEST_ZERO;
    unsigned keys = BIT(KEY_LBA) | BIT(KEY_COUNT) | (has_gen ? BIT(KEY_GEN) : 0);

    if (!m)
        return fail(log, "'%s' outside a begin..end block", r->name);
    if (!fields(log, r, t, len, pos, keys, false) || !number(log, r, KEY_LBA, &x.lba) ||
        !number(log, r, KEY_COUNT, &x.count) || (has_gen && !number(log, r, KEY_GEN, &x.gen)))
        return false;
    if (m->incomplete)
        return fail(log, "'%s' after 'incomplete'", r->name);
    if (x.count == 0)
        return fail(log, "count=0: a range holds at least one block");
    if (x.count > m->blocks || x.lba > m->blocks - x.count)
        return fail(log, "lba=%llu count=%llu: past the end of %s's %llu blocks",
                    (unsigned long long)x.lba, (unsigned long long)x.count, m->device,
                    (unsigned long long)m->blocks);
    return add_range(log, m, &x);
}

static bool same_device(struct manifest_log *log, const struct record *r, const struct manifest *m)
{
    const struct field *f = &r->f[KEY_DEVICE];
    if (f->len == strlen(m->device) && memcmp(f->text, m->device, f->len) == 0)
        return true;
    return fail(log, "'%s': device=%.*s is not the open manifest's (%s, line %u)", r->name,
                (int)(f->len > 31 ? 31 : f->len), f->text, m->device, m->line);
}

static bool incomplete(struct manifest_log *log, struct record *r, const char *t, size_t len,
                       size_t pos)
{
    struct manifest *m = open_manifest(log);

    if (!m)
        return fail(log, "'incomplete' outside a begin..end block");
    if (!fields(log, r, t, len, pos, BIT(KEY_DEVICE), true) || !same_device(log, r, m))
        return false;
    if (m->incomplete)
        return fail(log, "'incomplete' given twice");
    m->incomplete = true;
    return true;
}

static bool end(struct manifest_log *log, struct record *r, const char *t, size_t len, size_t pos)
{
    struct manifest *m = open_manifest(log);

    if (!m)
        return fail(log, "'end' outside a begin..end block");
    if (!fields(log, r, t, len, pos, BIT(KEY_DEVICE) | BIT(KEY_RANGES), false) ||
        !same_device(log, r, m) || !number(log, r, KEY_RANGES, &m->end_ranges))
        return false;
    m->ended = true;
    log->is_open = false;
    return true;
}

/* uuid=: 8-4-4-4-12 hex digits, or none. */
static bool uuid(struct manifest_log *log, const struct field *f, char out[37])
{
    if (f->len == 4 && memcmp(f->text, "none", 4) == 0) {
        memcpy(out, "none", 5);
        return true;
    }
    if (f->len != 36)
        return fail(log, "uuid=: 36 characters (8-4-4-4-12 hex digits) or none, not %zu", f->len);
    for (unsigned i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? f->text[i] != '-' : digit(f->text[i], 16) == 99)
            return fail(log, "uuid=%.36s: not 8-4-4-4-12 hex digits", f->text);
    }
    memcpy(out, f->text, 36);
    out[36] = '\0';
    return true;
}

static bool machine(struct manifest_log *log, struct record *r, const char *t, size_t len,
                    size_t pos)
{
    struct manifest_machine *mm = &log->machine;

    if (log->is_open)
        return fail(log, "'machine' inside the begin..end block of %s (line %u)",
                    log->m[log->open].device, log->m[log->open].line);
    if (!fields(log, r, t, len, pos, MACHINE_KEYS, false) || !uuid(log, &r->f[KEY_UUID], mm->uuid))
        return false;
    static const struct { enum key k; size_t off; } text[] = {
        { KEY_SYSTEM, offsetof(struct manifest_machine, system) },
        { KEY_PRODUCT, offsetof(struct manifest_machine, product) },
        { KEY_VERSION, offsetof(struct manifest_machine, version) },
        { KEY_SERIAL, offsetof(struct manifest_machine, serial) },
        { KEY_BOARD, offsetof(struct manifest_machine, board) },
        { KEY_BOARD_PRODUCT, offsetof(struct manifest_machine, board_product) },
        { KEY_BOARD_SERIAL, offsetof(struct manifest_machine, board_serial) },
        { KEY_BIOS, offsetof(struct manifest_machine, bios) },
        { KEY_BIOS_VERSION, offsetof(struct manifest_machine, bios_version) },
        { KEY_BIOS_DATE, offsetof(struct manifest_machine, bios_date) },
    };
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        memcpy((char *)mm + text[i].off, r->quoted[text[i].k], MANIFEST_SERIAL_MAX);
    mm->line = log->lineno;
    log->has_machine = true;
    return true;
}

/* t[0..len): what follows the tag, line end removed. */
static bool record(struct manifest_log *log, const char *t, size_t len)
{
    static const char *const names[] = { "begin", "stamped", "zero", "deallocated", "incomplete",
                                         "end", "machine" };
    struct record r;
    size_t pos = 0;
    unsigned which;

    memset(&r, 0, sizeof(r));
    while (pos < len && t[pos] >= 'a' && t[pos] <= 'z')
        pos++;
    for (which = 0; which < sizeof(names) / sizeof(names[0]); which++)
        if (strlen(names[which]) == pos && memcmp(names[which], t, pos) == 0)
            break;
    if (which == sizeof(names) / sizeof(names[0]))
        return fail(log, "unknown record '%.*s' (machine, begin, stamped, zero, deallocated, "
                    "incomplete, end)", (int)(len > 20 ? 20 : len), t);
    r.name = names[which];
    switch (which) {
    case 0: return begin(log, &r, t, len, pos);
    case 1: return range(log, &r, MANIFEST_STAMPED, t, len, pos);
    case 2: return range(log, &r, MANIFEST_ZERO, t, len, pos);
    case 3: return range(log, &r, MANIFEST_DEALLOCATED, t, len, pos);
    case 4: return incomplete(log, &r, t, len, pos);
    case 5: return end(log, &r, t, len, pos);
    default: return machine(log, &r, t, len, pos);
    }
}

/* ---- lines ---- */

/* The CRs at the end of a line are its line end (CR LF, LAVA's CR CR LF):
 * the line is what comes before them. The tag holds no CR, so it lies in
 * that part. */
static bool line_end(struct manifest_log *log)
{
    bool ok = true;
    size_t len = log->len - log->trailing_cr;

    if (log->tag_end) {
        if (len > MANIFEST_LINE_MAX)
            ok = fail(log, "longer than %u bytes (a line cut off, or lines run together)",
                      MANIFEST_LINE_MAX);
        else
            ok = record(log, log->line + log->tag_end, len - log->tag_end);
    }
    log->len = log->trailing_cr = log->tag_matched = log->tag_end = 0;
    log->not_tagged = false;
    if (ok)
        log->lineno++;
    return ok;
}

/* The kernel prints the tag at the start of a line (dio_print_manifests);
 * CRs before it are the previous line's end split as LF CR. Anywhere else
 * it is log text: a disk model that reads "bareio-manifest: begin" on its
 * boot line, say. */
static void line_byte(struct manifest_log *log, char c)
{
    if (log->len < MANIFEST_LINE_MAX)
        log->line[log->len] = c;
    if (log->len < SIZE_MAX) {
        log->len++;
        log->trailing_cr = c == '\r' ? log->trailing_cr + 1 : 0;
    }
    if (log->tag_end || log->not_tagged || (c == '\r' && log->tag_matched == 0))
        return;
    if (c != MANIFEST_TAG[log->tag_matched]) {
        log->not_tagged = true;
        return;
    }
    if (++log->tag_matched == TAG_LEN)
        log->tag_end = log->len;    /* > MANIFEST_LINE_MAX only after many CRs: overlong */
}

void manifest_log_init(struct manifest_log *log)
{
    memset(log, 0, sizeof(*log));
    log->lineno = 1;
}

bool manifest_log_feed(struct manifest_log *log, const void *data, size_t len)
{
    const char *p = data;

    if (log->failed)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n')
            line_byte(log, p[i]);
        else if (!line_end(log))
            return false;
    }
    return true;
}

bool manifest_log_finish(struct manifest_log *log)
{
    if (log->failed)
        return false;
    return log->len == 0 || line_end(log);
}

void manifest_log_free(struct manifest_log *log)
{
    for (size_t i = 0; i < log->n; i++)
        free(log->m[i].ranges);
    free(log->m);
    log->m = NULL;
    log->n = log->cap = 0;
    log->is_open = false;
}

/* ---- checks against a device ---- */

size_t manifest_range_outside(const struct manifest *m, size_t start, uint64_t first, uint64_t end)
{
    for (size_t i = start; i < m->nranges; i++) {
        const struct manifest_range *r = &m->ranges[i];
        if (r->lba < first || r->lba >= end || r->count > end - r->lba)
            return i;
    }
    return m->nranges;
}

void manifest_range_format(char *buf, size_t size, const struct manifest_range *r)
{
    if (r->kind != MANIFEST_ZERO)
        snprintf(buf, size, "%s lba=%llu count=%llu gen=%llu",
                 r->kind == MANIFEST_STAMPED ? "stamped" : "deallocated", (unsigned long long)r->lba,
                 (unsigned long long)r->count, (unsigned long long)r->gen);
    else
        snprintf(buf, size, "zero lba=%llu count=%llu", (unsigned long long)r->lba,
                 (unsigned long long)r->count);
}
