/* SPDX-License-Identifier: MIT */
/* lib/cmdline.h — a table-driven `key=value` command-line parser, pure so the
 * host tests can drive it. The caller passes the table of keys; the kernel
 * builds its table from the .cmdline_keys linker section (kernel/cmdline.h).
 *
 * Syntax: tokens separated by blanks; `key=value`, where the value may be
 * double-quoted to hold blanks (`key="a b"`, no escapes); a bare `key` only for
 * keys declared CMDLINE_FLAG. Keys may contain dots (`nvme.irq=msix`).
 * Parsing is all-or-nothing: every problem is reported, one line each, and if
 * there is any, no storage is written. */
#ifndef LIB_CMDLINE_H
#define LIB_CMDLINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cmdline_kind {
    CMDLINE_ENUM,       /* int storage: the value of one of `words` */
    CMDLINE_UINT,       /* uint8/16/32/64_t storage (by `size`): decimal or 0x hex,
                           optional K/M/G suffix (x 2^10/2^20/2^30), min..max */
    CMDLINE_STRING,     /* char[size] storage: any text of at most size-1 bytes */
    CMDLINE_GLOBS,      /* char[size] storage: comma-separated patterns, none empty */
    CMDLINE_BOOL,       /* bool storage: on/off, yes/no, 1/0 */
};

/* The key may be given bare (`help`); a BOOL given bare is on. */
#define CMDLINE_FLAG (1u << 0)

struct cmdline_word {
    const char *word;
    int value;
};

/* A parsed value, as seen by a key's check function. */
struct cmdline_value {
    const char *text;       /* as written, quotes removed; not terminated */
    size_t len;
    uint64_t number;        /* UINT: the number; ENUM: the word's value; BOOL: 0 or 1 */
};

struct cmdline_key {
    const char *name;
    enum cmdline_kind kind;
    unsigned flags;
    void *storage;
    size_t size;                        /* sizeof the storage */
    const struct cmdline_word *words;   /* ENUM */
    size_t word_count;
    uint64_t min, max;                  /* UINT */
    const char *help;                   /* one line, for `help` */
    const char *value_syntax;           /* optional, for `help`: "DEVICE[,BAUD]" */
    /* Optional: a further check before anything is applied (say, that a device
     * answers there). On false, `why` says what is wrong. */
    bool (*check)(const struct cmdline_key *key, const struct cmdline_value *value,
                  char *why, size_t why_size);
};

/* Receives one complete message ("cmdline: ..."), without a newline. */
typedef void (*cmdline_report_fn)(void *ctx, const char *message);

/* Parses `line` (NULL is empty) against keys[0..count). Reports every error
 * through `report` (may be NULL) and returns how many there were; only when
 * that is 0 are the given keys' storage written. Keys not given keep their
 * storage (their defaults). */
unsigned cmdline_parse(const struct cmdline_key *keys, size_t count, const char *line,
                       cmdline_report_fn report, void *ctx);

/* Checks a key table for mistakes in its declarations (duplicate names, an
 * ENUM without words, min > max, a bad storage size, ...), reporting each.
 * Returns the number found. */
unsigned cmdline_table_check(const struct cmdline_key *keys, size_t count,
                             cmdline_report_fn report, void *ctx);

/* What the key accepts, as in the error messages: "one of qemu, halt, reboot",
 * "a number in 1..1K (decimal or 0x hex, optional K/M/G suffix)". Returns the
 * length it wanted (like snprintf). */
int cmdline_describe(const struct cmdline_key *key, char *buf, size_t size);
/* The key's syntax for a help listing: "exit=qemu|halt|reboot", "help". */
int cmdline_syntax(const struct cmdline_key *key, char *buf, size_t size);

enum cmdline_number {
    CMDLINE_NUMBER_OK,
    CMDLINE_NUMBER_MALFORMED,
    CMDLINE_NUMBER_TOO_BIG,     /* does not fit 64 bits */
};
/* The number syntax of CMDLINE_UINT, for parsers of composite values. */
enum cmdline_number cmdline_parse_number(const char *s, size_t len, uint64_t *out);

/* console=: `ttyS0`..`ttyS3` (the PC COM ports 0x3f8, 0x2f8, 0x3e8, 0x2e8),
 * `io:PORT` or `mmio:ADDRESS`, each optionally followed by `,BAUD`. The baud
 * must divide 115200 (the 16550 divisor is 115200 / baud); 0 means "keep the
 * default". On false, `why` says what is wrong. */
struct cmdline_console {
    bool mmio;
    uint64_t base;
    uint32_t baud;
};
bool cmdline_parse_console(const char *s, size_t len, struct cmdline_console *out,
                           char *why, size_t why_size);

#endif
