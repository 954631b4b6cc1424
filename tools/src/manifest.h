/* SPDX-License-Identifier: MIT */
/* tools/src/manifest.h — the parser of the manifest the kernel prints at the
 * end of a run (tests/harness/dio.c, dio_print_manifests) for tools/verify-image:
 * pure (no I/O, no exit), fed the serial log in pieces of any size, so the
 * fuzzer (tests/fuzz/fuzz_manifest.c) drives exactly what the tool runs.
 *
 * A manifest line is a line that starts with "bareio-manifest: " (after CRs
 * only: see line ends below), as the kernel prints it; the tag anywhere else
 * in a line is log text (a disk model on its boot line may hold it, and so
 * may a timestamped log, whose manifest is then not read). After the tag,
 * one record:
 *
 *   machine system="T" product="T" version="T" serial="T" uuid=UUID board="T"
 *           board_product="T" board_serial="T" bios="T" bios_version="T" bios_date="T"
 *   begin device=NAME serial="TEXT" identity=HEX32 block=N blocks=N seed=N
 *   stamped lba=N count=N gen=N
 *   zero lba=N count=N
 *   deallocated lba=N count=N gen=N
 *   incomplete device=NAME [(free text)]
 *   end device=NAME ranges=N
 *
 * machine names the machine the run came from (its SMBIOS identity, issue
 * 14): outside any begin..end block, before the manifests it applies to; a
 * later one (the log of a machine that booted again) applies to the
 * manifests after it. UUID is 8-4-4-4-12 hex digits, or "none". A log from
 * before the record existed has none: its manifests name no machine.
 *
 * A deallocated range was trimmed (ATA TRIM, NVMe Dataset Management) on a
 * device whose deallocated blocks read as zeroes; deallocation is advisory,
 * so each block reads as zeroes or as the stamp of generation gen it held
 * before (lib/stamp.h, stamp_check_deallocated()).
 *
 * Fields are key=value separated by one blank, in any order, each key exactly
 * once, none unknown. Values are read from the left: a bare value ends at the
 * next blank, serial's (and every text field of machine) is quoted — printable ASCII 0x20..0x7e with \" and \\
 * the only escapes (the kernel writes other bytes as \xNN first) — so no text
 * inside one field is ever read as another. Numbers are decimal without
 * leading zeros or 0x hex, 64-bit, no sign or blank. block is a power of two
 * in 512..65536, blocks > 0; a range has count > 0 and lies inside blocks
 * (lba + count <= blocks, no wrap), after the previous range of its manifest
 * (the kernel's extent map is sorted and disjoint).
 *
 * A line ends at LF, and every CR right before the LF is line end too (CR LF
 * from a serial console, CR CR LF from LAVA), and so is every CR before the
 * tag (LF CR line ends); a CR anywhere else is a byte of the line. A manifest
 * line of more than MANIFEST_LINE_MAX bytes before the CRs of its line end is
 * malformed, never cut in two. The first malformed line stops the parse with
 * its number and what is wrong. Memory: the ranges kept, linear in the input; time: linear. */
#ifndef TOOLS_MANIFEST_H
#define TOOLS_MANIFEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_TAG "bareio-manifest: "
#define MANIFEST_LINE_MAX 2048          /* bytes of a manifest line, line end excluded (a machine record of 10 quoted 64-character fields fits) */
#define MANIFEST_DEVICE_MAX 32          /* with the NUL */
#define MANIFEST_SERIAL_MAX 128         /* unescaped, with the NUL */
#define MANIFEST_BLOCK_MIN 512u
#define MANIFEST_BLOCK_MAX 65536u

enum manifest_range_kind { MANIFEST_STAMPED, MANIFEST_ZERO, MANIFEST_DEALLOCATED };

struct manifest_range {
    enum manifest_range_kind kind;
    uint64_t lba, count, gen;           /* gen: 0 for a zero range; deallocated: the one it
                                         * may still show */
    unsigned line;                      /* in the log, for messages */
};

/* The machine record's fields, escapes undone (each at most
 * MANIFEST_SERIAL_MAX - 1 characters). */
struct manifest_machine {
    char system[MANIFEST_SERIAL_MAX], product[MANIFEST_SERIAL_MAX], version[MANIFEST_SERIAL_MAX];
    char serial[MANIFEST_SERIAL_MAX];
    char uuid[37];                      /* "none" when the firmware set none */
    char board[MANIFEST_SERIAL_MAX], board_product[MANIFEST_SERIAL_MAX];
    char board_serial[MANIFEST_SERIAL_MAX];
    char bios[MANIFEST_SERIAL_MAX], bios_version[MANIFEST_SERIAL_MAX];
    char bios_date[MANIFEST_SERIAL_MAX];
    unsigned line;
};

struct manifest {
    char device[MANIFEST_DEVICE_MAX];
    bool has_machine;                   /* a machine record came before its begin */
    struct manifest_machine machine;
    char serial[MANIFEST_SERIAL_MAX];   /* escapes undone: \xNN stays as four characters */
    uint8_t identity[16];
    uint32_t block;
    uint64_t blocks, seed;
    bool ended;
    bool incomplete;                    /* the kernel's extent map overflowed */
    uint64_t end_ranges;                /* what the end line says */
    struct manifest_range *ranges;
    size_t nranges, cap;
    uint64_t range_blocks;              /* sum of the counts (<= blocks: ranges are disjoint) */
    unsigned line;                      /* of the begin line */
};

/* The parser's state and what it found: init, feed the log, finish, read
 * m[0..n), free. */
struct manifest_log {
    struct manifest *m;
    size_t n, cap;
    bool is_open;                       /* m[open] is between its begin and end lines */
    bool has_machine;                   /* the last machine record read */
    struct manifest_machine machine;
    size_t open;
    /* The line being read. */
    unsigned lineno;
    char line[MANIFEST_LINE_MAX];
    size_t len;                         /* bytes of the line so far (may exceed sizeof line) */
    size_t trailing_cr;                 /* CRs at the end of it so far: line end, not text */
    size_t tag_matched;                 /* bytes of MANIFEST_TAG it starts with so far */
    bool not_tagged;                    /* it does not start with the tag */
    size_t tag_end;                     /* offset just past the tag, 0: none (yet) */
    /* The first malformed line, when a call returned false. */
    bool failed;
    unsigned error_line;
    char error[256];
};

void manifest_log_init(struct manifest_log *log);
/* Reads the next `len` bytes of the log. False when a manifest line is
 * malformed (or memory ran out): error_line and error say which and why,
 * and every later call returns false. */
bool manifest_log_feed(struct manifest_log *log, const void *data, size_t len);
/* The end of the log: reads a last line that has no line end. */
bool manifest_log_finish(struct manifest_log *log);
void manifest_log_free(struct manifest_log *log);

/* The number syntax above over s[0..len): true and *out, or false. */
bool manifest_parse_u64(const char *s, size_t len, uint64_t *out);

/* The index of the first range at or after `start` that is not inside the
 * blocks [first, end) — the scratch range drivers/blk/access.h gives the
 * image — or m->nranges when every one is. */
size_t manifest_range_outside(const struct manifest *m, size_t start, uint64_t first, uint64_t end);

/* "stamped lba=2048 count=32 gen=3", as the kernel printed the range. */
void manifest_range_format(char *buf, size_t size, const struct manifest_range *r);

#endif
