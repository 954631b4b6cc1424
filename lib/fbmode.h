/* SPDX-License-Identifier: MIT */
/* lib/fbmode.h — the display mode a Multiboot2 loader hands over (Multiboot2
 * §3.6.12, framebuffer info tag, type 8), checked before anything is drawn.
 * A loader's numbers are not trusted: a zero or huge size, a pitch shorter
 * than a row, a depth or colour layout bareio cannot draw, an address of 0 or
 * one that wraps, each refuse the mode with a reason for the log, and the
 * screen stays off rather than writing where it should not. */
#ifndef LIB_FBMODE_H
#define LIB_FBMODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fb_kind {
    FB_KIND_NONE,
    FB_KIND_RGB,            /* direct colour: a linear framebuffer */
    FB_KIND_EGA_TEXT,       /* 16-bit character/attribute cells (VGA text mode) */
};

struct fb_mode {
    enum fb_kind kind;
    uint64_t addr;          /* physical */
    uint32_t pitch;         /* bytes from one row (pixel row or text row) to the next */
    uint32_t width, height; /* pixels; characters for EGA text */
    uint8_t bpp;            /* bits per pixel (16 for EGA text) */
    uint8_t bytes_per_pixel;
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

/* The largest mode drawn: 8K wide, a 256 MiB framebuffer. */
#define FB_MAX_WIDTH     8192u
#define FB_MAX_HEIGHT    8192u
#define FB_MAX_BYTES     (256ull << 20)
#define FB_TEXT_MAX_COLS 256u
#define FB_TEXT_MAX_ROWS 128u

/* Multiboot2 framebuffer_type */
#define MB2_FB_TYPE_INDEXED  0
#define MB2_FB_TYPE_RGB      1
#define MB2_FB_TYPE_EGA_TEXT 2

/* The common part of the tag, as GRUB lays it out (its multiboot2.h: the
 * reserved field after framebuffer_type is 16 bits, the colour information
 * starts at byte 32; the specification's table shows 8 bits, GRUB is what
 * loaders follow). */
#define MB2_FB_TAG_COMMON 32u
#define MB2_FB_TAG_RGB    (MB2_FB_TAG_COMMON + 6u)
_Static_assert(MB2_FB_TAG_COMMON == 4 + 4 + 8 + 4 + 4 + 4 + 1 + 1 + 2,
               "type, size, addr, pitch, width, height, bpp, type, reserved (GRUB's layout)");

/* Parses a whole framebuffer tag (type and size fields included, `size` the
 * bytes available). True with *mode filled; false with the reason in `why`. */
bool fb_mode_from_mb2_tag(const uint8_t *tag, size_t size, struct fb_mode *mode, char *why,
                          size_t why_size);
/* The checks alone, for a mode from elsewhere. */
bool fb_mode_check(const struct fb_mode *mode, char *why, size_t why_size);

#endif
