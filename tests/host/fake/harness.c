/* SPDX-License-Identifier: MIT */
/* tests/host/fake/harness.c — what tests/harness/ktest.c needs besides the fake
 * kernel, so the harness runs on the host (tests/host/hw/test_ktest.c): the
 * LAPIC one-shot timer on the fake clock (kernel/apic.h: it fires, with
 * interrupts on, once the clock passes the shot, into the handler
 * irq_set_handler() gave for its vector), the jump back out of a case that
 * timed out (ktest_setjmp/ktest_longjmp, as tests/harness/jump.S has them: callee-
 * saved registers, stack and return address), the klog prefix and the exit. */
#include "tests/host/fake/fake.h"
#include "kernel/apic.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/irq.h"

#include <stdio.h>
#include <stdlib.h>

static irq_handler timer_handler;
static void *timer_ctx;
static bool timer_armed;
static uint64_t timer_fire_ns;
unsigned fake_timer_shots;

void irq_set_handler(int vector, irq_handler handler, void *ctx)
{
    if (vector == IRQ_VECTOR_LAPIC_TIMER) {
        timer_handler = handler;
        timer_ctx = ctx;
    }
}

void apic_timer_oneshot_ns(uint64_t ns)
{
    timer_armed = true;
    timer_fire_ns = fake_now() + ns;
    fake_timer_shots++;
}

void apic_timer_cancel(void) { timer_armed = false; }
void apic_eoi(void) {}

/* Called by fake_advance() after the models' ticks. */
void fake_timer_poll(void)
{
    if (!timer_armed || fake_now() < timer_fire_ns || !(fake_rflags & (1u << 9)) ||
        !timer_handler)
        return;
    timer_armed = false;
    struct irq_frame frame = { .vector = IRQ_VECTOR_LAPIC_TIMER };
    fake_rflags &= ~(1ull << 9);        /* an interrupt gate */
    timer_handler(timer_ctx, &frame);
    fake_rflags |= 1u << 9;
}

void console_set_klog_prefix(const char *prefix) { (void)prefix; }

void exit_set_totals(unsigned passed, unsigned failed, unsigned skipped)
{
    (void)passed;
    (void)failed;
    (void)skipped;
}

__attribute__((noreturn)) void bareio_exit(enum bareio_exit status)
{
    printf("    fake kernel: bareio_exit(0x%x)\n", status);
    fflush(stdout);
    _Exit(3);
}

/* The jump itself: registers, stack, return address; value 0 becomes 1. */
__asm__(".text\n"
        ".globl ktest_setjmp\n"
        "ktest_setjmp:\n"
        "    mov %rbx, 0(%rdi)\n"
        "    mov %rbp, 8(%rdi)\n"
        "    mov %r12, 16(%rdi)\n"
        "    mov %r13, 24(%rdi)\n"
        "    mov %r14, 32(%rdi)\n"
        "    mov %r15, 40(%rdi)\n"
        "    lea 8(%rsp), %rax\n"
        "    mov %rax, 48(%rdi)\n"
        "    mov (%rsp), %rax\n"
        "    mov %rax, 56(%rdi)\n"
        "    xor %eax, %eax\n"
        "    ret\n"
        ".globl fake_jump\n"
        "fake_jump:\n"
        "    mov 0(%rdi), %rbx\n"
        "    mov 8(%rdi), %rbp\n"
        "    mov 16(%rdi), %r12\n"
        "    mov 24(%rdi), %r13\n"
        "    mov 32(%rdi), %r14\n"
        "    mov 40(%rdi), %r15\n"
        "    mov 48(%rdi), %rsp\n"
        "    mov %esi, %eax\n"
        "    test %eax, %eax\n"
        "    jnz 1f\n"
        "    inc %eax\n"
        "1:  jmp *56(%rdi)\n");

__attribute__((noreturn)) void fake_jump(uint64_t buf[8], int value);
#ifdef __SANITIZE_ADDRESS__
void __asan_handle_no_return(void);
#endif

__attribute__((noreturn)) void ktest_longjmp(uint64_t buf[8], int value)
{
#ifdef __SANITIZE_ADDRESS__
    __asan_handle_no_return();      /* the frames jumped over keep no stale poison */
#endif
    fake_jump(buf, value);
}
