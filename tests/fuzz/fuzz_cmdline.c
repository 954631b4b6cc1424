/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_cmdline.c — the command-line parser (lib/cmdline.c) on any
 * bytes: a table with every kind of key, all-or-nothing (nothing stored when
 * an error was reported), values that fit their storage, and the console=
 * and number sub-parsers. */
#include "tests/fuzz/fuzz.h"
#include "lib/cmdline.h"
#include "lib/string.h"

#include <string.h>

static int mode;
static uint64_t number;
static uint16_t small;
static char text[16], globs[32];
static bool flag, on;

static const struct cmdline_word words[] = { { "qemu", 1 }, { "halt", 2 }, { "reboot", 3 } };

static bool check_even(const struct cmdline_key *key, const struct cmdline_value *v, char *why,
                       size_t why_size)
{
    (void)key;
    if (v->number % 2) {
        strlcpy(why, "odd", why_size);
        return false;
    }
    return true;
}

static const struct cmdline_key keys[] = {
    { .name = "exit", .kind = CMDLINE_ENUM, .storage = &mode, .size = sizeof mode, .words = words,
      .word_count = 3 },
    { .name = "n", .kind = CMDLINE_UINT, .storage = &number, .size = sizeof number, .min = 0,
      .max = UINT64_MAX },
    { .name = "even", .kind = CMDLINE_UINT, .storage = &small, .size = sizeof small, .min = 2,
      .max = 4096, .check = check_even },
    { .name = "text", .kind = CMDLINE_STRING, .storage = text, .size = sizeof text },
    { .name = "allow_write", .kind = CMDLINE_GLOBS, .storage = globs, .size = sizeof globs },
    { .name = "help", .kind = CMDLINE_BOOL, .flags = CMDLINE_FLAG, .storage = &flag,
      .size = sizeof flag },
    { .name = "shadow", .kind = CMDLINE_BOOL, .storage = &on, .size = sizeof on },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';

    mode = -7;
    number = 12345;
    small = 2;
    memset(text, 'T', sizeof text);
    memset(globs, 'G', sizeof globs);
    unsigned errors = cmdline_parse(keys, sizeof keys / sizeof keys[0], line, NULL, NULL);
    if (errors) {           /* all or nothing */
        FUZZ_ASSERT(mode == -7 && number == 12345 && small == 2);
        FUZZ_ASSERT(text[0] == 'T' && globs[0] == 'G');
    } else {
        FUZZ_ASSERT(mode == -7 || (mode >= 1 && mode <= 3));
        FUZZ_ASSERT(small >= 2 && small <= 4096 && small % 2 == 0);
        FUZZ_ASSERT(text[0] == 'T' || memchr(text, '\0', sizeof text));
        FUZZ_ASSERT(globs[0] == 'G' || memchr(globs, '\0', sizeof globs));
    }
    struct cmdline_console c;
    char why[128];
    if (cmdline_parse_console(line, size, &c, why, sizeof why))
        FUZZ_ASSERT(c.baud == 0 || 115200 % c.baud == 0);
    else
        FUZZ_ASSERT(memchr(why, '\0', sizeof why) != NULL);
    uint64_t v;
    cmdline_parse_number(line, size, &v);
    free(line);
    return 0;
}
