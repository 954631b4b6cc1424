/* SPDX-License-Identifier: MIT */
/* kernel/exit.h — how a run ends. With exit=qemu the status goes to QEMU's
 * isa-debug-exit device at port 0xf4, and QEMU exits with (status << 1) | 1:
 * pass 33, fail 35, crash 37, usage 39 — none of which QEMU uses itself. */
#ifndef KERNEL_EXIT_H
#define KERNEL_EXIT_H

enum bareio_exit {
    BAREIO_EXIT_PASS = 0x10,    /* every selected test passed (or skipped) */
    BAREIO_EXIT_FAIL = 0x11,    /* at least one test failed */
    BAREIO_EXIT_CRASH = 0x12,   /* exception or panic */
    BAREIO_EXIT_USAGE = 0x13,   /* bad command line */
};

enum exit_method { EXIT_AUTO, EXIT_QEMU, EXIT_HALT, EXIT_REBOOT, EXIT_POWEROFF };

void exit_set_method(enum exit_method m);
/* Tried first by a reboot (acpi_init registers the FADT reset register's
 * write); may return when the machine did not reset. */
void exit_set_reset_hook(void (*hook)(void));
/* exit=poweroff: the hook kernel/power.c registers when the machine can
 * power off (it returns when the machine kept running), or the reason it
 * cannot, which the exit prints before it halts. */
void exit_set_poweroff_hook(void (*hook)(void));
void exit_set_poweroff_unavailable(const char *why);
/* The totals the harness reported, for the verdict line every exit prints
 * last before it acts (a stable format, README "The verdict line"):
 *   bareio-result: pass|fail|crash|usage passed=N failed=N skipped=N
 * 0/0/0 when the run ended before the harness counted anything. */
void exit_set_totals(unsigned passed, unsigned failed, unsigned skipped);
__attribute__((noreturn)) void bareio_exit(enum bareio_exit status);
/* Panic: prints the message with a backtrace and exits with BAREIO_EXIT_CRASH. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
