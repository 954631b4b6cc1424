/* SPDX-License-Identifier: MIT */
/* lib/stamp.h — the data stamp every block written by the direct-I/O harness
 * carries, so that a read proves not only "some bytes came back" but that the
 * right block, of the right write, of the right run, on the right device came
 * back whole. Shared by the kernel (tests/harness/dio.c) and the host tools
 * (tools/verify-image); pure C, no kernel headers.
 *
 * Layout: a block is cut into 512-byte stamp sectors (block sizes are powers
 * of two >= 512), each self-describing, so a torn write shows at sector
 * granularity. All integers little-endian:
 *
 *   0   magic[8]       "BIOSTAMP"
 *   8   version u16    1
 *   10  sector u16     index of this sector inside its block
 *   12  block_size u32 logical block size the block was written with
 *   16  identity[16]   the device's identity (its scratch label UUID)
 *   32  lba u64        logical block address the block was written to
 *   40  seed u64       the run's seed
 *   48  gen u64        write generation of this block within the run
 *   56  header_crc u32 CRC-32C of bytes 0..55
 *   60  reserved u32   0
 *   64  payload[444]   splitmix64 stream seeded from (seed, lba, gen, sector)
 *   508 sector_crc u32 CRC-32C of bytes 0..507
 *
 * The sector CRCs together cover every byte of the block. A valid header
 * (magic + header CRC) with a bad sector CRC is damage; a sector that is
 * valid but describes another LBA, generation, seed or device tells which
 * kind of wrong data came back. */
#ifndef LIB_STAMP_H
#define LIB_STAMP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STAMP_MAGIC "BIOSTAMP"
#define STAMP_VERSION 1
#define STAMP_SECTOR_SIZE 512u

/* Field offsets inside a stamp sector (see the layout above). */
#define STAMP_OFF_MAGIC       0
#define STAMP_OFF_VERSION     8
#define STAMP_OFF_SECTOR      10
#define STAMP_OFF_BLOCK_SIZE  12
#define STAMP_OFF_IDENTITY    16
#define STAMP_OFF_LBA         32
#define STAMP_OFF_SEED        40
#define STAMP_OFF_GEN         48
#define STAMP_OFF_HEADER_CRC  56
#define STAMP_OFF_PAYLOAD     64
#define STAMP_OFF_SECTOR_CRC  508

/* What a write stamps, besides the LBA. */
struct stamp_key {
    uint8_t identity[16];
    uint64_t seed;
    uint64_t gen;
};

enum stamp_status {
    STAMP_OK,           /* exactly the expected stamp */
    STAMP_MISDIRECTED,  /* a whole valid stamp of another LBA (or another device) */
    STAMP_LOST,         /* a whole valid stamp of this LBA, older generation or run */
    STAMP_TORN,         /* sectors of different writes (or unwritten) mixed */
    STAMP_CORRUPT,      /* a stamp whose bytes are damaged */
    STAMP_ZERO,         /* all zeroes: trimmed, zeroed or never written */
    STAMP_FOREIGN,      /* no stamp at all: data nobody stamped */
    STAMP_STATUS_COUNT
};

struct stamp_result {
    enum stamp_status status;
    /* First byte that differs from the expected stamp (block-relative), with
     * the expected and actual byte there. Meaningful unless status is OK. */
    uint32_t offset;
    uint8_t expected, actual;
    /* Torn: offset of the first sector that is not the expected one. */
    uint32_t first_bad_offset;
    /* What the (first) valid wrong sector describes: misdirected, lost, torn. */
    uint64_t found_lba;
    uint64_t found_gen;
    uint64_t found_seed;
    bool found_other_device;    /* identity differs from the expected one */
    uint32_t sectors, good_sectors;
};

/* A decoded stamp sector header. */
struct stamp_header {
    uint16_t version;
    uint16_t sector;
    uint32_t block_size;
    uint8_t identity[16];
    uint64_t lba, seed, gen;
};

/* Fills one block of block_size bytes (a multiple of 512) with the stamp of
 * `lba` under key k. */
void stamp_fill(void *buf, uint32_t block_size, const struct stamp_key *k, uint64_t lba);
/* Fills `count` consecutive blocks starting at `lba`. */
void stamp_fill_blocks(void *buf, uint32_t block_size, uint32_t count, const struct stamp_key *k,
                       uint64_t lba);

/* Checks one block against the stamp `lba` under key k should hold and
 * classifies what is there. Returns r->status. */
enum stamp_status stamp_check(const void *buf, uint32_t block_size, const struct stamp_key *expected,
                              uint64_t lba, struct stamp_result *r);

/* Parses a 512-byte stamp sector's header: true when the magic, version and
 * header CRC are right (the payload is not checked). */
bool stamp_parse_header(const void *sector, struct stamp_header *h);

/* Offset of the first non-zero byte, or len when all bytes are zero. */
size_t stamp_first_nonzero(const void *buf, size_t len);

/* A block that was deallocated (ATA TRIM, NVMe Dataset Management with
 * Deallocate) on a device that says a deallocated block reads as zeroes.
 * Deallocation is advisory (NVMe 1.4 §6.7: the controller may take no action;
 * ATA's DRAT/RZAT describe only LBAs the device did trim), so the block may
 * read as zeroes or still hold exactly the stamp it held before, under key
 * `previous`. Either is STAMP_OK, *kept saying which (true: the old stamp is
 * still there). Anything else is classified as stamp_check() does: an older
 * generation is lost, a block half zeroes is torn, and so on. */
enum stamp_status stamp_check_deallocated(const void *buf, uint32_t block_size,
                                          const struct stamp_key *previous, uint64_t lba,
                                          struct stamp_result *r, bool *kept);

/* ---- what a device should hold: an extent map ----
 * A sorted list of non-overlapping LBA ranges, each stamped with one
 * generation (under the run's key), zeroed, or deallocated: reading as zeroes
 * or as the generation it held before (stamp_check_deallocated()). The
 * harness records every write here; the manifest it prints at the end of a
 * run is this map. Storage is the caller's (no allocation); when it is full,
 * the map keeps what fits, sets `overflowed` and the caller must say the
 * manifest is incomplete. */
enum stamp_extent_kind {
    STAMP_EXTENT_STAMPED,
    STAMP_EXTENT_ZERO,
    STAMP_EXTENT_DEALLOCATED,
};

struct stamp_extent {
    uint64_t lba;
    uint64_t count;
    uint64_t gen;           /* stamped: the generation; deallocated: the one it may
                             * still show; zero: 0 */
    uint32_t kind;          /* enum stamp_extent_kind */
    uint32_t reserved;
};

struct stamp_map {
    struct stamp_extent *ext;
    uint32_t count, capacity;
    bool overflowed;
};

void stamp_map_init(struct stamp_map *m, struct stamp_extent *storage, uint32_t capacity);
/* [lba, lba+count) now holds `kind` (of generation gen): replaces whatever
 * overlapped, merges with equal neighbours. False when the map was full. */
bool stamp_map_set(struct stamp_map *m, uint64_t lba, uint64_t count, enum stamp_extent_kind kind,
                   uint64_t gen);
/* Forgets [lba, lba+count): its content is no longer known. False when
 * splitting an extent needed room the map did not have. */
bool stamp_map_clear(struct stamp_map *m, uint64_t lba, uint64_t count);
/* [lba, lba+count) was deallocated on a device whose deallocated blocks read
 * as zeroes: each stamped piece becomes deallocated with its generation,
 * zeroes stay zeroes (they read zero either way), deallocated pieces stay as
 * they are and blocks the map does not know stay unknown. False when the map
 * was full (or the range wraps). */
bool stamp_map_deallocate(struct stamp_map *m, uint64_t lba, uint64_t count);
/* The extent that holds lba, or NULL. */
const struct stamp_extent *stamp_map_find(const struct stamp_map *m, uint64_t lba);
/* Blocks covered by the map. */
uint64_t stamp_map_blocks(const struct stamp_map *m);

/* "ok", "misdirected", "lost", "torn", "corrupt", "zero", "foreign". */
const char *stamp_status_name(enum stamp_status status);
/* One phrase: "valid stamp of another LBA (misdirected write)". */
const char *stamp_status_describe(enum stamp_status status);

#endif
