/* SPDX-License-Identifier: MIT */
/* tests/host/fake/kernel/io.h — kernel/io.h for the drivers built on the host
 * (tests/host/hw/). The fake-hardware build puts tests/host/fake first on
 * the include path, so a driver's #include "kernel/io.h" lands here: every
 * MMIO access goes to the register model that owns the address
 * (tests/host/fake/fake.h), a pause lets the fake clock move on, and the
 * interrupt flag is a plain variable. Port I/O reaches a test's port model
 * when it installed one; MSRs and CPUID have no place in a driver under
 * test: they abort. The accessors keep kernel/io.h's names,
 * widths and the low-dword-first order of the 64-bit ones. */
#ifndef KERNEL_IO_H
#define KERNEL_IO_H
#include <stdbool.h>
#include <stdint.h>

uint32_t fake_mmio_read(volatile void *addr, unsigned size);
void fake_mmio_write(volatile void *addr, unsigned size, uint32_t value);
void fake_cpu_pause(void);
__attribute__((noreturn)) void fake_forbidden(const char *what);
extern uint64_t fake_rflags;

#define FAKE_MMIO_ADDR(base, off) ((volatile void *)((volatile uint8_t *)(base) + (off)))

static inline uint8_t mmio_read8(volatile void *base, uint64_t off)
{ return (uint8_t)fake_mmio_read(FAKE_MMIO_ADDR(base, off), 1); }
static inline uint16_t mmio_read16(volatile void *base, uint64_t off)
{ return (uint16_t)fake_mmio_read(FAKE_MMIO_ADDR(base, off), 2); }
static inline uint32_t mmio_read32(volatile void *base, uint64_t off)
{ return fake_mmio_read(FAKE_MMIO_ADDR(base, off), 4); }
static inline void mmio_write8(volatile void *base, uint64_t off, uint8_t v)
{ fake_mmio_write(FAKE_MMIO_ADDR(base, off), 1, v); }
static inline void mmio_write16(volatile void *base, uint64_t off, uint16_t v)
{ fake_mmio_write(FAKE_MMIO_ADDR(base, off), 2, v); }
static inline void mmio_write32(volatile void *base, uint64_t off, uint32_t v)
{ fake_mmio_write(FAKE_MMIO_ADDR(base, off), 4, v); }
static inline uint64_t mmio_read64(volatile void *base, uint64_t off)
{
    uint64_t lo = mmio_read32(base, off);
    uint64_t hi = mmio_read32(base, off + 4);
    return lo | (hi << 32);
}
static inline void mmio_write64(volatile void *base, uint64_t off, uint64_t v)
{
    mmio_write32(base, off, (uint32_t)v);
    mmio_write32(base, off + 4, (uint32_t)(v >> 32));
}

static inline void cpu_pause(void) { fake_cpu_pause(); }
static inline void cpu_halt(void) { fake_forbidden("hlt"); }
static inline void irq_enable(void) { fake_rflags |= 1u << 9; }
static inline void irq_disable(void) { fake_rflags &= ~(1ull << 9); }
#define RFLAGS_IF (1u << 9)
static inline uint64_t irq_save(void)
{
    uint64_t flags = fake_rflags;
    fake_rflags &= ~(uint64_t)RFLAGS_IF;
    return flags;
}
static inline void irq_restore(uint64_t flags)
{
    if (flags & RFLAGS_IF)
        fake_rflags |= RFLAGS_IF;
}
static inline bool irq_enabled(void) { return (fake_rflags & RFLAGS_IF) != 0; }

/* Port I/O goes to the one port model a test installed (fake_port_model:
 * the TCO watchdog's chipset lives in I/O space); without one it aborts. */
uint32_t fake_port_in(uint16_t port, unsigned size);
void fake_port_out(uint16_t port, unsigned size, uint32_t value);
static inline void outb(uint16_t port, uint8_t v) { fake_port_out(port, 1, v); }
static inline void outw(uint16_t port, uint16_t v) { fake_port_out(port, 2, v); }
static inline void outl(uint16_t port, uint32_t v) { fake_port_out(port, 4, v); }
static inline uint8_t inb(uint16_t port) { return (uint8_t)fake_port_in(port, 1); }
static inline uint16_t inw(uint16_t port) { return (uint16_t)fake_port_in(port, 2); }
static inline uint32_t inl(uint16_t port) { return fake_port_in(port, 4); }
static inline uint64_t rdmsr(uint32_t msr) { (void)msr; fake_forbidden("rdmsr"); }
static inline void wrmsr(uint32_t msr, uint64_t v) { (void)msr; (void)v; fake_forbidden("wrmsr"); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
    (void)leaf; (void)sub; (void)a; (void)b; (void)c; (void)d;
    fake_forbidden("cpuid");
}
static inline uint64_t rdtsc(void) { fake_forbidden("rdtsc"); }

#endif
