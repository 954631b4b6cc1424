/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_bench_job.c — the bench= job parser (lib/bench_job.c) on
 * any bytes, given as text and length with no terminator after it (ASan
 * sees a read past the end): on failure no job and a message that begins
 * "bench: "; on success every job within the limits the header documents,
 * its name and device terminated and printable, and the names unique. */
#include "tests/fuzz/fuzz.h"
#include "lib/bench_job.h"

static bool printable(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n == max)
        return false;               /* not terminated inside its array */
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    static struct bench_job jobs[BENCH_MAX_JOBS];
    unsigned count = 12345;
    char why[160];
    bool ok = bench_jobs_parse(text, size, jobs, &count, why, sizeof why);
    if (!ok) {
        FUZZ_ASSERT(count == 0);
        FUZZ_ASSERT(strncmp(why, "bench: ", 7) == 0 && strnlen(why, sizeof why) < sizeof why);
    } else {
        FUZZ_ASSERT(count >= 1 && count <= BENCH_MAX_JOBS);
        for (unsigned i = 0; i < count; i++) {
            const struct bench_job *j = &jobs[i];
            FUZZ_ASSERT(printable(j->name, sizeof j->name) && j->name[0]);
            FUZZ_ASSERT(printable(j->dev, sizeof j->dev) && j->dev[0]);
            FUZZ_ASSERT(j->rw <= BENCH_RANDRW && j->rwmixread <= 100);
            FUZZ_ASSERT(j->bs >= 512 && j->bs <= (1u << 20) && j->bs % 512 == 0);
            FUZZ_ASSERT(j->iodepth >= 1 && j->iodepth <= 1024);
            FUZZ_ASSERT(j->qpairs >= 1 && j->qpairs <= 64);
            /* Bounded by exactly one of time and count. */
            FUZZ_ASSERT((j->runtime_ms != 0) != (j->number_ios != 0));
            FUZZ_ASSERT(j->runtime_ms <= 3600000 && j->ramp_ms <= 3600000);
            FUZZ_ASSERT(j->number_ios <= (1ull << 40));
            for (unsigned k = 0; k < i; k++)
                FUZZ_ASSERT(strcmp(jobs[k].name, j->name) != 0);
        }
    }
    free(text);
    return 0;
}
