/* SPDX-License-Identifier: MIT */
/* lib/fbdraw.c — pixels for the screen console (lib/fbdraw.h). A cell is drawn
 * a pixel row at a time from the font row's bits, each pixel stored whole
 * (2, 3 or 4 bytes), so a 24-bit mode and a pitch that is not a multiple of
 * the pixel size draw as well as 32 bits. */
#include "lib/fbdraw.h"
#include "lib/font.h"
#include "lib/string.h"

void fb_surface_init(struct fb_surface *s, const struct fb_mode *m, void *base)
{
    *s = (struct fb_surface){
        .base = base, .width = m->width, .height = m->height, .pitch = m->pitch,
        .bytes_per_pixel = m->bytes_per_pixel,
        .red_pos = m->red_pos, .red_size = m->red_size, .green_pos = m->green_pos,
        .green_size = m->green_size, .blue_pos = m->blue_pos, .blue_size = m->blue_size,
    };
}

static uint32_t channel(uint8_t value, uint8_t pos, uint8_t size)
{
    if (!size || size > 8)
        return 0;
    return (uint32_t)(value >> (8 - size)) << pos;
}

uint32_t fb_rgb(const struct fb_surface *s, uint8_t r, uint8_t g, uint8_t b)
{
    return channel(r, s->red_pos, s->red_size) | channel(g, s->green_pos, s->green_size) |
           channel(b, s->blue_pos, s->blue_size);
}

static void put_pixel(uint8_t *p, unsigned bytes, uint32_t pixel)
{
    switch (bytes) {
    case 4:
        __builtin_memcpy(p, &pixel, 4);     /* one store, at any alignment */
        break;
    case 3:
        p[0] = (uint8_t)pixel;
        p[1] = (uint8_t)(pixel >> 8);
        p[2] = (uint8_t)(pixel >> 16);
        break;
    default: {
        uint16_t v = (uint16_t)pixel;
        __builtin_memcpy(p, &v, 2);
        break;
    }
    }
}

static uint8_t *pixel_at(const struct fb_surface *s, uint32_t x, uint32_t y)
{
    return s->base + (uint64_t)y * s->pitch + (uint64_t)x * s->bytes_per_pixel;
}

/* [x, x + w) clipped to [0, limit). */
static uint32_t clip(uint32_t x, uint32_t w, uint32_t limit)
{
    if (x >= limit)
        return 0;
    return w < limit - x ? w : limit - x;
}

void fb_fill(const struct fb_surface *s, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t pixel)
{
    w = clip(x, w, s->width);
    h = clip(y, h, s->height);
    for (uint32_t row = 0; row < h; row++) {
        uint8_t *p = pixel_at(s, x, y + row);
        for (uint32_t i = 0; i < w; i++, p += s->bytes_per_pixel)
            put_pixel(p, s->bytes_per_pixel, pixel);
    }
}

/* One pixel row of dots: bit (FONT_CELL_WIDTH - 1 - i) of `bits` is dot i. */
static void dot_row(const struct fb_surface *s, uint32_t x, uint32_t y, unsigned dots, unsigned bits,
                    unsigned scale, uint32_t fg, uint32_t bg)
{
    uint32_t w = clip(x, dots * scale, s->width);
    if (y >= s->height)
        return;
    uint8_t *p = pixel_at(s, x, y);
    for (uint32_t i = 0; i < w; i++, p += s->bytes_per_pixel) {
        unsigned dot = i / scale;
        put_pixel(p, s->bytes_per_pixel, (bits >> (dots - 1 - dot)) & 1 ? fg : bg);
    }
}

void fb_draw_cell(const struct fb_surface *s, uint32_t x, uint32_t y, unsigned scale, char c,
                  uint32_t fg, uint32_t bg)
{
    if (!scale)
        return;
    for (unsigned row = 0; row < FONT_CELL_HEIGHT; row++) {
        /* Font bits are FONT_DESIGN_COLS wide; the cell adds a blank column on the right. */
        unsigned bits = (unsigned)font_row_bits(c, (int)row - FONT_CELL_TOP) << 1;
        for (unsigned k = 0; k < scale; k++)
            dot_row(s, x, y + row * scale + k, FONT_CELL_WIDTH, bits, scale, fg, bg);
    }
}

uint32_t fb_banner(const struct fb_surface *s, uint32_t y, uint32_t height, unsigned dot,
                   const char *text, uint32_t fg, uint32_t bg)
{
    fb_fill(s, 0, y, s->width, height, bg);
    if (!dot)
        return height;
    size_t n = strlen(text);
    uint64_t advance = (uint64_t)FONT_CELL_WIDTH * dot;
    uint64_t width = n * advance - dot;     /* without the last glyph's blank column */
    uint64_t glyph_h = (uint64_t)FONT_CAP_ROWS * dot;
    if (!n || width > s->width || glyph_h > height)
        return height;
    uint32_t x0 = (uint32_t)((s->width - width) / 2), y0 = y + (uint32_t)((height - glyph_h) / 2);
    for (size_t i = 0; i < n; i++)
        for (unsigned row = 0; row < FONT_CAP_ROWS; row++)
            for (unsigned k = 0; k < dot; k++)
                dot_row(s, x0 + (uint32_t)(i * advance), y0 + row * dot + k, FONT_DESIGN_COLS,
                        font_row_bits(text[i], (int)row), dot, fg, bg);
    return height;
}
