/* SPDX-License-Identifier: MIT */
/* tests/kernel/blktest.h — what the driver suites (ahci, nvme, virtio, ...)
 * share, written once: picking a disk fit for a case (or skipping with what
 * there is), the scratch room, DMA buffers the device can reach, pattern data
 * made from a seed and checked without a second buffer (or keyed by LBA, so a
 * block is checked on its own), a synchronous request
 * that records the failure when its cause is not the expected one, a write-
 * read-compare round trip, and draining a batch cut short by a refusal.
 *
 * Everything goes through the block interface (drivers/blk/blk.h); a suite
 * that needs a driver's internals asks the driver's own test view. */
#ifndef TESTS_KERNEL_BLKTEST_H
#define TESTS_KERNEL_BLKTEST_H
#include "drivers/blk/blk.h"
#include "kernel/memory.h"
#include "tests/harness/ktest.h"

/* Blocks a case may write: the scratch range, none when read-only. */
uint64_t bt_scratch_blocks(const struct blk_dev *dev);
/* The blocks a case may use: the scratch range when it writes, the device
 * when it only reads. */
uint64_t bt_room(const struct blk_dev *dev, bool need_write);

/* A device of the suite's own (`mine`) with room for min_blocks that the case
 * writes (need_write) or reads, the first in table order; or NULL, nothing
 * said (a case that can make do with less asks again). `usable` may exclude
 * devices kept for other cases (NULL: all of them). */
struct blk_dev *bt_pick(bool (*mine)(const struct blk_dev *dev),
                        bool (*usable)(const struct blk_dev *dev), bool need_write,
                        uint64_t min_blocks);
/* The same, or NULL after a skip that names the device with the most room
 * and what it lacks. `what` names the kind in the skip ("AHCI disk"). */
struct blk_dev *bt_pick_or_skip(struct ktest *t, bool (*mine)(const struct blk_dev *dev),
                                bool (*usable)(const struct blk_dev *dev), const char *what,
                                bool need_write, uint64_t min_blocks);

/* A DMA buffer of `bytes` the device can reach (below 4 GiB unless its
 * dma_limit is higher), owned by the case; an empty region when the free
 * memory cannot give it (the allocator is not asked, so it logs nothing). */
struct dma_region bt_buffer(struct ktest *t, const struct blk_dev *dev, uint64_t bytes);
/* The skip of a case whose buffer the memory cannot give. */
void bt_skip_no_memory(struct ktest *t, uint64_t bytes);

/* Pattern data from a seed (lib/rng), and the first byte of buf that differs
 * from it (-1: none), made again a piece at a time. */
void bt_fill(void *buf, uint64_t bytes, uint64_t seed);
int64_t bt_pattern_difference(const void *buf, uint64_t bytes, uint64_t seed);
/* Every byte is `value`. */
bool bt_all_bytes(const void *buf, uint64_t bytes, uint8_t value);

/* Pattern data keyed by LBA: every 8-byte word of a block is made from the
 * block's LBA, the word's index and a seed, so each block can be checked on
 * its own, wherever it sits (a page of a scattered buffer, the blocks kept
 * around a trimmed range), and a block of another LBA or seed is told apart.
 * `block_size` is the device's (a multiple of 8). The first block of buf
 * (0-based) that does not hold its pattern, or -1. */
void bt_fill_lba(void *buf, uint64_t lba, uint32_t blocks, uint32_t block_size, uint32_t seed);
int64_t bt_lba_pattern_difference(const void *buf, uint64_t lba, uint32_t blocks,
                                  uint32_t block_size, uint32_t seed);

static inline uint64_t bt_min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* One synchronous request; when its cause is not `want`, fails the case with
 * what was asked and what came back, and prints the failure record. */
bool bt_io_expect(struct ktest *t, struct blk_dev *dev, struct blk_request *req, enum blk_op op,
                  uint64_t lba, uint32_t count, const struct blk_seg *segs, uint32_t nsegs,
                  uint16_t flags, enum blk_cause want);

/* Writes `count` blocks of pattern `seed` at lba from one buffer, poisons it,
 * reads them back into it and compares with the pattern made again, and the
 * bytes the device says it moved. False (nothing done, nothing failed) when
 * there is no memory for the buffer. */
bool bt_round_trip(struct ktest *t, struct blk_dev *dev, uint64_t lba, uint32_t count,
                   uint64_t seed);

/* Queues n requests of `op` without a kick: request i moves `per` blocks at
 * (lba + i * per) modulo the device's blocks, from phys + i * per blocks,
 * through segs[i]. Returns n; after a refusal, fewer: the case fails naming
 * the request and its cause, and the requests queued before it are drained. */
unsigned bt_queue_batch(struct ktest *t, struct blk_dev *dev, enum blk_op op, uint64_t lba,
                        uint32_t per, uint64_t phys, struct blk_request *reqs,
                        struct blk_seg *segs, unsigned n);

/* A batch whose request `queued` was refused: the ones before it are queued
 * and would go out with the next kick, into buffers the case is about to
 * give back. Sends them now and waits for them. */
void bt_drain_queued(struct blk_dev *dev, unsigned queue, struct blk_request *reqs,
                     unsigned queued);

#endif
