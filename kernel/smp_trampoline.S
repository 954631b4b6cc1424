/* SPDX-License-Identifier: MIT */
/* kernel/smp_trampoline.S — where an application processor starts: the
 * STARTUP IPI (Intel SDM vol. 3 §8.4.4) puts it in real mode at the start of
 * a 4 KiB page below 1 MiB, CS = page >> 4, IP = 0. kernel/smp.c copies the
 * bytes from smp_trampoline_start to smp_trampoline_end there and fills the
 * parameters block (kernel/smp_trampoline.h) before each AP's SIPI.
 *
 * 16-bit: claim the block (one AP at a time; a second arrival halts here),
 * load the block's GDT, set CR0.PE, far jump to 32-bit code. 32-bit: flat
 * data segments, CR4 (PAE), CR3 (the BSP's PML4, below 4 GiB), EFER.LME,
 * CR0 with PG: IA-32e mode, compatibility submode; far jump to the 64-bit
 * code segment. 64-bit: this AP's stack, then the kernel's C entry with the
 * block's argument. Everything before the C call runs from the copy, so all
 * addresses are offsets in the page plus the page's base (EBX from the
 * 16-bit CS on). Interrupts stay off throughout; no IDT is needed until C
 * loads the shared one. */
#include "kernel/smp_trampoline.h"

#define CR0_PE   (1 << 0)
#define MSR_EFER 0xc0000080
#define P        SMP_TRAMPOLINE_PARAMS

    .section .rodata.smp_trampoline, "a"
    .global smp_trampoline_start, smp_trampoline_end
    .global smp_trampoline_code32, smp_trampoline_code64

    .code16
smp_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    movl $1, %eax
    lock xchgl %eax, (P + SMP_TP_CLAIM)
    testl %eax, %eax
    jnz surplus_ap                      /* the block is another AP's: stay out */
    xorl %ebx, %ebx
    mov %cs, %bx
    shll $4, %ebx                       /* the page's linear address, kept in EBX */
    lgdtl (P + SMP_TP_GDTR)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl *(P + SMP_TP_FAR32)
surplus_ap:
    cli
    hlt
    jmp surplus_ap

    .code32
smp_trampoline_code32:
    mov $SMP_TRAMPOLINE_DATA_SELECTOR, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov (P + SMP_TP_CR4)(%ebx), %eax
    mov %eax, %cr4
    mov (P + SMP_TP_CR3)(%ebx), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or (P + SMP_TP_EFER_SET)(%ebx), %eax
    wrmsr
    mov (P + SMP_TP_CR0)(%ebx), %eax    /* PE, PG and the BSP's other bits */
    mov %eax, %cr0
    ljmp *(P + SMP_TP_FAR64)(%ebx)

    .code64
smp_trampoline_code64:
    mov %ebx, %ebx                      /* upper halves are undefined after the switch */
    mov (P + SMP_TP_STACK_TOP)(%rbx), %rsp
    mov (P + SMP_TP_CPU)(%rbx), %rdi
    mov (P + SMP_TP_ENTRY)(%rbx), %rax
    xor %ebp, %ebp                      /* ends the backtrace chain */
    call *%rax                          /* does not return */
1:  cli
    hlt
    jmp 1b

    .org P
    .skip SMP_TP_SIZE
smp_trampoline_end:

    .section .note.GNU-stack, "", @progbits
