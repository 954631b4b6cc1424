/* SPDX-License-Identifier: MIT */
/* lib/format.c — the one formatter behind kprintf and snprintf. It never
 * allocates and never reads past the precision given for %s, so it is safe on
 * strings copied out of devices (IDENTIFY model numbers are not terminated). */
#include "lib/format.h"
#include "lib/string.h"
#include <stdint.h>
#include <stdbool.h>

struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int precision;          /* -1: none */
};

static int emit(format_sink sink, void *ctx, char c)
{
    sink(ctx, c);
    return 1;
}

static int pad(format_sink sink, void *ctx, char c, int n)
{
    int out = 0;
    while (n-- > 0)
        out += emit(sink, ctx, c);
    return out;
}

static int format_string(format_sink sink, void *ctx, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    size_t len = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
    int out = 0;
    int fill = sp->width > (int)len ? sp->width - (int)len : 0;
    if (!sp->left)
        out += pad(sink, ctx, ' ', fill);
    for (size_t i = 0; i < len; i++)
        out += emit(sink, ctx, s[i]);
    if (sp->left)
        out += pad(sink, ctx, ' ', fill);
    return out;
}

static int format_number(format_sink sink, void *ctx, const struct spec *sp,
                         uint64_t value, bool negative, unsigned base, bool upper,
                         const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0;
    while (value) {
        buf[n++] = digits[value % base];
        value /= base;
    }
    /* C: precision 0 with value 0 prints no digits. */
    int ndigits = n;
    int precision = sp->precision >= 0 ? sp->precision : 1;
    int zeros = precision > ndigits ? precision - ndigits : 0;

    char sign = 0;
    if (negative)
        sign = '-';
    else if (sp->plus)
        sign = '+';
    else if (sp->space)
        sign = ' ';
    int plen = prefix ? (int)strlen(prefix) : 0;
    int body = ndigits + zeros + (sign ? 1 : 0) + plen;
    int fill = sp->width > body ? sp->width - body : 0;

    int out = 0;
    bool zero_fill = sp->zero && !sp->left && sp->precision < 0;
    if (!sp->left && !zero_fill)
        out += pad(sink, ctx, ' ', fill);
    if (sign)
        out += emit(sink, ctx, sign);
    for (int i = 0; i < plen; i++)
        out += emit(sink, ctx, prefix[i]);
    if (zero_fill)
        out += pad(sink, ctx, '0', fill);
    out += pad(sink, ctx, '0', zeros);
    while (n)
        out += emit(sink, ctx, buf[--n]);
    if (sp->left)
        out += pad(sink, ctx, ' ', fill);
    return out;
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_MAX, LEN_PTRDIFF };

static uint64_t fetch_unsigned(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_CHAR:    return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_SHORT:   return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_LONG:    return va_arg(*ap, unsigned long);
    case LEN_LLONG:   return va_arg(*ap, unsigned long long);
    case LEN_SIZE:    return va_arg(*ap, size_t);
    case LEN_MAX:     return va_arg(*ap, uintmax_t);
    case LEN_PTRDIFF: return (uint64_t)va_arg(*ap, ptrdiff_t);
    default:          return va_arg(*ap, unsigned int);
    }
}

static int64_t fetch_signed(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_CHAR:    return (signed char)va_arg(*ap, int);
    case LEN_SHORT:   return (short)va_arg(*ap, int);
    case LEN_LONG:    return va_arg(*ap, long);
    case LEN_LLONG:   return va_arg(*ap, long long);
    case LEN_SIZE:    return (int64_t)va_arg(*ap, size_t);
    case LEN_MAX:     return va_arg(*ap, intmax_t);
    case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
    default:          return va_arg(*ap, int);
    }
}

int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap_in)
{
    va_list ap;
    va_copy(ap, ap_in);
    int out = 0;

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            out += emit(sink, ctx, *p);
            continue;
        }
        p++;
        struct spec sp = { .precision = -1 };
        for (;; p++) {
            if (*p == '-') sp.left = true;
            else if (*p == '0') sp.zero = true;
            else if (*p == '+') sp.plus = true;
            else if (*p == ' ') sp.space = true;
            else if (*p == '#') sp.alt = true;
            else break;
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                sp.width = sp.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            sp.precision = 0;
            if (*p == '*') {
                sp.precision = va_arg(ap, int);
                if (sp.precision < 0)
                    sp.precision = -1;
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    sp.precision = sp.precision * 10 + (*p++ - '0');
            }
        }
        enum length len = LEN_INT;
        if (*p == 'h') {
            len = LEN_SHORT;
            if (*++p == 'h') { len = LEN_CHAR; p++; }
        } else if (*p == 'l') {
            len = LEN_LONG;
            if (*++p == 'l') { len = LEN_LLONG; p++; }
        } else if (*p == 'z') { len = LEN_SIZE; p++; }
        else if (*p == 'j') { len = LEN_MAX; p++; }
        else if (*p == 't') { len = LEN_PTRDIFF; p++; }

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(&ap, len);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            out += format_number(sink, ctx, &sp, mag, v < 0, 10, false, NULL);
            break;
        }
        case 'u':
            out += format_number(sink, ctx, &sp, fetch_unsigned(&ap, len), false, 10, false, NULL);
            break;
        case 'x':
        case 'X': {
            uint64_t v = fetch_unsigned(&ap, len);
            const char *prefix = (sp.alt && v) ? (*p == 'x' ? "0x" : "0X") : NULL;
            out += format_number(sink, ctx, &sp, v, false, 16, *p == 'X', prefix);
            break;
        }
        case 'o': {
            uint64_t v = fetch_unsigned(&ap, len);
            out += format_number(sink, ctx, &sp, v, false, 8, false, (sp.alt && v) ? "0" : NULL);
            break;
        }
        case 'p': {
            uint64_t v = (uintptr_t)va_arg(ap, void *);
            struct spec ps = sp;
            ps.alt = true;
            out += format_number(sink, ctx, &ps, v, false, 16, false, "0x");
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            int fill = sp.width > 1 ? sp.width - 1 : 0;
            if (!sp.left)
                out += pad(sink, ctx, ' ', fill);
            out += emit(sink, ctx, c);
            if (sp.left)
                out += pad(sink, ctx, ' ', fill);
            break;
        }
        case 's':
            out += format_string(sink, ctx, &sp, va_arg(ap, const char *));
            break;
        case '%':
            out += emit(sink, ctx, '%');
            break;
        case '\0':
            /* A lone '%' at the end: print it rather than read past the string. */
            out += emit(sink, ctx, '%');
            p--;
            break;
        default:
            /* Unknown conversion: print it literally so the mistake is visible. */
            out += emit(sink, ctx, '%');
            out += emit(sink, ctx, *p);
            break;
        }
    }
    va_end(ap);
    return out;
}

struct buffer_sink {
    char *buf;
    size_t size;
    size_t pos;
};

static void buffer_put(void *ctx, char c)
{
    struct buffer_sink *b = ctx;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer_sink b = { buf, size, 0 };
    int n = vformat(buffer_put, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* One byte as the console may show it: printable ASCII as itself, the
 * backslash doubled, everything else (controls, escape sequences, bytes of
 * 0x80 and up) as \xNN. */
static size_t escape_byte(char out[4], uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    if (c == '\\') {
        out[0] = out[1] = '\\';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
    return 4;
}

size_t format_escaped(char *dst, size_t size, const void *src, size_t len)
{
    const uint8_t *s = src;
    size_t need = 0, pos = 0;
    bool fits = true;

    for (size_t i = 0; i < len; i++) {
        char e[4];
        size_t n = escape_byte(e, s[i]);
        need += n;
        if (fits && size && pos + n < size) {
            memcpy(dst + pos, e, n);
            pos += n;
        } else {
            fits = false;       /* never half an escape */
        }
    }
    if (size)
        dst[pos] = '\0';
    return need;
}
