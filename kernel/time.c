/* SPDX-License-Identifier: MIT */
/* kernel/time.c — the monotonic clock: the TSC, scaled to nanoseconds with a
 * 32.32 fixed-point factor (lib/scale.h), calibrated once at boot against the
 * HPET main counter when ACPI describes a usable one, else against PIT channel
 * 2. Calibration times several short windows, stamping each reference event
 * with TSC reads on both sides, and keeps the window with the tightest stamps,
 * so one disturbed by an SMI (or a host hiccup under emulation) is not used.
 * Left out: per-CPU TSC offsets (one CPU only), recalibration, TSC-deadline. */
#include "kernel/time.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/hpet.h"
#include "kernel/io.h"
#include "kernel/pit.h"
#include "lib/scale.h"

#define CALIBRATION_WINDOWS 5           /* at least */
#define CALIBRATION_MAX_WINDOWS 16      /* while none is good enough */
#define CALIBRATION_GOOD_PPM 200
#define CALIBRATION_WINDOW_US 10000
/* Reference polls per window before giving up: a port or MMIO read takes well
 * over 100 ns, so this is seconds, never a hang. */
#define CALIBRATION_MAX_POLLS 20000000ull
/* A best window worse than this is worth a warning (a disturbed calibration). */
#define CALIBRATION_ERROR_WARN_PPM 1000
/* Plausible TSC rates: anything outside is a broken measurement. */
#define TSC_MIN_HZ 10000000ull
#define TSC_MAX_HZ 20000000000ull
#define PROVISIONAL_TSC_HZ 4000000000ull

/* CPUID leaves and bits (SDM vol. 2A CPUID; SDM vol. 3 §18.17.1). */
#define CPUID_1_EDX_TSC                 (1u << 4)
#define CPUID_EXT_MAX_LEAF              0x80000000u
#define CPUID_EXT_POWER_MGMT            0x80000007u
#define CPUID_80000007_EDX_INVARIANT_TSC (1u << 8)

/* time_ns() = base_ns + scale(tsc - base_tsc), never below last_ns. */
static struct scale tsc_to_ns = { .mult = (NS_PER_SECOND << SCALE_SHIFT) / PROVISIONAL_TSC_HZ };
static uint64_t base_tsc;
static uint64_t base_ns;
static uint64_t last_ns;

static uint64_t tsc_hz;
static const char *calibration_source = "none";
static bool invariant_tsc;
static uint64_t spread_ppm;
static uint64_t error_ppm;
static int windows_used;

uint64_t time_ns(void)
{
    uint64_t tsc = tsc_read();
    if (base_tsc == 0)
        base_tsc = tsc;
    uint64_t now = base_ns + scale_apply(&tsc_to_ns, tsc - base_tsc);
    /* An interrupt handler may read the clock between our read and our
     * update; compare-and-swap keeps last_ns the maximum ever returned. */
    uint64_t last = __atomic_load_n(&last_ns, __ATOMIC_RELAXED);
    while (now > last) {
        if (__atomic_compare_exchange_n(&last_ns, &last, now, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return now;
    }
    return last;
}

uint64_t tsc_ticks_to_ns(uint64_t ticks)
{
    return scale_apply(&tsc_to_ns, ticks);
}

void delay_us(uint64_t us)
{
    uint64_t ns = us > UINT64_MAX / 1000 ? UINT64_MAX / 2 : us * 1000;
    uint64_t end = time_ns() + ns;
    while (time_ns() < end)
        cpu_pause();
}

void delay_ms(uint64_t ms)
{
    delay_us(ms > UINT64_MAX / 1000 ? UINT64_MAX / 1000 : ms * 1000);
}

uint64_t tsc_frequency_hz(void)
{
    return tsc_hz;
}

const char *time_calibration_source(void)
{
    return calibration_source;
}

bool tsc_is_invariant(void)
{
    return invariant_tsc;
}

uint64_t tsc_calibration_spread_ppm(void)
{
    return spread_ppm;
}

uint64_t tsc_calibration_error_ppm(void)
{
    return error_ppm;
}

static bool cpu_has_tsc(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    return (d & CPUID_1_EDX_TSC) != 0;
}

static bool cpu_has_invariant_tsc(void)
{
    uint32_t max_ext, b, c, d;
    cpuid(CPUID_EXT_MAX_LEAF, 0, &max_ext, &b, &c, &d);
    if (max_ext < CPUID_EXT_POWER_MGMT)
        return false;
    uint32_t a;
    cpuid(CPUID_EXT_POWER_MGMT, 0, &a, &b, &c, &d);
    return (d & CPUID_80000007_EDX_INVARIANT_TSC) != 0;
}

/* A TSC that reads the same across a few port reads (each ~1 us) is stopped. */
static bool tsc_advances(void)
{
    uint64_t first = tsc_read();
    for (int i = 0; i < 1000; i++) {
        (void)inb(0x80);
        if (tsc_read() != first)
            return true;
    }
    return false;
}

/* One calibration window: the TSC ticks between two reference events, each
 * event's TSC stamp bracketed by reads before and after it. */
struct calibration_window {
    uint64_t hz;            /* 0 when the reference failed */
    uint64_t error_ppm;     /* the brackets' width relative to the window */
};

static struct calibration_window window_result(uint64_t start_lo, uint64_t start_hi,
                                               uint64_t end_lo, uint64_t end_hi,
                                               uint64_t reference_ns)
{
    /* Stamps at the brackets' midpoints; each is off by at most half its
     * bracket, so the delta by at most half the sum of both. */
    uint64_t start = start_lo + (start_hi - start_lo) / 2;
    uint64_t end = end_lo + (end_hi - end_lo) / 2;
    uint64_t delta = end - start;
    uint64_t error = ((start_hi - start_lo) + (end_hi - end_lo)) / 2;
    return (struct calibration_window){
        .hz = rate_hz(delta, reference_ns),
        .error_ppm = deviation_ppm(delta + error, delta),
    };
}

/* One window against the HPET: the counter read is the event. */
static struct calibration_window calibrate_window_hpet(void)
{
    uint64_t want = hpet_ns_to_ticks(CALIBRATION_WINDOW_US * 1000ull);
    uint64_t start_lo = tsc_read();
    uint64_t start = hpet_counter();
    uint64_t start_hi = tsc_read();
    uint64_t end_lo = 0, end_hi = 0, elapsed = 0;
    for (uint64_t polls = 0; elapsed < want; polls++) {
        if (polls == CALIBRATION_MAX_POLLS) {
            klog(LOG_ERR, "time: HPET counter moved %llu of %llu ticks in %llu reads\n",
                 (unsigned long long)elapsed, (unsigned long long)want,
                 (unsigned long long)polls);
            return (struct calibration_window){ 0, 0 };
        }
        end_lo = tsc_read();
        elapsed = hpet_ticks_between(start, hpet_counter());
        end_hi = tsc_read();
    }
    return window_result(start_lo, start_hi, end_lo, end_hi, hpet_ticks_to_ns(elapsed));
}

/* One window against PIT channel 2: the countdown starts during the count's
 * high-byte write and ends somewhere between the start of the last poll that
 * saw OUT2 low and the end of the first poll that saw it high. */
static struct calibration_window calibrate_window_pit(void)
{
    uint16_t count = pit_count_for_us(CALIBRATION_WINDOW_US);
    uint64_t start_lo, start_hi;
    if (!pit_oneshot_start_stamped(count, &start_lo, &start_hi)) {
        pit_oneshot_stop();
        klog(LOG_ERR, "time: PIT channel 2 OUT reads high just after arming a count of %u, "
             "through port 0x61 (0x%02x) and through the 8254's read-back status, %u times: "
             "no usable PIT\n", count, pit_nmi_sc_seen(), PIT_ARMINGS);
        return (struct calibration_window){ 0, 0 };
    }
    uint64_t end_lo = start_hi, end_hi = 0;
    bool expired = false;
    for (uint64_t polls = 0; polls < CALIBRATION_MAX_POLLS && !expired; polls++) {
        uint64_t before = tsc_read();
        expired = pit_oneshot_expired();
        end_hi = tsc_read();
        if (!expired)
            end_lo = before;
    }
    pit_oneshot_stop();
    if (!expired) {
        klog(LOG_ERR, "time: PIT channel 2 OUT (port 0x61 bit 5) never went high after a count of %u\n",
             count);
        return (struct calibration_window){ 0, 0 };
    }
    return window_result(start_lo, start_hi, end_lo, end_hi, pit_count_to_ns(count));
}

/* The window with the narrowest brackets (a window whose stamps were delayed,
 * by an SMI or by the host under emulation, shows wide brackets): at least
 * CALIBRATION_WINDOWS, more while none is within CALIBRATION_GOOD_PPM. 0 on
 * failure. */
static uint64_t calibrate_tsc(struct calibration_window (*measure)(void))
{
    struct calibration_window best = { 0, UINT64_MAX };
    uint64_t rates[CALIBRATION_MAX_WINDOWS];
    int n = 0;
    while (n < CALIBRATION_MAX_WINDOWS &&
           (n < CALIBRATION_WINDOWS || best.error_ppm > CALIBRATION_GOOD_PPM)) {
        struct calibration_window w = measure();
        if (w.hz == 0)
            return 0;
        rates[n++] = w.hz;
        if (w.error_ppm < best.error_ppm)
            best = w;
    }
    median_u64(rates, (size_t)n);               /* sorted, for the spread */
    windows_used = n;
    spread_ppm = deviation_ppm(rates[n - 1], rates[0]);
    error_ppm = best.error_ppm;
    if (error_ppm > CALIBRATION_ERROR_WARN_PPM)
        klog(LOG_WARN, "time: even the best calibration window is only good to %llu ppm "
             "(windows %llu..%llu Hz): something kept delaying the TSC stamps\n",
             (unsigned long long)error_ppm, (unsigned long long)rates[0],
             (unsigned long long)rates[n - 1]);
    return best.hz;
}

/* Switches time_ns() to the calibrated rate at the current instant, so the
 * clock neither jumps back nor forward. */
static void clock_switch_rate(uint64_t hz)
{
    uint64_t flags = irq_save();
    uint64_t now_ns = time_ns();
    base_tsc = tsc_read();
    base_ns = now_ns;
    scale_init(&tsc_to_ns, hz, NS_PER_SECOND);
    irq_restore(flags);
}

void time_init(void)
{
    if (!cpu_has_tsc())
        panic("time: CPUID.1:EDX.TSC[bit 4] is clear: no time-stamp counter");
    if (!tsc_advances())
        panic("time: the TSC is not advancing (reads %#llx across 1000 port reads)",
              (unsigned long long)tsc_read());
    invariant_tsc = cpu_has_invariant_tsc();

    uint64_t hz = 0;
    if (hpet_init()) {
        calibration_source = "hpet";
        hz = calibrate_tsc(calibrate_window_hpet);
        if (hz == 0)
            klog(LOG_WARN, "time: calibration against the HPET failed; trying the PIT\n");
    } else {
        klog(LOG_INFO, "time: no usable HPET, falling back to PIT channel 2\n");
    }
    if (hz == 0) {
        calibration_source = "pit";
        hz = calibrate_tsc(calibrate_window_pit);
    }
    if (hz == 0)
        panic("time: no reference to calibrate the TSC against: no usable HPET, and PIT "
              "channel 2 failed (above)");
    if (hz < TSC_MIN_HZ || hz > TSC_MAX_HZ)
        panic("time: TSC calibration against the %s gave %llu Hz, outside %llu..%llu Hz",
              calibration_source, (unsigned long long)hz, (unsigned long long)TSC_MIN_HZ,
              (unsigned long long)TSC_MAX_HZ);
    tsc_hz = hz;
    clock_switch_rate(hz);

    kprintf("time: TSC %llu.%03llu GHz calibrated against %s (invariant: %s)\n",
            (unsigned long long)(hz / 1000000000), (unsigned long long)(hz / 1000000 % 1000),
            calibration_source[0] == 'h' ? "HPET"
            : pit_out_path() == PIT_OUT_READBACK ? "PIT (OUT by read-back: no port 0x61)" : "PIT",
            invariant_tsc ? "yes" : "no");
    klog(LOG_INFO, "time: %d windows of %d us, chosen one within %llu ppm, spread %llu ppm\n",
         windows_used, CALIBRATION_WINDOW_US, (unsigned long long)error_ppm,
         (unsigned long long)spread_ppm);
    if (!invariant_tsc)
        klog(LOG_INFO, "time: CPUID 0x80000007 EDX[8] is clear; the TSC is still used (one CPU, no deep C-states in bareio)\n");
}
