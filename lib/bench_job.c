/* SPDX-License-Identifier: MIT */
/* lib/bench_job.c — the bench= parser behind lib/bench_job.h (issue 13).
 *
 * One pass: jobs split at ';', fields at ','. A job's fields fill a job that
 * starts from the defaults; then the checks that take two fields (rwmixread
 * needs rw=randrw, runtime and number_ios exclude each other), the default
 * name, the job limit and unique names. The first error stops the parse.
 * Beyond the header: rw defaults to read (fio's default), runtime is at
 * least 1 ms, two jobs may not share a name (KTAP cases, JSON jobnames), a
 * dev glob is printable without blanks, suffixes are read in either case.
 * Leaves out: blanks around fields, hex numbers, fio's other suffixes (kb,
 * KiB, us, m for minutes). */
#include "lib/bench_job.h"
#include "lib/format.h"
#include "lib/string.h"

#define SHOWN_MAX 48                /* longer fields are cut in messages */
#define WHAT_MAX 192
#define HOUR_MS 3600000ull
#define NUMBER_IOS_MAX (1ull << 40)
#define DEFAULT_RUNTIME_MS 1000

struct span {
    const char *text;
    size_t len;
};

enum field_id {
    FIELD_NAME, FIELD_DEV, FIELD_RW, FIELD_RWMIXREAD, FIELD_BS, FIELD_IODEPTH, FIELD_QPAIRS,
    FIELD_RUNTIME, FIELD_NUMBER_IOS, FIELD_RAMP_TIME, FIELD_COMPLETION, FIELD_VERIFY,
    FIELD_OFFSET, FIELD_SIZE, FIELD_CPUS, FIELD_COUNT,
};

struct parser {
    struct bench_job *jobs;
    unsigned count;                     /* jobs so far */
    unsigned source[BENCH_MAX_JOBS];    /* each job's number in the text */
    unsigned job_number;                /* the job being parsed, from 1 */
    bool profile_seen;
    struct span given[FIELD_COUNT];     /* its fields as written; len 0: not given */
    char *why;
    size_t why_size;
};

/* ---- messages ---- */

/* "bench: job N: FIELD=VALUE: what", the field escaped and cut; without
 * the field when it is NULL. Returns false, for `return fail(...)`. */
static bool fail(struct parser *p, const struct span *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(struct parser *p, const struct span *field, const char *fmt, ...)
{
    char what[WHAT_MAX], shown[4 * SHOWN_MAX + 1] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t n = 0;
    if (field) {
        n = field->len < SHOWN_MAX ? field->len : SHOWN_MAX;
        format_escaped(shown, sizeof shown, field->text, n);
    }
    if (p->why && p->why_size)
        snprintf(p->why, p->why_size, "bench: job %u: %s%s%s%s", p->job_number, shown,
                 field && n < field->len ? "..." : "", field ? ": " : "", what);
    return false;
}

/* ---- numbers ---- */

enum number_status { NUMBER_OK, NUMBER_MALFORMED, NUMBER_TOO_BIG };

static enum number_status parse_decimal(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    bool too_big = false;
    *out = 0;
    if (len == 0)
        return NUMBER_MALFORMED;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return NUMBER_MALFORMED;
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            too_big = true;
        v = v * 10 + digit;
    }
    *out = v;
    return too_big ? NUMBER_TOO_BIG : NUMBER_OK;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* SIZE: digits and an optional k, m or g (x 2^10, 2^20, 2^30). */
static enum number_status parse_size(const struct span *v, uint64_t *out)
{
    char last = v->len ? lower(v->text[v->len - 1]) : 0;
    unsigned shift = last == 'k' ? 10 : last == 'm' ? 20 : last == 'g' ? 30 : 0;
    enum number_status status = parse_decimal(v->text, v->len - (shift ? 1 : 0), out);
    if (status != NUMBER_OK)
        return status;
    if (*out > (UINT64_MAX >> shift))
        return NUMBER_TOO_BIG;
    *out <<= shift;
    return NUMBER_OK;
}

/* TIME: digits and ms or s (none: s), in milliseconds; saturates at
 * UINT64_MAX, which every range check refuses. */
static enum number_status parse_time_ms(const struct span *v, uint64_t *out)
{
    size_t n = v->len;
    bool ms = n >= 2 && lower(v->text[n - 2]) == 'm' && lower(v->text[n - 1]) == 's';
    if (ms)
        n -= 2;
    else if (n >= 1 && lower(v->text[n - 1]) == 's')
        n -= 1;
    enum number_status status = parse_decimal(v->text, n, out);
    if (status == NUMBER_OK && !ms)
        *out = *out > UINT64_MAX / 1000 ? UINT64_MAX : *out * 1000;
    return status;
}

enum number_kind { KIND_NUMBER, KIND_SIZE, KIND_TIME };

static const char *const kind_syntax[] = {
    [KIND_NUMBER] = "not a number (decimal digits)",
    [KIND_SIZE] = "not a size (a decimal number, optionally followed by k, m or g)",
    [KIND_TIME] = "not a time (a decimal number, optionally followed by ms or s)",
};

/* The value of `field` as a number of `kind` in min..max (`range` says the
 * range in words). */
static bool field_number(struct parser *p, const struct span *field, const struct span *value,
                         enum number_kind kind, uint64_t min, uint64_t max, const char *range,
                         uint64_t *out)
{
    enum number_status status = kind == KIND_SIZE ? parse_size(value, out)
                                : kind == KIND_TIME ? parse_time_ms(value, out)
                                : parse_decimal(value->text, value->len, out);
    if (status == NUMBER_MALFORMED)
        return fail(p, field, "%s", kind_syntax[kind]);
    if (status == NUMBER_TOO_BIG)
        return fail(p, field, "too big: does not fit in 64 bits");
    if (*out < min || *out > max)
        return fail(p, field, "out of range (%s)", range);
    return true;
}

static bool field_u32(struct parser *p, const struct span *field, const struct span *value,
                      uint32_t min, uint32_t max, const char *range, uint32_t *out)
{
    uint64_t v;
    if (!field_number(p, field, value, KIND_NUMBER, min, max, range, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ---- words and text ---- */

/* The first `c` in s, or NULL. */
static const char *span_find(const struct span *s, char c)
{
    for (size_t i = 0; i < s->len; i++)
        if (s->text[i] == c)
            return s->text + i;
    return NULL;
}

static bool span_is(const struct span *s, const char *word)
{
    return strlen(word) == s->len && memcmp(s->text, word, s->len) == 0;
}

static const char *const rw_names[] = {
    [BENCH_READ] = "read", [BENCH_WRITE] = "write", [BENCH_RANDREAD] = "randread",
    [BENCH_RANDWRITE] = "randwrite", [BENCH_RANDRW] = "randrw",
};
#define RW_COUNT (sizeof rw_names / sizeof rw_names[0])

const char *bench_rw_name(enum bench_rw rw)
{
    return (unsigned)rw < RW_COUNT ? rw_names[rw] : "unknown";
}

bool bench_rw_writes(enum bench_rw rw)
{
    return rw == BENCH_WRITE || rw == BENCH_RANDWRITE || rw == BENCH_RANDRW;
}

/* The name becomes a KTAP case name and a JSON string: nothing to escape. */
static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

static bool copy_text(struct parser *p, const struct span *field, const struct span *value,
                      char *dst, size_t size, bool (*allowed)(char), const char *refusal)
{
    if (value->len > size - 1)
        return fail(p, field, "longer than %u characters", (unsigned)(size - 1));
    for (size_t i = 0; i < value->len; i++)
        if (!allowed(value->text[i]))
            return fail(p, field, "%s", refusal);
    memcpy(dst, value->text, value->len);
    dst[value->len] = '\0';
    return true;
}

/* A device glob is printed in reports: no blanks or control characters. */
static bool dev_char(char c)
{
    return c > ' ' && c < 0x7f;
}

/* ---- the fields ---- */

typedef bool field_parser(struct parser *p, const struct span *field, const struct span *value,
                          struct bench_job *job);

static bool parse_name(struct parser *p, const struct span *f, const struct span *v,
                       struct bench_job *job)
{
    return copy_text(p, f, v, job->name, sizeof job->name, name_char,
                     "only A-Z a-z 0-9 _ . - may be in a name");
}

static bool parse_dev(struct parser *p, const struct span *f, const struct span *v,
                      struct bench_job *job)
{
    return copy_text(p, f, v, job->dev, sizeof job->dev, dev_char, "not printable");
}

static bool parse_rw(struct parser *p, const struct span *f, const struct span *v,
                     struct bench_job *job)
{
    for (unsigned rw = 0; rw < RW_COUNT; rw++) {
        if (span_is(v, rw_names[rw])) {
            job->rw = (enum bench_rw)rw;
            return true;
        }
    }
    return fail(p, f, "not one of read, write, randread, randwrite, randrw");
}

static bool parse_rwmixread(struct parser *p, const struct span *f, const struct span *v,
                            struct bench_job *job)
{
    return field_u32(p, f, v, 0, 100, "0..100", &job->rwmixread);
}

static bool parse_bs(struct parser *p, const struct span *f, const struct span *v,
                     struct bench_job *job)
{
    uint64_t bs;
    if (!field_number(p, f, v, KIND_SIZE, 512, 1u << 20, "512..1m", &bs))
        return false;
    if (bs % 512)
        return fail(p, f, "not a multiple of 512");
    job->bs = (uint32_t)bs;
    return true;
}

static bool parse_iodepth(struct parser *p, const struct span *f, const struct span *v,
                          struct bench_job *job)
{
    return field_u32(p, f, v, 1, 1024, "1..1024", &job->iodepth);
}

static bool parse_qpairs(struct parser *p, const struct span *f, const struct span *v,
                         struct bench_job *job)
{
    return field_u32(p, f, v, 1, 64, "1..64", &job->qpairs);
}

/* runtime=0 would leave a job with no bound at all. */
static bool parse_runtime(struct parser *p, const struct span *f, const struct span *v,
                          struct bench_job *job)
{
    return field_number(p, f, v, KIND_TIME, 1, HOUR_MS, "1ms..1h", &job->runtime_ms);
}

static bool parse_number_ios(struct parser *p, const struct span *f, const struct span *v,
                             struct bench_job *job)
{
    return field_number(p, f, v, KIND_NUMBER, 1, NUMBER_IOS_MAX, "1..2^40", &job->number_ios);
}

static bool parse_ramp_time(struct parser *p, const struct span *f, const struct span *v,
                            struct bench_job *job)
{
    return field_number(p, f, v, KIND_TIME, 0, HOUR_MS, "0..1h", &job->ramp_ms);
}

static bool parse_completion(struct parser *p, const struct span *f, const struct span *v,
                             struct bench_job *job)
{
    if (!span_is(v, "poll") && !span_is(v, "irq"))
        return fail(p, f, "not one of poll, irq");
    job->irq = span_is(v, "irq");
    return true;
}

static bool parse_verify(struct parser *p, const struct span *f, const struct span *v,
                         struct bench_job *job)
{
    if (!span_is(v, "0") && !span_is(v, "1"))
        return fail(p, f, "not 0 or 1");
    job->verify = span_is(v, "1");
    return true;
}

static bool parse_offset(struct parser *p, const struct span *f, const struct span *v,
                         struct bench_job *job)
{
    return field_number(p, f, v, KIND_SIZE, 0, UINT64_MAX, "0..2^64-1", &job->offset);
}

static bool parse_size_field(struct parser *p, const struct span *f, const struct span *v,
                             struct bench_job *job)
{
    return field_number(p, f, v, KIND_SIZE, 0, UINT64_MAX, "0..2^64-1", &job->size);
}

/* cpus=all is 0 in the job: the engine counts the CPUs online. */
static bool parse_cpus(struct parser *p, const struct span *f, const struct span *v,
                       struct bench_job *job)
{
    if (span_is(v, "all")) {
        job->cpus = 0;
        return true;
    }
    uint64_t n;
    if (parse_decimal(v->text, v->len, &n) == NUMBER_MALFORMED)
        return fail(p, f, "not a number of CPUs (decimal digits, or all)");
    return field_u32(p, f, v, 1, BENCH_CPUS_MAX, "1..1024, or all", &job->cpus);
}

_Static_assert(BENCH_CPUS_MAX == 1024, "parse_cpus names the range");

static const struct {
    const char *name;
    field_parser *parse;
} fields[FIELD_COUNT] = {
    [FIELD_NAME] = { "name", parse_name },
    [FIELD_DEV] = { "dev", parse_dev },
    [FIELD_RW] = { "rw", parse_rw },
    [FIELD_RWMIXREAD] = { "rwmixread", parse_rwmixread },
    [FIELD_BS] = { "bs", parse_bs },
    [FIELD_IODEPTH] = { "iodepth", parse_iodepth },
    [FIELD_QPAIRS] = { "qpairs", parse_qpairs },
    [FIELD_RUNTIME] = { "runtime", parse_runtime },
    [FIELD_NUMBER_IOS] = { "number_ios", parse_number_ios },
    [FIELD_RAMP_TIME] = { "ramp_time", parse_ramp_time },
    [FIELD_COMPLETION] = { "completion", parse_completion },
    [FIELD_VERIFY] = { "verify", parse_verify },
    [FIELD_OFFSET] = { "offset", parse_offset },
    [FIELD_SIZE] = { "size", parse_size_field },
    [FIELD_CPUS] = { "cpus", parse_cpus },
};

#define KNOWN_FIELDS "name, dev, rw, rwmixread, bs, iodepth, qpairs, runtime, number_ios, " \
                     "ramp_time, completion, verify, offset, size, cpus"

static int find_field(const struct span *key)
{
    for (int id = 0; id < FIELD_COUNT; id++)
        if (span_is(key, fields[id].name))
            return id;
    return -1;
}

/* ---- profiles ---- */

struct profile_job {
    enum bench_rw rw;
    uint32_t bs, iodepth;
    uint64_t runtime_ms, number_ios;
};

static const struct profile_job quick_jobs[] = {
    { BENCH_RANDREAD, 4096, 1, 0, 2000 },
    { BENCH_RANDREAD, 4096, 32, 0, 2000 },
};

/* The four jobs of issue 13's table. */
static const struct profile_job standard_jobs[] = {
    { BENCH_RANDREAD, 4096, 1, 2000, 0 },
    { BENCH_RANDREAD, 4096, 32, 2000, 0 },
    { BENCH_RANDWRITE, 4096, 32, 2000, 0 },
    { BENCH_READ, 128 * 1024, 8, 2000, 0 },
};

static const struct {
    const char *name;
    const struct profile_job *jobs;
    unsigned count;
} profiles[] = {
    { "quick", quick_jobs, sizeof quick_jobs / sizeof quick_jobs[0] },
    { "standard", standard_jobs, sizeof standard_jobs / sizeof standard_jobs[0] },
};
#define PROFILE_COUNT (sizeof profiles / sizeof profiles[0])

static int find_profile(const struct span *word)
{
    for (unsigned i = 0; i < PROFILE_COUNT; i++)
        if (span_is(word, profiles[i].name))
            return (int)i;
    return -1;
}

/* ---- jobs ---- */

static void job_defaults(struct bench_job *job)
{
    memset(job, 0, sizeof *job);
    job->dev[0] = '*';
    job->rw = BENCH_READ;
    job->rwmixread = 50;
    job->bs = 4096;
    job->iodepth = 1;
    job->qpairs = 1;
    job->cpus = 1;
}

/* "<rw>-<bs>-qd<iodepth>", bs as fio writes it: 512, 4k, 128k, 1m; a job on
 * more than one CPU ends "-cpus<N>" or "-cpusall". */
static void default_name(struct bench_job *job)
{
    char bs[16];
    if (job->bs % (1u << 20) == 0)
        snprintf(bs, sizeof bs, "%um", (unsigned)(job->bs >> 20));
    else if (job->bs % 1024 == 0)
        snprintf(bs, sizeof bs, "%uk", (unsigned)(job->bs >> 10));
    else
        snprintf(bs, sizeof bs, "%u", (unsigned)job->bs);
    char cpus[16] = "";
    if (job->cpus == 0)
        snprintf(cpus, sizeof cpus, "-cpusall");
    else if (job->cpus > 1)
        snprintf(cpus, sizeof cpus, "-cpus%u", (unsigned)job->cpus);
    snprintf(job->name, sizeof job->name, "%s-%s-qd%u%s", bench_rw_name(job->rw), bs,
             (unsigned)job->iodepth, cpus);
}

/* Appends `job` when there is room and its name is new. `what` is the job's
 * text, named in the message when the job came from a profile. */
static bool add_job(struct parser *p, const struct bench_job *job, const struct span *what)
{
    if (p->count == BENCH_MAX_JOBS)
        return fail(p, what, "too many jobs (at most %u%s)", BENCH_MAX_JOBS,
                    p->profile_seen ? ", a profile counting as its jobs" : "");
    for (unsigned i = 0; i < p->count; i++)
        if (strcmp(p->jobs[i].name, job->name) == 0)
            return fail(p, what, "name %s is job %u's too", job->name, p->source[i]);
    p->source[p->count] = p->job_number;
    p->jobs[p->count++] = *job;
    return true;
}

static bool add_profile(struct parser *p, int index, const struct span *word)
{
    p->profile_seen = true;
    for (unsigned i = 0; i < profiles[index].count; i++) {
        const struct profile_job *pj = &profiles[index].jobs[i];
        struct bench_job job;
        job_defaults(&job);
        job.rw = pj->rw;
        job.bs = pj->bs;
        job.iodepth = pj->iodepth;
        job.runtime_ms = pj->runtime_ms;
        job.number_ios = pj->number_ios;
        default_name(&job);
        if (!add_job(p, &job, word))
            return false;
    }
    return true;
}

/* One `name=VALUE`. */
static bool parse_field(struct parser *p, const struct span *field, struct bench_job *job)
{
    if (field->len == 0)
        return fail(p, NULL, "empty field (',' twice or at an end)");
    const char *eq = span_find(field, '=');
    if (!eq && find_profile(field) >= 0)
        return fail(p, field, "a profile is a job of its own (';' after it, not ',')");
    if (!eq)
        return fail(p, field, "no '=' (a field is name=VALUE)");
    struct span key = { field->text, (size_t)(eq - field->text) };
    struct span value = { eq + 1, field->len - key.len - 1 };
    int id = find_field(&key);
    if (id < 0)
        return fail(p, field, "unknown field (known: " KNOWN_FIELDS ")");
    if (p->given[id].text)
        return fail(p, field, "%s given twice", fields[id].name);
    p->given[id] = *field;
    if (value.len == 0)
        return fail(p, field, "empty value");
    return fields[id].parse(p, field, &value, job);
}

/* The checks that take two fields, and the defaults that depend on others. */
static bool check_job(struct parser *p, struct bench_job *job)
{
    const struct span *mix = &p->given[FIELD_RWMIXREAD];
    const struct span *runtime = &p->given[FIELD_RUNTIME], *ios = &p->given[FIELD_NUMBER_IOS];
    if (mix->text && job->rw != BENCH_RANDRW)
        return fail(p, mix, "only with rw=randrw (this job is rw=%s)", bench_rw_name(job->rw));
    if (runtime->text && ios->text) {
        bool ios_later = ios->text > runtime->text;
        return fail(p, ios_later ? ios : runtime, "%s is given too (one of runtime and number_ios "
                    "bounds a job)", ios_later ? "runtime" : "number_ios");
    }
    if (job->verify && bench_rw_writes(job->rw))
        return fail(p, &p->given[FIELD_VERIFY], "only for jobs that only read (this job is "
                    "rw=%s: what it writes is not stamped)", bench_rw_name(job->rw));
    const struct span *qpairs = &p->given[FIELD_QPAIRS], *cpus = &p->given[FIELD_CPUS];
    if (job->qpairs > 1 && job->cpus != 1) {
        bool cpus_later = cpus->text > qpairs->text;
        return fail(p, cpus_later ? cpus : qpairs, "%s is given too (on several CPUs each CPU "
                    "drives one queue pair, its own: give one of qpairs and cpus)",
                    cpus_later ? "qpairs" : "cpus");
    }
    if (!runtime->text && !ios->text)
        job->runtime_ms = DEFAULT_RUNTIME_MS;
    if (!p->given[FIELD_NAME].text)
        default_name(job);
    return true;
}

/* Splits text at `separator`: every part, empty ones too (n separators, n + 1 parts). */
struct splitter {
    const char *text;
    size_t len, pos;
    bool done;
};

static bool split_next(struct splitter *s, char separator, struct span *part)
{
    if (s->done)
        return false;
    size_t end = s->pos;
    while (end < s->len && s->text[end] != separator)
        end++;
    part->text = s->text + s->pos;
    part->len = end - s->pos;
    s->done = end == s->len;
    s->pos = end + 1;
    return true;
}

static bool parse_fields(struct parser *p, const struct span *text)
{
    struct bench_job job;
    struct splitter s = { text->text, text->len, 0, false };
    struct span field;
    job_defaults(&job);
    memset(p->given, 0, sizeof p->given);
    while (split_next(&s, ',', &field))
        if (!parse_field(p, &field, &job))
            return false;
    return check_job(p, &job) && add_job(p, &job, NULL);
}

static bool parse_job(struct parser *p, const struct span *text)
{
    if (text->len == 0)
        return fail(p, NULL, "empty job (';' twice or at an end)");
    int profile = find_profile(text);
    if (profile >= 0)
        return add_profile(p, profile, text);
    return parse_fields(p, text);
}

bool bench_jobs_parse(const char *text, size_t len, struct bench_job jobs[BENCH_MAX_JOBS],
                      unsigned *count, char *why, size_t why_size)
{
    struct parser p = { .jobs = jobs, .why = why, .why_size = why_size };
    struct splitter s = { text, len, 0, false };
    struct span job;
    *count = 0;
    if (why && why_size)
        why[0] = '\0';
    if (len == 0) {
        if (why && why_size)
            snprintf(why, why_size, "bench: no job (give a profile, quick or standard, or "
                     "name=VALUE fields)");
        return false;
    }
    while (split_next(&s, ';', &job)) {
        p.job_number++;
        if (!parse_job(&p, &job))
            return false;
    }
    *count = p.count;
    return true;
}
