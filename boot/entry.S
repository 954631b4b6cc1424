/* SPDX-License-Identifier: MIT */
/* boot/entry.S — from the boot loader's 32-bit protected mode to kmain() in long mode.
 *
 * Carries a Multiboot1 header with address fields (so QEMU's -kernel loads this
 * ELF64 file, which it would otherwise refuse) and a Multiboot2 header (GRUB's
 * `multiboot2`, BIOS and UEFI). Both loaders enter _start32 with paging off and
 * the magic in EAX, the information structure's physical address in EBX.
 * Early page tables identity-map the first 4 GiB with 2 MiB pages; kernel/paging.c
 * replaces them with the final map (all RAM write-back, MMIO uncached). */

#define MB1_MAGIC      0x1BADB002
#define MB1_FLAGS      ((1 << 1) | (1 << 16))   /* memory map; address fields valid */
#define MB2_MAGIC      0xE85250D6
#define MB2_ARCH_I386  0
#define MB2_TAG_FRAMEBUFFER 5
#define MB2_TAG_OPTIONAL    1

#define CR0_PE   (1 << 0)
#define CR0_WP   (1 << 16)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

#define BOOT_STACK_SIZE 65536

    .section .multiboot, "a"
    .align 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
    .long mb1_header            /* header_addr */
    .long __load_start          /* load_addr */
    .long __load_end            /* load_end_addr */
    .long __bss_end             /* bss_end_addr */
    .long _start32              /* entry_addr */

    .align 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Framebuffer tag (Multiboot2 §3.1.10): 1024x768x32 preferred, optional,
     * so a loader without graphics still boots us (in EGA text or with no
     * screen). GRUB makes it "1024x768x32,1024x768,auto": another mode where
     * that one is missing. kernel/screen.c draws what it gets. */
    .align 8
    .short MB2_TAG_FRAMEBUFFER
    .short MB2_TAG_OPTIONAL
    .long 20
    .long 1024                  /* width */
    .long 768                   /* height */
    .long 32                    /* depth */
    .align 8                    /* every tag starts on 8 bytes */
    /* end tag */
    .short 0
    .short 0
    .long 8
mb2_header_end:

    .section .text.boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %esi                  /* keep magic and info across the setup */
    mov %ebx, %edi

    /* Zero .bss: page tables and the stack live there. */
    push %edi
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
    pop %edi

    mov $boot_stack_top, %esp
    mov %esi, boot_magic
    mov %edi, boot_info_phys

    /* Long mode present? CPUID 8000_0001h EDX bit 29. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz no_long_mode
    mov %edx, %ebp                  /* bit 20: NX */

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; 2048 x 2 MiB pages = 4 GiB. */
    mov $boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, boot_pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt(,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jb 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                  /* present, writable, 2 MiB page */
    mov %eax, boot_pd(,%ecx,8)
    mov %ecx, %eax
    shr $11, %eax                   /* high dword: (i * 2 MiB) >> 32 */
    mov %eax, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    test $(1 << 20), %ebp
    jz 3f
    or $EFER_NXE, %eax
3:  wrmsr
    mov %cr0, %eax
    or $(CR0_PE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $start64

    /* No long mode: say so on COM1 (no init needed by QEMU; real UARTs keep
     * the firmware's setting) and stop. */
no_long_mode:
    mov $msg_no_lm, %esi
4:  lodsb
    test %al, %al
    jz 5f
    mov $0x3f8, %dx
    outb %al, %dx
    jmp 4b
5:  hlt
    jmp 5b

    .code64
start64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    xor %rbp, %rbp                  /* ends the frame-pointer chain for backtraces */
    mov boot_magic(%rip), %edi
    mov boot_info_phys(%rip), %esi
    call kmain
6:  cli
    hlt
    jmp 6b

    .section .rodata
msg_no_lm:
    .asciz "bareio: this CPU has no long mode (x86_64); cannot boot\r\n"

    .align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code, ring 0 */
    .quad 0x00cf92000000ffff        /* 0x10: data, ring 0 */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .data
    .global boot_magic, boot_info_phys
boot_magic:     .long 0
boot_info_phys: .long 0

    .section .bss
    .align 4096
    .global boot_pml4
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4096 * 4
    .align 16
    .global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
