/* SPDX-License-Identifier: MIT */
/* kernel/isr.S — one entry stub per IDT vector. Each pushes a dummy error code
 * where the CPU pushes none (so every frame has the same layout, struct
 * irq_frame in kernel/irq.h), the vector number, then the general registers,
 * and calls the dispatcher idt_init() stored in isr_dispatch (kernel/idt.c's
 * irq_dispatch(frame)): through a pointer, so that these stubs, which idt.c
 * installs, call nothing of the file above them. */


    .text
    .code64

/* 256 stubs, each at isr_stubs + vector * ISR_STUB_SIZE (kernel/idt.c relies on it). */
#define ISR_STUB_SIZE 16
    .align ISR_STUB_SIZE
    .global isr_stubs
isr_stubs:
    .set vector, 0
    .rept 256
    .align ISR_STUB_SIZE
    /* error code pushed by the CPU for 8, 10-14, 17, 21, 29, 30 (SDM vol. 3 table 6-1) */
    .if !(vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30)
    pushq $0
    .endif
    pushq $vector
    jmp isr_common
    .set vector, vector + 1
    .endr
    .align ISR_STUB_SIZE
    .global isr_stubs_end
isr_stubs_end:                      /* idt_init() checks the stubs' total size */

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    mov %rsp, %rdi
    call *isr_dispatch(%rip)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp                   /* vector and error code */
    iretq

    .data
    .balign 8
    .global isr_dispatch
isr_dispatch:
    .quad 0

    .section .note.GNU-stack, "", @progbits
