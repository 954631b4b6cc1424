/* SPDX-License-Identifier: MIT */
/* tests/host/test_bench_report.c — a benchmark job's reports
 * (lib/bench_report.h) against figures computed here: IOPS and bandwidth
 * from exact counts (rounding, saturation, no division by zero), the JSON
 * object's fields and values (fio's names, the percentile keys, every
 * percentile equal to the histogram's, string escapes, a cut object
 * refused rather than printed), error counting by cause, and the lines for
 * people (fio's layout, the k/M suffixes and binary/decimal units). The
 * JSON's syntax is also read by Python's json module in the scenario tests
 * (tests/scenarios/test_bench.py). */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/bench_report.h"
#include "lib/format.h"
#include "lib/hist.h"
#include <string.h>

static struct hist rh, wh;
static char json[4096];

static bool has(const char *text, const char *needle) { return strstr(text, needle) != NULL; }

/* 100 reads of 4 KiB with latencies 1000, 2000, ... 100000 ns, in 1 ms. */
static struct bench_result sample(void)
{
    hist_init(&rh);
    hist_init(&wh);
    for (unsigned i = 1; i <= 100; i++)
        hist_record(&rh, i * 1000ull);
    struct bench_result r = {
        .job = "randread-4k-qd1", .device = "nvme0n1", .kind = "nvme", .rw = "randread",
        .bs = 4096, .iodepth = 1, .qpairs = 1, .cpus = 1, .elapsed_ns = 1000000,
        .submit_ns = 30000, .submit_ios = 100, .doorbell_ns = 50000, .kicks = 40, .complete_ns = 25000, .complete_ios = 100,
    };
    r.dir[BENCH_DIR_READ] = (struct bench_dir_result){ 100, 409600, &rh };
    r.dir[BENCH_DIR_WRITE] = (struct bench_dir_result){ 0, 0, &wh };
    return r;
}

HTEST(bench_rates_from_exact_counts)
{
    HT_EXPECT_EQ(bench_iops_milli(100, 1000000), 100000000ull);    /* 100k IOPS */
    HT_EXPECT_EQ(bench_iops_milli(3, 2000000000ull), 1500ull);      /* 1.5 IOPS */
    HT_EXPECT_EQ(bench_iops_milli(1, 3), 333333333333ull);          /* rounded down */
    HT_EXPECT_EQ(bench_iops_milli(5, 0), 0ull);
    HT_EXPECT_EQ(bench_iops_milli(1ull << 40, 1), UINT64_MAX);      /* saturates */
    HT_EXPECT_EQ(bench_bw_bytes(409600, 1000000), 409600000ull);
    HT_EXPECT_EQ(bench_bw_bytes(0, 1000000), 0ull);
    HT_EXPECT_EQ(bench_bw_bytes(1ull << 62, 1ull << 40), (1ull << 22) * 1000000000ull);
}

HTEST(bench_json_has_fio_fields_and_values)
{
    struct bench_result r = sample();
    int n = bench_report_json(&r, json, sizeof json);
    HT_EXPECT(n > 0);
    HT_EXPECT_EQ((size_t)n, strlen(json));
    HT_EXPECT(json[0] == '{' && json[n - 1] == '}');
    HT_EXPECT(has(json, "{\"jobname\":\"randread-4k-qd1\",\"device\":\"nvme0n1\",\"kind\":\"nvme\","
                        "\"rw\":\"randread\",\"bs\":4096,\"iodepth\":1,\"qpairs\":1,\"cpus\":1,"
                        "\"completion\":\"poll\",\"verify\":0,\"elapsed_ns\":1000000,"));
    HT_EXPECT(has(json, "\"read\":{\"io_bytes\":409600,\"io_kbytes\":400,\"bw_bytes\":409600000,"
                        "\"bw\":400000,\"iops\":100000.000,\"runtime\":1,\"total_ios\":100,"));
    HT_EXPECT(has(json, "\"clat_ns\":{\"min\":1000,\"max\":100000,\"mean\":50500,"));
    HT_EXPECT(has(json, "\"N\":100,\"percentile\":{\"1.000000\":"));
    HT_EXPECT(has(json, "\"write\":{\"io_bytes\":0,\"io_kbytes\":0,\"bw_bytes\":0,\"bw\":0,"
                        "\"iops\":0.000,\"runtime\":1,\"total_ios\":0,\"clat_ns\":{\"min\":0,"));
    HT_EXPECT(has(json, "\"overhead_ns\":{\"submit\":300,\"doorbell\":500,\"complete\":250},\"kicks\":40,\"verified_blocks\":0,"
                        "\"errors\":{\"total\":0}}"));
    /* Every percentile key fio writes, with the histogram's own value. */
    for (unsigned i = 0; i < HIST_FIO_PERCENTILES; i++) {
        uint32_t p = hist_fio_percentiles[i];
        char want[64];
        snprintf(want, sizeof want, "\"%u.%06u\":%llu", p / 100000, (p % 100000) * 10,
                 (unsigned long long)hist_percentile(&rh, p));
        HT_EXPECT(has(json, want));
    }
    HT_EXPECT(has(json, "\"99.990000\":"));
    HT_EXPECT(has(json, "\"50.000000\":"));
    /* Braces and brackets balance; quotes pair up. */
    int depth = 0, quotes = 0;
    for (const char *c = json; *c; c++) {
        depth += *c == '{';
        depth -= *c == '}';
        quotes += *c == '"';
        HT_EXPECT(depth >= 0);
    }
    HT_EXPECT_EQ(depth, 0);
    HT_EXPECT_EQ(quotes % 2, 0);
}

HTEST(bench_json_escapes_and_names_errors)
{
    struct bench_result r = sample();
    r.job = "a\"b\\c";
    r.irq = true;
    r.verify = true;
    r.verified_blocks = 77;
    bench_count_error(&r, "timeout");
    bench_count_error(&r, "media error");
    bench_count_error(&r, "timeout");
    HT_EXPECT(bench_report_json(&r, json, sizeof json) > 0);
    HT_EXPECT(has(json, "\"jobname\":\"a\\\"b\\\\c\""));
    HT_EXPECT(has(json, "\"completion\":\"irq\",\"verify\":1,"));
    HT_EXPECT(has(json, "\"verified_blocks\":77,\"errors\":{\"total\":3,\"timeout\":2,"
                        "\"media error\":1}}"));
    char ctl[] = { 'x', 1, 0 };
    r.device = ctl;
    HT_EXPECT(bench_report_json(&r, json, sizeof json) > 0);
    HT_EXPECT(has(json, "\"device\":\"x\\u0001\""));
}

HTEST(bench_errors_beyond_the_kinds_are_counted)
{
    struct bench_result r = sample();
    static const char *const causes[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
    for (unsigned i = 0; i < 10; i++)
        bench_count_error(&r, causes[i]);
    bench_count_error(&r, "a");
    HT_EXPECT_EQ(r.errors_total, 11ull);
    HT_EXPECT_EQ(r.error_kinds, (unsigned)BENCH_ERROR_KINDS);
    HT_EXPECT_EQ(r.errors[0].count, 2ull);
}

HTEST(bench_errors_of_several_cpus_merge)
{
    struct bench_result a = sample(), b = sample();
    bench_count_error(&a, "timeout");
    bench_count_error(&b, "media error");
    bench_count_error(&b, "timeout");
    bench_count_error(&b, "timeout");
    bench_merge_errors(&a, &b);
    HT_EXPECT_EQ(a.errors_total, 4ull);
    HT_EXPECT_EQ(a.error_kinds, 2u);
    HT_EXPECT_STREQ(a.errors[0].cause, "timeout");
    HT_EXPECT_EQ(a.errors[0].count, 3ull);
    HT_EXPECT_STREQ(a.errors[1].cause, "media error");
    HT_EXPECT_EQ(a.errors[1].count, 1ull);
    /* b's causes unchanged; an empty share adds nothing */
    HT_EXPECT_EQ(b.errors_total, 3ull);
    struct bench_result none = sample();
    bench_merge_errors(&a, &none);
    HT_EXPECT_EQ(a.errors_total, 4ull);
    HT_EXPECT_EQ(a.error_kinds, 2u);
    /* past the kinds: counted in the total, the named ones kept */
    static const char *const causes[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
    struct bench_result many = sample(), into = sample();
    for (unsigned i = 0; i < 10; i++)
        bench_count_error(&many, causes[i]);        /* 8 named, 10 in all */
    bench_count_error(&into, "j");
    bench_merge_errors(&into, &many);
    HT_EXPECT_EQ(into.errors_total, 11ull);
    HT_EXPECT_EQ(into.error_kinds, (unsigned)BENCH_ERROR_KINDS);
    HT_EXPECT_STREQ(into.errors[0].cause, "j");
    HT_EXPECT_EQ(into.errors[0].count, 1ull);
    HT_EXPECT_STREQ(into.errors[1].cause, "a");
    HT_EXPECT_EQ(into.errors[7].count, 1ull);
}

HTEST(bench_json_that_does_not_fit_is_refused)
{
    struct bench_result r = sample();
    int full = bench_report_json(&r, json, sizeof json);
    HT_EXPECT(full > 0);
    for (size_t size = 1; size <= (size_t)full; size += 97) {
        memset(json, 'x', sizeof json);
        HT_EXPECT_EQ(bench_report_json(&r, json, size), -1);
        HT_EXPECT_EQ(json[0], '\0');
    }
    HT_EXPECT_EQ(bench_report_json(&r, json, (size_t)full), -1);     /* no room for '\0' */
    HT_EXPECT_EQ(bench_report_json(&r, json, (size_t)full + 1), full);
    HT_EXPECT_EQ(bench_report_json(&r, json, 0), -1);
}

HTEST(bench_counts_for_people)
{
    char b[32];
    bench_format_count(b, sizeof b, 999999);
    HT_EXPECT_STREQ(b, "999");
    bench_format_count(b, sizeof b, 1000000);
    HT_EXPECT_STREQ(b, "1.0k");
    bench_format_count(b, sizeof b, 196321125);
    HT_EXPECT_STREQ(b, "196.3k");
    bench_format_count(b, sizeof b, 2500000000ull);
    HT_EXPECT_STREQ(b, "2.5M");
    bench_format_count(b, sizeof b, 0);
    HT_EXPECT_STREQ(b, "0");
}

static char lines[16][256];
static unsigned nlines;

static void collect(void *ctx, const char *line)
{
    (void)ctx;
    if (nlines < 16)
        snprintf(lines[nlines++], sizeof lines[0], "%s", line);
}

HTEST(bench_human_report_in_fio_layout)
{
    struct bench_result r = sample();
    nlines = 0;
    bench_report_human(&r, collect, NULL);
    HT_EXPECT_EQ(nlines, 8u);
    HT_EXPECT_STREQ(lines[0], "randread-4k-qd1 nvme0n1: rw=randread bs=4096 iodepth=1 qpairs=1 "
                              "cpus=1 completion=poll");
    /* 409.6 MB/s is 390.6 MiB/s; 400 KiB moved in 1 ms. */
    HT_EXPECT_STREQ(lines[1], "  read: IOPS=100.0k, BW=390MiB/s (409MB/s)(400KiB/0.001s)");
    HT_EXPECT_STREQ(lines[2], "    clat (nsec): min=1000, max=100000, avg=50500, stdev=28866");
    HT_EXPECT(has(lines[3], "    clat percentiles (nsec): 1.00th=["));
    HT_EXPECT(has(lines[5], "99.99th=["));
    HT_EXPECT_STREQ(lines[6], "  bareio overhead per I/O: submit 300 ns, doorbell 500 ns, complete 250 ns");
    HT_EXPECT_STREQ(lines[7], "  errors: 0");
    /* A write job shows its write line only; errors are named. */
    r.dir[BENCH_DIR_WRITE] = r.dir[BENCH_DIR_READ];
    r.dir[BENCH_DIR_READ] = (struct bench_dir_result){ 0, 0, NULL };
    r.dir[BENCH_DIR_WRITE].bytes = 5ull << 30;
    r.elapsed_ns = 1000000000;
    bench_count_error(&r, "timeout");
    nlines = 0;
    bench_report_human(&r, collect, NULL);
    HT_EXPECT(has(lines[1], "  write: IOPS=100, BW=5.00GiB/s (5.36GB/s)(5.00GiB/1.000s)"));
    HT_EXPECT_STREQ(lines[nlines - 1], "  errors: 1 (timeout 1)");
}
