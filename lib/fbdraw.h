/* SPDX-License-Identifier: MIT */
/* lib/fbdraw.h — drawing on a linear framebuffer: filled rectangles, text
 * cells in lib/font.c's font at a whole-number scale, and a large banner. Pure
 * stores to memory (never a read of the framebuffer, which is slow through an
 * uncached mapping and may not read back at all), clipped to the surface, so
 * the host tests draw into an array of any pitch and depth. */
#ifndef LIB_FBDRAW_H
#define LIB_FBDRAW_H
#include <stdint.h>
#include "lib/fbmode.h"

struct fb_surface {
    uint8_t *base;
    uint32_t width, height, pitch;
    uint8_t bytes_per_pixel;        /* 2, 3 or 4 */
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

/* The surface of a checked RGB mode, drawn at `base` (its mapping). */
void fb_surface_init(struct fb_surface *s, const struct fb_mode *mode, void *base);
/* The pixel value of an 8-bit-per-channel colour in the surface's layout. */
uint32_t fb_rgb(const struct fb_surface *s, uint8_t r, uint8_t g, uint8_t b);
void fb_fill(const struct fb_surface *s, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t pixel);
/* One text cell (FONT_CELL_WIDTH x FONT_CELL_HEIGHT dots, each scale x scale
 * pixels) with its top left at (x, y). */
void fb_draw_cell(const struct fb_surface *s, uint32_t x, uint32_t y, unsigned scale, char c,
                  uint32_t fg, uint32_t bg);
/* A band `height` pixels tall at y, across the surface, in `bg`, with `text`
 * centred on it in capitals of FONT_CAP_ROWS dots of `dot` pixels each.
 * Returns the band's height. */
uint32_t fb_banner(const struct fb_surface *s, uint32_t y, uint32_t height, unsigned dot,
                   const char *text, uint32_t fg, uint32_t bg);

#endif
