/* tests/host/runner.c — runs every HTEST in registration order, or those whose
 * name contains argv[1]. Output: `ok NAME` / `FAIL NAME` with the reasons, then
 * `N passed, N failed`. */
#include "tests/host/htest.h"
#include <stdarg.h>
#include <stdlib.h>

static struct htest *head, **tail = &head;
static int current_failed;

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

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (struct htest *t = head; t; t = t->next) {
        if (argc > 1 && !strstr(t->name, argv[1]))
            continue;
        current_failed = 0;
        t->fn();
        printf("%s %s\n", current_failed ? "FAIL" : "ok", t->name);
        if (current_failed)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
