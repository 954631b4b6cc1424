/* SPDX-License-Identifier: MIT */
/* tests/host/test_cmdline.c — lib/cmdline.c on a table of every key kind:
 * what each kind accepts, the exact wording of each error, that every error is
 * reported, and that a line with any error changes nothing. Also the table
 * self-check, the help text and the console= value parser. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/cmdline.h"

/* ---- a table with one key of each kind ---- */

enum { MODE_AUTO = 0, MODE_QEMU = 1, MODE_HALT = 2, MODE_REBOOT = 3 };
static const struct cmdline_word exit_words[] = {
    { "qemu", MODE_QEMU }, { "halt", MODE_HALT }, { "reboot", MODE_REBOOT },
};
static const struct cmdline_word irq_words[] = { { "poll", 10 }, { "msix", 11 } };

static int exit_mode, irq_mode;
static uint32_t depth;
static uint8_t small;
static uint64_t size;
static char name[8];
static char tests[16];
static bool verbose, help;

static bool depth_check_calls_rejects_13(const struct cmdline_key *key,
                                         const struct cmdline_value *v, char *why, size_t n)
{
    (void)key;
    if (v->number == 13) {
        snprintf(why, n, "13 is unlucky");
        return false;
    }
    return true;
}

static const struct cmdline_key keys[] = {
    { .name = "exit", .kind = CMDLINE_ENUM, .storage = &exit_mode, .size = sizeof exit_mode,
      .words = exit_words, .word_count = 3, .help = "how the run ends" },
    { .name = "depth", .kind = CMDLINE_UINT, .storage = &depth, .size = sizeof depth,
      .min = 1, .max = 1024, .check = depth_check_calls_rejects_13 },
    { .name = "small", .kind = CMDLINE_UINT, .storage = &small, .size = sizeof small,
      .min = 0, .max = 1000 },
    { .name = "size", .kind = CMDLINE_UINT, .storage = &size, .size = sizeof size,
      .min = 0, .max = UINT64_MAX },
    { .name = "name", .kind = CMDLINE_STRING, .storage = name, .size = sizeof name },
    { .name = "tests", .kind = CMDLINE_GLOBS, .storage = tests, .size = sizeof tests },
    { .name = "verbose", .kind = CMDLINE_BOOL, .storage = &verbose, .size = sizeof verbose },
    { .name = "help", .kind = CMDLINE_BOOL, .flags = CMDLINE_FLAG, .storage = &help,
      .size = sizeof help },
    { .name = "nvme.irq", .kind = CMDLINE_ENUM, .storage = &irq_mode, .size = sizeof irq_mode,
      .words = irq_words, .word_count = 2 },
};
#define NKEYS (sizeof keys / sizeof keys[0])

static void set_defaults(void)
{
    exit_mode = MODE_AUTO;
    irq_mode = 11;
    depth = 32;
    small = 7;
    size = 0;
    strcpy(name, "dflt");
    strcpy(tests, "*");
    verbose = false;
    help = false;
}

static bool still_defaults(void)
{
    return exit_mode == MODE_AUTO && irq_mode == 11 && depth == 32 && small == 7 && size == 0 &&
           strcmp(name, "dflt") == 0 && strcmp(tests, "*") == 0 && !verbose && !help;
}

/* ---- collecting the messages ---- */

struct messages {
    int count;
    char text[8][512];
};

static void collect(void *ctx, const char *message)
{
    struct messages *m = ctx;
    if (m->count < 8)
        strncpy(m->text[m->count], message, sizeof m->text[0] - 1);
    m->count++;
}

static struct messages msgs;

static unsigned parse(const char *line)
{
    memset(&msgs, 0, sizeof msgs);
    set_defaults();
    return cmdline_parse(keys, NKEYS, line, collect, &msgs);
}

/* Parses a line that must fail with exactly one message and change nothing. */
static void expect_one_error(const char *line, const char *message, int at)
{
    unsigned errors = parse(line);
    if (errors != 1 || msgs.count != 1 || strcmp(msgs.text[0], message) != 0 || !still_defaults())
        htest_fail(__FILE__, at, "line '%s': %u errors, first \"%s\"; wanted \"%s\"%s", line,
                   errors, msgs.text[0], message, still_defaults() ? "" : " (and values changed!)");
}
#define EXPECT_ONE_ERROR(line, message) expect_one_error(line, message, __LINE__)

/* ---- accepted lines ---- */

HTEST(cmdline_empty_line_keeps_defaults)
{
    HT_EXPECT_EQ(parse(""), 0);
    HT_EXPECT(still_defaults());
    HT_EXPECT_EQ(parse(NULL), 0);
    HT_EXPECT(still_defaults());
    HT_EXPECT_EQ(parse("  \t \n "), 0);
    HT_EXPECT(still_defaults());
    HT_EXPECT_EQ(msgs.count, 0);
}

HTEST(cmdline_every_kind_is_stored)
{
    HT_EXPECT_EQ(parse("exit=halt depth=0x20 small=255 size=4G name=\"a b\" tests=lib.*,memory "
                       "verbose=yes help nvme.irq=poll"), 0);
    HT_EXPECT_EQ(msgs.count, 0);
    HT_EXPECT_EQ(exit_mode, MODE_HALT);
    HT_EXPECT_EQ(depth, 32);
    HT_EXPECT_EQ(small, 255);
    HT_EXPECT_EQ(size, 4ull << 30);
    HT_EXPECT_STREQ(name, "a b");
    HT_EXPECT_STREQ(tests, "lib.*,memory");
    HT_EXPECT(verbose);
    HT_EXPECT(help);
    HT_EXPECT_EQ(irq_mode, 10);
}

HTEST(cmdline_keys_not_given_keep_defaults)
{
    HT_EXPECT_EQ(parse("exit=qemu"), 0);
    HT_EXPECT_EQ(exit_mode, MODE_QEMU);
    HT_EXPECT_EQ(depth, 32);
    HT_EXPECT_STREQ(tests, "*");
    HT_EXPECT(!help);
}

HTEST(cmdline_blanks_of_any_kind_separate_tokens)
{
    HT_EXPECT_EQ(parse("\texit=reboot\n\ndepth=5\r\n"), 0);
    HT_EXPECT_EQ(exit_mode, MODE_REBOOT);
    HT_EXPECT_EQ(depth, 5);
}

HTEST(cmdline_numbers_decimal_hex_and_suffixes)
{
    static const struct { const char *line; uint64_t want; } cases[] = {
        { "size=0", 0 }, { "size=12345", 12345 }, { "size=0x1f", 0x1f }, { "size=0XABCDEF", 0xabcdef },
        { "size=4K", 4096 }, { "size=4k", 4096 }, { "size=3M", 3u << 20 }, { "size=2G", 2ull << 30 },
        { "size=0x10K", 16 * 1024 }, { "size=18446744073709551615", UINT64_MAX },
        { "size=0xffffffffffffffff", UINT64_MAX }, { "size=007", 7 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned errors = parse(cases[i].line);
        if (errors || size != cases[i].want)
            htest_fail(__FILE__, __LINE__, "%s: %u errors, size %#llx", cases[i].line, errors,
                       (unsigned long long)size);
    }
}

HTEST(cmdline_bool_words)
{
    static const char *const on[] = { "verbose=on", "verbose=yes", "verbose=1" };
    static const char *const off[] = { "verbose=off", "verbose=no", "verbose=0" };
    for (int i = 0; i < 3; i++) {
        HT_EXPECT_EQ(parse(on[i]), 0);
        HT_EXPECT(verbose);
        set_defaults();
        verbose = true;
        HT_EXPECT_EQ(cmdline_parse(keys, NKEYS, off[i], collect, &msgs), 0);
        HT_EXPECT(!verbose);
    }
}

HTEST(cmdline_flag_bare_or_with_value)
{
    HT_EXPECT_EQ(parse("help"), 0);
    HT_EXPECT(help);
    HT_EXPECT_EQ(parse("help=off"), 0);
    HT_EXPECT(!help);
}

HTEST(cmdline_quoted_values)
{
    HT_EXPECT_EQ(parse("name=\"x  y\" exit=halt"), 0);
    HT_EXPECT_STREQ(name, "x  y");
    HT_EXPECT_EQ(exit_mode, MODE_HALT);
    HT_EXPECT_EQ(parse("name=\"\""), 0);
    HT_EXPECT_STREQ(name, "");
    HT_EXPECT_EQ(parse("exit=\"qemu\""), 0);
    HT_EXPECT_EQ(exit_mode, MODE_QEMU);
    HT_EXPECT_EQ(parse("name=1234567"), 0);     /* exactly the capacity */
    HT_EXPECT_STREQ(name, "1234567");
}

HTEST(cmdline_check_function_sees_parsed_number)
{
    HT_EXPECT_EQ(parse("depth=12"), 0);
    HT_EXPECT_EQ(depth, 12);
    EXPECT_ONE_ERROR("depth=0xd", "cmdline: depth=0xd: 13 is unlucky");
}

/* ---- errors: wording, and nothing applied ---- */

HTEST(cmdline_enum_error_lists_the_words)
{
    EXPECT_ONE_ERROR("exit=foo", "cmdline: exit=foo: expected one of qemu, halt, reboot");
    EXPECT_ONE_ERROR("exit=QEMU", "cmdline: exit=QEMU: expected one of qemu, halt, reboot");
    EXPECT_ONE_ERROR("nvme.irq=intx", "cmdline: nvme.irq=intx: expected one of poll, msix");
}

HTEST(cmdline_unknown_key_lists_known_keys)
{
    EXPECT_ONE_ERROR("bogus=1", "cmdline: unknown key 'bogus' (known keys: exit, depth, small, "
                     "size, name, tests, verbose, help, nvme.irq)");
    EXPECT_ONE_ERROR("tset=lib", "cmdline: unknown key 'tset' (did you mean 'tests'? known keys: "
                     "exit, depth, small, size, name, tests, verbose, help, nvme.irq)");
    HT_EXPECT(strstr((parse("nvme.ir=msix"), msgs.text[0]), "did you mean 'nvme.irq'?") != NULL);
    HT_EXPECT(strstr((parse("exi=qemu"), msgs.text[0]), "unknown key 'exi'") != NULL);
    HT_EXPECT(strstr((parse("exit2=qemu"), msgs.text[0]), "unknown key 'exit2'") != NULL);
    HT_EXPECT(strstr((parse("Exit=qemu"), msgs.text[0]), "unknown key 'Exit'") != NULL);
}

HTEST(cmdline_number_errors_name_the_range)
{
    static const char syntax[] = " (decimal or 0x hex, optional K/M/G suffix)";
    static const char *const malformed[] = {
        "depth=abc", "depth=12x", "depth=0x", "depth=K", "depth=-1", "depth=1.5", "depth=0xg1",
        "depth=1KK", "depth= ",
    };
    char want[256];
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        if (strcmp(malformed[i], "depth= ") == 0)
            snprintf(want, sizeof want, "cmdline: depth=: empty value; expected a number in 1..1K%s",
                     syntax);
        else
            snprintf(want, sizeof want, "cmdline: %s: expected a number in 1..1K%s", malformed[i],
                     syntax);
        EXPECT_ONE_ERROR(malformed[i], want);
    }
    EXPECT_ONE_ERROR("depth=0", "cmdline: depth=0: out of range 1..1K");
    EXPECT_ONE_ERROR("depth=1025", "cmdline: depth=1025: out of range 1..1K");
    EXPECT_ONE_ERROR("depth=2K", "cmdline: depth=2K: out of range 1..1K");
    EXPECT_ONE_ERROR("depth=99999999999999999999", "cmdline: depth=99999999999999999999: out of range 1..1K");
    EXPECT_ONE_ERROR("size=16777216T", "cmdline: size=16777216T: expected a number in 0..0xffffffffffffffff"
                     " (decimal or 0x hex, optional K/M/G suffix)");
    EXPECT_ONE_ERROR("size=17179869184G", "cmdline: size=17179869184G: out of range 0..0xffffffffffffffff");
}

HTEST(cmdline_storage_width_caps_the_range)
{
    /* small is a uint8_t declared with max 1000: 255 is the real limit. */
    HT_EXPECT_EQ(parse("small=255"), 0);
    HT_EXPECT_EQ(small, 255);
    EXPECT_ONE_ERROR("small=256", "cmdline: small=256: out of range 0..255");
}

HTEST(cmdline_bool_error)
{
    EXPECT_ONE_ERROR("verbose=maybe", "cmdline: verbose=maybe: expected on, off, yes, no, 1 or 0");
    EXPECT_ONE_ERROR("verbose=", "cmdline: verbose=: empty value; expected on, off, yes, no, 1 or 0");
}

HTEST(cmdline_bare_key_needs_a_value_unless_flag)
{
    EXPECT_ONE_ERROR("exit", "cmdline: exit: needs '=value' (one of qemu, halt, reboot)");
    EXPECT_ONE_ERROR("verbose", "cmdline: verbose: needs '=value' (on, off, yes, no, 1 or 0)");
}

HTEST(cmdline_string_too_long)
{
    EXPECT_ONE_ERROR("name=12345678", "cmdline: name=12345678: longer than 7 characters");
}

HTEST(cmdline_glob_list_errors)
{
    static const char list[] = "comma-separated names or patterns with * and ?, at most 15 characters";
    char want[256];
    snprintf(want, sizeof want, "cmdline: tests=lib,,memory: empty pattern in the list (expected %s)", list);
    EXPECT_ONE_ERROR("tests=lib,,memory", want);
    snprintf(want, sizeof want, "cmdline: tests=lib,: empty pattern in the list (expected %s)", list);
    EXPECT_ONE_ERROR("tests=lib,", want);
    snprintf(want, sizeof want, "cmdline: tests=\"lib memory\": blank inside a pattern (expected %s)", list);
    EXPECT_ONE_ERROR("tests=\"lib memory\"", want);
    EXPECT_ONE_ERROR("tests=0123456789abcdef", "cmdline: tests=0123456789abcdef: longer than 15 characters");
    snprintf(want, sizeof want, "cmdline: tests=: empty value; expected %s", list);
    EXPECT_ONE_ERROR("tests=", want);
}

HTEST(cmdline_quote_errors)
{
    EXPECT_ONE_ERROR("name=\"abc", "cmdline: name=\"abc: unterminated quote");
    EXPECT_ONE_ERROR("name=\"a b\"c", "cmdline: name=\"a b\"c: text after the closing quote");
    EXPECT_ONE_ERROR("name=a\"b\"", "cmdline: name=a\"b\": quote inside a value (quote the whole value: key=\"...\")");
    EXPECT_ONE_ERROR("=qemu", "cmdline: =qemu: no key before '='");
    /* An unterminated quote swallows the rest of the line: one error, not several. */
    EXPECT_ONE_ERROR("name=\"abc exit=foo bogus", "cmdline: name=\"abc exit=foo bogus: unterminated quote");
}

HTEST(cmdline_duplicate_key_is_an_error)
{
    EXPECT_ONE_ERROR("exit=qemu exit=halt", "cmdline: 'exit' given more than once; give it once");
    EXPECT_ONE_ERROR("exit=qemu exit=qemu exit=qemu", "cmdline: 'exit' given more than once; give it once");
    EXPECT_ONE_ERROR("tests=lib tests=memory",
                     "cmdline: 'tests' given more than once; give it once, with the patterns separated by commas");
    EXPECT_ONE_ERROR("help help", "cmdline: 'help' given more than once; give it once");
}

HTEST(cmdline_all_or_nothing)
{
    /* Valid keys before and after the bad one are not applied either. */
    EXPECT_ONE_ERROR("exit=halt depth=0 tests=lib", "cmdline: depth=0: out of range 1..1K");
    EXPECT_ONE_ERROR("exit=halt name=x verbose=on help bogus=1",
                     "cmdline: unknown key 'bogus' (known keys: exit, depth, small, size, name, tests, "
                     "verbose, help, nvme.irq)");
}

HTEST(cmdline_every_error_is_reported)
{
    HT_EXPECT_EQ(parse("exit=foo depth=abc bogus tests=a,,b verbose=on exit=halt"), 5);
    HT_EXPECT_EQ(msgs.count, 5);
    HT_EXPECT(strstr(msgs.text[0], "exit=foo") != NULL);
    HT_EXPECT(strstr(msgs.text[1], "depth=abc") != NULL);
    HT_EXPECT(strstr(msgs.text[2], "unknown key 'bogus'") != NULL);
    HT_EXPECT(strstr(msgs.text[3], "tests=a,,b") != NULL);
    HT_EXPECT(strstr(msgs.text[4], "'exit' given more than once") != NULL);
    HT_EXPECT(still_defaults());
}

HTEST(cmdline_long_token_is_cut_in_the_message)
{
    char line[300];
    memset(line, 0, sizeof line);
    strcpy(line, "name=");
    memset(line + 5, 'x', 200);
    HT_EXPECT_EQ(parse(line), 1);
    HT_EXPECT(strlen(msgs.text[0]) < 160);
    HT_EXPECT(strstr(msgs.text[0], "...: longer than 7 characters") != NULL);
}

HTEST(cmdline_without_reporter_still_counts)
{
    set_defaults();
    HT_EXPECT_EQ(cmdline_parse(keys, NKEYS, "bogus=1 exit=foo", NULL, NULL), 2);
    HT_EXPECT(still_defaults());
    HT_EXPECT_EQ(cmdline_parse(NULL, 0, "x=1", NULL, NULL), 1);
    HT_EXPECT_EQ(cmdline_parse(NULL, 0, "", NULL, NULL), 0);
}

/* ---- the table, help text ---- */

HTEST(cmdline_table_check_accepts_good_table)
{
    memset(&msgs, 0, sizeof msgs);
    HT_EXPECT_EQ(cmdline_table_check(keys, NKEYS, collect, &msgs), 0);
    HT_EXPECT_EQ(msgs.count, 0);
}

HTEST(cmdline_table_check_finds_mistakes)
{
    static int i_store;
    static uint32_t u_store;
    static char c_store[1];
    static const struct cmdline_key bad[] = {
        { .name = "a", .kind = CMDLINE_ENUM, .storage = &i_store, .size = sizeof i_store },
        { .name = "b", .kind = CMDLINE_UINT, .storage = &u_store, .size = 3, .max = 1 },
        { .name = "c", .kind = CMDLINE_UINT, .storage = &u_store, .size = 4, .min = 5, .max = 4 },
        { .name = "d", .kind = CMDLINE_STRING, .storage = c_store, .size = 1 },
        { .name = "e", .kind = CMDLINE_BOOL, .storage = NULL, .size = 1 },
        { .name = "f g", .kind = CMDLINE_BOOL, .storage = &u_store, .size = 1 },
        { .name = "a", .kind = CMDLINE_UINT, .storage = &u_store, .size = 4, .max = 1 },
    };
    memset(&msgs, 0, sizeof msgs);
    HT_EXPECT_EQ(cmdline_table_check(bad, 7, collect, &msgs), 7);
    HT_EXPECT_STREQ(msgs.text[0], "cmdline: key table: 'a': an enum needs words and int storage");
    HT_EXPECT_STREQ(msgs.text[1], "cmdline: key table: 'b': storage of 3 bytes is not an unsigned integer");
    HT_EXPECT_STREQ(msgs.text[2], "cmdline: key table: 'c': min above max");
    HT_EXPECT_STREQ(msgs.text[3], "cmdline: key table: 'd': no room for text");
    HT_EXPECT_STREQ(msgs.text[4], "cmdline: key table: 'e': no storage");
    HT_EXPECT_STREQ(msgs.text[5], "cmdline: key table: 'f g': name has a blank, '=' or quote");
    HT_EXPECT_STREQ(msgs.text[6], "cmdline: key table: 'a' declared twice");
}

HTEST(cmdline_syntax_and_description_for_help)
{
    char buf[128];
    cmdline_syntax(&keys[0], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "exit=qemu|halt|reboot");
    cmdline_syntax(&keys[1], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "depth=N");
    cmdline_syntax(&keys[5], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "tests=PATTERN[,PATTERN...]");
    cmdline_syntax(&keys[6], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "verbose=on|off");
    cmdline_syntax(&keys[7], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "help");
    struct cmdline_key custom = keys[4];
    custom.value_syntax = "DEVICE[,BAUD]";
    cmdline_syntax(&custom, buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "name=DEVICE[,BAUD]");
    cmdline_syntax(&keys[4], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "name=TEXT");
    cmdline_describe(&keys[0], buf, sizeof buf);
    HT_EXPECT_STREQ(buf, "one of qemu, halt, reboot");
    int n = cmdline_describe(&keys[1], buf, 8);
    HT_EXPECT_STREQ(buf, "a numbe");
    HT_EXPECT_EQ(n, strlen("a number in 1..1K (decimal or 0x hex, optional K/M/G suffix)"));
}

/* ---- numbers and console= on their own ---- */

HTEST(cmdline_parse_number_results)
{
    uint64_t v = 99;
    HT_EXPECT_EQ(cmdline_parse_number("0x3f8", 5, &v), CMDLINE_NUMBER_OK);
    HT_EXPECT_EQ(v, 0x3f8);
    /* Only the given length counts: "0x" alone has no digits, "0x3f" is 63. */
    HT_EXPECT_EQ(cmdline_parse_number("0x3f8", 2, &v), CMDLINE_NUMBER_MALFORMED);
    HT_EXPECT_EQ(cmdline_parse_number("0x3f8", 4, &v), CMDLINE_NUMBER_OK);
    HT_EXPECT_EQ(v, 0x3f);
    HT_EXPECT_EQ(cmdline_parse_number("", 0, &v), CMDLINE_NUMBER_MALFORMED);
    HT_EXPECT_EQ(cmdline_parse_number("18446744073709551616", 20, &v), CMDLINE_NUMBER_TOO_BIG);
    HT_EXPECT_EQ(cmdline_parse_number("0x10000000000000000", 19, &v), CMDLINE_NUMBER_TOO_BIG);
    HT_EXPECT_EQ(cmdline_parse_number("17179869184G", 12, &v), CMDLINE_NUMBER_TOO_BIG);
    HT_EXPECT_EQ(cmdline_parse_number("17179869183G", 12, &v), CMDLINE_NUMBER_OK);
    HT_EXPECT_EQ(v, 17179869183ull << 30);
}

static bool console(const char *s, struct cmdline_console *c, char *why)
{
    return cmdline_parse_console(s, strlen(s), c, why, 160);
}

HTEST(cmdline_console_accepted_forms)
{
    static const struct { const char *text; bool mmio; uint64_t base; uint32_t baud; } ok[] = {
        { "ttyS0", false, 0x3f8, 0 }, { "ttyS1", false, 0x2f8, 0 }, { "ttyS2", false, 0x3e8, 0 },
        { "ttyS3", false, 0x2e8, 0 }, { "ttyS1,9600", false, 0x2f8, 9600 },
        { "io:0x3f8", false, 0x3f8, 0 }, { "io:0x2f8,115200", false, 0x2f8, 115200 },
        { "io:1016", false, 1016, 0 }, { "mmio:0xfe000000", true, 0xfe000000, 0 },
        { "mmio:0xfedc9000,57600", true, 0xfedc9000, 57600 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct cmdline_console c = { .mmio = !ok[i].mmio, .base = 1, .baud = 1 };
        char why[160] = "";
        bool parsed = console(ok[i].text, &c, why);
        if (!parsed || c.mmio != ok[i].mmio || c.base != ok[i].base || c.baud != ok[i].baud)
            htest_fail(__FILE__, __LINE__, "console=%s: parsed %d (%s) mmio %d base %#llx baud %u",
                       ok[i].text, parsed, why, c.mmio, (unsigned long long)c.base, c.baud);
    }
}

HTEST(cmdline_console_rejected_forms)
{
    static const struct { const char *text; const char *why; } bad[] = {
        { "ttyS4", "expected ttyS0..ttyS3, io:PORT or mmio:ADDRESS, optionally followed by ,BAUD" },
        { "ttyS", "expected ttyS0..ttyS3, io:PORT or mmio:ADDRESS, optionally followed by ,BAUD" },
        { "com1", "expected ttyS0..ttyS3, io:PORT or mmio:ADDRESS, optionally followed by ,BAUD" },
        { "ttyS0,1000", "baud '1000' does not divide 115200 (use 115200, 57600, 38400, 19200, 9600, ...)" },
        { "ttyS0,230400", "baud '230400' does not divide 115200 (use 115200, 57600, 38400, 19200, 9600, ...)" },
        { "ttyS0,", "baud '' does not divide 115200 (use 115200, 57600, 38400, 19200, 9600, ...)" },
        { "io:", "I/O port '' is not a number in 0x1..0xfff8" },
        { "io:0x10000", "I/O port '0x10000' is not a number in 0x1..0xfff8" },
        { "io:0", "I/O port '0' is not a number in 0x1..0xfff8" },
        { "mmio:zz", "MMIO address 'zz' is not a non-zero number" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cmdline_console c = { .mmio = true, .base = 77, .baud = 5 };
        char why[160] = "";
        bool parsed = console(bad[i].text, &c, why);
        if (parsed || strcmp(why, bad[i].why) != 0 || c.base != 77)
            htest_fail(__FILE__, __LINE__, "console=%s: parsed %d, why \"%s\"", bad[i].text, parsed, why);
    }
}

/* Issue 9.10: what the line holds reaches the console escaped. */
HTEST(cmdline_messages_show_the_line_escaped)
{
    HT_EXPECT_EQ(parse("exit=\x1b[2Jboom"), 1);
    HT_EXPECT(strstr(msgs.text[0], "exit=\\x1b[2Jboom") != NULL);
    HT_EXPECT(strchr(msgs.text[0], '\x1b') == NULL);
    HT_EXPECT_EQ(parse("k\x07y=1"), 1);
    HT_EXPECT(strstr(msgs.text[0], "unknown key 'k\\x07y'") != NULL);
    for (const char *p = msgs.text[0]; *p; p++)
        HT_EXPECT(*p >= 0x20 && *p < 0x7f);
}
