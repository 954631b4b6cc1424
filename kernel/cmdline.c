/* SPDX-License-Identifier: MIT */
/* kernel/cmdline.c — the key registry and the base keys: tests=, exit=,
 * loglevel=, console=, help. The table is whatever the .cmdline_keys linker
 * section collected (kernel/cmdline.h); lib/cmdline.c parses against it,
 * all-or-nothing, and this file then applies the base keys. console= is
 * checked before anything is applied: the UART must answer its scratch
 * register (PC16550D: SCR, offset 7) or the line is refused. */
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/serial.h"
#include "lib/format.h"
#include "lib/string.h"

extern const struct cmdline_key __cmdline_keys_start[], __cmdline_keys_end[];

/* ---- the base keys ---- */

CMDLINE_GLOBS(tests_selection, "tests", 512, "*",
              "suites or suite.case names to run, * and ? wildcards (default *)");

static const struct cmdline_word exit_words[] = {
    { "qemu", EXIT_QEMU }, { "halt", EXIT_HALT }, { "reboot", EXIT_REBOOT },
    { "poweroff", EXIT_POWEROFF },
};
CMDLINE_ENUM(exit_setting, "exit", EXIT_AUTO, exit_words,
             "how the run ends (default: qemu when isa-debug-exit is there, else halt)");

#define LOGLEVEL_NOT_GIVEN (-1)
static const struct cmdline_word loglevel_words[] = {
    { "error", LOG_ERR }, { "warn", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
    { "0", LOG_ERR }, { "1", LOG_WARN }, { "2", LOG_INFO }, { "3", LOG_DEBUG },
};
CMDLINE_ENUM(loglevel_setting, "loglevel", LOGLEVEL_NOT_GIVEN, loglevel_words,
             "console messages up to this level (default info)");

static bool console_check(const struct cmdline_key *key, const struct cmdline_value *value,
                          char *why, size_t why_size);
CMDLINE_STRING(console_setting, "console", 48, "",
               "DEVICE ttyS0..ttyS3, io:PORT or mmio:ADDRESS (default: ACPI SPCR, "
               "else ttyS0)", .check = console_check, .value_syntax = "DEVICE[,BAUD]");

CMDLINE_FLAG_KEY(help_setting, "help", "print these keys and stop");

/* ---- console= ---- */

#define FOUR_GIB (1ull << 32)       /* the boot page tables map this much */

/* serial_probe() does not reprogram the UART, so a refused line leaves it as it was. */
static bool uart_answers(const struct cmdline_console *c)
{
    struct serial_port port = { .mmio = c->mmio, .base = c->base };
    return serial_probe(&port);
}

static bool console_check(const struct cmdline_key *key, const struct cmdline_value *value,
                          char *why, size_t why_size)
{
    (void)key;
    struct cmdline_console c;
    if (!cmdline_parse_console(value->text, value->len, &c, why, why_size))
        return false;
    /* Before memory_init() only the boot page tables exist. */
    if (c.mmio && c.base + 8 > FOUR_GIB) {
        snprintf(why, why_size, "MMIO UARTs above 4 GiB are not supported");
        return false;
    }
    if (!uart_answers(&c)) {
        snprintf(why, why_size, "no UART answers at %s %#llx", c.mmio ? "MMIO" : "I/O port",
                 (unsigned long long)c.base);
        return false;
    }
    return true;
}

static bool console_switch(void)
{
    struct cmdline_console c;
    char why[128];
    if (!cmdline_parse_console(console_setting, strlen(console_setting), &c, why, sizeof why))
        return false;   /* checked during parsing; cannot happen */
    struct serial_port port = { .mmio = c.mmio, .base = c.base, .baud = c.baud };
    const char *where = c.mmio ? "MMIO" : "I/O port";
    /* Say it on the old console, so whoever watches it knows where to look. */
    kprintf("bareio: console moves to %s %#llx (console=%s)\n", where,
            (unsigned long long)c.base, console_setting);
    if (!console_configure(&port)) {
        klog(LOG_ERR, "cmdline: console=%s: the UART at %s %#llx stopped answering\n",
             console_setting, where, (unsigned long long)c.base);
        return false;
    }
    kprintf("bareio: console on %s %#llx at %u baud\n", where, (unsigned long long)c.base,
            console_port()->baud);
    return true;
}

/* ---- applying ---- */

static void print_error(void *ctx, const char *message)
{
    (void)ctx;
    klog(LOG_ERR, "%s\n", message);
}

static size_t key_count(void)
{
    return (size_t)(__cmdline_keys_end - __cmdline_keys_start);
}

bool cmdline_apply(const char *line)
{
    /* A broken declaration is a bug in bareio, not in the line; still refuse
     * to run rather than silently ignore a key. */
    if (cmdline_table_check(__cmdline_keys_start, key_count(), print_error, NULL))
        return false;
    if (cmdline_parse(__cmdline_keys_start, key_count(), line, print_error, NULL))
        return false;

    exit_set_method((enum exit_method)exit_setting);
    if (loglevel_setting != LOGLEVEL_NOT_GIVEN)
        console_set_level((enum log_level)loglevel_setting);
    if (console_setting[0] && !console_switch())
        return false;
    klog(LOG_DEBUG, "cmdline: %zu keys declared; tests=%s\n", key_count(), tests_selection);
    return true;
}

const char *cmdline_tests(void) { return tests_selection; }
bool cmdline_console_given(void) { return console_setting[0] != '\0'; }
bool cmdline_help_requested(void) { return help_setting; }

void cmdline_print_help(void)
{
    kprintf("bareio command line: key=value separated by blanks; quote values with blanks\n");
    for (const struct cmdline_key *k = __cmdline_keys_start; k < __cmdline_keys_end; k++) {
        char syntax[160];
        cmdline_syntax(k, syntax, sizeof syntax);
        if (strlen(syntax) <= 28)
            kprintf("  %-28s %s\n", syntax, k->help ? k->help : "");
        else
            kprintf("  %s\n  %-28s %s\n", syntax, "", k->help ? k->help : "");
    }
}
