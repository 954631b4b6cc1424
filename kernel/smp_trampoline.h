/* SPDX-License-Identifier: MIT */
/* kernel/smp_trampoline.h — the layout kernel/smp_trampoline.S and
 * kernel/smp.c share: where in the start page the parameters block sits and
 * where each field is. Plain numbers, so the assembler can use them; smp.c's
 * struct smp_trampoline_params is checked against every one. */
#ifndef KERNEL_SMP_TRAMPOLINE_H
#define KERNEL_SMP_TRAMPOLINE_H

#define SMP_TRAMPOLINE_PARAMS      0x800   /* from the start of the page */
#define SMP_TP_GDT                 0x00    /* 4 descriptors: null, code32, data, code64 */
#define SMP_TP_GDTR                0x20    /* limit (16 bits), base (32 bits) */
#define SMP_TP_FAR32               0x28    /* offset (32 bits), selector (16 bits) */
#define SMP_TP_FAR64               0x30    /* offset (32 bits), selector (16 bits) */
#define SMP_TP_CR3                 0x38
#define SMP_TP_CR4                 0x3c
#define SMP_TP_CR0                 0x40
#define SMP_TP_EFER_SET            0x44    /* EFER bits to set (LME, NXE as on the BSP) */
#define SMP_TP_ENTRY               0x48    /* 64-bit: the kernel's C entry */
#define SMP_TP_STACK_TOP           0x50    /* 64-bit: this AP's stack */
#define SMP_TP_CPU                 0x58    /* 64-bit: the entry's argument */
#define SMP_TP_CLAIM               0x60    /* 0 until an AP takes the block */
#define SMP_TP_SIZE                0x68

#define SMP_TRAMPOLINE_CODE32_SELECTOR 0x08
#define SMP_TRAMPOLINE_DATA_SELECTOR   0x10
#define SMP_TRAMPOLINE_CODE64_SELECTOR 0x18

#endif
