/* SPDX-License-Identifier: MIT */
/* drivers/blk/access.h — the rule that decides whether bareio may write a
 * device, and where: pure, so the kernel (drivers/blk/blk.c, at device
 * registration), the host tools (tools/verify-image, which seeds and checks
 * images by the same rule) and the host tests (tests/host/test_blk_access.c,
 * with a property test against a model of its own) share one implementation.
 *
 * First rule that applies wins:
 *   1. the boot medium is never written, not even with a label or allow_write=
 *      (tools/mkiso writes "BAREIO_<id>" as the ISO 9660 volume id,
 *      tools/mkusb as a GPT partition name, and both bootid=<id> on the
 *      kernel command line);
 *   2. a scratch label (lib/scratch.h) at LBA 0 confines writes to the whole
 *      blocks of its data range — rounded inwards, never over the label —
 *      and gives the device its identity (the label's UUID); but a label that
 *      cannot be read (damaged, unknown version, impossible range) or that
 *      sits beside any sign of use (a file system, LVM, swap, LUKS, a GPT or
 *      MBR, an ISO) makes the disk read-only, allow_write= or not: the disk
 *      was reused after it was labelled, and `tools/mkscratch --force`
 *      reclaims it;
 *   3. a GPT partition with bareio's type GUID (lib/gpt.h) confines writes to
 *      that partition, when the GPT is whole (both CRCs, usable LBAs clear of
 *      LBA 0, the header, both entry arrays and the backup header), the
 *      partition lies inside the usable LBAs and overlaps no other partition,
 *      LBA 0 holds no MBR but a protective one, and no other GPT header sits
 *      where another block size would put one; identity: the partition's
 *      unique GUID;
 *   (2, 3) and the first blocks of the range opened hold no file system,
 *      volume or table (blk_access_check_data: one made inside the range after
 *      it was marked);
 *   4. a device that shows a partition table, a file system or an ISO image
 *      (lib/disksig.h) is in use: read-only even when allow_write= names it;
 *   5. allow_write=<serial glob> opens the whole device;
 *   6. everything else is read-only. */
#ifndef DRIVERS_BLK_ACCESS_H
#define DRIVERS_BLK_ACCESS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/disksig.h"

struct blk_dev;

/* How far from LBA 0 the signatures lie (btrfs's superblock ends furthest
 * out); see blk_access_head_bytes() for what the rule must be given. */
#define BLK_ACCESS_SPAN DISKSIG_SPAN
/* The most blk_access_head_bytes() and blk_access_data_bytes() ask for. */
#define BLK_ACCESS_HEAD_MAX (3u * 65536u)

/* What the rule decided for one device. */
struct blk_access {
    bool writable;
    bool boot_device;           /* the medium bareio booted from */
    bool has_identity;          /* identity holds the label UUID or partition GUID */
    uint8_t identity[16];
    uint64_t write_first;       /* writes confined to blocks [write_first, write_end) */
    uint64_t write_end;
    char reason[256];           /* "scratch (label): writes to 1 MiB..64 MiB", "read-only: ..." */
    char how[32];               /* what opened it: "label", "GPT partition 1", "allow_write" */
};

/* Bytes from LBA 0 the rule must be given: whole blocks covering
 * BLK_ACCESS_SPAN and at least LBA 0..2 (a GPT's header and the start of its
 * entry array, which on 64 KiB blocks lie past 72 KiB), or the whole device
 * when it is smaller. */
uint64_t blk_access_head_bytes(uint32_t block_size, uint64_t nblocks);

/* Applies the rule to a device of `nblocks` blocks of `block_size` bytes whose
 * first `len` bytes are `head`. Fewer than blk_access_head_bytes() make it
 * read-only ("not read"): what was not read cannot be known to be unused.
 * `allowed`: allow_write= matches the device's serial; `boot_id`: the
 * bootid= value ("" or NULL when not given). The first phase only: see
 * blk_access_check_data(). */
void blk_access_rule(uint32_t block_size, uint64_t nblocks, const uint8_t *head, size_t len,
                     bool allowed, const char *boot_id, struct blk_access *out);

/* Second phase, when the rule opened a range that starts past LBA 0 (a
 * label's data range or a bareio partition): the caller reads
 * blk_access_data_bytes() bytes at block write_first and hands them over. A
 * file system, volume or table found there — made inside the partition or the
 * label's range after it was marked — makes the disk read-only. Sectors that
 * hold bareio's own data stamps (lib/stamp.h) are no sign of use. */
uint64_t blk_access_data_bytes(const struct blk_access *a, uint32_t block_size);
void blk_access_check_data(struct blk_access *a, const uint8_t *data, size_t len);
/* The probe behind it: the first sign of use in `data`, DISKSIG_NONE if none. */
struct disksig blk_access_data_signature(const uint8_t *data, size_t len);

/* Both phases on a device the caller can read: read(ctx, lba, count, buf)
 * fills count blocks at lba into buf (false when the read failed: the
 * device is then read-only, with the reason). buf holds BLK_ACCESS_HEAD_MAX
 * bytes. The kernel (drivers/blk/blk.c) and tools/verify-image decide with
 * this, so a tool never opens what the kernel would not. */
typedef bool (*blk_access_read_fn)(void *ctx, uint64_t lba, uint32_t count, uint8_t *buf);
void blk_access_decide_device(uint32_t block_size, uint64_t nblocks, blk_access_read_fn read,
                              void *ctx, uint8_t *buf, bool allowed, const char *boot_id,
                              struct blk_access *out);

/* Puts a decision on a registered device: dev->writable, boot_device,
 * write_first/write_end, access (the reason) and, for a label or GPT
 * partition, identity. */
void blk_access_apply(struct blk_dev *dev, const struct blk_access *a);
/* blk_access_rule() then blk_access_apply(): the first phase only, for the
 * host tests of the rule on a head. */
void blk_access_decide(struct blk_dev *dev, const uint8_t *head, size_t len, bool allowed,
                       const char *boot_id);

#endif
