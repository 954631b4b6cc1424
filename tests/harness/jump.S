/* SPDX-License-Identifier: MIT */
/* tests/harness/jump.S — ktest_setjmp/ktest_longjmp: the harness's way back
 * from a case that timed out (ktest.c longjmps from the LAPIC timer handler).
 * Callee-saved registers, stack and return address only: the case's frame is
 * abandoned, not unwound. The host tests' fake has its own copy
 * (tests/host/fake/harness.c). */

    .text
    .global ktest_setjmp
ktest_setjmp:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rax               /* the caller's rsp after return */
    mov %rax, 48(%rdi)
    mov (%rsp), %rax                /* return address */
    mov %rax, 56(%rdi)
    xor %eax, %eax
    ret

    .global ktest_longjmp
ktest_longjmp:
    mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    mov %esi, %eax
    test %eax, %eax
    jnz 1f
    inc %eax
1:  jmp *56(%rdi)


    .section .note.GNU-stack, "", @progbits
