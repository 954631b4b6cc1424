/* SPDX-License-Identifier: MIT */
/* kernel/main.c — the boot path, top to bottom: console, boot information,
 * command line, CPU tables, memory, ACPI, clock, interrupts, then the stages
 * the layers above register (kernel/stage.h: PCI, the storage drivers, the
 * test harness), then the exit that reports the result. */
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/stage.h"
#include "kernel/memory.h"
#include "kernel/power.h"
#include "kernel/screen.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

void kmain(uint32_t magic, uint32_t info_phys);

extern const struct kernel_stage __kernel_stages_start[], __kernel_stages_end[];

/* Runs the stages in order; the first to return an exit status ends the run
 * with it. A build with no stage that ends it has nothing to report. */
static int run_stages(void)
{
    for (const struct kernel_stage *s = __kernel_stages_start; s < __kernel_stages_end; s++) {
        int status = s->run();
        if (status != KERNEL_STAGE_CONTINUE)
            return status;
    }
    kprintf("bareio: no stage ended the run (no test harness built in)\n");
    return BAREIO_EXIT_CRASH;
}

void kmain(uint32_t magic, uint32_t info_phys)
{
    /* GS base 0: "the BSP before per-CPU set-up" to the console lock and the
     * exception report (kernel/cpu.h), whatever the loader left there. */
    cpu_local_set(NULL);
    console_early_init();
    screen_early();             /* the console's lines are kept for the screen from here */
    kprintf("\nbareio: booting (x86_64)\n");
    if (!bootinfo_parse(magic, info_phys))
        bareio_exit(BAREIO_EXIT_CRASH);
    /* Echoed escaped: whatever the loader passed, no control character or
     * terminal escape reaches the console. */
    static char shown[4 * BOOT_CMDLINE_MAX];
    format_escaped(shown, sizeof(shown), boot_info.cmdline, strlen(boot_info.cmdline));
    kprintf("bareio: loader %s via %s, cmdline \"%s\"\n",
            boot_info.loader[0] ? boot_info.loader : "(unnamed)", boot_info.protocol, shown);
    /* A cut line could have lost the end of a key (allow_write=*lab-07 cut
     * to allow_write=*): refuse it before anything is probed. */
    if (boot_info.cmdline_truncated) {
        kprintf("bareio: the command line is %zu bytes, more than the %u bareio keeps: refused, "
                "nothing probed or written; shorten it\n", boot_info.cmdline_length,
                (unsigned)BOOT_CMDLINE_MAX - 1);
        bareio_exit(BAREIO_EXIT_USAGE);
    }

    if (!cmdline_apply(boot_info.cmdline)) {
        kprintf("bareio: bad command line; see the messages above\n");
        bareio_exit(BAREIO_EXIT_USAGE);
    }
    if (cmdline_help_requested()) {     /* a run that only prints help is not a pass */
        cmdline_print_help();
        bareio_exit(BAREIO_EXIT_USAGE);
    }
    idt_init();                 /* GDT/TSS/IDT: exceptions are decoded from here on */
    memory_init();              /* physical memory, final page tables, DMA allocator */
    console_memory_ready(mmio_map);    /* an MMIO console is mapped again under the final tables */
    acpi_init();                /* RSDP, RSDT/XSDT, MADT, MCFG, SPCR, FADT, HPET */
    if (!cmdline_console_given())
        acpi_console_from_spcr();
    time_init();                /* TSC calibrated against the HPET or the PIT */
    power_init();               /* ACPI S5 for exit=poweroff */
    screen_start(mmio_map, tsc_frequency_hz());    /* framebuffer, VGA text or none */
    apic_init();                /* LAPIC on, legacy PICs masked */
    smp_init();                 /* the APs started and parked */
    irq_enable();
    bareio_exit((enum bareio_exit)run_stages());   /* PCI, drivers, harness */
}
