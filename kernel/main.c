/* kernel/main.c — the boot path, top to bottom: console, boot information,
 * command line, CPU tables, memory, ACPI, clock, interrupts, PCI, then the
 * test harness, then the exit that reports its result. */
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/io.h"

void kmain(uint32_t magic, uint32_t info_phys);

void kmain(uint32_t magic, uint32_t info_phys)
{
    console_early_init();
    kprintf("\nbareio: booting (x86_64)\n");
    if (!bootinfo_parse(magic, info_phys))
        goto halt;
    kprintf("bareio: loader %s via %s, cmdline \"%s\"\n",
            boot_info.loader[0] ? boot_info.loader : "(unnamed)", boot_info.protocol,
            boot_info.cmdline);
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        kprintf("mem: %016llx-%016llx %s\n", (unsigned long long)boot_info.mem[i].base,
                (unsigned long long)(boot_info.mem[i].base + boot_info.mem[i].length - 1),
                mem_type_name(boot_info.mem[i].type));
halt:
    outb(0xf4, 0x10);
    for (;;)
        cpu_halt();
}
