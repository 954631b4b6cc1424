/* SPDX-License-Identifier: MIT */
/* tests/host/test_bench_job.c — lib/bench_job.c, the bench= parser: every
 * field with its units, every default, both profiles as they expand, the
 * limits at their edges, the exact wording of each error, and that the
 * parser reads only the `len` bytes it is given (each text is parsed from a
 * heap buffer of exactly its length, so ASan sees a read past it). */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/bench_job.h"
#include <stdlib.h>

static struct bench_job jobs[BENCH_MAX_JOBS];
static unsigned count;
static char why[512];

/* Parses `text` without its terminator, from a buffer that ends with it. */
static bool parse(const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    count = 99;
    bool ok = bench_jobs_parse(copy, len, jobs, &count, why, sizeof why);
    free(copy);
    return ok;
}

static void expect_jobs(const char *text, unsigned want, int line)
{
    if (!parse(text) || count != want)
        htest_fail(__FILE__, line, "bench=%s: %u jobs, \"%s\"; wanted %u jobs", text, count, why,
                   want);
    else if (why[0])
        htest_fail(__FILE__, line, "bench=%s: parsed but why is \"%s\"", text, why);
}
#define EXPECT_JOBS(text, want) expect_jobs(text, want, __LINE__)

static void expect_error(const char *text, const char *message, int line)
{
    bool ok = parse(text);
    if (ok || count != 0 || strcmp(why, message) != 0)
        htest_fail(__FILE__, line, "bench=%s: %s, count %u, \"%s\"; wanted \"%s\"", text,
                   ok ? "parsed" : "refused", count, why, message);
}
#define EXPECT_ERROR(text, message) expect_error(text, message, __LINE__)

/* A job as the profiles and the defaults make it. */
static void expect_job(const struct bench_job *j, const char *name, enum bench_rw rw, uint32_t bs,
                       uint32_t iodepth, uint64_t runtime_ms, uint64_t number_ios, int line)
{
    if (strcmp(j->name, name) != 0 || strcmp(j->dev, "*") != 0 || j->rw != rw ||
        j->rwmixread != 50 || j->bs != bs || j->iodepth != iodepth || j->qpairs != 1 || j->cpus != 1 ||
        j->runtime_ms != runtime_ms || j->number_ios != number_ios || j->ramp_ms != 0 || j->irq ||
        j->verify || j->offset != 0 || j->size != 0)
        htest_fail(__FILE__, line, "job %s dev %s rw %d mix %u bs %u qd %u qpairs %u runtime %llu "
                   "ios %llu ramp %llu irq %d verify %d offset %llu size %llu; wanted %s", j->name,
                   j->dev, (int)j->rw, j->rwmixread, j->bs, j->iodepth, j->qpairs,
                   (unsigned long long)j->runtime_ms, (unsigned long long)j->number_ios,
                   (unsigned long long)j->ramp_ms, j->irq, j->verify,
                   (unsigned long long)j->offset, (unsigned long long)j->size, name);
}
#define EXPECT_JOB(j, name, rw, bs, qd, runtime, ios) \
    expect_job(j, name, rw, bs, qd, runtime, ios, __LINE__)

/* ---- accepted jobs ---- */

HTEST(bench_job_defaults)
{
    EXPECT_JOBS("rw=randread", 1);
    EXPECT_JOB(&jobs[0], "randread-4k-qd1", BENCH_RANDREAD, 4096, 1, 1000, 0);
    EXPECT_JOBS("dev=*", 1);
    EXPECT_JOB(&jobs[0], "read-4k-qd1", BENCH_READ, 4096, 1, 1000, 0);
}

HTEST(bench_job_every_field_is_stored)
{
    EXPECT_JOBS("name=My.job_1-x,dev=nvme*,rw=randrw,rwmixread=70,bs=128K,iodepth=32,qpairs=4,"
                "runtime=500ms,ramp_time=2s,completion=irq,verify=0,offset=1M,size=3g", 1);
    const struct bench_job *j = &jobs[0];
    HT_EXPECT_STREQ(j->name, "My.job_1-x");
    HT_EXPECT_STREQ(j->dev, "nvme*");
    HT_EXPECT_EQ(j->rw, BENCH_RANDRW);
    HT_EXPECT_EQ(j->rwmixread, 70);
    HT_EXPECT_EQ(j->bs, 128 * 1024);
    HT_EXPECT_EQ(j->iodepth, 32);
    HT_EXPECT_EQ(j->qpairs, 4);
    HT_EXPECT_EQ(j->runtime_ms, 500);
    HT_EXPECT_EQ(j->number_ios, 0);
    HT_EXPECT_EQ(j->ramp_ms, 2000);
    HT_EXPECT(j->irq);
    HT_EXPECT(!j->verify);
    HT_EXPECT_EQ(j->offset, 1u << 20);
    HT_EXPECT_EQ(j->size, 3ull << 30);
}

HTEST(bench_job_fields_in_any_order)
{
    EXPECT_JOBS("rwmixread=0,iodepth=2,rw=randrw,completion=poll,verify=0", 1);
    HT_EXPECT_EQ(jobs[0].rw, BENCH_RANDRW);
    HT_EXPECT_EQ(jobs[0].rwmixread, 0);
    HT_EXPECT(!jobs[0].irq);
    HT_EXPECT(!jobs[0].verify);
    HT_EXPECT_STREQ(jobs[0].name, "randrw-4k-qd2");
}

HTEST(bench_job_sizes_with_units)
{
    static const struct { const char *text; uint64_t bs, offset; } cases[] = {
        { "bs=4k", 4096, 0 }, { "bs=4K", 4096, 0 }, { "bs=1M", 1 << 20, 0 },
        { "bs=1m", 1 << 20, 0 }, { "bs=512", 512, 0 }, { "bs=128k", 128 << 10, 0 },
        { "bs=0004096", 4096, 0 }, { "offset=2g", 4096, 2ull << 30 },
        { "offset=2G", 4096, 2ull << 30 }, { "offset=0", 4096, 0 }, { "offset=1000", 4096, 1000 },
        { "offset=18446744073709551615", 4096, UINT64_MAX },
        { "offset=17179869183g", 4096, 17179869183ull << 30 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool ok = parse(cases[i].text);
        if (!ok || jobs[0].bs != cases[i].bs || jobs[0].offset != cases[i].offset)
            htest_fail(__FILE__, __LINE__, "%s: \"%s\", bs %u offset %llu", cases[i].text, why,
                       jobs[0].bs, (unsigned long long)jobs[0].offset);
    }
    EXPECT_JOBS("size=12345", 1);
    HT_EXPECT_EQ(jobs[0].size, 12345);
}

HTEST(bench_job_times_with_units)
{
    static const struct { const char *text; uint64_t runtime_ms, ramp_ms; } cases[] = {
        { "runtime=500ms", 500, 0 }, { "runtime=2s", 2000, 0 }, { "runtime=2", 2000, 0 },
        { "runtime=2S", 2000, 0 }, { "runtime=7MS", 7, 0 }, { "runtime=1ms", 1, 0 },
        { "runtime=3600", 3600000, 0 }, { "runtime=3600000ms", 3600000, 0 },
        { "ramp_time=0", 1000, 0 }, { "ramp_time=250ms", 1000, 250 },
        { "ramp_time=3600s", 1000, 3600000 }, { "ramp_time=3", 1000, 3000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool ok = parse(cases[i].text);
        if (!ok || jobs[0].runtime_ms != cases[i].runtime_ms || jobs[0].ramp_ms != cases[i].ramp_ms)
            htest_fail(__FILE__, __LINE__, "%s: \"%s\", runtime %llu ramp %llu", cases[i].text, why,
                       (unsigned long long)jobs[0].runtime_ms, (unsigned long long)jobs[0].ramp_ms);
    }
}

HTEST(bench_job_number_ios_replaces_the_default_runtime)
{
    EXPECT_JOBS("number_ios=5000", 1);
    HT_EXPECT_EQ(jobs[0].number_ios, 5000);
    HT_EXPECT_EQ(jobs[0].runtime_ms, 0);
    EXPECT_JOBS("number_ios=1", 1);
    HT_EXPECT_EQ(jobs[0].number_ios, 1);
    EXPECT_JOBS("number_ios=1099511627776", 1);
    HT_EXPECT_EQ(jobs[0].number_ios, 1ull << 40);
    EXPECT_JOBS("runtime=3", 1);
    HT_EXPECT_EQ(jobs[0].number_ios, 0);
}

HTEST(bench_job_default_name_writes_bs_as_fio)
{
    static const struct { const char *text, *name; } cases[] = {
        { "bs=512", "read-512-qd1" }, { "bs=4k", "read-4k-qd1" },
        { "bs=131072", "read-128k-qd1" }, { "bs=1024k", "read-1m-qd1" },
        { "bs=1536", "read-1536-qd1" }, { "bs=3072", "read-3k-qd1" },
        { "bs=1047552", "read-1023k-qd1" }, { "rw=write,iodepth=8", "write-4k-qd8" },
        { "rw=randwrite,iodepth=1024,bs=1m", "randwrite-1m-qd1024" },
        { "rw=randrw,bs=523776,iodepth=1000", "randrw-523776-qd1000" },
        { "name=mine,bs=1m", "mine" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool ok = parse(cases[i].text);
        if (!ok || strcmp(jobs[0].name, cases[i].name) != 0)
            htest_fail(__FILE__, __LINE__, "%s: \"%s\", name \"%s\"; wanted \"%s\"", cases[i].text,
                       why, jobs[0].name, cases[i].name);
    }
}

HTEST(bench_job_quick_profile)
{
    EXPECT_JOBS("quick", 2);
    EXPECT_JOB(&jobs[0], "randread-4k-qd1", BENCH_RANDREAD, 4096, 1, 0, 2000);
    EXPECT_JOB(&jobs[1], "randread-4k-qd32", BENCH_RANDREAD, 4096, 32, 0, 2000);
}

HTEST(bench_job_standard_profile)
{
    EXPECT_JOBS("standard", 4);
    EXPECT_JOB(&jobs[0], "randread-4k-qd1", BENCH_RANDREAD, 4096, 1, 2000, 0);
    EXPECT_JOB(&jobs[1], "randread-4k-qd32", BENCH_RANDREAD, 4096, 32, 2000, 0);
    EXPECT_JOB(&jobs[2], "randwrite-4k-qd32", BENCH_RANDWRITE, 4096, 32, 2000, 0);
    EXPECT_JOB(&jobs[3], "read-128k-qd8", BENCH_READ, 128 * 1024, 8, 2000, 0);
}

HTEST(bench_job_profile_mixed_with_jobs)
{
    EXPECT_JOBS("quick;dev=nvme*,rw=read,bs=128k,iodepth=8", 3);
    EXPECT_JOB(&jobs[0], "randread-4k-qd1", BENCH_RANDREAD, 4096, 1, 0, 2000);
    EXPECT_JOB(&jobs[1], "randread-4k-qd32", BENCH_RANDREAD, 4096, 32, 0, 2000);
    HT_EXPECT_STREQ(jobs[2].name, "read-128k-qd8");
    HT_EXPECT_STREQ(jobs[2].dev, "nvme*");
    HT_EXPECT_EQ(jobs[2].runtime_ms, 1000);

    EXPECT_JOBS("rw=write;standard;rw=randread,iodepth=2", 6);
    HT_EXPECT_STREQ(jobs[0].name, "write-4k-qd1");
    HT_EXPECT_STREQ(jobs[1].name, "randread-4k-qd1");
    HT_EXPECT_STREQ(jobs[4].name, "read-128k-qd8");
    HT_EXPECT_STREQ(jobs[5].name, "randread-4k-qd2");
}

HTEST(bench_job_rw_names_and_writes)
{
    static const struct { const char *word; enum bench_rw rw; bool writes; } cases[] = {
        { "read", BENCH_READ, false }, { "write", BENCH_WRITE, true },
        { "randread", BENCH_RANDREAD, false }, { "randwrite", BENCH_RANDWRITE, true },
        { "randrw", BENCH_RANDRW, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[32];
        snprintf(text, sizeof text, "rw=%s", cases[i].word);
        HT_EXPECT(parse(text));
        HT_EXPECT_EQ(jobs[0].rw, cases[i].rw);
        HT_EXPECT_STREQ(bench_rw_name(cases[i].rw), cases[i].word);
        HT_EXPECT_EQ(bench_rw_writes(cases[i].rw), cases[i].writes);
    }
    HT_EXPECT_STREQ(bench_rw_name((enum bench_rw)99), "unknown");
}

/* A benchmark's writes carry no stamps, so only a job that only reads can
 * check what it reads. */
HTEST(bench_job_verify_only_for_reads)
{
    EXPECT_JOBS("rw=randread,verify=1", 1);
    HT_EXPECT(jobs[0].verify);
    EXPECT_JOBS("verify=1", 1);
    HT_EXPECT(jobs[0].verify);
    EXPECT_ERROR("rw=write,verify=1", "bench: job 1: verify=1: only for jobs that only read "
                 "(this job is rw=write: what it writes is not stamped)");
    EXPECT_ERROR("quick;verify=1,rw=randrw", "bench: job 2: verify=1: only for jobs that only "
                 "read (this job is rw=randrw: what it writes is not stamped)");
    EXPECT_JOBS("rw=randwrite,verify=0", 1);
}

/* ---- limits at their edges ---- */

/* "name=jN,rw=read;" n times, then `tail`. */
static void named_jobs(char *buf, size_t size, unsigned n, const char *tail)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, size - len, "name=j%u,rw=read;", i + 1);
    snprintf(buf + len, size - len, "%s", tail);
}

HTEST(bench_job_limit_is_max_jobs)
{
    char text[1024];
    named_jobs(text, sizeof text, BENCH_MAX_JOBS - 1, "name=last");
    EXPECT_JOBS(text, BENCH_MAX_JOBS);
    HT_EXPECT_STREQ(jobs[BENCH_MAX_JOBS - 1].name, "last");
    named_jobs(text, sizeof text, BENCH_MAX_JOBS, "name=last");
    EXPECT_ERROR(text, "bench: job 17: too many jobs (at most 16)");
}

HTEST(bench_job_limit_counts_profile_jobs)
{
    char text[1024];
    named_jobs(text, sizeof text, BENCH_MAX_JOBS - 4, "standard");
    EXPECT_JOBS(text, BENCH_MAX_JOBS);
    named_jobs(text, sizeof text, BENCH_MAX_JOBS - 3, "standard");
    EXPECT_ERROR(text, "bench: job 14: standard: too many jobs (at most 16, a profile counting as "
                       "its jobs)");
    EXPECT_ERROR("standard;name=a;name=b;name=c;name=d;name=e;name=f;name=g;name=h;name=i;"
                 "name=j;name=k;name=l;name=m",
                 "bench: job 14: too many jobs (at most 16, a profile counting as its jobs)");
}

HTEST(bench_job_bs_edges)
{
    EXPECT_JOBS("bs=512", 1);
    EXPECT_JOBS("bs=1m", 1);
    EXPECT_JOBS("bs=1048576", 1);
    EXPECT_ERROR("bs=1049088", "bench: job 1: bs=1049088: out of range (512..1m)");
    EXPECT_ERROR("bs=511", "bench: job 1: bs=511: out of range (512..1m)");
    EXPECT_ERROR("bs=0", "bench: job 1: bs=0: out of range (512..1m)");
    EXPECT_ERROR("bs=2m", "bench: job 1: bs=2m: out of range (512..1m)");
    EXPECT_ERROR("bs=1g", "bench: job 1: bs=1g: out of range (512..1m)");
    EXPECT_ERROR("rw=read;bs=3000", "bench: job 2: bs=3000: not a multiple of 512");
    EXPECT_ERROR("bs=1025", "bench: job 1: bs=1025: not a multiple of 512");
}

HTEST(bench_job_count_edges)
{
    EXPECT_JOBS("iodepth=1", 1);
    EXPECT_JOBS("iodepth=1024", 1);
    HT_EXPECT_EQ(jobs[0].iodepth, 1024);
    EXPECT_ERROR("iodepth=1025", "bench: job 1: iodepth=1025: out of range (1..1024)");
    EXPECT_ERROR("iodepth=0", "bench: job 1: iodepth=0: out of range (1..1024)");
    EXPECT_JOBS("qpairs=64", 1);
    EXPECT_ERROR("qpairs=65", "bench: job 1: qpairs=65: out of range (1..64)");
    EXPECT_ERROR("qpairs=0", "bench: job 1: qpairs=0: out of range (1..64)");
    EXPECT_JOBS("rw=randrw,rwmixread=100", 1);
    EXPECT_ERROR("rw=randrw,rwmixread=101", "bench: job 1: rwmixread=101: out of range (0..100)");
    EXPECT_ERROR("number_ios=0", "bench: job 1: number_ios=0: out of range (1..2^40)");
    EXPECT_ERROR("number_ios=1099511627777",
                 "bench: job 1: number_ios=1099511627777: out of range (1..2^40)");
}

HTEST(bench_job_cpus)
{
    EXPECT_JOBS("rw=randread,iodepth=32,cpus=all", 1);
    HT_EXPECT_EQ(jobs[0].cpus, 0);
    HT_EXPECT_EQ(jobs[0].qpairs, 1);
    HT_EXPECT_STREQ(jobs[0].name, "randread-4k-qd32-cpusall");
    EXPECT_JOBS("cpus=4", 1);
    HT_EXPECT_EQ(jobs[0].cpus, 4);
    HT_EXPECT_STREQ(jobs[0].name, "read-4k-qd1-cpus4");
    EXPECT_JOBS("cpus=1", 1);
    HT_EXPECT_EQ(jobs[0].cpus, 1);
    HT_EXPECT_STREQ(jobs[0].name, "read-4k-qd1");
    EXPECT_JOBS("cpus=1024,name=wide", 1);
    HT_EXPECT_EQ(jobs[0].cpus, 1024);
    HT_EXPECT_STREQ(jobs[0].name, "wide");
    /* one queue pair per CPU leaves qpairs=1 as the only company */
    EXPECT_JOBS("cpus=all,qpairs=1", 1);
    EXPECT_ERROR("cpus=0", "bench: job 1: cpus=0: out of range (1..1024, or all)");
    EXPECT_ERROR("cpus=1025", "bench: job 1: cpus=1025: out of range (1..1024, or all)");
    EXPECT_ERROR("cpus=two", "bench: job 1: cpus=two: not a number of CPUs (decimal digits, or all)");
    EXPECT_ERROR("cpus=ALL", "bench: job 1: cpus=ALL: not a number of CPUs (decimal digits, or all)");
    EXPECT_ERROR("cpus=99999999999999999999",
                 "bench: job 1: cpus=99999999999999999999: too big: does not fit in 64 bits");
    EXPECT_ERROR("cpus=", "bench: job 1: cpus=: empty value");
    EXPECT_ERROR("cpus=2,cpus=2", "bench: job 1: cpus=2: cpus given twice");
    EXPECT_ERROR("qpairs=2,cpus=all", "bench: job 1: cpus=all: qpairs is given too (on several "
                 "CPUs each CPU drives one queue pair, its own: give one of qpairs and cpus)");
    EXPECT_ERROR("quick;cpus=2,qpairs=4", "bench: job 2: qpairs=4: cpus is given too (on several "
                 "CPUs each CPU drives one queue pair, its own: give one of qpairs and cpus)");
}

HTEST(bench_job_time_edges)
{
    EXPECT_ERROR("runtime=3601", "bench: job 1: runtime=3601: out of range (1ms..1h)");
    EXPECT_ERROR("runtime=3600001ms", "bench: job 1: runtime=3600001ms: out of range (1ms..1h)");
    EXPECT_ERROR("runtime=0", "bench: job 1: runtime=0: out of range (1ms..1h)");
    EXPECT_ERROR("runtime=0ms", "bench: job 1: runtime=0ms: out of range (1ms..1h)");
    EXPECT_ERROR("ramp_time=3601s", "bench: job 1: ramp_time=3601s: out of range (0..1h)");
    /* seconds that overflow as milliseconds are out of range, not wrapped */
    EXPECT_ERROR("runtime=18446744073709551615",
                 "bench: job 1: runtime=18446744073709551615: out of range (1ms..1h)");
    EXPECT_ERROR("runtime=18446744073709552s",
                 "bench: job 1: runtime=18446744073709552s: out of range (1ms..1h)");
}

/* ---- errors, each with its message ---- */

HTEST(bench_job_unknown_field)
{
    EXPECT_ERROR("rw=read,foo=1", "bench: job 1: foo=1: unknown field (known: name, dev, rw, "
                 "rwmixread, bs, iodepth, qpairs, runtime, number_ios, ramp_time, completion, "
                 "verify, offset, size, cpus)");
    static const char upper[] = "bench: job 2: RW=read: unknown field (known: name,";
    static const char no_name[] = "bench: job 1: =4k: unknown field (known: name,";
    HT_EXPECT(!parse("quick;RW=read"));
    HT_EXPECT(strncmp(why, upper, strlen(upper)) == 0);
    HT_EXPECT(!parse("=4k"));
    HT_EXPECT(strncmp(why, no_name, strlen(no_name)) == 0);
}

HTEST(bench_job_duplicate_field)
{
    EXPECT_ERROR("bs=4k,bs=8k", "bench: job 1: bs=8k: bs given twice");
    EXPECT_ERROR("quick;rw=read,iodepth=2,rw=write",
                 "bench: job 2: rw=write: rw given twice");
}

HTEST(bench_job_empty_value)
{
    EXPECT_ERROR("bs=", "bench: job 1: bs=: empty value");
    EXPECT_ERROR("rw=read,name=", "bench: job 1: name=: empty value");
    EXPECT_ERROR("dev=", "bench: job 1: dev=: empty value");
}

HTEST(bench_job_empty_job_and_empty_field)
{
    EXPECT_ERROR("quick;;standard", "bench: job 2: empty job (';' twice or at an end)");
    EXPECT_ERROR("quick;", "bench: job 2: empty job (';' twice or at an end)");
    EXPECT_ERROR(";quick", "bench: job 1: empty job (';' twice or at an end)");
    EXPECT_ERROR("rw=read,,bs=4k", "bench: job 1: empty field (',' twice or at an end)");
    EXPECT_ERROR("rw=read,", "bench: job 1: empty field (',' twice or at an end)");
    EXPECT_ERROR(",rw=read", "bench: job 1: empty field (',' twice or at an end)");
    EXPECT_ERROR("", "bench: no job (give a profile, quick or standard, or name=VALUE fields)");
}

HTEST(bench_job_missing_equals)
{
    EXPECT_ERROR("bs4k", "bench: job 1: bs4k: no '=' (a field is name=VALUE)");
    EXPECT_ERROR("rw=read,verify", "bench: job 1: verify: no '=' (a field is name=VALUE)");
    EXPECT_ERROR("quik", "bench: job 1: quik: no '=' (a field is name=VALUE)");
    EXPECT_ERROR("quick,dev=nvme*",
                 "bench: job 1: quick: a profile is a job of its own (';' after it, not ',')");
}

HTEST(bench_job_bad_numbers)
{
    static const char number[] = "not a number (decimal digits)";
    static const char size[] = "not a size (a decimal number, optionally followed by k, m or g)";
    static const char time[] = "not a time (a decimal number, optionally followed by ms or s)";
    static const struct { const char *text, *what; } cases[] = {
        { "iodepth=3x", number }, { "iodepth=-1", number }, { "iodepth=+1", number },
        { "iodepth= 1", number }, { "iodepth=0x10", number }, { "iodepth=4k", number },
        { "qpairs=two", number }, { "number_ios=1m", number }, { "rwmixread=5%", number },
        { "bs=4kb", size }, { "bs=k", size }, { "bs=4KiB", size }, { "bs=1.5k", size },
        { "offset=-1", size }, { "size=4t", size }, { "size=0x1000", size },
        { "runtime=2h", time }, { "runtime=ms", time }, { "runtime=s", time },
        { "runtime=1.5s", time }, { "ramp_time=10us", time }, { "runtime=2m", time },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, "bench: job 1: %s: %s", cases[i].text, cases[i].what);
        expect_error(cases[i].text, want, __LINE__);
    }
}

HTEST(bench_job_overflow)
{
    EXPECT_ERROR("offset=18446744073709551616",
                 "bench: job 1: offset=18446744073709551616: too big: does not fit in 64 bits");
    EXPECT_ERROR("size=99999999999999999999k",
                 "bench: job 1: size=99999999999999999999k: too big: does not fit in 64 bits");
    EXPECT_ERROR("offset=17179869184g",
                 "bench: job 1: offset=17179869184g: too big: does not fit in 64 bits");
    EXPECT_ERROR("size=17592186044416m",
                 "bench: job 1: size=17592186044416m: too big: does not fit in 64 bits");
    EXPECT_ERROR("iodepth=99999999999999999999",
                 "bench: job 1: iodepth=99999999999999999999: too big: does not fit in 64 bits");
    EXPECT_ERROR("number_ios=18446744073709551616",
                 "bench: job 1: number_ios=18446744073709551616: too big: does not fit in 64 bits");
    EXPECT_ERROR("runtime=18446744073709551616ms",
                 "bench: job 1: runtime=18446744073709551616ms: too big: does not fit in 64 bits");
}

HTEST(bench_job_unknown_words)
{
    EXPECT_ERROR("rw=randomread",
                 "bench: job 1: rw=randomread: not one of read, write, randread, randwrite, randrw");
    EXPECT_ERROR("rw=READ", "bench: job 1: rw=READ: not one of read, write, randread, randwrite, "
                 "randrw");
    EXPECT_ERROR("rw=rw", "bench: job 1: rw=rw: not one of read, write, randread, randwrite, "
                 "randrw");
    EXPECT_ERROR("completion=msi", "bench: job 1: completion=msi: not one of poll, irq");
    EXPECT_ERROR("completion=pollx", "bench: job 1: completion=pollx: not one of poll, irq");
    EXPECT_ERROR("verify=2", "bench: job 1: verify=2: not 0 or 1");
    EXPECT_ERROR("verify=yes", "bench: job 1: verify=yes: not 0 or 1");
    EXPECT_ERROR("verify=01", "bench: job 1: verify=01: not 0 or 1");
}

HTEST(bench_job_rwmixread_only_with_randrw)
{
    EXPECT_ERROR("rwmixread=70", "bench: job 1: rwmixread=70: only with rw=randrw (this job is "
                 "rw=read)");
    EXPECT_ERROR("rwmixread=0,rw=randwrite", "bench: job 1: rwmixread=0: only with rw=randrw "
                 "(this job is rw=randwrite)");
    EXPECT_JOBS("rwmixread=30,rw=randrw", 1);
    HT_EXPECT_EQ(jobs[0].rwmixread, 30);
}

HTEST(bench_job_runtime_and_number_ios_exclude_each_other)
{
    EXPECT_ERROR("runtime=2s,number_ios=100", "bench: job 1: number_ios=100: runtime is given too "
                 "(one of runtime and number_ios bounds a job)");
    EXPECT_ERROR("number_ios=100,bs=8k,runtime=2s", "bench: job 1: runtime=2s: number_ios is "
                 "given too (one of runtime and number_ios bounds a job)");
}

HTEST(bench_job_name_length_and_characters)
{
    EXPECT_JOBS("name=abcdefghijklmnopqrstuvwxyz01234", 1);
    HT_EXPECT_STREQ(jobs[0].name, "abcdefghijklmnopqrstuvwxyz01234");
    EXPECT_ERROR("name=abcdefghijklmnopqrstuvwxyz012345",
                 "bench: job 1: name=abcdefghijklmnopqrstuvwxyz012345: longer than 31 characters");
    EXPECT_ERROR("name=a b", "bench: job 1: name=a b: only A-Z a-z 0-9 _ . - may be in a name");
    EXPECT_ERROR("name=a/b", "bench: job 1: name=a/b: only A-Z a-z 0-9 _ . - may be in a name");
    EXPECT_ERROR("name=\"x\"", "bench: job 1: name=\"x\": only A-Z a-z 0-9 _ . - may be in a name");
    EXPECT_ERROR("name=caf\xc3\xa9",
                 "bench: job 1: name=caf\\xc3\\xa9: only A-Z a-z 0-9 _ . - may be in a name");
}

HTEST(bench_job_dev_length_and_characters)
{
    EXPECT_JOBS("dev=abcdefghijklmnopqrstuvwxyz0123*", 1);
    HT_EXPECT_STREQ(jobs[0].dev, "abcdefghijklmnopqrstuvwxyz0123*");
    EXPECT_ERROR("dev=abcdefghijklmnopqrstuvwxyz01234*",
                 "bench: job 1: dev=abcdefghijklmnopqrstuvwxyz01234*: longer than 31 characters");
    EXPECT_ERROR("dev=nvme\t0", "bench: job 1: dev=nvme\\x090: not printable");
    EXPECT_ERROR("dev=nvme 0", "bench: job 1: dev=nvme 0: not printable");
}

#define CLEAR "\x1b[2J"          /* a terminal's clear-screen */
#define SHOWN "\\x1b[2J"        /* as the message shows it */

HTEST(bench_job_long_value_is_cut_in_the_message)
{
    /* the field's first 48 bytes, then "..." */
    EXPECT_ERROR("name=0123456789012345678901234567890123456789012345678901234567890123456789",
                 "bench: job 1: name=0123456789012345678901234567890123456789012...: longer than "
                 "31 characters");
    /* 12 escape sequences: the cut falls after the 12th ESC, escaped whole */
    EXPECT_ERROR("bs=" CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR CLEAR,
                 "bench: job 1: bs=" SHOWN SHOWN SHOWN SHOWN SHOWN SHOWN SHOWN SHOWN SHOWN SHOWN
                 SHOWN "\\x1b...: not a size (a decimal number, optionally followed by k, m or g)");
}

HTEST(bench_job_names_must_differ)
{
    EXPECT_ERROR("quick;quick", "bench: job 2: quick: name randread-4k-qd1 is job 1's too");
    EXPECT_ERROR("rw=read;bs=8k;rw=read", "bench: job 3: name read-4k-qd1 is job 1's too");
    EXPECT_ERROR("standard;name=read-128k-qd8",
                 "bench: job 2: name read-128k-qd8 is job 1's too");
    EXPECT_JOBS("quick;rw=randread,iodepth=1,name=again", 3);
}

/* ---- the text is `len` bytes, not a C string ---- */

HTEST(bench_job_reads_only_len_bytes)
{
    /* what follows each text would change it if it were read */
    char buf[64];
    memcpy(buf, "iodepth=3" "9", 10);
    HT_EXPECT(bench_jobs_parse(buf, 9, jobs, &count, why, sizeof why));
    HT_EXPECT_EQ(count, 1);
    HT_EXPECT_EQ(jobs[0].iodepth, 3);
    memcpy(buf, "bs=4k" "x", 6);
    HT_EXPECT(bench_jobs_parse(buf, 5, jobs, &count, why, sizeof why));
    HT_EXPECT_EQ(jobs[0].bs, 4096);
    memcpy(buf, "runtime=2" "ms", 11);
    HT_EXPECT(bench_jobs_parse(buf, 9, jobs, &count, why, sizeof why));
    HT_EXPECT_EQ(jobs[0].runtime_ms, 2000);
    memcpy(buf, "quick" ";;", 7);
    HT_EXPECT(bench_jobs_parse(buf, 5, jobs, &count, why, sizeof why));
    HT_EXPECT_EQ(count, 2);
    memcpy(buf, "name=ab" "c", 8);
    HT_EXPECT(bench_jobs_parse(buf, 7, jobs, &count, why, sizeof why));
    HT_EXPECT_STREQ(jobs[0].name, "ab");
    memcpy(buf, "rw=read;" "quick", 13);
    HT_EXPECT(!bench_jobs_parse(buf, 8, jobs, &count, why, sizeof why));
    HT_EXPECT_STREQ(why, "bench: job 2: empty job (';' twice or at an end)");
    HT_EXPECT(!bench_jobs_parse(NULL, 0, jobs, &count, why, sizeof why));
}

/* ---- failure leaves nothing ---- */

HTEST(bench_job_failure_sets_count_0)
{
    count = 5;
    HT_EXPECT(!bench_jobs_parse("quick;bs=3", 10, jobs, &count, why, sizeof why));
    HT_EXPECT_EQ(count, 0);
    count = 5;
    HT_EXPECT(!bench_jobs_parse("standard;standard", 17, jobs, &count, why, sizeof why));
    HT_EXPECT_EQ(count, 0);
    HT_EXPECT(parse("standard"));
    HT_EXPECT_EQ(count, 4);
    HT_EXPECT_STREQ(why, "");
}

HTEST(bench_job_message_fits_any_buffer)
{
    char small[16];
    memset(small, 'z', sizeof small);
    HT_EXPECT(!bench_jobs_parse("bs=3000", 7, jobs, &count, small, sizeof small));
    HT_EXPECT_STREQ(small, "bench: job 1: b");
    HT_EXPECT(!bench_jobs_parse("bs=3000", 7, jobs, &count, NULL, 0));
    HT_EXPECT_EQ(count, 0);
    HT_EXPECT(!bench_jobs_parse("", 0, jobs, &count, small, 1));
    HT_EXPECT_STREQ(small, "");
}
