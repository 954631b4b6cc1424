/* SPDX-License-Identifier: MIT */
/* lib/fbmode.c — parsing and checking the Multiboot2 framebuffer info tag
 * (lib/fbmode.h). Each field is read from its byte offset, so a short or
 * oddly aligned tag is read safely, and every product is computed in 64 bits
 * before it is compared, so no hostile width, height or pitch can overflow. */
#include "lib/fbmode.h"
#include "lib/format.h"
#include "lib/string.h"

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static bool refuse(char *why, size_t why_size, const char *text)
{
    snprintf(why, why_size, "%s", text);
    return false;
}

static bool colour_field_ok(uint8_t pos, uint8_t size, uint8_t bpp)
{
    return size >= 1 && size <= 8 && pos + size <= bpp;
}

static bool rgb_check(const struct fb_mode *m, char *why, size_t why_size)
{
    if (m->bpp != 15 && m->bpp != 16 && m->bpp != 24 && m->bpp != 32) {
        snprintf(why, why_size, "%u bits per pixel is not drawn (15, 16, 24 or 32 are)", m->bpp);
        return false;
    }
    if (m->width > FB_MAX_WIDTH || m->height > FB_MAX_HEIGHT) {
        snprintf(why, why_size, "%ux%u is larger than %ux%u", m->width, m->height, FB_MAX_WIDTH,
                 FB_MAX_HEIGHT);
        return false;
    }
    if ((uint64_t)m->pitch < (uint64_t)m->width * m->bytes_per_pixel) {
        snprintf(why, why_size, "pitch %u bytes is shorter than a row of %u pixels of %u bytes",
                 m->pitch, m->width, m->bytes_per_pixel);
        return false;
    }
    if (!colour_field_ok(m->red_pos, m->red_size, m->bpp) ||
        !colour_field_ok(m->green_pos, m->green_size, m->bpp) ||
        !colour_field_ok(m->blue_pos, m->blue_size, m->bpp))
        return refuse(why, why_size, "a colour field lies outside the pixel or is 0 or more than 8 bits");
    return true;
}

static bool text_check(const struct fb_mode *m, char *why, size_t why_size)
{
    if (m->width > FB_TEXT_MAX_COLS || m->height > FB_TEXT_MAX_ROWS) {
        snprintf(why, why_size, "text mode %ux%u is larger than %ux%u", m->width, m->height,
                 FB_TEXT_MAX_COLS, FB_TEXT_MAX_ROWS);
        return false;
    }
    if ((uint64_t)m->pitch < (uint64_t)m->width * 2) {
        snprintf(why, why_size, "text pitch %u bytes is shorter than %u cells of 2 bytes", m->pitch,
                 m->width);
        return false;
    }
    return true;
}

bool fb_mode_check(const struct fb_mode *m, char *why, size_t why_size)
{
    if (m->kind != FB_KIND_RGB && m->kind != FB_KIND_EGA_TEXT)
        return refuse(why, why_size, "no drawable mode");
    if (!m->width || !m->height) {
        snprintf(why, why_size, "size %ux%u has no area", m->width, m->height);
        return false;
    }
    if (!m->addr)
        return refuse(why, why_size, "address 0");
    if (!(m->kind == FB_KIND_RGB ? rgb_check(m, why, why_size) : text_check(m, why, why_size)))
        return false;
    uint64_t bytes = (uint64_t)m->pitch * m->height;
    if (bytes > FB_MAX_BYTES) {
        snprintf(why, why_size, "%llu bytes (pitch %u x %u rows) is more than %llu MiB",
                 (unsigned long long)bytes, m->pitch, m->height,
                 (unsigned long long)(FB_MAX_BYTES >> 20));
        return false;
    }
    if (m->addr > UINT64_MAX - bytes || ((m->addr + bytes) >> 52))
        return refuse(why, why_size, "the framebuffer runs past the physical address space");
    return true;
}

bool fb_mode_from_mb2_tag(const uint8_t *tag, size_t size, struct fb_mode *m, char *why, size_t why_size)
{
    memset(m, 0, sizeof(*m));
    if (size < MB2_FB_TAG_COMMON) {
        snprintf(why, why_size, "tag of %zu bytes is shorter than its %u-byte common part", size,
                 MB2_FB_TAG_COMMON);
        return false;
    }
    uint32_t tag_size = get32(tag + 4);
    if (tag_size < size)
        size = tag_size;        /* the tag ends where it says, if sooner */
    if (size < MB2_FB_TAG_COMMON)
        return refuse(why, why_size, "tag size field is shorter than the common part");
    m->addr = get64(tag + 8);
    m->pitch = get32(tag + 16);
    m->width = get32(tag + 20);
    m->height = get32(tag + 24);
    m->bpp = tag[28];
    switch (tag[29]) {
    case MB2_FB_TYPE_RGB:
        if (size < MB2_FB_TAG_RGB)
            return refuse(why, why_size, "RGB tag without its colour fields");
        m->kind = FB_KIND_RGB;
        m->bytes_per_pixel = (uint8_t)((m->bpp + 7) / 8);
        m->red_pos = tag[32];
        m->red_size = tag[33];
        m->green_pos = tag[34];
        m->green_size = tag[35];
        m->blue_pos = tag[36];
        m->blue_size = tag[37];
        break;
    case MB2_FB_TYPE_EGA_TEXT:
        m->kind = FB_KIND_EGA_TEXT;
        m->bytes_per_pixel = 2;
        break;
    case MB2_FB_TYPE_INDEXED:
        return refuse(why, why_size, "indexed colour (a palette) is not drawn");
    default:
        snprintf(why, why_size, "framebuffer type %u is unknown", tag[29]);
        return false;
    }
    return fb_mode_check(m, why, why_size);
}
