/* SPDX-License-Identifier: MIT */
/* tests/host/test_screen.c — the screen console's pure parts: the font table
 * (every printable character, rows of the right width, no two glyphs alike),
 * the text grid (layout, wrapping, tabs, scrolling, the text-mode banner),
 * drawing into in-memory framebuffers of 16, 24 and 32 bits with pitches
 * wider than a row (and the memory around them untouched), and the Multiboot2
 * framebuffer tag with hostile values, each refused with a reason. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/fbdraw.h"
#include "lib/fbmode.h"
#include "lib/font.h"
#include "lib/textgrid.h"
#include <stdlib.h>
#include <string.h>

/* ---- font ---- */

HTEST(screen_font_has_every_printable_character_at_its_size)
{
    for (int c = FONT_FIRST; c <= FONT_LAST; c++) {
        const char (*rows)[FONT_DESIGN_COLS + 1] = font_design((char)c);
        HT_EXPECT(rows != NULL);
        if (!rows)
            continue;
        bool ended = false, ink = false;
        for (int r = 0; r < FONT_DESIGN_ROWS; r++) {
            size_t n = strlen(rows[r]);
            if (!n) {
                ended = true;       /* blank rows only at the end */
                continue;
            }
            if (ended || n != FONT_DESIGN_COLS || strspn(rows[r], "#.") != n)
                htest_fail(__FILE__, __LINE__, "glyph %#x '%c' row %d \"%s\"", c, c, r, rows[r]);
            ink |= strchr(rows[r], '#') != NULL;
            /* Only descenders reach below the baseline. */
            if (r >= FONT_CAP_ROWS && strchr(rows[r], '#') && !strchr("gjpqy,;_()|", c))
                htest_fail(__FILE__, __LINE__, "glyph '%c' has ink below the baseline", c);
        }
        if (c != ' ' && !ink)
            htest_fail(__FILE__, __LINE__, "glyph %#x '%c' is blank", c, c);
    }
    HT_EXPECT(font_design('\x1f') == NULL && font_design('\x7f') == NULL);
}

HTEST(screen_font_glyphs_are_all_different)
{
    for (int a = FONT_FIRST; a <= FONT_LAST; a++)
        for (int b = a + 1; b <= FONT_LAST; b++) {
            bool same = true;
            for (int r = 0; r < FONT_DESIGN_ROWS && same; r++)
                same = font_row_bits((char)a, r) == font_row_bits((char)b, r);
            if (same)
                htest_fail(__FILE__, __LINE__, "'%c' and '%c' look the same", a, b);
        }
}

HTEST(screen_font_bits_and_cell_dots)
{
    /* 'T': a full top bar, then the stem in the middle column. */
    HT_EXPECT_EQ(font_row_bits('T', 0), 0x1f);
    HT_EXPECT_EQ(font_row_bits('T', 1), 0x04);
    HT_EXPECT_EQ(font_row_bits('T', -1), 0);
    HT_EXPECT_EQ(font_row_bits('T', FONT_DESIGN_ROWS), 0);
    /* No glyph: drawn as '?'. */
    for (int r = 0; r < FONT_DESIGN_ROWS; r++)
        HT_EXPECT_EQ(font_row_bits('\x01', r), font_row_bits('?', r));
    HT_EXPECT(font_cell_dot('T', 0, FONT_CELL_TOP));
    HT_EXPECT(!font_cell_dot('T', 0, FONT_CELL_TOP - 1));
    HT_EXPECT(!font_cell_dot('T', FONT_DESIGN_COLS, FONT_CELL_TOP));   /* the spacing column */
}

/* ---- text grid ---- */

static struct text_cell gcells[20 * 4];
static struct textgrid grid;

static void row_text(unsigned row, char *out)
{
    for (unsigned c = 0; c < grid.cols; c++)
        out[c] = (char)textgrid_at(&grid, c, row)->ch;
    out[grid.cols] = '\0';
}

#define HT_EXPECT_ROW(row, text) do {  \
    char got_[64];                     \
    row_text((row), got_);             \
    HT_EXPECT_STREQ(got_, (text));     \
} while (0)

static void grid_write(const char *s) { textgrid_write(&grid, s, strlen(s)); }

HTEST(screen_grid_lines_and_cursor)
{
    textgrid_init(&grid, gcells, 10, 4, 0x07);
    grid_write("ab\ncd");
    HT_EXPECT_ROW(0, "ab        ");
    HT_EXPECT_ROW(1, "cd        ");
    HT_EXPECT_EQ(grid.row, 1);
    HT_EXPECT_EQ(grid.col, 2);
    HT_EXPECT(textgrid_take_changed(&grid));
    HT_EXPECT(!textgrid_take_changed(&grid));
    grid_write("\rX");
    HT_EXPECT_ROW(1, "Xd        ");
    HT_EXPECT_EQ(textgrid_at(&grid, 0, 1)->attr, 0x07);
    HT_EXPECT(textgrid_at(&grid, 10, 0) == NULL && textgrid_at(&grid, 0, 4) == NULL);
}

HTEST(screen_grid_wraps_long_lines_and_tabs)
{
    textgrid_init(&grid, gcells, 10, 4, 0x07);
    grid_write("0123456789");            /* exactly a row: no wrap yet */
    HT_EXPECT_EQ(grid.row, 0);
    grid_write("A\tB\t\tC");
    HT_EXPECT_ROW(0, "0123456789");
    HT_EXPECT_ROW(1, "A       B ");
    /* The first tab after B fills the row; the second wraps and goes to column 8. */
    HT_EXPECT_ROW(2, "        C ");
    grid_write("\n\x01\xff\x7f");          /* not printable: '?' */
    HT_EXPECT_ROW(3, "???       ");
}

HTEST(screen_grid_scrolls_up_at_the_bottom)
{
    textgrid_init(&grid, gcells, 10, 4, 0x07);
    for (int i = 0; i < 7; i++) {
        char line[8];
        snprintf(line, sizeof(line), "line%d\n", i);
        grid_write(line);
    }
    /* Lines 4..6 and the empty line the cursor is on. */
    HT_EXPECT_ROW(0, "line4     ");
    HT_EXPECT_ROW(2, "line6     ");
    HT_EXPECT_ROW(3, "          ");
    HT_EXPECT_EQ(grid.row, 3);
    HT_EXPECT_EQ(grid.col, 0);
    /* Many turns of the ring later, still in order, the new row blank. */
    for (int i = 7; i < 1003; i++) {
        char line[12];
        snprintf(line, sizeof(line), "l%d\n", i);
        grid_write(line);
    }
    HT_EXPECT_ROW(0, "l1000     ");
    HT_EXPECT_ROW(1, "l1001     ");
    HT_EXPECT_ROW(2, "l1002     ");
    HT_EXPECT_ROW(3, "          ");
    textgrid_clear(&grid);
    grid_write("x");
    HT_EXPECT_ROW(0, "x         ");
}

HTEST(screen_grid_text_banner_in_half_blocks)
{
    static struct text_cell big[80 * 25];
    struct textgrid g;
    textgrid_init(&g, big, 80, 25, 0x07);
    HT_EXPECT_EQ(textgrid_banner(&g, 2, "PASS", 0x2f), TEXT_BANNER_ROWS);
    /* The band spans the grid in the banner's attribute; rows outside stay. */
    HT_EXPECT_EQ(textgrid_at(&g, 0, 2)->attr, 0x2f);
    HT_EXPECT_EQ(textgrid_at(&g, 79, 2 + TEXT_BANNER_ROWS - 1)->attr, 0x2f);
    HT_EXPECT_EQ(textgrid_at(&g, 0, 1)->attr, 0x07);
    HT_EXPECT_EQ(textgrid_at(&g, 0, 2 + TEXT_BANNER_ROWS)->attr, 0x07);
    /* 4 glyphs of 12 cells, less the last blank column: 46 cells, centred at 17. */
    unsigned col = 17, row = 3;
    /* 'P' rows 0 and 1: "####." over "#...#": full blocks then upper halves, lower half at the right. */
    HT_EXPECT_EQ(textgrid_at(&g, col, row)->ch, CP437_FULL_BLOCK);
    HT_EXPECT_EQ(textgrid_at(&g, col + 1, row)->ch, CP437_FULL_BLOCK);
    HT_EXPECT_EQ(textgrid_at(&g, col + 2, row)->ch, CP437_UPPER_HALF);
    HT_EXPECT_EQ(textgrid_at(&g, col + 8, row)->ch, CP437_LOWER_HALF);
    HT_EXPECT_EQ(textgrid_at(&g, col - 1, row)->ch, ' ');
    /* Too small a grid: nothing drawn. */
    struct textgrid small;
    textgrid_init(&small, gcells, 20, 4, 0x07);
    HT_EXPECT_EQ(textgrid_banner(&small, 0, "PASS", 0x2f), 0);
    HT_EXPECT_EQ(textgrid_at(&small, 0, 0)->attr, 0x07);
}

/* ---- framebuffer drawing ---- */

struct test_fb {
    uint8_t *mem;
    size_t size;
    struct fb_surface s;
};

#define GUARD 64            /* bytes before and after the framebuffer that must stay 0xa5 */

static struct test_fb make_fb(uint32_t w, uint32_t h, uint32_t pitch, uint8_t bpp)
{
    struct test_fb t;
    t.size = (size_t)pitch * h;
    t.mem = malloc(t.size + 2 * GUARD);
    memset(t.mem, 0xa5, t.size + 2 * GUARD);
    memset(t.mem + GUARD, 0, t.size);
    struct fb_mode m = { .kind = FB_KIND_RGB, .addr = 0x1000, .pitch = pitch, .width = w, .height = h,
                         .bpp = bpp, .bytes_per_pixel = (uint8_t)((bpp + 7) / 8) };
    if (bpp == 16) {
        m.red_pos = 11; m.red_size = 5; m.green_pos = 5; m.green_size = 6; m.blue_pos = 0; m.blue_size = 5;
    } else {
        m.red_pos = 16; m.red_size = 8; m.green_pos = 8; m.green_size = 8; m.blue_pos = 0; m.blue_size = 8;
    }
    fb_surface_init(&t.s, &m, t.mem + GUARD);
    return t;
}

static uint32_t pixel(const struct test_fb *t, uint32_t x, uint32_t y)
{
    const uint8_t *p = t->s.base + (size_t)y * t->s.pitch + (size_t)x * t->s.bytes_per_pixel;
    uint32_t v = 0;
    for (unsigned i = 0; i < t->s.bytes_per_pixel; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static bool guards_intact(const struct test_fb *t)
{
    for (size_t i = 0; i < GUARD; i++)
        if (t->mem[i] != 0xa5 || t->mem[GUARD + t->size + i] != 0xa5)
            return false;
    return true;
}

/* Bytes past each row's pixels (pitch > width * bytes) are never written. */
static bool row_padding_untouched(const struct test_fb *t)
{
    for (uint32_t y = 0; y < t->s.height; y++)
        for (size_t b = (size_t)t->s.width * t->s.bytes_per_pixel; b < t->s.pitch; b++)
            if (t->s.base[(size_t)y * t->s.pitch + b])
                return false;
    return true;
}

static const struct { uint32_t w, h, pitch; uint8_t bpp; } layouts[] = {
    { 160, 100, 160 * 4, 32 }, { 160, 100, 160 * 4 + 64, 32 }, { 150, 90, 150 * 3, 24 },
    { 150, 90, 150 * 3 + 7, 24 }, { 101, 77, 101 * 2 + 6, 16 },
};

HTEST(screen_fb_colours_in_each_layout)
{
    struct test_fb t32 = make_fb(8, 8, 32, 32), t16 = make_fb(8, 8, 16, 16);
    HT_EXPECT_EQ(fb_rgb(&t32.s, 0x12, 0x34, 0x56), 0x123456);
    HT_EXPECT_EQ(fb_rgb(&t16.s, 0xff, 0x00, 0x00), 0xf800);
    HT_EXPECT_EQ(fb_rgb(&t16.s, 0x00, 0xff, 0x00), 0x07e0);
    HT_EXPECT_EQ(fb_rgb(&t16.s, 0x00, 0x00, 0xff), 0x001f);
    free(t32.mem);
    free(t16.mem);
}

HTEST(screen_fb_cell_matches_the_font_in_every_layout)
{
    for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
        struct test_fb t = make_fb(layouts[l].w, layouts[l].h, layouts[l].pitch, layouts[l].bpp);
        uint32_t fg = fb_rgb(&t.s, 0xff, 0xff, 0xff), bg = fb_rgb(&t.s, 0, 0, 0x80);
        unsigned scale = 2;
        uint32_t x0 = 13, y0 = 7;
        fb_draw_cell(&t.s, x0, y0, scale, 'g', fg, bg);
        for (unsigned y = 0; y < FONT_CELL_HEIGHT * scale; y++)
            for (unsigned x = 0; x < FONT_CELL_WIDTH * scale; x++) {
                uint32_t want = font_cell_dot('g', (int)(x / scale), (int)(y / scale)) ? fg : bg;
                if (pixel(&t, x0 + x, y0 + y) != want) {
                    htest_fail(__FILE__, __LINE__, "layout %zu: pixel (%u,%u) %#x, want %#x", l, x, y,
                               pixel(&t, x0 + x, y0 + y), want);
                    y = FONT_CELL_HEIGHT * scale;
                    break;
                }
            }
        HT_EXPECT_EQ(pixel(&t, x0 - 1, y0), 0);                          /* left of the cell */
        HT_EXPECT_EQ(pixel(&t, x0 + FONT_CELL_WIDTH * scale, y0), 0);    /* right of it */
        /* A cell over the bottom-right corner is clipped, not written past. */
        fb_draw_cell(&t.s, layouts[l].w - 5, layouts[l].h - 5, 3, 'W', fg, bg);
        HT_EXPECT(guards_intact(&t));
        HT_EXPECT(row_padding_untouched(&t));
        free(t.mem);
    }
}

/* The banner's dots are squares of `dot` pixels; every glyph dot of the word is in fg. */
HTEST(screen_fb_banner_in_every_layout)
{
    for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
        struct test_fb t = make_fb(layouts[l].w, layouts[l].h, layouts[l].pitch, layouts[l].bpp);
        uint32_t fg = fb_rgb(&t.s, 0xff, 0xff, 0xff), bg = fb_rgb(&t.s, 0, 0x99, 0);
        unsigned dot = 4;
        uint32_t band = 11 * dot;
        const char *word = "FAIL";
        HT_EXPECT_EQ(fb_banner(&t.s, 10, band, dot, word, fg, bg), band);
        uint32_t width = (uint32_t)strlen(word) * FONT_CELL_WIDTH * dot - dot;
        uint32_t x0 = (layouts[l].w - width) / 2, y0 = 10 + (band - FONT_CAP_ROWS * dot) / 2;
        unsigned wrong = 0, ink = 0;
        for (size_t i = 0; i < strlen(word); i++)
            for (int r = 0; r < FONT_CAP_ROWS; r++)
                for (int c = 0; c < FONT_DESIGN_COLS; c++) {
                    bool on = (font_row_bits(word[i], r) >> (FONT_DESIGN_COLS - 1 - c)) & 1;
                    uint32_t px = x0 + (uint32_t)(i * FONT_CELL_WIDTH + c) * dot + dot / 2;
                    uint32_t py = y0 + (uint32_t)r * dot + dot / 2;
                    wrong += pixel(&t, px, py) != (on ? fg : bg);
                    ink += on;
                }
        HT_EXPECT_EQ(wrong, 0);
        HT_EXPECT(ink > 40);
        /* The band is the full width, and nothing above or below it is drawn. */
        HT_EXPECT_EQ(pixel(&t, 0, 10), bg);
        HT_EXPECT_EQ(pixel(&t, layouts[l].w - 1, 10 + band - 1), bg);
        HT_EXPECT_EQ(pixel(&t, 0, 9), 0);
        HT_EXPECT_EQ(pixel(&t, 0, 10 + band), 0);
        HT_EXPECT(guards_intact(&t));
        HT_EXPECT(row_padding_untouched(&t));
        free(t.mem);
    }
}

HTEST(screen_fb_banner_too_wide_draws_only_the_band)
{
    struct test_fb t = make_fb(40, 60, 160, 32);
    uint32_t fg = fb_rgb(&t.s, 0xff, 0xff, 0xff), bg = fb_rgb(&t.s, 0xcc, 0, 0);
    fb_banner(&t.s, 0, 50, 8, "CRASH", fg, bg);
    unsigned fgs = 0;
    for (uint32_t y = 0; y < 50; y++)
        for (uint32_t x = 0; x < 40; x++)
            fgs += pixel(&t, x, y) == fg;
    HT_EXPECT_EQ(fgs, 0);
    HT_EXPECT_EQ(pixel(&t, 39, 49), bg);
    /* A band taller than the surface is clipped. */
    fb_banner(&t.s, 55, 100, 1, "X", fg, bg);
    HT_EXPECT(guards_intact(&t));
    free(t.mem);
}

/* ---- the Multiboot2 framebuffer tag ---- */

static uint8_t tag[48];

static void put32(size_t off, uint32_t v) { for (int i = 0; i < 4; i++) tag[off + i] = (uint8_t)(v >> (8 * i)); }

/* GRUB's tag for 1024x768x32 at 0xfd000000 (layout: lib/fbmode.h). */
static void good_tag(void)
{
    memset(tag, 0, sizeof(tag));
    put32(0, 8);
    put32(4, MB2_FB_TAG_RGB);
    put32(8, 0xfd000000);
    put32(16, 4096);
    put32(20, 1024);
    put32(24, 768);
    tag[28] = 32;
    tag[29] = MB2_FB_TYPE_RGB;
    tag[32] = 16; tag[33] = 8; tag[34] = 8; tag[35] = 8; tag[36] = 0; tag[37] = 8;
}

static bool parse(size_t size, char *why)
{
    struct fb_mode m;
    return fb_mode_from_mb2_tag(tag, size, &m, why, 128);
}

HTEST(screen_tag_good_rgb_and_ega_text)
{
    struct fb_mode m;
    char why[128] = "";
    good_tag();
    HT_EXPECT(fb_mode_from_mb2_tag(tag, sizeof(tag), &m, why, sizeof(why)));
    HT_EXPECT_EQ(m.kind, FB_KIND_RGB);
    HT_EXPECT_EQ(m.addr, 0xfd000000);
    HT_EXPECT_EQ(m.width, 1024);
    HT_EXPECT_EQ(m.bytes_per_pixel, 4);
    HT_EXPECT_EQ(m.red_pos, 16);
    HT_EXPECT_EQ(m.blue_size, 8);
    /* 24 bits, a pitch with padding. */
    tag[28] = 24;
    put32(16, 1024 * 3 + 32);
    HT_EXPECT(fb_mode_from_mb2_tag(tag, sizeof(tag), &m, why, sizeof(why)));
    HT_EXPECT_EQ(m.bytes_per_pixel, 3);
    /* EGA text: 80x25 characters of 2 bytes at 0xb8000. */
    memset(tag, 0, sizeof(tag));
    put32(0, 8); put32(4, MB2_FB_TAG_COMMON); put32(8, 0xb8000); put32(16, 160); put32(20, 80);
    put32(24, 25); tag[28] = 16; tag[29] = MB2_FB_TYPE_EGA_TEXT;
    HT_EXPECT(fb_mode_from_mb2_tag(tag, sizeof(tag), &m, why, sizeof(why)));
    HT_EXPECT_EQ(m.kind, FB_KIND_EGA_TEXT);
    HT_EXPECT_EQ(m.width, 80);
}

#define HT_EXPECT_REFUSED(size, words) do {                                       \
    char why_[128] = "";                                                           \
    HT_EXPECT(!parse((size), why_));                                               \
    if (!strstr(why_, (words)))                                                    \
        htest_fail(__FILE__, __LINE__, "reason \"%s\" lacks \"%s\"", why_, (words)); \
} while (0)

HTEST(screen_tag_hostile_values_refused_with_a_reason)
{
    good_tag(); put32(20, 0);               HT_EXPECT_REFUSED(sizeof(tag), "no area");
    good_tag(); put32(24, 0);               HT_EXPECT_REFUSED(sizeof(tag), "no area");
    good_tag(); put32(20, 0xffffffff);      HT_EXPECT_REFUSED(sizeof(tag), "larger than");
    good_tag(); put32(24, 100000);          HT_EXPECT_REFUSED(sizeof(tag), "larger than");
    good_tag(); put32(16, 1024 * 4 - 1);    HT_EXPECT_REFUSED(sizeof(tag), "shorter than a row");
    good_tag(); put32(16, 0);               HT_EXPECT_REFUSED(sizeof(tag), "shorter than a row");
    good_tag(); tag[28] = 8;                HT_EXPECT_REFUSED(sizeof(tag), "bits per pixel");
    good_tag(); tag[28] = 0;                HT_EXPECT_REFUSED(sizeof(tag), "bits per pixel");
    good_tag(); put32(8, 0);                HT_EXPECT_REFUSED(sizeof(tag), "address 0");
    good_tag(); put32(8, 0xfffff000); put32(12, 0xffffffff);
                                            HT_EXPECT_REFUSED(sizeof(tag), "past the physical");
    good_tag(); put32(16, 0x40000000);      HT_EXPECT_REFUSED(sizeof(tag), "MiB");
    good_tag(); tag[33] = 0;                HT_EXPECT_REFUSED(sizeof(tag), "colour field");
    good_tag(); tag[36] = 30;               HT_EXPECT_REFUSED(sizeof(tag), "colour field");
    good_tag(); tag[29] = MB2_FB_TYPE_INDEXED; HT_EXPECT_REFUSED(sizeof(tag), "indexed");
    good_tag(); tag[29] = 7;                HT_EXPECT_REFUSED(sizeof(tag), "unknown");
    good_tag();                             HT_EXPECT_REFUSED(20, "shorter than its");
    good_tag(); put32(4, 16);               HT_EXPECT_REFUSED(sizeof(tag), "size field");
    good_tag(); put32(4, MB2_FB_TAG_COMMON); HT_EXPECT_REFUSED(sizeof(tag), "colour fields");
    /* EGA text too big or with too short a pitch. */
    good_tag(); tag[29] = MB2_FB_TYPE_EGA_TEXT; put32(20, 1000); put32(24, 25); put32(16, 2000);
                                            HT_EXPECT_REFUSED(sizeof(tag), "larger than");
    good_tag(); tag[29] = MB2_FB_TYPE_EGA_TEXT; put32(20, 80); put32(24, 25); put32(16, 100);
                                            HT_EXPECT_REFUSED(sizeof(tag), "shorter than 80 cells");
}

/* Any tag bytes at all: parsing never reads past `size` (ASan) and a mode it
 * accepts is always one the checks pass. */
HTEST(screen_tag_random_bytes_never_crash)
{
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t size = round % 48;
        uint8_t *buf = malloc(size ? size : 1);
        for (size_t i = 0; i < size; i++) {
            x = x * 1103515245 + 12345;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (size > 29 && (round & 1))
            buf[29] = (uint8_t)(round % 3);
        struct fb_mode m;
        char why[128];
        if (fb_mode_from_mb2_tag(buf, size, &m, why, sizeof(why)))
            HT_EXPECT(fb_mode_check(&m, why, sizeof(why)));
        free(buf);
    }
}
