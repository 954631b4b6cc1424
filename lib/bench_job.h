/* SPDX-License-Identifier: MIT */
/* lib/bench_job.h — benchmark jobs as the command line gives them (issue 13):
 *
 *   bench=JOB[;JOB]...        at most BENCH_MAX_JOBS jobs
 *   JOB  = PROFILE | FIELD[,FIELD]...
 *   FIELD = name=VALUE        fio's names where fio has one
 *
 *   name=TEXT        the job's name (default: "<rw>-<bs>-qd<iodepth>", e.g. "randread-4k-qd32")
 *   dev=GLOB         the devices it runs on (default "*": every device)
 *   rw=read|write|randread|randwrite|randrw   (default read, as fio's)
 *   rwmixread=PCT    randrw only: the share of reads, 0..100 (default 50)
 *   bs=SIZE          bytes per I/O: 512..1M, a multiple of 512 (default 4k)
 *   iodepth=N        I/Os in flight per queue pair, 1..1024 (default 1)
 *   qpairs=N         queue pairs, 1..64 (default 1)
 *   runtime=TIME     how long it measures, 1ms..1h (default 1s unless number_ios is given;
 *                    not both)
 *   number_ios=N     or how many I/Os it completes (1..2^40)
 *   ramp_time=TIME   I/O before measuring starts, 0..1h (default 0)
 *   completion=poll|irq   (default poll)
 *   verify=0|1       read data checked against the stamps (default 0); only for
 *                    read and randread: a benchmark's writes carry no stamps
 *   offset=SIZE      where its LBA range starts on the device (default 0)
 *   size=SIZE        how long it is (default: to the end; writes: the scratch range)
 *   cpus=N|all       how many CPUs drive the device at once, each its own queue pair
 *                    (blk_queue_of_cpu) with iodepth I/Os in flight, as fio's numjobs
 *                    (default 1: the BSP alone); 1..BENCH_CPUS_MAX; not with qpairs > 1.
 *                    The device's driver must take requests from any CPU (blk_dev.any_cpu)
 *                    and a count-bounded job shares number_ios out among the CPUs
 *
 *   SIZE: a decimal number with an optional k, m, g suffix (x 2^10, 2^20,
 *   2^30, either case; fio's). TIME: a number with ms or s (no suffix: s).
 *   PROFILE: "quick" (randread 4k at QD1 and QD32, 2000 I/Os each: what
 *   `make run` ends with) or "standard" (the four jobs of the table,
 *   2 s each: randread-4k-qd1, randread-4k-qd32, randwrite-4k-qd32,
 *   read-128k-qd8).
 *
 * Job names must differ (each becomes a KTAP case and a JSON jobname);
 * offset and size are taken as given: the engine checks them against the
 * device's block size and capacity.
 *
 * Parsing is all-or-nothing: on any error nothing is returned but the first
 * error, naming the job (by number, from 1) and the field as written, e.g.
 * `bench: job 2: bs=3000: not a multiple of 512`. Pure, host-tested
 * (tests/host/test_bench_job.c). */
#ifndef LIB_BENCH_JOB_H
#define LIB_BENCH_JOB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_JOBS 16
#define BENCH_NAME_MAX 32
#define BENCH_DEV_MAX 32
#define BENCH_CPUS_MAX 1024

enum bench_rw { BENCH_READ, BENCH_WRITE, BENCH_RANDREAD, BENCH_RANDWRITE, BENCH_RANDRW };

struct bench_job {
    char name[BENCH_NAME_MAX];
    char dev[BENCH_DEV_MAX];        /* a glob (lib/glob.h) */
    enum bench_rw rw;
    uint32_t rwmixread;             /* percent of reads (randrw) */
    uint32_t bs;                    /* bytes */
    uint32_t iodepth;
    uint32_t qpairs;
    uint32_t cpus;                  /* cpus=: 0 for all online, 1 (the default) the BSP alone */
    uint64_t runtime_ms;            /* 0 when number_ios bounds it */
    uint64_t number_ios;            /* 0 when runtime bounds it */
    uint64_t ramp_ms;
    bool irq;                       /* completion=irq */
    bool verify;
    uint64_t offset, size;          /* bytes; size 0: the default range */
};

/* Parses `text` (the value of bench=, not terminated: `len` bytes) into
 * jobs[0..*count). Returns true, or false with `why` set (and *count 0). */
bool bench_jobs_parse(const char *text, size_t len, struct bench_job jobs[BENCH_MAX_JOBS],
                      unsigned *count, char *why, size_t why_size);

/* "randread", "write", ... */
const char *bench_rw_name(enum bench_rw rw);
/* Writes happen (write, randwrite, randrw). */
bool bench_rw_writes(enum bench_rw rw);

#endif
