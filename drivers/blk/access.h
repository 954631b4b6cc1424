/* SPDX-License-Identifier: MIT */
/* drivers/blk/access.h — the rule that decides whether bareio may write a
 * device, and where: pure, so the kernel (drivers/blk/blk.c, at device
 * registration), the host tools (tools/verify-image, which seeds and checks
 * images by the same rule) and the host tests (tests/host/test_blk_access.c,
 * with a property test against a model of its own) share one implementation.
 *
 * First rule that applies wins:
 *   1. the boot medium is never written, not even with a label or allow_write=
 *      (tools/mkiso writes "BAREIO_<id>" as the ISO 9660 volume id and
 *      bootid=<id> on the kernel command line);
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
 *      and LBA 0 holds no MBR but a protective one; identity: the partition's
 *      unique GUID;
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

/* Bytes from LBA 0 the decision looks at (the furthest signature). */
#define BLK_ACCESS_SPAN DISKSIG_SPAN

/* What the rule decided for one device. */
struct blk_access {
    bool writable;
    bool boot_device;           /* the medium bareio booted from */
    bool has_identity;          /* identity holds the label UUID or partition GUID */
    uint8_t identity[16];
    uint64_t write_first;       /* writes confined to blocks [write_first, write_end) */
    uint64_t write_end;
    char reason[256];           /* "scratch (label): writes to 1 MiB..64 MiB", "read-only: ..." */
};

/* Applies the rule to a device of `nblocks` blocks of `block_size` bytes whose
 * first `len` bytes are `head` (all of it when the device is smaller than
 * BLK_ACCESS_SPAN). `allowed`: allow_write= matches the device's serial;
 * `boot_id`: the bootid= value ("" or NULL when not given). */
void blk_access_rule(uint32_t block_size, uint64_t nblocks, const uint8_t *head, size_t len,
                     bool allowed, const char *boot_id, struct blk_access *out);

/* The same for a registered device: sets dev->writable, boot_device,
 * write_first/write_end, access (the reason) and, for a label or GPT
 * partition, identity. */
void blk_access_decide(struct blk_dev *dev, const uint8_t *head, size_t len, bool allowed,
                       const char *boot_id);

#endif
