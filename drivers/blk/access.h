/* drivers/blk/access.h — the rule that decides whether bareio may write a
 * device, kept apart from the block layer's I/O so it is pure and unit-tested
 * on the host (tests/host/test_blk_access.c). blk.c reads the device's first
 * BLK_ACCESS_SPAN bytes and hands them over at registration.
 *
 * First rule that applies wins:
 *   1. the boot medium is never written, not even with a label or allow_write=
 *      (tools/mkiso writes "BAREIO_<id>" as the ISO 9660 volume id and
 *      bootid=<id> on the kernel command line);
 *   2. a scratch label (lib/scratch.h) confines writes to its data range and
 *      gives the device its identity (the label's UUID);
 *   3. a GPT partition with bareio's type GUID (lib/gpt.h) confines writes to
 *      that partition; identity: the partition's unique GUID;
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

/* Sets dev->writable, boot_device, write_first/write_end, access (the reason
 * in words) and, for a label or GPT partition, identity. `head` holds the
 * device's first `len` bytes (all of it when the device is smaller than
 * BLK_ACCESS_SPAN); `allowed`: allow_write= matches the device's serial;
 * `boot_id`: the bootid= value ("" when not given). */
void blk_access_decide(struct blk_dev *dev, const uint8_t *head, size_t len, bool allowed,
                       const char *boot_id);

#endif
