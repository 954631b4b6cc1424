/* SPDX-License-Identifier: MIT */
/* lib/stamp.c — building and classifying data stamps (layout in lib/stamp.h).
 *
 * The check regenerates, sector by sector, what the block should hold and
 * compares. Only when a sector differs is it examined: is it all zero, does
 * it carry no stamp at all, a damaged stamp, or a valid stamp of some other
 * write? The block's verdict follows from the mix of sector kinds. Depends
 * only on lib/crc.c and lib/rng.c, so host tools can build it too. */
#include "lib/stamp.h"
#include "lib/crc.h"
#include "lib/endian.h"
#include "lib/rng.h"

/* ---- building ---- */

static void build_sector(uint8_t *s, uint32_t block_size, const uint8_t identity[16],
                         uint64_t seed, uint64_t lba, uint64_t gen, uint16_t sector)
{
    const uint8_t magic[8] = { 'B', 'I', 'O', 'S', 'T', 'A', 'M', 'P' };
    uint64_t state;

    for (unsigned i = 0; i < 8; i++)
        s[STAMP_OFF_MAGIC + i] = magic[i];
    le_put(s + STAMP_OFF_VERSION, 2, STAMP_VERSION);
    le_put(s + STAMP_OFF_SECTOR, 2, sector);
    le_put(s + STAMP_OFF_BLOCK_SIZE, 4, block_size);
    for (unsigned i = 0; i < 16; i++)
        s[STAMP_OFF_IDENTITY + i] = identity[i];
    le_put(s + STAMP_OFF_LBA, 8, lba);
    le_put(s + STAMP_OFF_SEED, 8, seed);
    le_put(s + STAMP_OFF_GEN, 8, gen);
    le_put(s + STAMP_OFF_HEADER_CRC, 4, crc32c(s, STAMP_OFF_HEADER_CRC));
    le_put(s + STAMP_OFF_HEADER_CRC + 4, 4, 0);

    /* Every (seed, lba, gen, sector) gets its own stream: mixing each input
     * through one SplitMix step keeps nearby LBAs and generations far apart. */
    state = seed;
    state ^= splitmix64_next(&(uint64_t){ lba ^ 0x4c4241ull });
    state ^= splitmix64_next(&(uint64_t){ gen ^ 0x47454eull }) << 1;
    state ^= splitmix64_next(&(uint64_t){ (uint64_t)sector ^ 0x534543ull }) >> 1;
    for (unsigned off = STAMP_OFF_PAYLOAD; off < STAMP_OFF_SECTOR_CRC; off += 8) {
        uint64_t v = splitmix64_next(&state);
        unsigned n = STAMP_OFF_SECTOR_CRC - off < 8 ? STAMP_OFF_SECTOR_CRC - off : 8;
        le_put(s + off, n, v);
    }
    le_put(s + STAMP_OFF_SECTOR_CRC, 4, crc32c(s, STAMP_OFF_SECTOR_CRC));
}

void stamp_fill(void *buf, uint32_t block_size, const struct stamp_key *k, uint64_t lba)
{
    uint8_t *p = buf;
    for (uint32_t off = 0; off + STAMP_SECTOR_SIZE <= block_size; off += STAMP_SECTOR_SIZE)
        build_sector(p + off, block_size, k->identity, k->seed, lba, k->gen,
                     (uint16_t)(off / STAMP_SECTOR_SIZE));
}

void stamp_fill_blocks(void *buf, uint32_t block_size, uint32_t count, const struct stamp_key *k,
                       uint64_t lba)
{
    uint8_t *p = buf;
    for (uint32_t i = 0; i < count; i++)
        stamp_fill(p + (size_t)i * block_size, block_size, k, lba + i);
}

/* ---- parsing ---- */

bool stamp_parse_header(const void *sector, struct stamp_header *h)
{
    const uint8_t *s = sector;
    const char *magic = STAMP_MAGIC;

    for (unsigned i = 0; i < 8; i++)
        if (s[STAMP_OFF_MAGIC + i] != (uint8_t)magic[i])
            return false;
    if (le_get(s + STAMP_OFF_HEADER_CRC, 4) != crc32c(s, STAMP_OFF_HEADER_CRC))
        return false;
    h->version = (uint16_t)le_get(s + STAMP_OFF_VERSION, 2);
    if (h->version != STAMP_VERSION)
        return false;
    h->sector = (uint16_t)le_get(s + STAMP_OFF_SECTOR, 2);
    h->block_size = (uint32_t)le_get(s + STAMP_OFF_BLOCK_SIZE, 4);
    for (unsigned i = 0; i < 16; i++)
        h->identity[i] = s[STAMP_OFF_IDENTITY + i];
    h->lba = le_get(s + STAMP_OFF_LBA, 8);
    h->seed = le_get(s + STAMP_OFF_SEED, 8);
    h->gen = le_get(s + STAMP_OFF_GEN, 8);
    return true;
}

typedef uint64_t word_alias __attribute__((may_alias));

size_t stamp_first_nonzero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i = 0;

    /* Word at a time once aligned: zero checks run over whole read buffers. */
    while (i < len && ((uintptr_t)(p + i) & 7))
        if (p[i++])
            return i - 1;
    for (; i + 8 <= len; i += 8)
        if (*(const word_alias *)(const void *)(p + i))
            break;
    for (; i < len; i++)
        if (p[i])
            return i;
    return len;
}

/* ---- checking ---- */

enum sector_kind {
    SECTOR_GOOD,        /* exactly as expected */
    SECTOR_ZERO,
    SECTOR_FOREIGN,     /* no stamp header */
    SECTOR_DAMAGED,     /* a stamp header, but the bytes do not add up */
    SECTOR_OTHER,       /* a whole valid stamp sector of another write */
};

static bool same_identity(const uint8_t a[16], const uint8_t b[16])
{
    for (unsigned i = 0; i < 16; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static size_t matching_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += a[i] == b[i];
    return same;
}

/* A sector that is not the expected one: what is it? A valid header whose
 * sector is exactly what that header would produce is another write's
 * sector; anything else with a header is damage. */
static enum sector_kind classify_sector(const uint8_t *s, const uint8_t *want, uint32_t block_size,
                                        uint16_t index, struct stamp_header *h)
{
    uint8_t rebuilt[STAMP_SECTOR_SIZE];

    if (stamp_first_nonzero(s, STAMP_SECTOR_SIZE) == STAMP_SECTOR_SIZE)
        return SECTOR_ZERO;
    if (!stamp_parse_header(s, h))
        /* No readable header. If most bytes still are the expected ones the
         * header was hit by damage (a flipped bit in the magic); unrelated
         * data matches about one byte in 256. */
        return matching_bytes(s, want, STAMP_SECTOR_SIZE) >= STAMP_SECTOR_SIZE / 2
                   ? SECTOR_DAMAGED : SECTOR_FOREIGN;
    /* A valid sector at the wrong position or of another block size means the
     * data moved inside the transfer: damage, not another write. */
    if (h->sector != index || h->block_size != block_size)
        return SECTOR_DAMAGED;
    build_sector(rebuilt, h->block_size, h->identity, h->seed, h->lba, h->gen, h->sector);
    return bytes_equal(rebuilt, s, STAMP_SECTOR_SIZE) ? SECTOR_OTHER : SECTOR_DAMAGED;
}

static bool same_write(const struct stamp_header *a, const struct stamp_header *b)
{
    return a->lba == b->lba && a->gen == b->gen && a->seed == b->seed &&
           same_identity(a->identity, b->identity);
}

enum stamp_status stamp_check(const void *buf, uint32_t block_size, const struct stamp_key *expected,
                              uint64_t lba, struct stamp_result *r)
{
    const uint8_t *p = buf;
    uint8_t want[STAMP_SECTOR_SIZE];
    unsigned counts[SECTOR_OTHER + 1] = { 0 };
    struct stamp_header first_other = { 0 }, h;
    bool have_other = false, others_agree = true, have_diff = false;

    *r = (struct stamp_result){ .status = STAMP_OK };
    r->sectors = block_size / STAMP_SECTOR_SIZE;
    for (uint32_t i = 0; i < r->sectors; i++) {
        const uint8_t *s = p + (size_t)i * STAMP_SECTOR_SIZE;
        build_sector(want, block_size, expected->identity, expected->seed, lba, expected->gen,
                     (uint16_t)i);
        if (bytes_equal(want, s, STAMP_SECTOR_SIZE)) {
            counts[SECTOR_GOOD]++;
            continue;
        }
        if (!have_diff) {
            uint32_t j = 0;
            while (want[j] == s[j])
                j++;
            have_diff = true;
            r->offset = i * STAMP_SECTOR_SIZE + j;
            r->expected = want[j];
            r->actual = s[j];
            r->first_bad_offset = i * STAMP_SECTOR_SIZE;
        }
        enum sector_kind kind = classify_sector(s, want, block_size, (uint16_t)i, &h);
        counts[kind]++;
        if (kind == SECTOR_OTHER) {
            if (!have_other) {
                first_other = h;
                have_other = true;
            } else if (!same_write(&first_other, &h)) {
                others_agree = false;
            }
        }
    }
    r->good_sectors = counts[SECTOR_GOOD];
    if (have_other) {
        r->found_lba = first_other.lba;
        r->found_gen = first_other.gen;
        r->found_seed = first_other.seed;
        r->found_other_device = !same_identity(first_other.identity, expected->identity);
    }

    if (counts[SECTOR_GOOD] == r->sectors)
        r->status = STAMP_OK;
    else if (counts[SECTOR_DAMAGED])
        r->status = STAMP_CORRUPT;
    else if (counts[SECTOR_ZERO] == r->sectors)
        r->status = STAMP_ZERO;
    else if (counts[SECTOR_ZERO] + counts[SECTOR_FOREIGN] == r->sectors)
        r->status = STAMP_FOREIGN;
    else if (counts[SECTOR_OTHER] == r->sectors && others_agree)
        r->status = (first_other.lba != lba || r->found_other_device) ? STAMP_MISDIRECTED
                                                                       : STAMP_LOST;
    else
        r->status = STAMP_TORN;     /* sectors of different writes mixed */
    return r->status;
}

enum stamp_status stamp_check_deallocated(const void *buf, uint32_t block_size,
                                          const struct stamp_key *previous, uint64_t lba,
                                          struct stamp_result *r, bool *kept)
{
    *kept = false;
    if (stamp_first_nonzero(buf, block_size) == block_size) {
        *r = (struct stamp_result){ .status = STAMP_OK, .sectors = block_size / STAMP_SECTOR_SIZE };
        return STAMP_OK;
    }
    *kept = stamp_check(buf, block_size, previous, lba, r) == STAMP_OK;
    return r->status;
}

/* ---- extent map ---- */

void stamp_map_init(struct stamp_map *m, struct stamp_extent *storage, uint32_t capacity)
{
    m->ext = storage;
    m->count = 0;
    m->capacity = capacity;
    m->overflowed = false;
}

static bool map_insert_at(struct stamp_map *m, uint32_t at, const struct stamp_extent *e)
{
    if (m->count == m->capacity) {
        m->overflowed = true;
        return false;
    }
    for (uint32_t i = m->count; i > at; i--)
        m->ext[i] = m->ext[i - 1];
    m->ext[at] = *e;
    m->count++;
    return true;
}

static void map_remove_at(struct stamp_map *m, uint32_t at)
{
    for (uint32_t i = at; i + 1 < m->count; i++)
        m->ext[i] = m->ext[i + 1];
    m->count--;
}

/* A range whose end does not fit 64 bits names no blocks at all; the map
 * cannot say what the device holds any more, so it says it is incomplete
 * (the manifest then proves nothing, and tools/verify-image fails it). */
static bool range_wraps(struct stamp_map *m, uint64_t lba, uint64_t count)
{
    if (count <= UINT64_MAX - lba)
        return false;
    m->overflowed = true;
    return true;
}

bool stamp_map_clear(struct stamp_map *m, uint64_t lba, uint64_t count)
{
    if (range_wraps(m, lba, count))
        return false;
    uint64_t end = lba + count;

    for (uint32_t i = 0; i < m->count;) {
        struct stamp_extent *e = &m->ext[i];
        uint64_t e_end = e->lba + e->count;
        if (e_end <= lba) {
            i++;
            continue;
        }
        if (e->lba >= end)
            break;
        if (e->lba < lba && e_end > end) {          /* the range is inside e: split */
            struct stamp_extent right = *e;
            right.lba = end;
            right.count = e_end - end;
            e->count = lba - e->lba;
            return map_insert_at(m, i + 1, &right);
        }
        if (e->lba < lba) {                         /* e sticks out on the left */
            e->count = lba - e->lba;
            i++;
        } else if (e_end > end) {                   /* e sticks out on the right */
            e->count = e_end - end;
            e->lba = end;
            break;
        } else {
            map_remove_at(m, i);                    /* e lies inside the range */
        }
    }
    return true;
}

static bool extents_join(const struct stamp_extent *a, const struct stamp_extent *b)
{
    return a->lba + a->count == b->lba && a->kind == b->kind && a->gen == b->gen;
}

bool stamp_map_set(struct stamp_map *m, uint64_t lba, uint64_t count, enum stamp_extent_kind kind,
                   uint64_t gen)
{
    struct stamp_extent e = { .lba = lba, .count = count, .kind = kind,
                              .gen = kind == STAMP_EXTENT_ZERO ? 0 : gen };
    uint32_t at = 0;
    bool ok;

    if (count == 0)
        return true;
    if (range_wraps(m, lba, count))
        return false;
    ok = stamp_map_clear(m, lba, count);
    while (at < m->count && m->ext[at].lba < lba)
        at++;
    if (at > 0 && extents_join(&m->ext[at - 1], &e)) {
        m->ext[at - 1].count += count;
        at--;
    } else if (!map_insert_at(m, at, &e)) {
        return false;
    }
    if (at + 1 < m->count && extents_join(&m->ext[at], &m->ext[at + 1])) {
        m->ext[at].count += m->ext[at + 1].count;
        map_remove_at(m, at + 1);
    }
    return ok;
}

/* The index of the first extent ending after lba (m->count when none). */
static uint32_t first_ending_after(const struct stamp_map *m, uint64_t lba)
{
    uint32_t lo = 0, hi = m->count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->ext[mid].lba + m->ext[mid].count <= lba)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct stamp_extent *stamp_map_find(const struct stamp_map *m, uint64_t lba)
{
    uint32_t i = first_ending_after(m, lba);
    return i < m->count && m->ext[i].lba <= lba ? &m->ext[i] : NULL;
}

bool stamp_map_deallocate(struct stamp_map *m, uint64_t lba, uint64_t count)
{
    bool ok = true;

    if (range_wraps(m, lba, count))
        return false;
    /* One extent at a time from `at`: stamp_map_set() moves the others. */
    for (uint64_t at = lba, end = lba + count; at < end;) {
        uint32_t i = first_ending_after(m, at);
        if (i == m->count || m->ext[i].lba >= end)
            break;
        const struct stamp_extent e = m->ext[i];
        uint64_t from = e.lba > at ? e.lba : at;
        uint64_t to = e.lba + e.count < end ? e.lba + e.count : end;
        if (e.kind == STAMP_EXTENT_STAMPED &&
            !stamp_map_set(m, from, to - from, STAMP_EXTENT_DEALLOCATED, e.gen))
            ok = false;
        at = to;
    }
    return ok;
}

uint64_t stamp_map_blocks(const struct stamp_map *m)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < m->count; i++)
        n += m->ext[i].count;
    return n;
}

/* ---- names ---- */

static const char *const status_names[STAMP_STATUS_COUNT][2] = {
    [STAMP_OK] = { "ok", "the expected stamp" },
    [STAMP_MISDIRECTED] = { "misdirected", "valid stamp of another LBA or device (misdirected write)" },
    [STAMP_LOST] = { "lost", "valid stamp of this LBA from an older write (lost write)" },
    [STAMP_TORN] = { "torn", "sectors of different writes mixed (torn write)" },
    [STAMP_CORRUPT] = { "corrupt", "stamp present but its bytes are damaged (corrupt data)" },
    [STAMP_ZERO] = { "zero", "all zeroes (trimmed, zeroed or never written)" },
    [STAMP_FOREIGN] = { "foreign", "no stamp at all (data bareio did not write)" },
};

const char *stamp_status_name(enum stamp_status status)
{
    return (unsigned)status < STAMP_STATUS_COUNT ? status_names[status][0] : "unknown";
}

const char *stamp_status_describe(enum stamp_status status)
{
    return (unsigned)status < STAMP_STATUS_COUNT ? status_names[status][1] : "unknown status";
}
