/* SPDX-License-Identifier: MIT */
/* lib/bench_report.c — a benchmark job's figures, as JSON and as lines for
 * people (see bench_report.h). Every rate is computed once from exact
 * integer counts; nothing here runs per I/O. */
#include "lib/bench_report.h"
#include "lib/format.h"
#include "lib/scale.h"
#include "lib/string.h"

#include <stdarg.h>

void bench_count_error(struct bench_result *r, const char *cause)
{
    r->errors_total++;
    for (unsigned i = 0; i < r->error_kinds; i++) {
        if (strcmp(r->errors[i].cause, cause) == 0) {
            r->errors[i].count++;
            return;
        }
    }
    if (r->error_kinds < BENCH_ERROR_KINDS) {
        r->errors[r->error_kinds].cause = cause;
        r->errors[r->error_kinds].count = 1;
        r->error_kinds++;
    }
}

void bench_merge_errors(struct bench_result *into, const struct bench_result *from)
{
    uint64_t named = 0;
    for (unsigned i = 0; i < from->error_kinds; i++) {
        const char *cause = from->errors[i].cause;
        uint64_t count = from->errors[i].count;
        named += count;
        into->errors_total += count;
        unsigned k = 0;
        while (k < into->error_kinds && strcmp(into->errors[k].cause, cause) != 0)
            k++;
        if (k < into->error_kinds) {
            into->errors[k].count += count;
        } else if (k < BENCH_ERROR_KINDS) {
            into->errors[k].cause = cause;
            into->errors[k].count = count;
            into->error_kinds++;
        }
    }
    into->errors_total += from->errors_total - named;
}

uint64_t bench_iops_milli(uint64_t ios, uint64_t elapsed_ns)
{
    return elapsed_ns ? muldiv_u64(ios, 1000ull * NS_PER_SECOND, elapsed_ns) : 0;
}

uint64_t bench_bw_bytes(uint64_t bytes, uint64_t elapsed_ns)
{
    return elapsed_ns ? muldiv_u64(bytes, NS_PER_SECOND, elapsed_ns) : 0;
}

/* ---- an appending writer that remembers whether anything was cut ---- */

struct out {
    char *buf;
    size_t size, len;
    bool cut;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->cut)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->size - o->len) {
        o->cut = true;
        o->buf[o->len] = '\0';
        return;
    }
    o->len += (size_t)n;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void put_json_string(struct out *o, const char *s)
{
    put(o, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            put(o, "\\u%04x", c);
        else
            put(o, "%c", c);
    }
    put(o, "\"");
}

static void put_milli(struct out *o, uint64_t milli)
{
    put(o, "%llu.%03llu", (unsigned long long)(milli / 1000), (unsigned long long)(milli % 1000));
}

/* fio's percentile key: 99.99 is "99.990000". */
static void put_percentile_key(struct out *o, uint32_t p_x100000)
{
    put(o, "\"%u.%06u\"", p_x100000 / 100000, (p_x100000 % 100000) * 10);
}

static void put_dir_json(struct out *o, const char *name, const struct bench_result *r,
                         const struct bench_dir_result *d)
{
    uint64_t bw = bench_bw_bytes(d->bytes, r->elapsed_ns);
    const struct hist *h = d->clat;
    put(o, "\"%s\":{\"io_bytes\":%llu,\"io_kbytes\":%llu,\"bw_bytes\":%llu,\"bw\":%llu,\"iops\":",
        name, (unsigned long long)d->bytes, (unsigned long long)(d->bytes >> 10),
        (unsigned long long)bw, (unsigned long long)(bw >> 10));
    put_milli(o, bench_iops_milli(d->ios, r->elapsed_ns));
    put(o, ",\"runtime\":%llu,\"total_ios\":%llu,\"clat_ns\":{",
        (unsigned long long)(r->elapsed_ns / 1000000), (unsigned long long)d->ios);
    uint64_t n = h ? h->count : 0;
    put(o, "\"min\":%llu,\"max\":%llu,\"mean\":%llu,\"stddev\":%llu,\"N\":%llu,\"percentile\":{",
        (unsigned long long)(n ? h->min : 0), (unsigned long long)(n ? h->max : 0),
        (unsigned long long)(n ? hist_mean(h) : 0), (unsigned long long)(n ? hist_stddev(h) : 0),
        (unsigned long long)n);
    for (unsigned i = 0; i < HIST_FIO_PERCENTILES; i++) {
        if (i)
            put(o, ",");
        put_percentile_key(o, hist_fio_percentiles[i]);
        put(o, ":%llu", (unsigned long long)(n ? hist_percentile(h, hist_fio_percentiles[i]) : 0));
    }
    put(o, "}}}");
}

static uint64_t per_io(uint64_t total, uint64_t ios) { return ios ? total / ios : 0; }

int bench_report_json(const struct bench_result *r, char *buf, size_t size)
{
    if (!size)
        return -1;
    struct out o = { buf, size, 0, false };
    buf[0] = '\0';
    put(&o, "{\"jobname\":");
    put_json_string(&o, r->job);
    put(&o, ",\"device\":");
    put_json_string(&o, r->device);
    put(&o, ",\"kind\":");
    put_json_string(&o, r->kind);
    put(&o, ",\"rw\":");
    put_json_string(&o, r->rw);
    put(&o, ",\"bs\":%u,\"iodepth\":%u,\"qpairs\":%u,\"cpus\":%u,\"completion\":\"%s\","
        "\"verify\":%u,\"elapsed_ns\":%llu,", r->bs, r->iodepth, r->qpairs, r->cpus,
        r->irq ? "irq" : "poll",
        r->verify ? 1u : 0u, (unsigned long long)r->elapsed_ns);
    put_dir_json(&o, "read", r, &r->dir[BENCH_DIR_READ]);
    put(&o, ",");
    put_dir_json(&o, "write", r, &r->dir[BENCH_DIR_WRITE]);
    put(&o, ",\"overhead_ns\":{\"submit\":%llu,\"doorbell\":%llu,\"complete\":%llu},"
        "\"kicks\":%llu,\"verified_blocks\":%llu,\"errors\":{\"total\":%llu",
        (unsigned long long)per_io(r->submit_ns, r->submit_ios),
        (unsigned long long)per_io(r->doorbell_ns, r->submit_ios),
        (unsigned long long)per_io(r->complete_ns, r->complete_ios), (unsigned long long)r->kicks,
        (unsigned long long)r->verified_blocks, (unsigned long long)r->errors_total);
    for (unsigned i = 0; i < r->error_kinds && i < BENCH_ERROR_KINDS; i++) {
        put(&o, ",");
        put_json_string(&o, r->errors[i].cause);
        put(&o, ":%llu", (unsigned long long)r->errors[i].count);
    }
    put(&o, "}}");
    if (o.cut) {
        buf[0] = '\0';
        return -1;
    }
    return (int)o.len;
}

/* ---- for people ---- */

void bench_format_count(char *buf, size_t size, uint64_t milli)
{
    static const char suffix[] = { 'k', 'M', 'G', 'T' };
    uint64_t v = milli / 1000;
    if (v < 1000) {
        snprintf(buf, size, "%llu", (unsigned long long)v);
        return;
    }
    unsigned s = 0;
    uint64_t unit = 1000;
    while (s + 1 < sizeof(suffix) && v / unit >= 1000) {
        unit *= 1000;
        s++;
    }
    uint64_t tenths = v * 10 / unit;     /* v < 10^15: no overflow */
    snprintf(buf, size, "%llu.%llu%c", (unsigned long long)(tenths / 10),
             (unsigned long long)(tenths % 10), suffix[s]);
}

/* Three significant figures in the largest unit that leaves at least 1:
 * "767MiB", "9.31GiB", "804MB". `binary` picks 1024 or 1000 steps. */
static void format_bytes(char *buf, size_t size, uint64_t bytes, bool binary)
{
    static const char *const bin[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    static const char *const dec[] = { "B", "kB", "MB", "GB", "TB" };
    uint64_t step = binary ? 1024 : 1000, unit = 1;
    unsigned u = 0;
    while (u + 1 < 5 && bytes / unit >= step) {
        unit *= step;
        u++;
    }
    const char *name = binary ? bin[u] : dec[u];
    uint64_t hundredths = muldiv_u64(bytes, 100, unit);
    if (u == 0 || hundredths >= 10000)
        snprintf(buf, size, "%llu%s", (unsigned long long)(hundredths / 100), name);
    else if (hundredths >= 1000)
        snprintf(buf, size, "%llu.%llu%s", (unsigned long long)(hundredths / 100),
                 (unsigned long long)(hundredths / 10 % 10), name);
    else
        snprintf(buf, size, "%llu.%02llu%s", (unsigned long long)(hundredths / 100),
                 (unsigned long long)(hundredths % 100), name);
}

static void emit(bench_line_fn line, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emit(bench_line_fn line, void *ctx, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    line(ctx, buf);
}

static void human_dir(const struct bench_result *r, const char *name,
                      const struct bench_dir_result *d, bench_line_fn line, void *ctx)
{
    char iops[24], bw_bin[24], bw_dec[24], total[24];
    uint64_t bw = bench_bw_bytes(d->bytes, r->elapsed_ns);
    bench_format_count(iops, sizeof(iops), bench_iops_milli(d->ios, r->elapsed_ns));
    format_bytes(bw_bin, sizeof(bw_bin), bw, true);
    format_bytes(bw_dec, sizeof(bw_dec), bw, false);
    format_bytes(total, sizeof(total), d->bytes, true);
    uint64_t ms = r->elapsed_ns / 1000000;
    emit(line, ctx, "  %s: IOPS=%s, BW=%s/s (%s/s)(%s/%llu.%03llus)", name, iops, bw_bin, bw_dec,
         total, (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
    const struct hist *h = d->clat;
    if (!h || !h->count)
        return;
    emit(line, ctx, "    clat (nsec): min=%llu, max=%llu, avg=%llu, stdev=%llu",
         (unsigned long long)h->min, (unsigned long long)h->max,
         (unsigned long long)hist_mean(h), (unsigned long long)hist_stddev(h));
    /* fio's percentile block, six to a line. */
    char buf[256];
    for (unsigned i = 0; i < HIST_FIO_PERCENTILES; i += 6) {
        struct out o = { buf, sizeof(buf), 0, false };
        put(&o, "    %s", i ? "                          " : "clat percentiles (nsec): ");
        for (unsigned j = i; j < i + 6 && j < HIST_FIO_PERCENTILES; j++) {
            uint32_t p = hist_fio_percentiles[j];
            put(&o, "%s%u.%02uth=[%llu]", j > i ? ", " : "", p / 100000, (p % 100000) / 1000,
                (unsigned long long)hist_percentile(h, p));
        }
        line(ctx, buf);
    }
}

void bench_report_human(const struct bench_result *r, bench_line_fn line, void *ctx)
{
    emit(line, ctx, "%s %s: rw=%s bs=%u iodepth=%u qpairs=%u cpus=%u completion=%s%s", r->job,
         r->device, r->rw, r->bs, r->iodepth, r->qpairs, r->cpus, r->irq ? "irq" : "poll",
         r->verify ? " verify=1" : "");
    static const char *const names[BENCH_DIRS] = { "read", "write" };
    for (unsigned d = 0; d < BENCH_DIRS; d++)
        if (r->dir[d].ios || (d == BENCH_DIR_READ && !r->dir[BENCH_DIR_WRITE].ios))
            human_dir(r, names[d], &r->dir[d], line, ctx);
    emit(line, ctx, "  bareio overhead per I/O: submit %llu ns, doorbell %llu ns, complete %llu ns",
         (unsigned long long)per_io(r->submit_ns, r->submit_ios),
         (unsigned long long)per_io(r->doorbell_ns, r->submit_ios),
         (unsigned long long)per_io(r->complete_ns, r->complete_ios));
    if (r->verify)
        emit(line, ctx, "  verified: %llu blocks against their stamps",
             (unsigned long long)r->verified_blocks);
    char buf[256];
    struct out o = { buf, sizeof(buf), 0, false };
    put(&o, "  errors: %llu", (unsigned long long)r->errors_total);
    for (unsigned i = 0; i < r->error_kinds; i++)
        put(&o, "%s%s %llu", i ? ", " : " (", r->errors[i].cause,
            (unsigned long long)r->errors[i].count);
    if (r->error_kinds)
        put(&o, ")");
    line(ctx, buf);
}
