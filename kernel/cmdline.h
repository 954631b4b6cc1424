/* SPDX-License-Identifier: MIT */
/* kernel/cmdline.h — the kernel's command-line keys. Each key is declared next
 * to the code that uses it, with its storage and default; the declarations
 * land in the .cmdline_keys linker section (sorted by key name), so a driver
 * adds a key without touching a central list:
 *
 *   static const struct cmdline_word nvme_irq_words[] = {
 *       { "poll", NVME_IRQ_POLL }, { "msix", NVME_IRQ_MSIX },
 *   };
 *   CMDLINE_ENUM(nvme_irq_mode, "nvme.irq", NVME_IRQ_MSIX, nvme_irq_words,
 *                "how NVMe completions are noticed");
 *   ... if (nvme_irq_mode == NVME_IRQ_POLL) ...
 *
 * Each macro defines `static <type> var = default;`. Extra designated
 * initializers may follow the help text, e.g. `.check = my_check`
 * (see struct cmdline_key in lib/cmdline.h). The values are final once
 * cmdline_apply() has returned true, before any driver starts. */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H
#include <stdbool.h>
#include "lib/cmdline.h"

#define CMDLINE_KEY_ENTRY(var_, name_, ...)                                          \
    static const struct cmdline_key cmdline_key_##var_                              \
        __attribute__((used, section(".cmdline_keys." name_), aligned(8))) = {      \
        .name = name_, .storage = &(var_), .size = sizeof(var_), __VA_ARGS__ }

/* int var_: one of the words (an array of struct cmdline_word). */
#define CMDLINE_ENUM(var_, name_, default_, words_, help_, ...)                      \
    static int var_ = (default_);                                                    \
    CMDLINE_KEY_ENTRY(var_, name_, .kind = CMDLINE_ENUM, .words = (words_),          \
                      .word_count = sizeof(words_) / sizeof((words_)[0]),            \
                      .help = (help_), ##__VA_ARGS__)

/* type_ var_ (an unsigned integer type) in min_..max_. */
#define CMDLINE_UINT(type_, var_, name_, default_, min_, max_, help_, ...)           \
    _Static_assert((type_)-1 > 0, "cmdline key " name_ ": type must be unsigned");   \
    static type_ var_ = (default_);                                                  \
    CMDLINE_KEY_ENTRY(var_, name_, .kind = CMDLINE_UINT, .min = (min_),              \
                      .max = (max_), .help = (help_), ##__VA_ARGS__)

/* char var_[capacity_]: any text. */
#define CMDLINE_STRING(var_, name_, capacity_, default_, help_, ...)                 \
    static char var_[capacity_] = default_;                                          \
    CMDLINE_KEY_ENTRY(var_, name_, .kind = CMDLINE_STRING, .help = (help_), ##__VA_ARGS__)

/* char var_[capacity_]: comma-separated glob patterns (lib/glob.h). */
#define CMDLINE_GLOBS(var_, name_, capacity_, default_, help_, ...)                  \
    static char var_[capacity_] = default_;                                          \
    CMDLINE_KEY_ENTRY(var_, name_, .kind = CMDLINE_GLOBS, .help = (help_), ##__VA_ARGS__)

/* bool var_: on/off, yes/no, 1/0. */
#define CMDLINE_BOOL(var_, name_, default_, help_, ...)                              \
    static bool var_ = (default_);                                                   \
    CMDLINE_KEY_ENTRY(var_, name_, .kind = CMDLINE_BOOL, .help = (help_), ##__VA_ARGS__)

/* bool var_, false unless the bare word (or name=on) is given. */
#define CMDLINE_FLAG_KEY(var_, name_, help_, ...)                                    \
    static bool var_ = false;                                                        \
    CMDLINE_KEY_ENTRY(var_, name_, .kind = CMDLINE_BOOL, .flags = CMDLINE_FLAG,      \
                      .help = (help_), ##__VA_ARGS__)

/* Parses the whole line against every declared key and applies it: exit
 * method, log level, console. Prints every error (at LOG_ERR) and returns false
 * if there was any; then no key has taken a value from the line. */
bool cmdline_apply(const char *line);

/* tests=: the comma-separated suite or suite.case patterns; "*" by default. */
const char *cmdline_tests(void);
/* console= was given (so ACPI SPCR must not replace it). */
bool cmdline_console_given(void);
/* `help` was given: the caller prints cmdline_print_help() and stops. */
bool cmdline_help_requested(void);
/* Every declared key with its syntax and one line of help. */
void cmdline_print_help(void);

#endif
