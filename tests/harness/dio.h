/* SPDX-License-Identifier: MIT */
/* tests/harness/dio.h — the direct-I/O harness engine: what the `dio` test suite
 * builds on. Per block device it keeps a DMA buffer pool (allocated once), the
 * stamp key of the run, an extent map of what it wrote (lib/stamp.h), and a
 * tally of test outcomes and the causes of failures. It writes stamped data,
 * reads it back and classifies every miscompare; it prints the summary table
 * before the KTAP END banner and the manifest of every device written at the
 * end of the run (format in tools/verify-image's documentation). */
#ifndef KERNEL_DIO_H
#define KERNEL_DIO_H
#include <stdbool.h>
#include <stdint.h>
#include "drivers/blk/blk.h"
#include "kernel/memory.h"
#include "kernel/console.h"
#include "lib/stamp.h"

#define DIO_POOL_BYTES      (4u * 1024 * 1024)  /* the largest transfer tested */
#define DIO_POOL_SLACK      (16u * 1024)        /* room to offset a buffer in its pages */
#define DIO_POOL_RESERVE    (64ull << 20)       /* kept free for the cases' own buffers */
#define DIO_MAP_CAPACITY    2048
#define DIO_MISCOMPARE_RECORDS 4                /* full records per request; the rest counted */
#define DIO_CAPTURE_BYTES   (64u * 1024)        /* one device's output in one case, run in parallel */

struct ktest;

struct dio_tally {
    unsigned passed, failed, skipped;
    uint32_t cause_counts[BLK_CAUSE_COUNT];
};

struct dio_dev {
    struct blk_dev *dev;
    struct dma_region wbuf, rbuf;   /* DIO_POOL_BYTES + DIO_POOL_SLACK each; below 4 GiB */
    bool pool_borrowed;             /* wbuf/rbuf are another device's (memory was short) */
    struct stamp_map map;
    struct stamp_extent ext[DIO_MAP_CAPACITY];
    uint64_t next_gen;
    uint64_t region_next;           /* where dio_region() hands out blocks next */
    bool written;
    struct dio_tally tally;
    /* The running case's verdict on this device. */
    bool case_failed, case_skipped;
    /* The parallel pass (dio_for_each with several CPUs online): */
    char *capture_buf;              /* DIO_CAPTURE_BYTES, or NULL: never run on another CPU */
    struct console_capture capture; /* its output while it runs there */
    void *standin_mem;              /* its stand-in for the case (tests/harness/ktest.h) */
    struct ktest *standin;
    bool in_pass;                   /* taken into the running pass */
    bool bsp_only;                  /* in it, but run by the BSP (see dio_for_each) */
    volatile bool deferred;         /* its worker could not bind it: the BSP runs it after */
    volatile uint32_t started, finished;    /* by the worker that took it */
    volatile uint32_t ran_on;       /* that worker's CPU index */
    volatile bool busy;             /* still running for a case abandoned at its timeout */
};

/* Once, before the first dio case: seed, per-device state and buffer pools.
 * False when there is no block device (reason set). */
bool dio_prepare(const char **reason);
unsigned dio_count(void);
struct dio_dev *dio_at(unsigned i);
uint64_t dio_seed(void);
/* Blocks the pool holds for this device. */
uint32_t dio_pool_blocks(const struct dio_dev *d);

/* Runs fn for every device (writable ones only when `write_test`; read-only
 * devices are then skipped with the reason from dev->access), and tallies the
 * device's outcome. The case is skipped when every device skipped.
 *
 * With several CPUs online (and dio.parallel=on, the default) the devices
 * run at once, one device per CPU, the BSP among them: the devices of one
 * blk_dev.cpu_group one after another on one CPU; a device whose driver
 * is not safe from any CPU (blk_dev.any_cpu false) and takes interrupts has
 * them moved to the CPU that drives it (blk_ops.bind_cpu) and back to the
 * BSP after, or runs on the BSP when they cannot move; a device borrowing
 * another's buffer pool runs on the BSP after the others. Each gets a stand-in
 * for t (its own verdict and buffers) and its console output is captured
 * and written out whole, in device order, so the report reads exactly as a
 * run one device after another would, only sooner. fn must therefore keep
 * its state in d, on its stack or in its own buffers, never in statics. */
typedef void (*dio_dev_fn)(struct ktest *t, struct dio_dev *d);
void dio_for_each(struct ktest *t, bool write_test, dio_dev_fn fn);

/* In a parallel pass, waits (at most wait_ms) until a device of the pass has
 * started on a CPU other than the caller's: false when none did (no pass, or
 * the other CPUs were too slow to take one; the caller's CPU may have taken
 * them all). For cases that need an AP to act while the BSP's device waits. */
bool dio_pass_wait_for_another_cpu(uint32_t wait_ms);

/* A failure on device d, attributed to `cause` (BLK_OK: no I/O cause). */
void dio_fail_at(struct ktest *t, struct dio_dev *d, enum blk_cause cause, const char *file,
                 int line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define DIO_FAIL(t, d, cause, ...) dio_fail_at((t), (d), (cause), __FILE__, __LINE__, __VA_ARGS__)
/* This device does not apply to the running case. */
void dio_skip(struct ktest *t, struct dio_dev *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* `n` blocks of scratch space no other part of the running case uses (they
 * wrap around the scratch range). */
uint64_t dio_region(struct dio_dev *d, uint64_t n);

/* A new write generation; the stamp key for it. */
uint64_t dio_new_gen(struct dio_dev *d);
struct stamp_key dio_key(const struct dio_dev *d, uint64_t gen);
/* Fills count blocks at buf with the stamps of lba.. under generation gen. */
void dio_stamp(const struct dio_dev *d, void *buf, uint64_t lba, uint32_t count, uint64_t gen);
/* After a write/zeroing completed: the map says what the blocks hold now. */
void dio_record(struct dio_dev *d, uint64_t lba, uint64_t count, enum stamp_extent_kind kind,
                uint64_t gen);
/* Content no longer known (trim without the zeroes promise). */
void dio_forget(struct dio_dev *d, uint64_t lba, uint64_t count);
/* After a trim completed on a device whose deallocated blocks read as zeroes
 * (BLK_CAP_TRIM_ZEROES): deallocation is advisory, so each block may read as
 * zeroes or as what it held before (lib/stamp.h, stamp_map_deallocate()). */
void dio_deallocate(struct dio_dev *d, uint64_t lba, uint64_t count);

/* Fills `len` bytes with a poison pattern (neither zero nor a stamp), so a
 * read that moved no data cannot pass. */
void dio_poison(void *buf, uint64_t len);

/* Checks what a completed read brought into buf against the map: stamped
 * blocks against their stamp, zero ranges against zero, deallocated blocks
 * against zeroes or their previous stamp (the ones that kept it are said in a
 * diagnostic, "deallocate not honoured (advisory)", not failed); blocks the
 * map does not know are not checked. Each miscompare becomes a failure record
 * (the request, first differing byte, classification). Returns the blocks
 * that miscompared. */
unsigned dio_verify(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                    const void *buf, const char *what);

/* The same, every block against one fixed key (dio.expect=). */
unsigned dio_verify_key(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                        const void *buf, const struct stamp_key *k, const char *what);

/* A request that failed: the structured record, and the cause counted. */
void dio_io_failed(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                   const char *what);

/* One synchronous request on a contiguous piece of a pool buffer. */
enum blk_cause dio_io(struct dio_dev *d, struct blk_request *req, struct blk_seg *seg,
                      enum blk_op op, uint64_t lba, uint32_t count, const struct dma_region *buf,
                      uint64_t offset, uint16_t flags);
/* Stamps with a new generation, writes, records: true on success (failures
 * reported). A failed write leaves its range unknown: out of the map, so out
 * of the manifest. After a media error the stamps are written again block by
 * block: the blocks that land are recorded, the failing ones are named. */
bool dio_write_stamped(struct ktest *t, struct dio_dev *d, uint64_t lba, uint32_t count,
                       uint16_t flags, const char *what);
/* Reads into the read pool (poisoned first) and verifies against the map.
 * After a media error the range is read block by block, naming the failing
 * blocks and verifying the others. Nothing is retried to hide an error: a
 * fault that does not repeat still fails the case (drivers may retry what
 * their spec says is retryable, e.g. NVMe statuses with DNR clear). */
bool dio_read_verify(struct ktest *t, struct dio_dev *d, uint64_t lba, uint32_t count,
                     const char *what);

/* The table before KTAP END: per device passed/failed/skipped and causes, and
 * controllers that failed bring-up. */
void dio_print_summary(void);
/* The manifest of every device written (after the run). */
void dio_print_manifests(void);
/* Returns the pools (end of run). */
void dio_release(void);

/* dio.expect=LBA:COUNT:SEED:GEN, parsed; false when not given. */
bool dio_expect(uint64_t *lba, uint64_t *count, uint64_t *seed, uint64_t *gen);

/* Maps a stamp verdict to the block layer's cause list. */
enum blk_cause dio_stamp_cause(enum stamp_status status);

#endif
