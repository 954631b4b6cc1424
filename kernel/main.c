/* kernel/main.c — the boot path, top to bottom: console, boot information,
 * command line, CPU tables, memory, ACPI, clock, interrupts, PCI, then the
 * test harness, then the exit that reports its result. */
#include "drivers/pci/pci.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/time.h"

void kmain(uint32_t magic, uint32_t info_phys);

void kmain(uint32_t magic, uint32_t info_phys)
{
    console_early_init();
    kprintf("\nbareio: booting (x86_64)\n");
    if (!bootinfo_parse(magic, info_phys))
        bareio_exit(BAREIO_EXIT_CRASH);
    kprintf("bareio: loader %s via %s, cmdline \"%s\"\n",
            boot_info.loader[0] ? boot_info.loader : "(unnamed)", boot_info.protocol,
            boot_info.cmdline);

    /* [cmdline]  parse and apply the command line; a bad one exits with USAGE */
    if (!cmdline_apply(boot_info.cmdline)) {
        kprintf("bareio: bad command line; see the messages above\n");
        bareio_exit(BAREIO_EXIT_USAGE);
    }
    if (cmdline_help_requested()) {     /* a run that only prints help is not a pass */
        cmdline_print_help();
        bareio_exit(BAREIO_EXIT_USAGE);
    }
    idt_init();     /* [cpu] GDT/TSS/IDT, exceptions decoded from here on */
    memory_init();      /* [memory]   memory_init(): physical memory, final page tables, DMA allocator */
    acpi_init();        /* [acpi]     acpi_init(): RSDP, RSDT/XSDT, MADT, MCFG, SPCR, FADT, HPET */
    acpi_console_from_spcr();   /* [console]  console from ACPI SPCR unless console= was given */
    time_init();        /* [time]     time_init(): TSC calibrated against HPET or PIT */
    apic_init();        /* [apic]     apic_init(): LAPIC on, legacy PICs masked, then interrupts on */
    irq_enable();
    pci_init();         /* [pci]      pci_init(): enumerate, print the table */
    /* [harness] run the selected suites and exit with their result */
    bareio_exit((enum bareio_exit)ktest_run_all("*"));
}
