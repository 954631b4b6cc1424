/* SPDX-License-Identifier: MIT */
/* tests/harness/ktest.c — the in-kernel test harness. Runs the suites registered in
 * the .ktest_suites section (tests/harness/ktest.h) that `tests=` selects, in order,
 * and reports them as KTAP version 1 between two banner lines:
 *
 *   === bareio KTAP START ===
 *   KTAP version 1 / 1..N, then per suite: "  KTAP version 1" /
 *   "  # Subtest: suite" / "  1..cases" / the cases / "ok N suite"
 *   # bareio: P passed, F failed, S skipped
 *   === bareio KTAP END ===
 *
 * The totals count what a KTAP reader counts (Linux's kunit_tool,
 * tools/bareio_ktap.py): every case's result line, and a suite skipped as a
 * whole (one result line, no cases) as one skip.
 *
 * After each case it frees the buffers the case took with ktest_dma_alloc()
 * and checks that no other DMA memory allocated during the case is left over
 * (a leak in the code under test), naming whose it is. A case that runs past
 * its timeout is abandoned (longjmp from the LAPIC timer interrupt) and
 * reported as failed; a case that takes an exception is reported as crashed,
 * the remaining cases as skipped, and the run ends with CRASH.
 *
 * watchdog=SECONDS bounds the whole run the same way: the LAPIC timer also
 * fires at the run's deadline, and the case running then is reported as
 * timed out, the rest as not run, the document closed, the run ends FAIL
 * (kernel/watchdog.h). The timer's shots are also the hardware watchdog's
 * kicks, so they come at least as often as it needs them.
 *
 * A parameterised case opens one more level: "    KTAP version 1" /
 * "    # Subtest: case" / "    1..params" / one result per parameter, then
 * the case's own result line at the case's indent closes it. */
#include "tests/harness/ktest.h"
#include "kernel/apic.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/screen.h"
#include "kernel/smbios.h"
#include "kernel/symbols.h"
#include "kernel/time.h"
#include "kernel/watchdog.h"
#include "lib/format.h"
#include "lib/glob.h"
#include "lib/ktap.h"
#include "lib/string.h"
#include <stdarg.h>

#define KTEST_MAX_SUITES 128
#define KTEST_BANNER_START "=== bareio KTAP START ==="
#define KTEST_BANNER_END "=== bareio KTAP END ==="

extern const struct ktest_suite __ktest_suites_start[], __ktest_suites_end[];

/* A DMA buffer the case took with ktest_dma_alloc(), and who asked for it. */
struct case_buffer {
    struct dma_region region;
    const void *owner;
};

struct ktest {
    const struct ktest_suite *suite;
    const struct ktest_case *kcase;
    uint32_t param;                 /* KTEST_NO_PARAM for a plain case */
    unsigned depth;                 /* KTAP nesting of its result line: 1, or 2 for a parameter */
    char name[KTEST_PARAM_NAME_MAX]; /* the name on its result line */
    bool failed;
    bool skipped;
    char skip_reason[480];
    struct case_buffer buffers[KTEST_CASE_DMA_MAX];
    unsigned nbuffers;
};

struct totals {
    unsigned passed, failed, skipped;
};

static struct ktest *running;
static char running_name[128];
static bool ktap_open;              /* START printed, END not yet */
static const char *selection = "*";

/* Where the run is, so a crash can close the document consistently. */
static const struct ktest_suite *order[KTEST_MAX_SUITES];
static unsigned suite_count, suite_index, suite_number, case_index, case_number;
static uint32_t param_index, param_total;   /* param_total 0: not in a parameterised case */
static struct totals totals;
static struct totals suite_totals;
static struct totals case_totals;           /* the parameters of the running case */

static void console_line(void *ctx, const char *line)
{
    (void)ctx;
    kprintf("%s\n", line);
}

static struct ktap_writer ktap = { console_line, NULL };

/* ---- selection ---- */

static void case_full_name(const struct ktest_suite *s, const struct ktest_case *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s", s->name, c->name);
}

static bool case_selected(const struct ktest_suite *s, const struct ktest_case *c)
{
    char full[128];
    case_full_name(s, c, full, sizeof(full));
    enum glob_list_match m = glob_list_match(selection, full);
    if (c->flags & KTEST_EXPLICIT)
        return m == GLOB_LIST_LITERAL;
    return m != GLOB_LIST_NONE || glob_list_match(selection, s->name) != GLOB_LIST_NONE;
}

static unsigned selected_cases(const struct ktest_suite *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += case_selected(s, &s->cases[i]);
    return n;
}

/* Every pattern in tests= must select something: a typo is an error, not an
 * empty (and therefore "passing") run. */
static bool pattern_selects_something(const char *pattern, size_t len)
{
    bool literal = glob_is_literal(pattern, len);
    for (unsigned i = 0; i < suite_count; i++) {
        const struct ktest_suite *s = order[i];
        bool suite_match = glob_match_n(pattern, len, s->name);
        for (size_t j = 0; j < s->count; j++) {
            char full[128];
            case_full_name(s, &s->cases[j], full, sizeof(full));
            bool explicit_only = s->cases[j].flags & KTEST_EXPLICIT;
            if (glob_match_n(pattern, len, full) && (!explicit_only || literal))
                return true;
            if (suite_match && !explicit_only)
                return true;
        }
    }
    return false;
}

static void list_suites(void)
{
    kprintf("ktest: available suites:");
    for (unsigned i = 0; i < suite_count; i++)
        kprintf(" %s", order[i]->name);
    kprintf("\n");
}

static bool selection_valid(void)
{
    bool ok = true;
    const char *p = selection;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len && !pattern_selects_something(p, len)) {
            char shown[4 * 80 + 1];
            format_escaped(shown, sizeof(shown), p, len < 80 ? len : 80);
            kprintf("ktest: tests=%s%s selects no test (cases marked explicit must be named in "
                    "full)\n", shown, len > 80 ? "..." : "");
            ok = false;
        }
        p += len + (comma ? 1 : 0);
    }
    if (!ok)
        list_suites();
    return ok;
}

static void sort_suites(void)
{
    suite_count = 0;
    for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++) {
        if (suite_count == KTEST_MAX_SUITES) {
            kprintf("ktest: more than %d suites; raise KTEST_MAX_SUITES\n", KTEST_MAX_SUITES);
            break;
        }
        order[suite_count++] = s;
    }
    for (unsigned i = 1; i < suite_count; i++) {
        const struct ktest_suite *s = order[i];
        unsigned j = i;
        while (j > 0 && (order[j - 1]->order > s->order ||
                         (order[j - 1]->order == s->order && strcmp(order[j - 1]->name, s->name) > 0))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = s;
    }
}

/* ---- reporting from inside a case ---- */

void ktest_diag(struct ktest *t, const char *fmt, ...)
{
    (void)t;
    char msg[KTAP_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ktap_diag(&ktap, t ? t->depth : 1, msg);
}

void ktest_fail_at(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
    char msg[KTAP_LINE_MAX];
    int n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    ktap_diag(&ktap, t->depth, msg);
    t->failed = true;
}

void ktest_skip(struct ktest *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->skip_reason, sizeof(t->skip_reason), fmt, ap);
    va_end(ap);
    t->skipped = true;
}

bool ktest_failed(const struct ktest *t) { return t->failed; }
uint32_t ktest_param(const struct ktest *t) { return t->param; }

/* "test_nvme.c's zeroes+0x4c": a code address as function+offset. */
static void format_owner(char *buf, size_t size, const void *owner)
{
    uint64_t offset;
    const char *name = symbol_lookup((uint64_t)(uintptr_t)owner, &offset);
    if (name)
        snprintf(buf, size, "%s+0x%llx", name, (unsigned long long)offset);
    else
        snprintf(buf, size, "%p", owner);
}

/* ---- DMA memory owned by the case ---- */

struct dma_region ktest_dma_alloc(struct ktest *t, uint64_t size, uint64_t align,
                                  uint64_t boundary, enum dma_placement placement)
{
    const void *owner = __builtin_return_address(0);
    struct dma_region region = { .virt = NULL, .phys = 0, .size = 0 };

    if (t->nbuffers == KTEST_CASE_DMA_MAX) {
        char who[96];
        format_owner(who, sizeof(who), owner);
        ktest_fail_at(t, __FILE__, __LINE__, "%s: more than %d DMA buffers held at once by one "
                      "case (raise KTEST_CASE_DMA_MAX)", who, KTEST_CASE_DMA_MAX);
        return region;
    }
    region = dma_alloc_for(owner, size, align, boundary, placement);
    if (region.virt)
        t->buffers[t->nbuffers++] = (struct case_buffer){ region, owner };
    return region;
}

void ktest_dma_free(struct ktest *t, struct dma_region *region)
{
    for (unsigned i = 0; region->virt && i < t->nbuffers; i++)
        if (t->buffers[i].region.phys == region->phys) {
            t->buffers[i] = t->buffers[--t->nbuffers];
            break;
        }
    dma_free(region);
}

/* The case is over: its buffers go back. A case abandoned at its timeout
 * may have left a command in flight whose data a device still moves, so its
 * buffers stay allocated (it said why it failed already). Returns how many
 * were kept. */
static unsigned release_case_buffers(struct ktest *t, bool abandoned)
{
    unsigned kept = 0;
    uint64_t bytes = 0;
    char who[96] = "";

    for (unsigned i = 0; i < t->nbuffers; i++) {
        if (!abandoned) {
            dma_free(&t->buffers[i].region);
            continue;
        }
        if (!kept++)
            format_owner(who, sizeof(who), t->buffers[i].owner);
        bytes += t->buffers[i].region.size;
    }
    t->nbuffers = 0;
    if (kept)
        ktest_diag(t, "the abandoned case's %u DMA buffer%s (%llu bytes, the first from %s) "
                   "stay%s allocated: a device may still be moving data into them", kept,
                   kept == 1 ? "" : "s", (unsigned long long)bytes, who, kept == 1 ? "s" : "");
    return kept;
}
const char *ktest_current(void) { return running ? running_name : NULL; }

/* ---- stand-ins for work on other CPUs ---- */

static void (*abandon_hook)(struct ktest *t);

void ktest_set_abandon_hook(void (*hook)(struct ktest *t)) { abandon_hook = hook; }

size_t ktest_standin_size(void) { return sizeof(struct ktest); }

struct ktest *ktest_standin_begin(void *memory, const struct ktest *t)
{
    struct ktest *s = memory;
    *s = (struct ktest){ .suite = t->suite, .kcase = t->kcase, .param = t->param, .depth = t->depth };
    memcpy(s->name, t->name, sizeof(s->name));
    return s;
}

void ktest_standin_end(struct ktest *t, struct ktest *standin)
{
    if (standin->failed)
        t->failed = true;
    release_case_buffers(standin, false);
}

/* ---- running ---- */

/* kernel/isr.S: callee-saved registers, stack pointer, return address. */
int ktest_setjmp(uint64_t buf[8]) __attribute__((returns_twice));
__attribute__((noreturn)) void ktest_longjmp(uint64_t buf[8], int value);

static uint64_t case_jump[8];
static uint64_t case_deadline_ns;
static volatile uint64_t case_timeout_ms;      /* what the deadline was last set to */
static uint64_t run_deadline_ns;                /* watchdog=; 0 when not given */

/* The LAPIC timer's one shot reaches minutes at most (a 32-bit count and a
 * divider of 128); a longer deadline is reached in shots of a minute, each
 * re-armed by case_timeout_interrupt() — or shorter, for the run's deadline
 * and for a hardware watchdog that needs kicks more often. */
#define CASE_TIMER_SHOT_NS (60ull * 1000000000ull)

static void arm_case_timer(uint64_t ns)
{
    uint64_t shot = ns < CASE_TIMER_SHOT_NS ? ns : CASE_TIMER_SHOT_NS;
    uint64_t kick = watchdog_kick_interval_ns();
    if (kick < shot)
        shot = kick;
    if (run_deadline_ns) {
        uint64_t now = time_ns();
        uint64_t left = run_deadline_ns > now ? run_deadline_ns - now : 1;
        if (left < shot)
            shot = left;
    }
    apic_timer_oneshot_ns(shot);
}

static bool run_deadline_passed(void) { return run_deadline_ns && time_ns() >= run_deadline_ns; }

static __attribute__((noreturn)) void watchdog_expired(void);

/* The LAPIC timer fired during a case: if the case is past its deadline,
 * abandon it and go back to run_case(); past the run's, end the run. The
 * dispatcher's EOI would come after we return, which we never do, so
 * acknowledge here. */
static void case_timeout_interrupt(void *ctx, struct irq_frame *frame)
{
    (void)ctx;
    (void)frame;
    watchdog_kick();
    if (!running)
        return;
    if (run_deadline_passed()) {
        apic_eoi();
        watchdog_expired();
    }
    uint64_t now = time_ns();
    if (now < case_deadline_ns) {
        arm_case_timer(case_deadline_ns - now);  /* a longer deadline, or a test re-armed it */
        return;
    }
    apic_eoi();
    ktest_longjmp(case_jump, 1);
}

uint64_t ktest_deadline_ns(const struct ktest *t)
{
    (void)t;
    return case_deadline_ns;
}

void ktest_set_timeout(struct ktest *t, uint32_t ms)
{
    if (t != running)
        return;
    uint64_t flags = irq_save();
    case_timeout_ms = ms;
    case_deadline_ns = time_ns() + (uint64_t)ms * 1000000ull;
    arm_case_timer((uint64_t)ms * 1000000ull);
    irq_restore(flags);
}

/* Log lines written during a case become KTAP diagnostics of that case, at
 * its depth (0: not in a case). */
static void console_prefix_for_case(unsigned depth)
{
    static const char *const prefix[] = { NULL, "  # ", "    # " };
    console_set_klog_prefix(prefix[depth < 3 ? depth : 2]);
}

/* Counted where a reader counts it: in the run's, the suite's and (for a
 * parameter) the case's totals. */
static void count_result(struct ktest *t)
{
    struct totals *all[3] = { &totals, &suite_totals, &case_totals };
    for (unsigned i = 0; i < (t->depth == 2 ? 3u : 2u); i++) {
        if (t->failed)
            all[i]->failed++;
        else if (t->skipped)
            all[i]->skipped++;
        else
            all[i]->passed++;
    }
}

/* A case's (or a parameter's) result line, and its count. */
/* Right before each leaf result (a case, a parameter, a suite reported
 * whole) one diagnostic that a single pattern maps to LAVA's and CI's words,
 * with the full dotted path (case names repeat across suites):
 *   # bareio-case: pass|fail|skip suite.case[.param]
 * A diagnostic, so KTAP readers (kunit_tool, tools/bareio_ktap.py) take it as
 * the result's own log line, as KTAP places diagnostics before their result. */
static void leaf_line(unsigned depth, bool ok, bool skipped, const char *suite, const char *kcase,
                      const char *param)
{
    char line[KTAP_LINE_MAX];
    int n = snprintf(line, sizeof(line), "bareio-case: %s %s", !ok ? "fail" : skipped ? "skip" : "pass",
                     suite);
    if (kcase && n < (int)sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, ".%s", kcase);
    if (param && n < (int)sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n, ".%s", param);
    ktap_diag(&ktap, depth, line);
}

static void report_result(struct ktest *t, unsigned number)
{
    /* A case that failed is reported as failed even if it also asked to skip. */
    leaf_line(t->depth, !t->failed, t->skipped, t->suite->name, t->kcase->name,
              t->depth == 2 ? t->name : NULL);
    ktap_result(&ktap, t->depth, !t->failed, number, t->name,
                (!t->failed && t->skipped) ? t->skip_reason : NULL);
    count_result(t);
}

/* DMA memory left over by the case, other than its own buffers: whose it is. */
static void report_leak(struct ktest *t, uint64_t before, uint64_t after, uint64_t first_serial)
{
    struct dma_allocation left[3];
    unsigned n = dma_allocations_since(first_serial, left, 3);
    char msg[KTAP_LINE_MAX], who[96];
    int len = snprintf(msg, sizeof(msg), "DMA memory leaked: %llu allocations outstanding before "
                       "the case, %llu after", (unsigned long long)before,
                       (unsigned long long)after);

    for (unsigned i = 0; i < n && i < 3 && len < (int)sizeof(msg); i++) {
        format_owner(who, sizeof(who), left[i].owner);
        len += snprintf(msg + len, sizeof(msg) - (size_t)len, "%s %llu bytes at 0x%llx from %s",
                        i ? ";" : ": made during the case and still held:",
                        (unsigned long long)left[i].size, (unsigned long long)left[i].phys, who);
    }
    if (n > 3 && len < (int)sizeof(msg))
        snprintf(msg + len, sizeof(msg) - (size_t)len, "; %u more", n - 3);
    ktest_fail_at(t, __FILE__, __LINE__, "%s", msg);
}

/* One run of a case's function (one parameter of a parameterised case):
 * its timeout, its buffers, the leak check. The result is left in *t. */
static void run_once(struct ktest *t)
{
    const struct ktest_case *c = t->kcase;
    volatile uint64_t dma_before = dma_outstanding();
    volatile uint64_t first_serial = dma_next_serial();
    volatile uint64_t timeout_ns = (uint64_t)c->timeout_ms * 1000000ull;
    volatile bool abandoned = false;

    case_full_name(t->suite, c, running_name, sizeof(running_name));
    if (t->param != KTEST_NO_PARAM) {
        size_t len = strlen(running_name);
        snprintf(running_name + len, sizeof(running_name) - len, ".%s", t->name);
    }
    running = t;
    console_prefix_for_case(t->depth);
    watchdog_kick();
    if (run_deadline_passed())
        watchdog_expired();         /* reported as this case's: the one that was next */
    case_timeout_ms = c->timeout_ms;
    case_deadline_ns = time_ns() + timeout_ns;
    arm_case_timer(timeout_ns);
    if (ktest_setjmp(case_jump) == 0) {
        c->fn(t);
    } else {
        /* Back from case_timeout_interrupt(), on an interrupt gate: IF is clear. */
        irq_enable();
        abandoned = true;
        if (abandon_hook)
            abandon_hook(t);
        ktest_fail_at(t, __FILE__, __LINE__, "timed out after %llu ms: the case was abandoned",
                      (unsigned long long)case_timeout_ms);
    }
    apic_timer_cancel();
    console_prefix_for_case(0);
    running = NULL;

    uint64_t kept = release_case_buffers(t, abandoned);
    uint64_t dma_after = dma_outstanding() - kept;
    if (dma_after != dma_before)
        report_leak(t, dma_before, dma_after, first_serial);
}

/* The line that closes a parameterised case's nested document: failed if a
 * parameter failed, a skip if all of them skipped. Not counted: its
 * parameters were. */
static void params_result(const struct ktest_case *c, unsigned number)
{
    const char *skip = NULL;
    if (!case_totals.failed && !case_totals.passed && case_totals.skipped)
        skip = "every parameter skipped";
    ktap_result(&ktap, 1, case_totals.failed == 0, number, c->name, skip);
    param_total = 0;
}

static void run_case(const struct ktest_suite *s, const struct ktest_case *c, unsigned number)
{
    uint32_t n = c->param_count ? c->param_count() : 0;

    if (n == 0) {
        struct ktest t = { .suite = s, .kcase = c, .param = KTEST_NO_PARAM, .depth = 1 };
        snprintf(t.name, sizeof(t.name), "%s", c->name);
        run_once(&t);
        report_result(&t, number);
        return;
    }
    ktap_subtest_begin(&ktap, 2, c->name, n);
    case_totals = (struct totals){ 0 };
    param_total = n;
    for (param_index = 0; param_index < n; param_index++) {
        struct ktest t = { .suite = s, .kcase = c, .param = param_index, .depth = 2 };
        c->param_name(param_index, t.name, sizeof(t.name));
        if (!t.name[0])
            snprintf(t.name, sizeof(t.name), "param%u", param_index);
        run_once(&t);
        report_result(&t, param_index + 1);
    }
    params_result(c, number);
}

static void suite_result(const struct ktest_suite *s, unsigned number)
{
    const char *skip = NULL;
    if (!suite_totals.failed && !suite_totals.passed && suite_totals.skipped)
        skip = "every case skipped";
    ktap_result(&ktap, 0, suite_totals.failed == 0, number, s->name, skip);
}

static void (*end_hook)(void);

void ktest_set_end_hook(void (*hook)(void)) { end_hook = hook; }

static void close_document(void)
{
    exit_set_totals(totals.passed, totals.failed, totals.skipped);
    kprintf("# bareio: %u passed, %u failed, %u skipped\n", totals.passed, totals.failed, totals.skipped);
    kprintf("%s\n", KTEST_BANNER_END);
    ktap_open = false;
}

static void machine_line(void *ctx, const char *text)
{
    (void)ctx;
    ktap_diag(&ktap, 0, text);
}

int ktest_run_all(const char *tests)
{
    selection = (tests && *tests) ? tests : "*";
    /* A suite the table cannot hold would never run: refuse the whole run
     * rather than pass without it (a bareio build error, named). */
    size_t built_in = (size_t)(__ktest_suites_end - __ktest_suites_start);
    if (built_in > KTEST_MAX_SUITES) {
        kprintf("ktest: %zu suites are built in, the harness orders at most %u: not running a "
                "part of them (raise KTEST_MAX_SUITES)\n", built_in, KTEST_MAX_SUITES);
        return BAREIO_EXIT_FAIL;
    }
    /* From here a crash is reported as this run's: the case it hit, the
     * cases not run, the document closed (ktest_crash). */
    static const struct crash_hooks hooks = { ktest_current, ktest_crash };
    crash_set_hooks(&hooks);
    sort_suites();
    irq_set_handler(IRQ_VECTOR_LAPIC_TIMER, case_timeout_interrupt, NULL);
    if (!selection_valid())
        return BAREIO_EXIT_USAGE;

    unsigned selected_suites = 0;
    for (unsigned i = 0; i < suite_count; i++)
        selected_suites += selected_cases(order[i]) > 0;

    if (watchdog_run_seconds()) {
        run_deadline_ns = time_ns() + (uint64_t)watchdog_run_seconds() * 1000000000ull;
        kprintf("watchdog: the run is bounded to %u s (watchdog=)\n", watchdog_run_seconds());
        if (watchdog_hw_wanted() && !watchdog_start())
            kprintf("watchdog: no hardware watchdog armed: a hang with interrupts off is not "
                    "caught\n");
    }
    kprintf("%s\n", KTEST_BANNER_START);
    ktap_open = true;
    ktap_version(&ktap, 0);
    ktap_plan(&ktap, 0, selected_suites);
    machine_describe(machine_line, NULL);       /* every report names its machine */
    if (watchdog_previous_reset()) {
        char line[128];
        snprintf(line, sizeof(line), "watchdog: the boot before this one was reset by %s (it hung)",
                 watchdog_previous_reset());
        ktap_diag(&ktap, 0, line);
    }

    suite_number = 0;
    for (suite_index = 0; suite_index < suite_count; suite_index++) {
        const struct ktest_suite *s = order[suite_index];
        unsigned n = selected_cases(s);
        if (!n)
            continue;
        suite_number++;
        suite_totals = (struct totals){ 0 };
        const char *reason = NULL;
        if (s->available && !s->available(&reason)) {
            /* One result line, so one skip: kunit_tool, prove and
             * tools/bareio_ktap.py count it so, and the totals must agree. */
            leaf_line(0, true, true, s->name, NULL, NULL);
            ktap_result(&ktap, 0, true, suite_number, s->name, reason ? reason : "not available");
            totals.skipped++;
            continue;
        }
        ktap_subtest_begin(&ktap, 1, s->name, n);
        case_number = 0;
        for (case_index = 0; case_index < s->count; case_index++) {
            const struct ktest_case *c = &s->cases[case_index];
            if (!case_selected(s, c))
                continue;
            run_case(s, c, ++case_number);
        }
        suite_result(s, suite_number);
    }
    screen_keep_begin();        /* the summary and totals go under the verdict on the screen */
    if (end_hook)
        end_hook();
    close_document();
    screen_keep_end();
    return totals.failed ? BAREIO_EXIT_FAIL : BAREIO_EXIT_PASS;
}

/* How a run that cannot go on ends: the running case failed with `diag`,
 * what was not run is reported as skipped with `not_run` (so the KTAP plan
 * still holds), the document is closed and the run exits with `status`. */
struct early_end {
    const char *not_run;
    const char *final;              /* "CRASH", "WATCHDOG": the last line's word */
    enum bareio_exit status;
};

static __attribute__((noreturn)) void end_run_early(const char *what, const char *diag,
                                                    const struct early_end *how)
{
    irq_disable();
    apic_timer_cancel();
    console_prefix_for_case(0);
    if (!ktap_open) {
        kprintf("bareio: %s outside any test: %s\n", how->final, what);
        bareio_exit(how->status);
    }
    const struct ktest_suite *s = order[suite_index];
    if (running) {
        ktap_diag(&ktap, running->depth, diag);
        running->failed = true;
        struct ktest *stopped = running;
        running = NULL;
        if (stopped->depth == 2) {
            /* In a parameter: the rest of them were not run, then the case's line. */
            report_result(stopped, param_index + 1);
            for (uint32_t p = param_index + 1; p < param_total; p++) {
                struct ktest rest = { .suite = s, .kcase = stopped->kcase, .param = p, .depth = 2,
                                      .skipped = true };
                stopped->kcase->param_name(p, rest.name, sizeof(rest.name));
                if (!rest.name[0])
                    snprintf(rest.name, sizeof(rest.name), "param%u", p);
                snprintf(rest.skip_reason, sizeof(rest.skip_reason), "%s", how->not_run);
                report_result(&rest, p + 1);
            }
            params_result(stopped->kcase, case_number);
        } else {
            report_result(stopped, case_number);
        }
        for (case_index++; case_index < s->count; case_index++) {
            const struct ktest_case *c = &s->cases[case_index];
            if (case_selected(s, c)) {
                leaf_line(1, true, true, s->name, c->name, NULL);
                ktap_result(&ktap, 1, true, ++case_number, c->name, how->not_run);
                totals.skipped++;
            }
        }
        suite_result(s, suite_number);
    } else {
        /* Between cases (or in a suite's availability check): fail the suite. */
        ktap_diag(&ktap, 0, what);
        leaf_line(0, false, false, s->name, NULL, NULL);
        ktap_result(&ktap, 0, false, suite_number, s->name, NULL);
        totals.failed++;
    }
    for (suite_index++; suite_index < suite_count; suite_index++) {
        if (!selected_cases(order[suite_index]))
            continue;
        leaf_line(0, true, true, order[suite_index]->name, NULL, NULL);
        ktap_result(&ktap, 0, true, ++suite_number, order[suite_index]->name, how->not_run);
        totals.skipped++;           /* one result line, one skip (as above) */
    }
    screen_keep_begin();        /* under the verdict on the screen */
    kprintf("bareio: %s: %s\n", how->final, what);
    close_document();
    screen_keep_end();
    bareio_exit(how->status);
}

/* Called from the exception handler and panic(): the running case crashed.
 * Reports it, reports what was not run as skipped, closes the document and
 * exits with CRASH. */
void ktest_crash(const char *what)
{
    static const struct early_end crash = { "not run: the kernel crashed", "CRASH",
                                            BAREIO_EXIT_CRASH };
    char diag[KTAP_LINE_MAX];
    snprintf(diag, sizeof(diag), "CRASH: %s", what);
    end_run_early(what, diag, &crash);
}

/* The run's deadline (watchdog=) passed: in the timer interrupt, or before
 * the next case started. A failed run, not a crash: the kernel is fine, a
 * case (or the run) took longer than the lab allowed. */
static void watchdog_expired(void)
{
    static char not_run[64], what[128];
    snprintf(not_run, sizeof(not_run), "not run: watchdog=%u s expired", watchdog_run_seconds());
    snprintf(what, sizeof(what), "watchdog=%u s expired in %s: the run was ended there",
             watchdog_run_seconds(), running ? running_name : "the harness");
    const struct early_end end = { not_run, "WATCHDOG", BAREIO_EXIT_FAIL };
    char diag[KTAP_LINE_MAX];
    snprintf(diag, sizeof(diag), "timed out: watchdog=%u s, the bound on the whole run, expired "
             "during this case", watchdog_run_seconds());
    end_run_early(what, diag, &end);
}
