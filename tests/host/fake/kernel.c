/* SPDX-License-Identifier: MIT */
/* tests/host/fake/kernel.c — the kernel services the driver files call, for
 * the host (what each one does is in tests/host/fake/fake.h): the fake clock
 * (kernel/time.h), MMIO dispatch (tests/host/fake/kernel/io.h), DMA memory
 * (kernel/memory.h), klog capture (kernel/console.h), interrupt vectors
 * (kernel/irq.h), the command-line keys and the driver start-up. */
#include "tests/host/fake/fake.h"
#include "drivers/blk/blk.h"
#include "kernel/panic.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/screen.h"
#include "kernel/smbios.h"
#include "kernel/irq.h"
#include "kernel/memory.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "tests/host/htest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

uint64_t fake_rflags = 1u << 9;

__attribute__((noreturn)) void fake_forbidden(const char *what)
{
    printf("    fake kernel: a driver under test used %s\n", what);
    fflush(stdout);
    abort();
}

/* ---- model errors ---- */

static unsigned model_errors;
static char model_first_error[256];

void fake_model_error(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (model_errors++ == 0)
        strlcpy(model_first_error, msg, sizeof(model_first_error));
    printf("    model: %s (at %llu us)\n", msg, (unsigned long long)(fake_now() / 1000));
}

unsigned fake_model_errors(void) { return model_errors; }
const char *fake_model_first_error(void) { return model_errors ? model_first_error : ""; }

/* ---- MMIO regions and the clock ---- */

#define MAX_REGIONS 8
static struct region {
    uint8_t *base;
    uint64_t phys;                  /* what mmio_map() is given for it */
    uint32_t size;
    const struct fake_mmio_ops *ops;
    void *model;
} regions[MAX_REGIONS];
static unsigned region_count;
static uint64_t now_ns;
static bool ticking;

volatile void *fake_mmio_region(uint32_t size, const struct fake_mmio_ops *ops, void *model)
{
    if (region_count == MAX_REGIONS)
        fake_forbidden("more MMIO regions than the fake kernel keeps");
    struct region *r = &regions[region_count++];
    r->base = aligned_alloc(4096, (size + 4095) & ~4095u);
    r->size = size;
    r->ops = ops;
    r->model = model;
    r->phys = (uint64_t)(uintptr_t)r->base;
    return r->base;
}

volatile void *fake_mmio_region_at(uint64_t phys, uint32_t size, const struct fake_mmio_ops *ops,
                                   void *model)
{
    volatile void *base = fake_mmio_region(size, ops, model);
    regions[region_count - 1].phys = phys;
    return base;
}

/* kernel/memory.h: a region's window when [phys, phys + size) lies in it. */
volatile void *mmio_map(uint64_t phys, uint64_t size)
{
    for (unsigned i = 0; i < region_count; i++)
        if (phys >= regions[i].phys && phys + size <= regions[i].phys + regions[i].size)
            return regions[i].base + (phys - regions[i].phys);
    fake_model_error("mmio_map(%#llx, %llu): no device there", (unsigned long long)phys,
                     (unsigned long long)size);
    return NULL;
}

static const struct fake_port_ops *port_ops;
static void *port_model;

void fake_port_model(const struct fake_port_ops *ops, void *model)
{
    port_ops = ops;
    port_model = model;
}

uint32_t fake_port_in(uint16_t port, unsigned size)
{
    if (!port_ops)
        fake_forbidden("port input without a port model");
    return port_ops->in(port_model, port, size);
}

void fake_port_out(uint16_t port, unsigned size, uint32_t value)
{
    if (!port_ops)
        fake_forbidden("port output without a port model");
    port_ops->out(port_model, port, size, value);
}

static struct region *region_of(volatile void *addr, unsigned size)
{
    uint8_t *a = (uint8_t *)(uintptr_t)addr;
    for (unsigned i = 0; i < region_count; i++)
        if (a >= regions[i].base && a + size <= regions[i].base + regions[i].size)
            return &regions[i];
    return NULL;
}

uint32_t fake_mmio_read(volatile void *addr, unsigned size)
{
    struct region *r = region_of(addr, size);
    if (!r) {
        fake_model_error("MMIO read%u of %p: no device there", size * 8, (void *)addr);
        return 0xffffffffu;
    }
    return r->ops->read(r->model, (uint32_t)((uint8_t *)(uintptr_t)addr - r->base), size);
}

void fake_mmio_write(volatile void *addr, unsigned size, uint32_t value)
{
    struct region *r = region_of(addr, size);
    if (!r) {
        fake_model_error("MMIO write%u of 0x%x to %p: no device there", size * 8, value,
                         (void *)addr);
        return;
    }
    r->ops->write(r->model, (uint32_t)((uint8_t *)(uintptr_t)addr - r->base), size, value);
}

uint64_t fake_now(void) { return now_ns; }

void fake_advance(uint64_t ns)
{
    now_ns += ns;
    if (now_ns > FAKE_CLOCK_LIMIT_NS) {
        printf("    fake clock: past %llu s: a wait without a bound\n",
               (unsigned long long)(FAKE_CLOCK_LIMIT_NS / FAKE_S));
        fflush(stdout);
        abort();
    }
    if (ticking)
        return;
    ticking = true;
    for (unsigned i = 0; i < region_count; i++)
        if (regions[i].ops->tick)
            regions[i].ops->tick(regions[i].model);
    ticking = false;
    fake_timer_poll();      /* last: its handler may jump out of here (tests/harness/ktest.c) */
}

void fake_cpu_pause(void) { fake_advance(FAKE_US); }

uint64_t time_ns(void)
{
    fake_advance(50);
    return now_ns;
}

void delay_us(uint64_t us) { fake_advance(us * FAKE_US); }
void delay_ms(uint64_t ms) { fake_advance(ms * FAKE_MS); }

/* ---- DMA memory, and the test buffers requests are made of ---- */

#define MAX_BUFFERS 64
static struct { uint8_t *p; uint64_t len; } buffers[MAX_BUFFERS];

static void *fake_buffer_ptr(uint64_t phys, uint64_t len)
{
    for (unsigned i = 0; i < MAX_BUFFERS; i++) {
        uint64_t b = (uint64_t)(uintptr_t)buffers[i].p;
        if (buffers[i].p && phys >= b && len <= buffers[i].len && phys - b <= buffers[i].len - len)
            return (void *)(uintptr_t)phys;
    }
    return NULL;
}

#define MAX_DMA 256
static struct dma_region live[MAX_DMA];
static struct dma_allocation live_owner[MAX_DMA];
static uint64_t outstanding, last_serial;

struct dma_region dma_alloc(uint64_t size, uint64_t align, uint64_t boundary,
                            enum dma_placement placement)
{
    return dma_alloc_for(__builtin_return_address(0), size, align, boundary, placement);
}

uint64_t dma_next_serial(void) { return last_serial + 1; }

/* The live ones from `serial` on, oldest first (the real allocator's order). */
unsigned dma_allocations_since(uint64_t serial, struct dma_allocation *out, unsigned max)
{
    unsigned n = 0;
    for (uint64_t want = serial; want <= last_serial; want++)
        for (unsigned i = 0; i < MAX_DMA; i++)
            if (live[i].virt && live_owner[i].serial == want) {
                if (n < max)
                    out[n] = live_owner[i];
                n++;
            }
    return n;
}

/* Driver and harness state: plain heap memory, not an outstanding DMA
 * allocation (as in kernel/dma.c). */
void *memory_alloc_state(uint64_t bytes)
{
    return calloc(1, bytes ? bytes : 1);
}

struct dma_region dma_alloc_for(const void *owner, uint64_t size, uint64_t align,
                                uint64_t boundary, enum dma_placement placement)
{
    struct dma_region r = { NULL, 0, size };
    (void)boundary;
    if (placement == DMA_ABOVE_4G || size == 0)
        return r;
    uint64_t a = align ? align : 4096;
    uint64_t rounded = (size + 4095) & ~4095ull;
    for (unsigned i = 0; i < MAX_DMA; i++) {
        if (live[i].virt)
            continue;
        r.virt = aligned_alloc(a < 4096 ? 4096 : a, rounded);
        memset(r.virt, 0, rounded);
        r.phys = (uint64_t)(uintptr_t)r.virt;
        live[i] = r;
        live_owner[i] = (struct dma_allocation){ r.phys, size, owner, ++last_serial };
        outstanding++;
        return r;
    }
    return r;
}

void dma_free(struct dma_region *region)
{
    for (unsigned i = 0; i < MAX_DMA; i++) {
        if (region->virt && live[i].virt == region->virt) {
            free(region->virt);
            live[i].virt = NULL;
            outstanding--;
            region->virt = NULL;
            return;
        }
    }
}

uint64_t dma_outstanding(void) { return outstanding; }

void *fake_dma_ptr(uint64_t phys, uint64_t len)
{
    for (unsigned i = 0; i < MAX_DMA; i++)
        if (live[i].virt && phys >= live[i].phys && len <= live[i].size &&
            phys - live[i].phys <= live[i].size - len)
            return (void *)(uintptr_t)phys;
    /* Test buffers (fake_submit, fake_rw) live on the host heap: known too. */
    void *p = fake_buffer_ptr(phys, len);
    if (!p)
        fake_model_error("DMA to 0x%llx+%llu: not memory the driver owns",
                         (unsigned long long)phys, (unsigned long long)len);
    return p;
}

/* ---- klog ---- */

static char **lines;
static unsigned line_count, line_cap;

static void keep_line(const char *s, size_t n)
{
    if (line_count == line_cap) {
        line_cap = line_cap ? line_cap * 2 : 256;
        lines = realloc(lines, line_cap * sizeof(*lines));
    }
    char *l = malloc(n + 1);
    memcpy(l, s, n);
    l[n] = '\0';
    lines[line_count++] = l;
    if (getenv("FAKE_LOG"))
        printf("    | %s\n", l);
}

static void log_text(const char *text)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        keep_line(text, n);
        text += n + (nl ? 1 : 0);
    }
}

void klog(enum log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    (void)level;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_text(msg);
}

void kprintf(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_text(msg);
}

unsigned fake_log_count(const char *needle)
{
    unsigned n = 0;
    for (unsigned i = 0; i < line_count; i++)
        n += strstr(lines[i], needle) != NULL;
    return n;
}

const char *fake_log_find(const char *needle)
{
    for (unsigned i = 0; i < line_count; i++)
        if (strstr(lines[i], needle))
            return lines[i];
    return NULL;
}

void fake_log_dump(void)
{
    for (unsigned i = 0; i < line_count; i++)
        printf("    | %s\n", lines[i]);
}

/* The runner calls this in the child when a test failed: the log explains it. */
void htest_after_failure(void)
{
    if (!getenv("FAKE_LOG")) {
        printf("    --- klog (%u lines) ---\n", line_count);
        fake_log_dump();
    }
}

/* ---- interrupt vectors: none is ever delivered on the host ---- */

bool fake_irq_vectors;
static int next_vector = 48;

int irq_alloc_vector(irq_handler handler, void *ctx)
{
    (void)handler;
    (void)ctx;
    return fake_irq_vectors && next_vector < 240 ? next_vector++ : -1;
}
void irq_free_vector(int vector) { (void)vector; }
uint64_t irq_count(int vector) { (void)vector; return 0; }

/* ---- CPUs: one thread plays whichever CPU fake_this_rank names ---- */

unsigned fake_online_cpus = 1;
unsigned fake_this_rank;
unsigned smp_online_count(void) { return fake_online_cpus; }
unsigned smp_this_online_rank(void) { return fake_this_rank; }
uint32_t smp_online_apic_id(unsigned k) { return 2 * k + 1; }
/* No HLT on the host: the caller polls again at once. */
bool smp_halt_until(bool (*ready)(void *arg), void *arg, uint64_t max_ns)
{
    (void)ready;
    (void)arg;
    (void)max_ns;
    return false;
}

/* ---- the machine: a fake has none to name ---- */

void machine_describe(void (*line)(void *ctx, const char *text), void *ctx)
{
    line(ctx, "machine: the host tests' fake kernel (no SMBIOS)");
}

/* ---- the screen: a fake has none to draw on ---- */

void screen_keep_begin(void) {}
void screen_keep_end(void) {}

/* ---- command line and start-up ---- */

extern const struct cmdline_key __cmdline_keys_start[], __cmdline_keys_end[];
extern const struct blk_driver __blk_drivers_start[], __blk_drivers_end[];

static void cmdline_report(void *ctx, const char *message)
{
    (void)ctx;
    klog(LOG_ERR, "%s\n", message);
}

bool fake_cmdline(const char *line)
{
    size_t n = (size_t)(__cmdline_keys_end - __cmdline_keys_start);
    return cmdline_parse(__cmdline_keys_start, n, line, cmdline_report, NULL) == 0;
}

void fake_blk_start(void)
{
    blk_init();
}

/* ---- requests on host buffers ---- */

static void remember_buffer(void *buf, uint64_t len)
{
    unsigned free_slot = MAX_BUFFERS;
    for (unsigned i = 0; i < MAX_BUFFERS; i++) {
        if (buffers[i].p == buf) {
            if (len > buffers[i].len)
                buffers[i].len = len;
            return;
        }
        if (!buffers[i].p && free_slot == MAX_BUFFERS)
            free_slot = i;
    }
    if (free_slot < MAX_BUFFERS) {
        buffers[free_slot].p = buf;
        buffers[free_slot].len = len;
    }
}

enum blk_cause fake_submit(struct blk_dev *dev, struct fake_io *io, enum blk_op op, uint64_t lba,
                           uint32_t count, void *buf, unsigned queue, uint16_t flags)
{
    memset(io, 0, sizeof(*io));
    io->req.op = (uint8_t)op;
    io->req.queue = (uint16_t)queue;
    io->req.flags = flags;
    io->req.lba = lba;
    io->req.count = count;
    if (buf) {
        uint64_t len = (uint64_t)count * dev->block_size;
        remember_buffer(buf, len);
        io->seg.phys = (uint64_t)(uintptr_t)buf;
        io->seg.len = (uint32_t)len;
        io->req.segs = &io->seg;
        io->req.nsegs = 1;
    }
    return blk_submit(dev, &io->req);
}

bool fake_wait(struct blk_dev *dev, struct blk_request *req, uint64_t limit_ns)
{
    uint64_t end = fake_now() + limit_ns;
    while (!req->complete) {
        blk_poll(dev, req->queue);
        if (req->complete)
            break;
        if (fake_now() >= end)
            return false;
        fake_advance(10 * FAKE_US);
    }
    return true;
}

enum blk_cause fake_rw(struct blk_dev *dev, enum blk_op op, uint64_t lba, uint32_t count, void *buf)
{
    struct blk_request req;
    struct blk_seg seg = { (uint64_t)(uintptr_t)buf, count * dev->block_size, 0 };
    if (buf)
        remember_buffer(buf, seg.len);
    return blk_io(dev, &req, op, lba, count, buf ? &seg : NULL, buf ? 1 : 0, 0);
}

/* kernel/symbols.c's table is made at link time for the kernel only. */
const char *symbol_lookup(uint64_t addr, uint64_t *offset)
{
    (void)addr;
    *offset = 0;
    return NULL;
}

/* kernel/panic.c is the kernel's; the harness only registers its hooks. */
static const struct crash_hooks *crash_hooks_set;
void crash_set_hooks(const struct crash_hooks *hooks) { crash_hooks_set = hooks; }
const char *crash_current(void)
{
    return crash_hooks_set && crash_hooks_set->current ? crash_hooks_set->current() : NULL;
}
