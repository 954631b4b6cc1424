/* SPDX-License-Identifier: MIT */
/* lib/bench_report.h — what one benchmark job measured, and its two
 * reports (issue 13): lines for people, in fio's layout, and one JSON object
 * with fio's field names where fio has them, so scripts written for fio's
 * `--output-format=json` read it:
 *
 *   {"jobname":"randread-4k-qd32","device":"nvme0n1","kind":"nvme",
 *    "rw":"randread","bs":4096,"iodepth":32,"qpairs":1,"cpus":1,"completion":"poll",
 *    "verify":0,"elapsed_ns":...,
 *    "read":{"io_bytes":..,"io_kbytes":..,"bw_bytes":..,"bw":..,"iops":196321.125,
 *            "runtime":..,"total_ios":..,"clat_ns":{"min":..,"max":..,"mean":..,
 *            "stddev":..,"N":..,"percentile":{"1.000000":..,...,"99.990000":..}}},
 *    "write":{...the same...},
 *    "overhead_ns":{"submit":..,"doorbell":..,"complete":..},"kicks":..,"verified_blocks":..,
 *    "errors":{"total":0}}
 *
 * bw is KiB/s and runtime milliseconds, as fio reports them; iops has three
 * decimals; mean and stddev are whole nanoseconds. clat_ns runs from
 * blk_submit to blk_complete, so it holds what fio calls `lat` (submission
 * and completion): compare it with fio's lat_ns, not its clat_ns. `errors` names each cause
 * that occurred with its count ("errors":{"total":2,"timeout":2}). A job on
 * several CPUs reports their sums (I/Os, bytes, one histogram of every
 * completion, overheads) over the span from the first CPU's start to the
 * last completion on any CPU, as fio's group_reporting does; iodepth is per CPU.
 *
 * The rates are computed here, once, from exact counts (I/Os, bytes and the
 * measured nanoseconds) in 128-bit integer arithmetic: the kernel has no
 * floating point. Pure; host-tested (tests/host/test_bench_report.c). */
#ifndef LIB_BENCH_REPORT_H
#define LIB_BENCH_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/hist.h"

#define BENCH_ERROR_KINDS 8             /* distinct causes named; more are in total only */

enum bench_dir { BENCH_DIR_READ, BENCH_DIR_WRITE, BENCH_DIRS };

struct bench_dir_result {
    uint64_t ios, bytes;
    const struct hist *clat;            /* completion latency in ns; NULL: none kept */
};

struct bench_result {
    const char *job, *device, *kind;    /* "randread-4k-qd1", "nvme0n1", "nvme" */
    const char *rw;                     /* "randread" */
    uint32_t bs, iodepth, qpairs;       /* as run (iodepth may be the device's limit) */
    uint32_t cpus;                      /* CPUs that drove it, each its own queue pair */
    bool irq, verify;
    uint64_t elapsed_ns;                /* the measured phase */
    struct bench_dir_result dir[BENCH_DIRS];
    /* bareio's own time per I/O (SPDK's overhead tool's split): in
     * blk_submit, in blk_kick (the doorbell write: under emulation mostly
     * the emulator's time, which runs the device model there), and in the
     * blk_poll calls that reaped something. */
    uint64_t submit_ns, submit_ios, doorbell_ns;
    uint64_t kicks;                     /* blk_kick calls: doorbell writes, at most */
    uint64_t complete_ns, complete_ios;
    uint64_t verified_blocks;
    uint64_t errors_total;
    unsigned error_kinds;
    struct { const char *cause; uint64_t count; } errors[BENCH_ERROR_KINDS];
};

/* Counts one failed I/O under its cause's name (a static string). */
void bench_count_error(struct bench_result *r, const char *cause);
/* Adds from's failed I/Os to into's, each under its cause (several CPUs'
 * shares of one job); those from counted in its total only stay unnamed. */
void bench_merge_errors(struct bench_result *into, const struct bench_result *from);

/* I/Os per second × 1000, and bytes per second, from exact counts. 0 when
 * elapsed_ns is 0; UINT64_MAX when it does not fit. */
uint64_t bench_iops_milli(uint64_t ios, uint64_t elapsed_ns);
uint64_t bench_bw_bytes(uint64_t bytes, uint64_t elapsed_ns);

/* The JSON object (one line, no newline) into buf. Returns its length, or
 * -1 when it did not fit (then buf holds nothing usable: a cut object
 * would read as a different one). */
int bench_report_json(const struct bench_result *r, char *buf, size_t size);

/* The report for people: calls line() once per line (no newline), fio's
 * layout:
 *
 *   randread-4k-qd32 nvme0n1: rw=randread bs=4096 iodepth=32 qpairs=1 cpus=1 completion=poll
 *     read: IOPS=196.3k, BW=767MiB/s (804MB/s)(38.3MiB/0.050s)
 *       clat (nsec): min=61000, max=412000, avg=162000, stdev=12000
 *       clat percentiles (nsec): 1.00th=[..], 5.00th=[..], ...  (3 lines)
 *     bareio overhead per I/O: submit 310 ns, doorbell 900 ns, complete 220 ns
 *     errors: 0 */
typedef void (*bench_line_fn)(void *ctx, const char *line);
void bench_report_human(const struct bench_result *r, bench_line_fn line, void *ctx);

/* "196.3k", "12", "1.25M": a count with one decimal and a k/M/G suffix. */
void bench_format_count(char *buf, size_t size, uint64_t milli);

#endif
