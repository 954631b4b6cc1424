/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_console.c — the log ring keeps what was logged, including
 * messages below the console level, for failure reports. */
#include "kernel/console.h"
#include "tests/harness/ktest.h"
#include "lib/format.h"
#include "lib/string.h"

static bool ring_contains(const char *needle)
{
    static char copy[4096];
    size_t n = log_ring_copy(copy, sizeof(copy) - 1);
    copy[n] = '\0';
    size_t len = strlen(needle);
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(copy + i, needle, len) == 0)
            return true;
    return false;
}

static void log_ring_keeps_recent_lines(struct ktest *t)
{
    uint64_t before = log_ring_total();
    klog(LOG_INFO, "console test: marker 5f3a\n");
    KT_EXPECT(t, log_ring_total() > before);
    KT_EXPECT(t, ring_contains("console test: marker 5f3a\n"));
}

static void log_ring_keeps_messages_below_the_console_level(struct ktest *t)
{
    enum log_level saved = console_level();
    console_set_level(LOG_ERR);
    klog(LOG_DEBUG, "console test: debug marker 91c7\n");
    console_set_level(saved);
    KT_EXPECT(t, ring_contains("console test: debug marker 91c7\n"));
}

static void log_ring_wraps_and_keeps_the_newest(struct ktest *t)
{
    /* Write more than the ring holds; the oldest marker must be gone. */
    klog(LOG_DEBUG, "console test: oldest marker 2d4e\n");
    char line[128];
    memset(line, 'x', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    enum log_level saved = console_level();
    console_set_level(LOG_ERR);     /* keep the flood off the serial port */
    for (unsigned i = 0; i < LOG_RING_SIZE / (sizeof(line) - 1) + 8; i++)
        klog(LOG_DEBUG, "%s", line);
    klog(LOG_DEBUG, "console test: newest marker 7a1b\n");
    console_set_level(saved);
    KT_EXPECT(t, ring_contains("console test: newest marker 7a1b\n"));
    static char all[LOG_RING_SIZE];
    size_t n = log_ring_copy(all, sizeof(all));
    KT_EXPECT_EQ(t, n, LOG_RING_SIZE);
    bool old_found = false;
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(all + i, "2d4e", 4) == 0)
            old_found = true;
    KT_EXPECT(t, !old_found);
}

static const struct ktest_case console_cases[] = {
    KTEST_CASE(log_ring_keeps_recent_lines),
    KTEST_CASE(log_ring_keeps_messages_below_the_console_level),
    KTEST_CASE(log_ring_wraps_and_keeps_the_newest),
};
KTEST_SUITE(console, 15, console_cases);
