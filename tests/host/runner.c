/* SPDX-License-Identifier: MIT */
/* tests/host/runner.c — runs every HTEST in registration order, or those whose
 * name contains argv[1]. Output: `ok NAME` / `FAIL NAME` with the reasons, then
 * `N passed, N failed`. Built with HTEST_FORK (the fake-hardware tests,
 * tests/host/hw/) each test runs in a child process of its own, so the
 * driver files' statics start fresh every time, and a test that crashes,
 * aborts or runs longer than HTEST_FORK_SECONDS is a failure, not the end of
 * the run; htest_after_failure(), when a file defines it, runs in the child
 * after a failure (the fake kernel prints the captured log there). */
#include "tests/host/htest.h"
#include <stdarg.h>
#include <stdlib.h>
#ifdef HTEST_FORK
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define HTEST_FORK_SECONDS 20
#endif

static struct htest *head, **tail = &head;
static int current_failed;

void htest_after_failure(void) __attribute__((weak));

void htest_register(struct htest *t)
{
    *tail = t;
    tail = &t->next;
}

void htest_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    current_failed = 1;
}

#ifdef HTEST_FORK
static int run_one(struct htest *t)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        setvbuf(stdout, NULL, _IONBF, 0);    /* nothing lost if the test aborts */
        alarm(HTEST_FORK_SECONDS);
        current_failed = 0;
        t->fn();
        if (current_failed && htest_after_failure)
            htest_after_failure();
        fflush(stdout);
        _exit(current_failed ? 1 : 0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFSIGNALED(status))
        printf("    the test was killed by signal %d%s\n", WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (ran longer than the runner allows)" : "");
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
#else
static int run_one(struct htest *t)
{
    current_failed = 0;
    t->fn();
    return current_failed;
}
#endif

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (struct htest *t = head; t; t = t->next) {
        if (argc > 1 && !strstr(t->name, argv[1]))
            continue;
        int f = run_one(t);
        printf("%s %s\n", f ? "FAIL" : "ok", t->name);
        if (f)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
