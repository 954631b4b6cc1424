/* SPDX-License-Identifier: MIT */
/* kernel/io.h — port I/O and MMIO accessors. Every device register access in
 * bareio goes through these so that it is visible in the code and can never be
 * merged, reordered or elided by the compiler. */
#ifndef KERNEL_IO_H
#define KERNEL_IO_H
#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* MMIO: `base` is a mapping returned by mmio_map() (kernel/paging.h). */
static inline uint8_t mmio_read8(volatile void *base, uint64_t off)
{ return *(volatile uint8_t *)((volatile uint8_t *)base + off); }
static inline uint16_t mmio_read16(volatile void *base, uint64_t off)
{ return *(volatile uint16_t *)((volatile uint8_t *)base + off); }
static inline uint32_t mmio_read32(volatile void *base, uint64_t off)
{ return *(volatile uint32_t *)((volatile uint8_t *)base + off); }
static inline void mmio_write8(volatile void *base, uint64_t off, uint8_t v)
{ *(volatile uint8_t *)((volatile uint8_t *)base + off) = v; }
static inline void mmio_write16(volatile void *base, uint64_t off, uint16_t v)
{ *(volatile uint16_t *)((volatile uint8_t *)base + off) = v; }
static inline void mmio_write32(volatile void *base, uint64_t off, uint32_t v)
{ *(volatile uint32_t *)((volatile uint8_t *)base + off) = v; }
/* 64-bit registers as two dword accesses, low first: NVMe allows both, and
 * some bridges split quad-word MMIO anyway (NVMe 2.0 §3.1.4). */
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

static inline void cpu_pause(void) { __asm__ volatile("pause"); }
static inline void cpu_halt(void) { __asm__ volatile("hlt"); }
/* Sleep with interrupts on, after a check made with them off: STI's
 * one-instruction shadow covers the HLT, so an interrupt arriving after the
 * check ends the HLT rather than being taken before it (SDM vol. 2, STI). */
static inline void cpu_irq_enable_and_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline uint64_t irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) :: "memory");
    return flags;
}
#define RFLAGS_IF (1u << 9)
static inline void irq_restore(uint64_t flags)
{
    if (flags & RFLAGS_IF)
        __asm__ volatile("sti" ::: "memory");
}
static inline bool irq_enabled(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0" : "=r"(flags) :: "memory");
    return (flags & RFLAGS_IF) != 0;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return lo | ((uint64_t)hi << 32);
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return lo | ((uint64_t)hi << 32);
}

#endif
