/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_bench.c — the `bench` suite: the jobs `bench=` gives
 * (lib/bench_job.h: fields or a profile, "quick", "standard") run by the
 * engine (tests/harness/bench.h) on every device each job's dev= glob
 * matches. One parameterised case, `bench.bench_jobs`, with one parameter per
 * job and device, named "<job>-<device>"; a job whose glob matches no device
 * is a parameter of its own ("<job>-none"), skipped saying so, so a job
 * never disappears from the report.
 *
 * Each parameter prints fio's lines for people and one JSON line,
 * `bench-json: {...}` (lib/bench_report.h), which tools/bench-report and
 * `make bench` read. It passes when the job ran without a failed I/O: a
 * benchmark asserts on data (verify=1) and on errors, never on speed.
 *
 * Runs last (order 95), after the dio suite, so `make run` ends with it;
 * without bench= the suite is skipped, saying so. */
#include "drivers/blk/blk.h"
#include "kernel/cmdline.h"
#include "lib/bench_job.h"
#include "lib/bench_report.h"
#include "lib/format.h"
#include "lib/glob.h"
#include "lib/ktap.h"
#include "lib/scale.h"
#include "lib/string.h"
#include "tests/harness/bench.h"
#include "tests/harness/ktest.h"

static bool check_bench_key(const struct cmdline_key *key, const struct cmdline_value *value,
                            char *why, size_t why_size);

CMDLINE_STRING(bench_key, "bench", 1024, "",
               "benchmark jobs run last, each on every device its dev= matches (quick, standard, "
               "or fields: see README)", .check = check_bench_key,
               .value_syntax = "PROFILE|FIELD=V,...[;...]");

static struct bench_job jobs[BENCH_MAX_JOBS];
static unsigned job_count;
static bool parsed;

static bool check_bench_key(const struct cmdline_key *key, const struct cmdline_value *value,
                            char *why, size_t why_size)
{
    struct bench_job scratch[BENCH_MAX_JOBS];
    unsigned n;
    (void)key;
    return bench_jobs_parse(value->text, value->len, scratch, &n, why, why_size);
}

static void parse_once(void)
{
    if (parsed)
        return;
    parsed = true;
    char why[160];
    /* The key's check accepted it before anything ran: this cannot fail. */
    if (!bench_jobs_parse(bench_key, strlen(bench_key), jobs, &job_count, why, sizeof why))
        job_count = 0;
}

static bool bench_available(const char **reason)
{
    parse_once();
    if (!bench_key[0]) {
        *reason = "bench= not given (bench=quick, bench=standard or job fields)";
        return false;
    }
    return true;
}

static unsigned devices_of(const struct bench_job *job)
{
    unsigned n = 0;
    for (unsigned i = 0; i < blk_count(); i++)
        n += glob_match(job->dev, blk_get(i)->name);
    return n;
}

/* Parameter p: which job, and which of its devices (NULL: it matches none). */
static const struct bench_job *param_job(uint32_t p, struct blk_dev **dev)
{
    for (unsigned j = 0; j < job_count; j++) {
        unsigned n = devices_of(&jobs[j]);
        if (n == 0) {
            if (p == 0) {
                *dev = NULL;
                return &jobs[j];
            }
            p--;
            continue;
        }
        if (p >= n) {
            p -= n;
            continue;
        }
        for (unsigned i = 0; i < blk_count(); i++) {
            if (!glob_match(jobs[j].dev, blk_get(i)->name))
                continue;
            if (p-- == 0) {
                *dev = blk_get(i);
                return &jobs[j];
            }
        }
    }
    *dev = NULL;
    return NULL;
}

static uint32_t bench_param_count(void)
{
    parse_once();
    uint32_t n = 0;
    for (unsigned j = 0; j < job_count; j++) {
        unsigned d = devices_of(&jobs[j]);
        n += d ? d : 1;
    }
    return n;
}

static void bench_param_name(uint32_t p, char *buf, size_t size)
{
    struct blk_dev *dev;
    const struct bench_job *job = param_job(p, &dev);
    snprintf(buf, size, "%s-%s", job ? job->name : "?", dev ? dev->name : "none");
}

/* The case's time: the job's, and the engine's own bound on a stall after
 * it (the device's timeout and recovery). A count-bounded job gets 100 ms
 * per I/O (a device slower than 10 IOPS, or an engine that miscounts, ends
 * as a timeout instead of running on). */
#define BENCH_MS_PER_COUNTED_IO 100ull
static uint32_t job_timeout_ms(const struct bench_job *job, const struct blk_dev *dev)
{
    uint64_t ms = job->ramp_ms + ((uint64_t)dev->timeout_ms * 2 + 20000) + 10000;
    if (job->runtime_ms)
        ms += job->runtime_ms;
    else
        ms += job->number_ios > UINT32_MAX / BENCH_MS_PER_COUNTED_IO
                  ? UINT32_MAX : job->number_ios * BENCH_MS_PER_COUNTED_IO;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static void diag_line(void *ctx, const char *line) { ktest_diag(ctx, "%s", line); }

static void bench_jobs(struct ktest *t)
{
    uint32_t p = ktest_param(t);
    if (p == KTEST_NO_PARAM) {
        ktest_skip(t, "bench= gives no job");
        return;
    }
    struct blk_dev *dev;
    const struct bench_job *job = param_job(p, &dev);
    if (!job) {
        KT_FAIL(t, "parameter %u has no job (the device list changed while the suite ran)", p);
        return;
    }
    if (!dev) {
        ktest_skip(t, "dev=%s matches no block device", job->dev);
        return;
    }
    ktest_set_timeout(t, job_timeout_ms(job, dev));
    static struct bench_result r;
    if (!bench_run(t, job, dev, &r))
        return;
    bench_report_human(&r, diag_line, t);
    static char json[KTAP_LINE_MAX - 64];
    if (bench_report_json(&r, json, sizeof json) < 0) {
        KT_FAIL(t, "the JSON report did not fit in %u bytes", (unsigned)sizeof json);
        return;
    }
    ktest_diag(t, "bench-json: %s", json);
    if (r.dir[BENCH_DIR_READ].ios + r.dir[BENCH_DIR_WRITE].ios == 0 && !ktest_failed(t))
        KT_FAIL(t, "%s on %s completed no measured I/O", job->name, dev->name);
}

/* ---- the reference loop (explicit: `make bench` runs it) ---- */

CMDLINE_UINT(uint64_t, bench_bare_ios, "bench.bare_ios", 20000, 1, 1ull << 32,
             "reads per run of bench.bench_bare_loop (the engine's reference)");

#define BARE_ROUNDS_MAX 15
CMDLINE_UINT(uint32_t, bench_bare_rounds, "bench.bare_rounds", 5, 1, BARE_ROUNDS_MAX,
             "how many times bench.bench_bare_loop alternates the reference loop and the engine");

/* On every device, random 4 KiB reads at QD1 and QD32, alternately through
 * the least code the block interface allows and through the engine (the
 * same job bounded by the same I/O count), bench.bare_rounds times each so that the
 * host's drift hits both alike; one `bench-bare:` JSON line per device and
 * depth with the medians, for `make bench` to report the engine's cost. */
static void bench_bare_loop_case(struct ktest *t)
{
    static const unsigned depths[] = { 1, 32 };
    static struct bench_result r;
    unsigned ran = 0;
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *dev = blk_get(i);
        for (unsigned k = 0; k < sizeof depths / sizeof depths[0]; k++) {
            struct bench_job job = { .dev = "*", .rw = BENCH_RANDREAD, .bs = 4096,
                                     .iodepth = depths[k], .qpairs = 1,
                                     .number_ios = bench_bare_ios };
            snprintf(job.name, sizeof job.name, "randread-4k-qd%u", depths[k]);
            uint64_t bare[BARE_ROUNDS_MAX], engine[BARE_ROUNDS_MAX], bare_kicks = 0, kicks = 0;
            bool ok = true;
            for (unsigned n = 0; n < bench_bare_rounds && ok; n++) {
                uint64_t ns = 0, k = 0;
                ok = bench_bare_loop(t, dev, job.bs, job.iodepth, bench_bare_ios, &ns, &k) &&
                     bench_run(t, &job, dev, &r) && !ktest_failed(t);
                bare_kicks += k;
                kicks += r.kicks;
                bare[n] = bench_iops_milli(bench_bare_ios, ns) / 1000;
                engine[n] = bench_iops_milli(r.dir[BENCH_DIR_READ].ios, r.elapsed_ns) / 1000;
            }
            if (!ok)
                continue;
            ran++;
            uint64_t b = median_u64(bare, bench_bare_rounds), e = median_u64(engine, bench_bare_rounds);
            ktest_diag(t, "bench-bare: {\"jobname\":\"%s\",\"device\":\"%s\",\"kind\":\"%s\","
                       "\"total_ios\":%llu,\"rounds\":%u,\"bare_iops\":%llu,\"engine_iops\":%llu,"
                       "\"engine_per_mille\":%llu,\"bare_kicks\":%llu,\"engine_kicks\":%llu}", job.name,
                       dev->name, dev->kind,
                       (unsigned long long)bench_bare_ios, bench_bare_rounds, (unsigned long long)b,
                       (unsigned long long)e, (unsigned long long)(b ? e * 1000 / b : 0),
                       (unsigned long long)bare_kicks, (unsigned long long)kicks);
        }
    }
    if (!ran && !ktest_failed(t))
        ktest_skip(t, "no device took the reference loop");
}

static const struct ktest_case bench_cases[] = {
    KTEST_CASE_PARAMS(bench_jobs, bench_param_count, bench_param_name),
    { .name = "bench_bare_loop", .fn = bench_bare_loop_case, .timeout_ms = 600000,
      .flags = KTEST_EXPLICIT },
};
KTEST_SUITE_FULL(bench, 95, bench_cases, bench_available);
