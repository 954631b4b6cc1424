/* SPDX-License-Identifier: MIT */
/* lib/cmdline.c — the command-line parser behind lib/cmdline.h.
 *
 * Two passes over the line: the first tokenizes, looks every key up, parses
 * and checks every value and reports each problem; only if it found none does
 * the second pass tokenize again and store. Parsing is deterministic, so the
 * second pass cannot fail, and nothing needs a staging copy. Messages name the
 * token as written and what the key accepts. Leaves out: escapes inside
 * quotes, values spread over several tokens, keys given more than once. */
#include "lib/cmdline.h"
#include "lib/format.h"
#include "lib/string.h"
#include <stdarg.h>

#define MESSAGE_MAX 512
#define SHOWN_TOKEN_MAX 80      /* longer tokens are cut in messages */

/* ---- messages ---- */

struct message {
    char buf[MESSAGE_MAX];
    size_t len;
};

static void message_add(struct message *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message_add(struct message *m, const char *fmt, ...)
{
    if (m->len >= sizeof m->buf - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->buf + m->len, sizeof m->buf - m->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->len += (size_t)n < sizeof m->buf - m->len ? (size_t)n : sizeof m->buf - 1 - m->len;
}

/* Text from the line, escaped (no control character reaches the console)
 * and cut after `max` bytes with "...". */
static void message_add_text(struct message *m, const char *text, size_t len, size_t max)
{
    char shown[4 * SHOWN_TOKEN_MAX + 1];
    size_t n = len < max ? len : max;
    if (n > SHOWN_TOKEN_MAX)
        n = SHOWN_TOKEN_MAX;
    format_escaped(shown, sizeof shown, text, n);
    message_add(m, "%s%s", shown, n < len ? "..." : "");
}

struct reporter {
    cmdline_report_fn fn;
    void *ctx;
    unsigned errors;
};

static void report(struct reporter *r, struct message *m)
{
    r->errors++;
    if (r->fn)
        r->fn(r->ctx, m->buf);
}

/* ---- tokens ---- */

struct token {
    const char *start;      /* the whole token as written */
    size_t len;
    const char *key;
    size_t key_len;
    bool has_value;         /* there was an '=' */
    const char *value;      /* quotes removed */
    size_t value_len;
    const char *error;      /* a problem with the token's shape, or NULL */
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *scan_quoted_value(const char *p, struct token *tok)
{
    tok->value = ++p;
    while (*p && *p != '"')
        p++;
    tok->value_len = (size_t)(p - tok->value);
    if (!*p) {
        tok->error = "unterminated quote";
        return p;
    }
    p++;
    if (*p && !is_blank(*p)) {
        tok->error = "text after the closing quote";
        while (*p && !is_blank(*p))
            p++;
    }
    return p;
}

static const char *scan_plain_value(const char *p, struct token *tok)
{
    tok->value = p;
    while (*p && !is_blank(*p)) {
        if (*p == '"')
            tok->error = "quote inside a value (quote the whole value: key=\"...\")";
        p++;
    }
    tok->value_len = (size_t)(p - tok->value);
    return p;
}

/* Reads the token at or after p. Returns the position after it, or NULL when
 * only blanks are left. */
static const char *next_token(const char *p, struct token *tok)
{
    while (is_blank(*p))
        p++;
    if (!*p)
        return NULL;
    memset(tok, 0, sizeof *tok);
    tok->start = tok->key = p;
    while (*p && !is_blank(*p) && *p != '=')
        p++;
    tok->key_len = (size_t)(p - tok->key);
    if (*p == '=') {
        tok->has_value = true;
        p++;
        p = *p == '"' ? scan_quoted_value(p, tok) : scan_plain_value(p, tok);
    }
    if (!tok->error && tok->key_len == 0)
        tok->error = "no key before '='";
    tok->len = (size_t)(p - tok->start);
    return p;
}

static bool span_equals(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

static const struct cmdline_key *find_key(const struct cmdline_key *keys, size_t count,
                                          const char *name, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (span_equals(name, len, keys[i].name))
            return &keys[i];
    return NULL;
}

/* ---- numbers ---- */

static int digit_value(char c, unsigned base)
{
    int d = -1;
    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    return d >= 0 && (unsigned)d < base ? d : -1;
}

static unsigned suffix_shift(char c)
{
    switch (c) {
    case 'K': case 'k': return 10;
    case 'M': case 'm': return 20;
    case 'G': case 'g': return 30;
    default: return 0;
    }
}

enum cmdline_number cmdline_parse_number(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    size_t i = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    unsigned shift = len ? suffix_shift(s[len - 1]) : 0;
    size_t end = shift ? len - 1 : len;
    if (i >= end)
        return CMDLINE_NUMBER_MALFORMED;

    uint64_t v = 0;
    bool too_big = false;
    for (; i < end; i++) {
        int d = digit_value(s[i], base);
        if (d < 0)
            return CMDLINE_NUMBER_MALFORMED;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            too_big = true;
        v = v * base + (uint64_t)d;
    }
    if (shift && v > (UINT64_MAX >> shift))
        too_big = true;
    if (too_big)
        return CMDLINE_NUMBER_TOO_BIG;
    *out = v << shift;
    return CMDLINE_NUMBER_OK;
}

/* 1G, 512K, 4096, 0x12345678: whichever a person would write. */
static void message_add_amount(struct message *m, uint64_t v)
{
    static const struct { unsigned shift; char suffix; } units[] = {
        { 30, 'G' }, { 20, 'M' }, { 10, 'K' },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t unit = 1ull << units[i].shift;
        if (v >= unit && v % unit == 0 && (v >> units[i].shift) < 100000) {
            message_add(m, "%llu%c", (unsigned long long)(v >> units[i].shift), units[i].suffix);
            return;
        }
    }
    if (v < 100000)
        message_add(m, "%llu", (unsigned long long)v);
    else
        message_add(m, "%#llx", (unsigned long long)v);
}

/* The largest value the key's storage can hold, capped by its max. */
static uint64_t uint_key_max(const struct cmdline_key *key)
{
    uint64_t type_max = key->size >= 8 ? UINT64_MAX : (1ull << (key->size * 8)) - 1;
    return key->max < type_max ? key->max : type_max;
}

/* ---- describing keys ---- */

static void message_add_description(struct message *m, const struct cmdline_key *key)
{
    switch (key->kind) {
    case CMDLINE_ENUM:
        message_add(m, "one of ");
        for (size_t i = 0; i < key->word_count; i++)
            message_add(m, "%s%s", i ? ", " : "", key->words[i].word);
        break;
    case CMDLINE_UINT:
        message_add(m, "a number in ");
        message_add_amount(m, key->min);
        message_add(m, "..");
        message_add_amount(m, uint_key_max(key));
        message_add(m, " (decimal or 0x hex, optional K/M/G suffix)");
        break;
    case CMDLINE_STRING:
        message_add(m, "text of at most %zu characters", key->size ? key->size - 1 : 0);
        break;
    case CMDLINE_GLOBS:
        message_add(m, "comma-separated names or patterns with * and ?, at most %zu characters",
                    key->size ? key->size - 1 : 0);
        break;
    case CMDLINE_BOOL:
        message_add(m, "on, off, yes, no, 1 or 0");
        break;
    }
}

int cmdline_describe(const struct cmdline_key *key, char *buf, size_t size)
{
    struct message m = { .len = 0 };
    m.buf[0] = '\0';
    message_add_description(&m, key);
    return snprintf(buf, size, "%s", m.buf);
}

int cmdline_syntax(const struct cmdline_key *key, char *buf, size_t size)
{
    struct message m = { .len = 0 };
    m.buf[0] = '\0';
    message_add(&m, "%s", key->name);
    if (key->value_syntax) {
        message_add(&m, "=%s", key->value_syntax);
        return snprintf(buf, size, "%s", m.buf);
    }
    switch (key->kind) {
    case CMDLINE_ENUM:
        for (size_t i = 0; i < key->word_count; i++)
            message_add(&m, "%c%s", i ? '|' : '=', key->words[i].word);
        break;
    case CMDLINE_UINT:
        message_add(&m, "=N");
        break;
    case CMDLINE_STRING:
        message_add(&m, "=TEXT");
        break;
    case CMDLINE_GLOBS:
        message_add(&m, "=PATTERN[,PATTERN...]");
        break;
    case CMDLINE_BOOL:
        if (!(key->flags & CMDLINE_FLAG))
            message_add(&m, "=on|off");
        break;
    }
    return snprintf(buf, size, "%s", m.buf);
}

/* ---- parsing one value ---- */

static const char *const bool_on[] = { "on", "yes", "1" };
static const char *const bool_off[] = { "off", "no", "0" };

static bool word_in(const char *s, size_t len, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (span_equals(s, len, words[i]))
            return true;
    return false;
}

/* Starts the message every value error shares: "cmdline: key=value: ". */
static void message_start_token(struct message *m, const struct token *tok)
{
    message_add(m, "cmdline: ");
    message_add_text(m, tok->start, tok->len, SHOWN_TOKEN_MAX);
    message_add(m, ": ");
}

static bool parse_enum(const struct cmdline_key *key, struct cmdline_value *v)
{
    for (size_t i = 0; i < key->word_count; i++)
        if (span_equals(v->text, v->len, key->words[i].word)) {
            v->number = (uint64_t)(int64_t)key->words[i].value;
            return true;
        }
    return false;
}

static bool parse_globs(const struct cmdline_key *key, const struct cmdline_value *v,
                        struct message *m)
{
    if (v->len >= key->size) {
        message_add(m, "longer than %zu characters", key->size - 1);
        return false;
    }
    size_t element = 0;
    for (size_t i = 0; i <= v->len; i++) {
        if (i == v->len || v->text[i] == ',') {
            if (element == 0) {
                message_add(m, "empty pattern in the list (expected ");
                message_add_description(m, key);
                message_add(m, ")");
                return false;
            }
            element = 0;
        } else if (is_blank(v->text[i])) {
            message_add(m, "blank inside a pattern (expected ");
            message_add_description(m, key);
            message_add(m, ")");
            return false;
        } else {
            element++;
        }
    }
    return true;
}

/* Parses tok's value for key into v. On failure, completes `m` (which already
 * names the token) with what is wrong and returns false. */
static bool parse_value(const struct cmdline_key *key, const struct token *tok,
                        struct cmdline_value *v, struct message *m)
{
    v->text = tok->value;
    v->len = tok->value_len;
    v->number = 0;

    if (!tok->has_value) {
        if (key->flags & CMDLINE_FLAG) {
            v->number = 1;
            return true;
        }
        message_add(m, "needs '=value' (");
        message_add_description(m, key);
        message_add(m, ")");
        return false;
    }
    if (v->len == 0 && key->kind != CMDLINE_STRING) {
        message_add(m, "empty value; expected ");
        message_add_description(m, key);
        return false;
    }

    switch (key->kind) {
    case CMDLINE_ENUM:
        if (parse_enum(key, v))
            return true;
        break;
    case CMDLINE_UINT: {
        enum cmdline_number r = cmdline_parse_number(v->text, v->len, &v->number);
        if (r == CMDLINE_NUMBER_OK && v->number >= key->min && v->number <= uint_key_max(key))
            return true;
        if (r == CMDLINE_NUMBER_MALFORMED)
            break;
        message_add(m, "out of range ");
        message_add_amount(m, key->min);
        message_add(m, "..");
        message_add_amount(m, uint_key_max(key));
        return false;
    }
    case CMDLINE_STRING:
        if (v->len < key->size)
            return true;
        message_add(m, "longer than %zu characters", key->size ? key->size - 1 : 0);
        return false;
    case CMDLINE_GLOBS:
        return parse_globs(key, v, m);
    case CMDLINE_BOOL:
        if (word_in(v->text, v->len, bool_on, 3)) {
            v->number = 1;
            return true;
        }
        if (word_in(v->text, v->len, bool_off, 3))
            return true;
        break;
    }
    message_add(m, "expected ");
    message_add_description(m, key);
    return false;
}

/* ---- storing ---- */

static void store_value(const struct cmdline_key *key, const struct cmdline_value *v)
{
    switch (key->kind) {
    case CMDLINE_ENUM:
        *(int *)key->storage = (int)(int64_t)v->number;
        break;
    case CMDLINE_UINT:
        switch (key->size) {
        case 1: *(uint8_t *)key->storage = (uint8_t)v->number; break;
        case 2: *(uint16_t *)key->storage = (uint16_t)v->number; break;
        case 4: *(uint32_t *)key->storage = (uint32_t)v->number; break;
        default: *(uint64_t *)key->storage = v->number; break;
        }
        break;
    case CMDLINE_STRING:
    case CMDLINE_GLOBS: {
        char *dst = key->storage;
        memcpy(dst, v->text, v->len);
        dst[v->len] = '\0';
        break;
    }
    case CMDLINE_BOOL:
        *(bool *)key->storage = v->number != 0;
        break;
    }
}

/* ---- unknown keys ---- */

/* Edit distance with adjacent transpositions ("tset" -> "test" is one), for a
 * "did you mean" hint; three rolling rows keep the stack small. Names longer
 * than KEY_COMPARE_MAX are not compared. */
#define KEY_COMPARE_MAX 40
static unsigned edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned char rows[3][KEY_COMPARE_MAX + 1];
    unsigned char *two_up = rows[0], *up = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        up[j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (unsigned char)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned best = up[j - 1] + (a[i - 1] != b[j - 1]);
            if (up[j] + 1u < best)
                best = up[j] + 1u;
            if (cur[j - 1] + 1u < best)
                best = cur[j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                two_up[j - 2] + 1u < best)
                best = two_up[j - 2] + 1u;
            cur[j] = (unsigned char)best;
        }
        unsigned char *recycled = two_up;
        two_up = up;
        up = cur;
        cur = recycled;
    }
    return up[lb];
}

static const struct cmdline_key *closest_key(const struct cmdline_key *keys, size_t count,
                                             const char *name, size_t len)
{
    const struct cmdline_key *best = NULL;
    unsigned best_distance = 3;     /* more than two edits away is no hint */
    if (len > KEY_COMPARE_MAX)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        size_t klen = strlen(keys[i].name);
        if (klen > KEY_COMPARE_MAX)
            continue;
        unsigned dist = edit_distance(name, len, keys[i].name, klen);
        if (dist < best_distance) {
            best_distance = dist;
            best = &keys[i];
        }
    }
    return best;
}

static void report_unknown_key(struct reporter *r, const struct cmdline_key *keys, size_t count,
                               const struct token *tok)
{
    struct message m = { .len = 0 };
    message_add(&m, "cmdline: unknown key '");
    message_add_text(&m, tok->key, tok->key_len, SHOWN_TOKEN_MAX);
    message_add(&m, "' (");
    const struct cmdline_key *hint = closest_key(keys, count, tok->key, tok->key_len);
    if (hint)
        message_add(&m, "did you mean '%s'? ", hint->name);
    message_add(&m, "known keys:");
    for (size_t i = 0; i < count; i++)
        message_add(&m, "%s %s", i ? "," : "", keys[i].name);
    if (count == 0)
        message_add(&m, " none");
    message_add(&m, ")");
    report(r, &m);
}

/* ---- the two passes ---- */

/* How often tokens before `limit` name the same key as `tok`. */
static unsigned earlier_uses(const char *line, const char *limit, const struct token *tok)
{
    unsigned n = 0;
    struct token other;
    for (const char *p = line; (p = next_token(p, &other)) && other.start < limit;)
        if (other.key_len == tok->key_len && memcmp(other.key, tok->key, tok->key_len) == 0)
            n++;
    return n;
}

static void check_token(struct reporter *r, const struct cmdline_key *keys, size_t count,
                        const char *line, const struct token *tok)
{
    struct message m = { .len = 0 };
    message_start_token(&m, tok);
    if (tok->error) {
        message_add(&m, "%s", tok->error);
        report(r, &m);
        return;
    }
    const struct cmdline_key *key = find_key(keys, count, tok->key, tok->key_len);
    if (!key) {
        report_unknown_key(r, keys, count, tok);
        return;
    }
    unsigned before = earlier_uses(line, tok->start, tok);
    if (before) {
        /* Said once, at the second use; a third use adds nothing new. */
        if (before == 1) {
            m.len = 0;
            message_add(&m, "cmdline: '%s' given more than once; give it once", key->name);
            if (key->kind == CMDLINE_GLOBS)
                message_add(&m, ", with the patterns separated by commas");
            report(r, &m);
        }
        return;
    }
    struct cmdline_value v;
    if (!parse_value(key, tok, &v, &m)) {
        report(r, &m);
        return;
    }
    char why[160];
    why[0] = '\0';
    if (key->check && !key->check(key, &v, why, sizeof why)) {
        message_add(&m, "%s", why[0] ? why : "rejected");
        report(r, &m);
    }
}

unsigned cmdline_parse(const struct cmdline_key *keys, size_t count, const char *line,
                       cmdline_report_fn report_fn, void *ctx)
{
    struct reporter r = { .fn = report_fn, .ctx = ctx, .errors = 0 };
    struct token tok;
    if (!line)
        line = "";

    for (const char *p = line; (p = next_token(p, &tok));)
        check_token(&r, keys, count, line, &tok);
    if (r.errors)
        return r.errors;

    for (const char *p = line; (p = next_token(p, &tok));) {
        const struct cmdline_key *key = find_key(keys, count, tok.key, tok.key_len);
        struct cmdline_value v;
        struct message unused = { .len = 0 };
        if (parse_value(key, &tok, &v, &unused))
            store_value(key, &v);
    }
    return 0;
}

/* ---- the table itself ---- */

static bool key_declaration_ok(const struct cmdline_key *key, struct message *m)
{
    if (!key->name || !key->name[0]) {
        message_add(m, "a key without a name");
        return false;
    }
    for (const char *c = key->name; *c; c++)
        if (is_blank(*c) || *c == '=' || *c == '"') {
            message_add(m, "'%s': name has a blank, '=' or quote", key->name);
            return false;
        }
    if (!key->storage) {
        message_add(m, "'%s': no storage", key->name);
        return false;
    }
    switch (key->kind) {
    case CMDLINE_ENUM:
        if (key->word_count == 0 || !key->words || key->size != sizeof(int)) {
            message_add(m, "'%s': an enum needs words and int storage", key->name);
            return false;
        }
        return true;
    case CMDLINE_UINT:
        if (key->size != 1 && key->size != 2 && key->size != 4 && key->size != 8) {
            message_add(m, "'%s': storage of %zu bytes is not an unsigned integer", key->name,
                        key->size);
            return false;
        }
        if (key->min > uint_key_max(key)) {
            message_add(m, "'%s': min above max", key->name);
            return false;
        }
        return true;
    case CMDLINE_STRING:
    case CMDLINE_GLOBS:
        if (key->size < 2) {
            message_add(m, "'%s': no room for text", key->name);
            return false;
        }
        return true;
    case CMDLINE_BOOL:
        if (key->size != sizeof(bool)) {
            message_add(m, "'%s': a bool key needs bool storage", key->name);
            return false;
        }
        return true;
    }
    message_add(m, "'%s': unknown kind %d", key->name, (int)key->kind);
    return false;
}

unsigned cmdline_table_check(const struct cmdline_key *keys, size_t count,
                             cmdline_report_fn report_fn, void *ctx)
{
    struct reporter r = { .fn = report_fn, .ctx = ctx, .errors = 0 };
    for (size_t i = 0; i < count; i++) {
        struct message m = { .len = 0 };
        message_add(&m, "cmdline: key table: ");
        if (!key_declaration_ok(&keys[i], &m)) {
            report(&r, &m);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (keys[j].name && strcmp(keys[j].name, keys[i].name) == 0) {
                message_add(&m, "'%s' declared twice", keys[i].name);
                report(&r, &m);
                break;
            }
    }
    return r.errors;
}

/* ---- console= ---- */

static const uint16_t pc_com_ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
#define UART_CLOCK_BAUD 115200u     /* 1.8432 MHz / 16: the 16550's fastest rate */

/* At most 20 bytes of `s`, escaped, for a `why` message. */
static const char *shown20(char buf[81], const char *s, size_t len)
{
    format_escaped(buf, 81, s, len < 20 ? len : 20);
    return buf;
}

static bool parse_baud(const char *s, size_t len, uint32_t *baud, char *why, size_t why_size)
{
    uint64_t v;
    if (cmdline_parse_number(s, len, &v) != CMDLINE_NUMBER_OK || v == 0 ||
        v > UART_CLOCK_BAUD || UART_CLOCK_BAUD % v != 0) {
        char shown[81];
        snprintf(why, why_size, "baud '%s' does not divide %u (use 115200, 57600, 38400, "
                 "19200, 9600, ...)", shown20(shown, s, len), UART_CLOCK_BAUD);
        return false;
    }
    *baud = (uint32_t)v;
    return true;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

bool cmdline_parse_console(const char *s, size_t len, struct cmdline_console *out,
                           char *why, size_t why_size)
{
    static const char expected[] =
        "expected ttyS0..ttyS3, io:PORT or mmio:ADDRESS, optionally followed by ,BAUD";
    struct cmdline_console c = { .mmio = false, .base = 0, .baud = 0 };
    const char *comma = NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',') {
            comma = s + i;
            break;
        }
    size_t dev_len = comma ? (size_t)(comma - s) : len;
    if (comma && !parse_baud(comma + 1, len - dev_len - 1, &c.baud, why, why_size))
        return false;

    if (dev_len == 5 && starts_with(s, dev_len, "ttyS") && s[4] >= '0' && s[4] <= '3') {
        c.base = pc_com_ports[s[4] - '0'];
    } else if (starts_with(s, dev_len, "io:")) {
        uint64_t port;
        /* The 16550 decodes 8 registers from the base. */
        if (cmdline_parse_number(s + 3, dev_len - 3, &port) != CMDLINE_NUMBER_OK ||
            port == 0 || port > 0xfff8) {
            char shown[81];
            snprintf(why, why_size, "I/O port '%s' is not a number in 0x1..0xfff8",
                     shown20(shown, s + 3, dev_len - 3));
            return false;
        }
        c.base = port;
    } else if (starts_with(s, dev_len, "mmio:")) {
        uint64_t addr;
        if (cmdline_parse_number(s + 5, dev_len - 5, &addr) != CMDLINE_NUMBER_OK || addr == 0) {
            char shown[81];
            snprintf(why, why_size, "MMIO address '%s' is not a non-zero number",
                     shown20(shown, s + 5, dev_len - 5));
            return false;
        }
        c.mmio = true;
        c.base = addr;
    } else {
        snprintf(why, why_size, "%s", expected);
        return false;
    }
    *out = c;
    return true;
}
