/* SPDX-License-Identifier: MIT */
/* kernel/console.c — formatted, levelled output to the serial console plus a
 * ring of recent log text kept in memory for failure reports.
 *
 * Locking rule: one spinlock, the console lock, serialises the UART, the
 * screen mirror and the ring between CPUs. It is taken with interrupts off
 * around the write of one buffer (a whole formatted line, or one
 * console_write()) and nothing else: never across a device wait other than
 * the UART's own transmit-ready poll, never while calling out of this file
 * except the mirror. A CPU that already holds it (an exception or NMI while
 * it was printing) writes on without taking it again, so it cannot deadlock
 * on itself. A holder that does not let go within CONSOLE_LOCK_SPIN_TSC TSC
 * ticks is presumed stopped and the lock is taken over, said in the output;
 * a crash takes it over at once (console_crash_takeover()).
 *
 * Captures (console_capture_begin()): a capture's buffer and counters are
 * written under the console lock, by the CPU that began it or by whoever
 * emits it; the list of begun captures is changed under it too. Emitting
 * writes the buffer in pieces of at most CAPTURE_EMIT_PIECE bytes, taking
 * the lock once per piece, so that no CPU waits a whole buffer's transmit
 * time for the lock (the takeover bound above is about 1 s). */
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/io.h"
#include "lib/format.h"
#include "lib/string.h"
#include <stdarg.h>

static struct serial_port console = { .mmio = false, .base = 0x3f8, .baud = 115200 };
static enum log_level level = LOG_INFO;
static const char *klog_prefix;

static char ring[LOG_RING_SIZE];
static uint64_t ring_total;     /* bytes ever written; ring position = total % size */

static void ring_put(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ring[(ring_total + i) % LOG_RING_SIZE] = s[i];
    ring_total += len;
}

static void (*mirror)(const char *s, size_t len);

/* The lock word is the holder's CPU index + 1, 0 when free. The spin bound
 * is in raw TSC ticks because the clock (kernel/time.c) logs through this
 * file: about 1 s at 4 GHz, more on slower parts, far above the 45 ms one
 * 512-byte line takes at 115200 baud. */
#define CONSOLE_LOCK_FREE 0u
#define CONSOLE_LOCK_SPIN_TSC (1ull << 32)
static volatile uint32_t console_lock_word = CONSOLE_LOCK_FREE;

/* Takes the lock; false when this CPU held it already (then it must not
 * release it). Interrupts are off in the caller. */
static bool console_lock(void)
{
    uint32_t me = cpu_index() + 1;
    if (__atomic_load_n(&console_lock_word, __ATOMIC_RELAXED) == me)
        return false;
    uint64_t start = rdtsc();
    for (;;) {
        uint32_t expected = CONSOLE_LOCK_FREE;
        if (__atomic_compare_exchange_n(&console_lock_word, &expected, me, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return true;
        if (rdtsc() - start > CONSOLE_LOCK_SPIN_TSC) {
            __atomic_exchange_n(&console_lock_word, me, __ATOMIC_ACQUIRE);
            static const char note[] = "\nconsole: lock not released by another CPU; taken over\n";
            for (size_t i = 0; i < sizeof(note) - 1; i++)
                serial_putc(&console, note[i]);
            return true;
        }
        cpu_pause();
    }
}

static void console_unlock(bool taken)
{
    if (taken)
        __atomic_store_n(&console_lock_word, CONSOLE_LOCK_FREE, __ATOMIC_RELEASE);
}


void console_set_mirror(void (*fn)(const char *s, size_t len)) { mirror = fn; }

static void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            serial_putc(&console, '\r');
        serial_putc(&console, s[i]);
    }
    if (mirror)
        mirror(s, len);
}

/* ---- captures ---- */

#define CAPTURE_EMIT_PIECE 512
static struct console_capture *begun;   /* console lock */
static bool capture_stopped;            /* after a crash: everything to the UART */

/* Where this CPU's text goes: its capture, or the UART (console lock held). */
static void out(const char *s, size_t len)
{
    const struct cpu_local *me = cpu_local();
    struct console_capture *cap = me && !capture_stopped ? me->capture : NULL;
    if (!cap) {
        serial_write(s, len);
        return;
    }
    size_t room = cap->abandoned ? 0 : cap->size - cap->len;
    size_t n = len < room ? len : room;
    memcpy(cap->buf + cap->len, s, n);
    cap->len += n;
    cap->dropped += len - n;
}

bool console_capture_begin(struct console_capture *cap, char *buf, size_t size)
{
    struct cpu_local *me = cpu_local_own();
    if (!me || me->capture || !buf || !size)
        return false;
    uint64_t flags = irq_save();
    bool taken = console_lock();
    /* What an abandoned run of the same capture dropped is said at its next
     * emit, in its own place in the report. */
    uint64_t carried = cap->abandoned ? cap->dropped : 0;
    *cap = (struct console_capture){ .buf = buf, .size = size, .dropped = carried, .next_begun = begun };
    begun = cap;
    me->capture = cap;
    console_unlock(taken);
    irq_restore(flags);
    return true;
}

void console_capture_end(void)
{
    struct cpu_local *me = cpu_local_own();
    if (!me || !me->capture)
        return;
    uint64_t flags = irq_save();
    bool taken = console_lock();
    for (struct console_capture **pp = &begun; *pp; pp = &(*pp)->next_begun)
        if (*pp == me->capture) {
            *pp = me->capture->next_begun;
            break;
        }
    me->capture = NULL;
    console_unlock(taken);
    irq_restore(flags);
}

/* Takes one piece of cap's text out (console lock held): its length. */
static size_t take_piece(struct console_capture *cap, size_t at)
{
    size_t n = cap->len - at;
    if (n > CAPTURE_EMIT_PIECE)
        n = CAPTURE_EMIT_PIECE;
    serial_write(cap->buf + at, n);
    return n;
}

static void dropped_note(struct console_capture *cap)
{
    if (!cap->dropped)
        return;
    char note[112];
    int n = snprintf(note, sizeof(note), "# console: %llu bytes of this output were dropped (%s)\n",
                     (unsigned long long)cap->dropped,
                     cap->abandoned ? "written after its work was given up, or past the buffer"
                                    : "past the capture buffer");
    serial_write(note, (size_t)n);
    cap->dropped = 0;
}

void console_capture_emit(struct console_capture *cap)
{
    for (size_t at = 0;;) {
        uint64_t flags = irq_save();
        bool taken = console_lock();
        bool last = at >= cap->len;
        if (!last)
            at += take_piece(cap, at);
        else {
            dropped_note(cap);
            cap->len = 0;
        }
        console_unlock(taken);
        irq_restore(flags);
        if (last)
            return;
    }
}

void console_capture_abandon(struct console_capture *cap)
{
    uint64_t flags = irq_save();
    bool taken = console_lock();
    cap->abandoned = true;
    console_unlock(taken);
    irq_restore(flags);
    console_capture_emit(cap);
}

void console_crash_takeover(void)
{
    uint32_t me = cpu_index() + 1;
    uint32_t was = __atomic_exchange_n(&console_lock_word, me, __ATOMIC_ACQUIRE);
    if (was != CONSOLE_LOCK_FREE && was != me)
        serial_putc(&console, '\n');    /* the stopped CPU may have been mid-line */
    /* What the other CPUs captured is the context of the crash: out first,
     * whole (the lock is ours for good now). */
    for (struct console_capture *cap = begun; cap; cap = cap->next_begun) {
        for (size_t at = 0; at < cap->len;)
            at += take_piece(cap, at);
        dropped_note(cap);
        cap->len = 0;
    }
    capture_stopped = true;
}

void console_write(const char *s, size_t len)
{
    uint64_t flags = irq_save();
    bool taken = console_lock();
    out(s, len);
    ring_put(s, len);
    console_unlock(taken);
    irq_restore(flags);
}

void console_early_init(void)
{
    serial_init(&console);
}

/* Set by console_memory_ready(): how to map an MMIO UART under the final
 * page tables (mmio_map, passed in so that the console, which everything
 * logs through, depends on no memory code). */
static volatile void *(*map_mmio)(uint64_t phys, uint64_t size);

/* The final page tables map only RAM: an MMIO UART must be mapped uncached. */
static bool map_uart(struct serial_port *p)
{
    if (!p->mmio || !map_mmio)
        return true;
    p->regs = (volatile uint8_t *)map_mmio(p->base, 8u << p->reg_shift);
    return p->regs != NULL;
}

void console_memory_ready(volatile void *(*map)(uint64_t phys, uint64_t size))
{
    map_mmio = map;
    map_uart(&console);
}

int console_configure(const struct serial_port *port)
{
    struct serial_port candidate = *port;
    candidate.regs = NULL;
    if (!map_uart(&candidate))
        return 0;
    if (!serial_init(&candidate))
        return 0;
    console = candidate;
    return 1;
}

const struct serial_port *console_port(void) { return &console; }
void console_set_level(enum log_level l) { level = l; }
enum log_level console_level(void) { return level; }

#define LINE_MAX_LEN 512

struct line_sink {
    char buf[LINE_MAX_LEN];
    size_t len;
    int to_serial;
    const char *prefix;     /* put before every line */
    int at_line_start;
};

static void line_flush(struct line_sink *ls)
{
    if (!ls->len)
        return;
    uint64_t flags = irq_save();
    bool taken = console_lock();
    if (ls->to_serial)
        out(ls->buf, ls->len);
    ring_put(ls->buf, ls->len);
    console_unlock(taken);
    irq_restore(flags);
    ls->len = 0;
}

static void line_put_raw(struct line_sink *ls, char c)
{
    if (ls->len == sizeof(ls->buf))
        line_flush(ls);     /* over-long line: written in pieces */
    ls->buf[ls->len++] = c;
}

static void line_put(void *ctx, char c)
{
    struct line_sink *ls = ctx;
    if (ls->at_line_start && ls->prefix)
        for (const char *p = ls->prefix; *p; p++)
            line_put_raw(ls, *p);
    ls->at_line_start = c == '\n';
    line_put_raw(ls, c);
}

void console_set_klog_prefix(const char *prefix) { klog_prefix = prefix; }

static void vlog(int to_serial, const char *prefix, const char *fmt, va_list ap)
{
    struct line_sink ls = { .len = 0, .to_serial = to_serial, .prefix = prefix, .at_line_start = 1 };
    vformat(line_put, &ls, fmt, ap);
    line_flush(&ls);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(1, NULL, fmt, ap);
    va_end(ap);
}

void klog(enum log_level l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(l <= level, klog_prefix, fmt, ap);
    va_end(ap);
}

size_t log_ring_copy(char *dst, size_t max)
{
    uint64_t flags = irq_save();
    uint64_t avail = ring_total < LOG_RING_SIZE ? ring_total : LOG_RING_SIZE;
    size_t n = max < avail ? max : (size_t)avail;
    uint64_t start = ring_total - n;
    for (size_t i = 0; i < n; i++)
        dst[i] = ring[(start + i) % LOG_RING_SIZE];
    irq_restore(flags);
    return n;
}

uint64_t log_ring_total(void) { return ring_total; }
