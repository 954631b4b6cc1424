/* SPDX-License-Identifier: MIT */
/* tests/harness/bench.h — the benchmark engine (issue 13): runs one job
 * (lib/bench_job.h) on one block device and fills in what it measured
 * (lib/bench_report.h). The `bench` suite (tests/kernel/test_bench.c) runs
 * it once per job and device, each a KTAP case of its own.
 *
 * The fast path is what a user of the block interface would write, with
 * nothing in the way:
 * - every request, segment and data buffer is set up before the clock
 *   starts (one DMA region sliced per slot, one array of slots); nothing is
 *   allocated, formatted or printed per I/O;
 * - a queue pair is filled, then kicked once (one doorbell or PxCI write);
 *   each poll's completions come back through the request's done() onto a
 *   per-queue list (the engine never scans the queue), are counted, and are
 *   resubmitted with one kick for the batch;
 * - completion=poll: interrupts are off while the job runs, and blk_poll()
 *   reaps (the drivers poll when the caller holds interrupts off, whatever
 *   their mode); completion=irq: the drivers' interrupt handlers complete
 *   the requests and the engine only watches the slots (blk_poll() is
 *   called when nothing has completed for a millisecond, so a missing
 *   interrupt or a deadline is still noticed); between interrupts an AP
 *   that its queues' interrupts reach (blk_wait_spins_why()) sleeps
 *   (HLT, bounded by its own LAPIC timer at that millisecond: kernel/smp.h
 *   smp_halt_until()), so CPUs that wait leave the host's cores to the
 *   device model; the BSP and any other CPU spin;
 * - latency is the block layer's own stamps (submit_ns at blk_submit,
 *   complete_ns at blk_complete, from the TSC) into a log-linear histogram
 *   (lib/hist.h); bareio's own time is the TSC around blk_submit, around
 *   blk_kick and around the blk_poll calls that reaped something (four TSC
 *   reads per batch; the phases are kept in TSC ticks).
 *
 * bench_bare_loop() is the reference the engine is held to: the same
 * requests through a loop that only resubmits them (bench.bench_bare_loop
 * alternates the two and prints both).
 *
 * What it refuses, before any I/O: a write job on a device that is not
 * scratch or outside its scratch range (the block layer's write gate is
 * still there behind it), a block size that is not a multiple of the
 * device's, a range that holds no block of the job. A job's writes replace
 * what the dio suite stamped there, so the range a write job used is taken
 * out of the run's manifest (dio_forget). The first failed I/O stops the
 * job (fio's default): the failure record is printed and the causes of
 * every failed I/O counted. */
#ifndef TESTS_HARNESS_BENCH_H
#define TESTS_HARNESS_BENCH_H
#include <stdbool.h>
#include "drivers/blk/blk.h"
#include "lib/bench_job.h"
#include "lib/bench_report.h"

struct ktest;

/* Runs `job` on `dev`. Returns true when it ran (then *r holds the
 * figures, its histograms valid until the next call, and the case has
 * failed if an I/O did); false when the job does not apply to the device
 * (the case is then skipped, saying why) or could not be set up (the case
 * failed, saying why). */
bool bench_run(struct ktest *t, const struct bench_job *job, struct blk_dev *dev,
               struct bench_result *r);

/* The reference the engine is held to: `ios` random reads of `bs` bytes
 * at `depth` on queue 0, with nothing done per I/O but resubmitting it
 * (no latency, no counts). *elapsed_ns from the first submission to the
 * last completion; *kicks the blk_kick calls. False when it does not apply (skipped) or failed. */
bool bench_bare_loop(struct ktest *t, struct blk_dev *dev, uint32_t bs, unsigned depth,
                     uint64_t ios, uint64_t *elapsed_ns, uint64_t *kicks);

#endif
