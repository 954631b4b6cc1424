/* SPDX-License-Identifier: MIT */
/* kernel/screen.c — the screen console (kernel/screen.h): picks the display,
 * mirrors the console into a text grid (lib/textgrid.c) and draws on it.
 *
 * Why it is built this way:
 * - The console calls in through a hook (console_set_mirror), and mapping and
 *   time come in as arguments: the exit and crash paths call this file, so it
 *   may call nothing above the console (tools/layercheck).
 * - Drawing is lazy: the grid is memory, the driver keeps a copy of what it
 *   drew (`drawn`) and redraws only cells that differ, and it redraws at most
 *   once per pacing interval, which grows with what the last redraw cost
 *   (REDRAW_COST_SHARE), so thousands of lines under TCG emulation scroll
 *   through memory and cost a few redraws, and never a read of the
 *   framebuffer. Lines that arrive inside an interval are drawn with the next
 *   line written after it, or by the verdict.
 * - The framebuffer is mapped with mmio_map (uncached: the kernel programs no
 *   PAT, so there is no write-combining type to ask for), which the pacing
 *   keeps affordable on real machines too.
 * - VGA text mode is used only where it is known to be up: Multiboot1 with the
 *   BIOS data area saying mode 2 or 3 and the text memory reading back what
 *   was written (QEMU -nodefaults has no VGA at all), or a Multiboot2 EGA text
 *   tag. Under Multiboot2 without a framebuffer tag (UEFI without graphics)
 *   there is no screen, and 0xB8000 is never written.
 * - Anything going wrong inside the screen code (a fault while drawing
 *   reports itself through the console, which would call back in) turns the
 *   screen off, so a broken display never hides the serial report. */
#include "kernel/screen.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/time.h"
#include "lib/fbdraw.h"
#include "lib/fbmode.h"
#include "lib/font.h"
#include "lib/string.h"
#include "lib/textgrid.h"

enum { SCREEN_AUTO, SCREEN_OFF };
static const struct cmdline_word screen_words[] = { { "auto", SCREEN_AUTO }, { "off", SCREEN_OFF } };
CMDLINE_ENUM(screen_setting, "screen", SCREEN_AUTO, screen_words,
             "console and verdict on the screen: auto (framebuffer, else VGA text, else none) or off");

#define SCREEN_MAX_COLS  256
#define SCREEN_MAX_ROWS  128
#define MIN_COLS         80         /* the text scale is the largest that keeps 80 x 25 */
#define MIN_ROWS         25
#define BACKLOG_BYTES    16384      /* console text kept before the display is chosen */
#define KEEP_BYTES       6144       /* lines kept for the verdict */
#define REDRAW_COST_SHARE 16        /* wait at least 16x the last redraw's cost before the next */
#define REDRAW_MIN_HZ    25         /* and at least 1/25 s */
#define ATTR_TEXT        0x07       /* light grey on black */
#define ATTR_KEPT        0x0f       /* white on black */

/* VGA text mode (VGA register facts: CRTC index/data at 0x3D4/0x3D5, Cursor
 * Start register 0Ah bit 5 disables the cursor; BIOS data area 0x449 holds the
 * current video mode). */
#define VGA_TEXT_ADDR    0xb8000ull
#define VGA_CRTC_INDEX   0x3d4
#define VGA_CRTC_DATA    0x3d5
#define VGA_CURSOR_START 0x0a
#define VGA_CURSOR_OFF   0x20
#define BDA_VIDEO_MODE   0x449

enum screen_state { STATE_BACKLOG, STATE_LIVE, STATE_OFF, STATE_VERDICT };
enum screen_kind { KIND_NONE, KIND_FRAMEBUFFER, KIND_VGA_TEXT };

static enum screen_state state = STATE_OFF;
static enum screen_kind kind = KIND_NONE;
static bool inside;                     /* in the screen code: a reentry means it faulted */

_Static_assert(SCREEN_MAX_COLS >= FB_TEXT_MAX_COLS && SCREEN_MAX_ROWS >= FB_TEXT_MAX_ROWS,
              "every EGA text mode lib/fbmode.c accepts fits the grid");
static struct text_cell cells[SCREEN_MAX_COLS * SCREEN_MAX_ROWS];
static struct text_cell drawn[SCREEN_MAX_COLS * SCREEN_MAX_ROWS];
static struct textgrid grid;

static char backlog[BACKLOG_BYTES];
static uint64_t backlog_total;
static char kept[KEEP_BYTES];
static size_t kept_len;
static bool keeping;

/* The display. */
static struct fb_surface surface;
static unsigned scale;                  /* framebuffer: font dots per pixel */
static uint32_t palette[16];
static volatile uint16_t *vga_cells;
static uint32_t vga_pitch_cells;

static uint64_t redraw_gap_min, next_redraw;
static uint64_t ticks_per_second;
/* What drawing cost, for the line at the end of the run. */
static uint64_t redraws, cells_drawn, redraw_ticks;

/* VGA's 16 text colours as RGB (the standard palette), for the framebuffer. */
static const uint8_t vga_rgb[16][3] = {
    { 0x00, 0x00, 0x00 }, { 0x00, 0x00, 0xaa }, { 0x00, 0xaa, 0x00 }, { 0x00, 0xaa, 0xaa },
    { 0xaa, 0x00, 0x00 }, { 0xaa, 0x00, 0xaa }, { 0xaa, 0x55, 0x00 }, { 0xaa, 0xaa, 0xaa },
    { 0x55, 0x55, 0x55 }, { 0x55, 0x55, 0xff }, { 0x55, 0xff, 0x55 }, { 0x55, 0xff, 0xff },
    { 0xff, 0x55, 0x55 }, { 0xff, 0x55, 0xff }, { 0xff, 0xff, 0x55 }, { 0xff, 0xff, 0xff },
};

/* ---- keeping text ---- */

static void backlog_put(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        backlog[(backlog_total + i) % BACKLOG_BYTES] = s[i];
    backlog_total += len;
}

/* The newest KEEP_BYTES are kept, from a line's start: the totals and the
 * summary come last and must survive a run with many failure records. */
static void kept_put(const char *s, size_t len)
{
    if (len > KEEP_BYTES) {
        s += len - KEEP_BYTES;
        len = KEEP_BYTES;
    }
    if (kept_len + len > KEEP_BYTES) {
        size_t drop = kept_len + len - KEEP_BYTES;
        while (drop < kept_len && kept[drop - 1] != '\n')
            drop++;
        memmove(kept, kept + drop, kept_len - drop);
        kept_len -= drop;
    }
    memcpy(kept + kept_len, s, len);
    kept_len += len;
}

void screen_keep_begin(void) { keeping = true; }
void screen_keep_end(void) { keeping = false; }

/* ---- drawing ---- */

static void draw_cell(unsigned col, unsigned row, struct text_cell c)
{
    if (kind == KIND_VGA_TEXT) {
        vga_cells[(size_t)row * vga_pitch_cells + col] = (uint16_t)(c.ch | c.attr << 8);
        return;
    }
    uint32_t cw = FONT_CELL_WIDTH * scale, ch = FONT_CELL_HEIGHT * scale;
    fb_draw_cell(&surface, col * cw, row * ch, scale, (char)c.ch, palette[c.attr & 15], palette[c.attr >> 4]);
}

/* `drawn` is in screen order (row 0 at the top), the grid a ring of rows. */
static void redraw_changed(void)
{
    for (unsigned row = 0; row < grid.rows; row++) {
        const struct text_cell *line = textgrid_at(&grid, 0, row);
        struct text_cell *glass = &drawn[(size_t)row * grid.cols];
        for (unsigned col = 0; col < grid.cols; col++) {
            if (line[col].ch == glass[col].ch && line[col].attr == glass[col].attr)
                continue;
            draw_cell(col, row, line[col]);
            glass[col] = line[col];
            cells_drawn++;
        }
    }
}

/* Redraws when due; `force` for the verdict. */
static void redraw(bool force)
{
    uint64_t now = tsc_read();
    if (!force && now < next_redraw)
        return;
    if (!textgrid_take_changed(&grid))
        return;
    redraw_changed();
    uint64_t done = tsc_read(), cost = done - now;
    redraws++;
    redraw_ticks += cost;
    uint64_t gap = cost * REDRAW_COST_SHARE;
    next_redraw = done + (gap > redraw_gap_min ? gap : redraw_gap_min);
}

/* The console's hook: every byte written to the serial console. */
static void mirror(const char *s, size_t len)
{
    if (inside) {                       /* a fault inside the screen code is reporting itself */
        state = STATE_OFF;
        return;
    }
    if (keeping)
        kept_put(s, len);
    if (state == STATE_BACKLOG) {
        backlog_put(s, len);
    } else if (state == STATE_LIVE) {
        inside = true;
        textgrid_write(&grid, s, len);
        redraw(false);
        inside = false;
    }
}

void screen_early(void)
{
    state = STATE_BACKLOG;
    console_set_mirror(mirror);
}

/* ---- choosing the display ---- */

static void grid_for(unsigned cols, unsigned rows)
{
    cols = cols < SCREEN_MAX_COLS ? cols : SCREEN_MAX_COLS;
    rows = rows < SCREEN_MAX_ROWS ? rows : SCREEN_MAX_ROWS;
    textgrid_init(&grid, cells, cols, rows, ATTR_TEXT);
    /* Nothing is known of what is on the glass: draw every cell once. */
    for (size_t i = 0; i < (size_t)cols * rows; i++)
        drawn[i] = (struct text_cell){ 0, 0xff };
}

static bool start_framebuffer(const struct fb_mode *m, volatile void *(*map)(uint64_t, uint64_t))
{
    volatile void *base = map(m->addr, (uint64_t)m->pitch * m->height);
    if (!base) {
        klog(LOG_WARN, "screen: the framebuffer at %#llx could not be mapped; no screen\n",
             (unsigned long long)m->addr);
        return false;
    }
    fb_surface_init(&surface, m, (void *)(uintptr_t)base);
    unsigned sx = m->width / (FONT_CELL_WIDTH * MIN_COLS), sy = m->height / (FONT_CELL_HEIGHT * MIN_ROWS);
    scale = sx < sy ? sx : sy;
    if (!scale)
        scale = 1;
    for (unsigned i = 0; i < 16; i++)
        palette[i] = fb_rgb(&surface, vga_rgb[i][0], vga_rgb[i][1], vga_rgb[i][2]);
    kind = KIND_FRAMEBUFFER;
    grid_for(m->width / (FONT_CELL_WIDTH * scale), m->height / (FONT_CELL_HEIGHT * scale));
    fb_fill(&surface, 0, 0, surface.width, surface.height, palette[0]);
    klog(LOG_INFO, "screen: framebuffer %ux%u, %u bpp, pitch %u, at %#llx: %ux%u cells of %ux%u pixels\n",
         m->width, m->height, m->bpp, m->pitch, (unsigned long long)m->addr, grid.cols, grid.rows,
         FONT_CELL_WIDTH * scale, FONT_CELL_HEIGHT * scale);
    return true;
}

static bool start_vga_text(uint64_t addr, unsigned cols, unsigned rows, uint32_t pitch,
                           volatile void *(*map)(uint64_t, uint64_t))
{
    volatile uint16_t *text = map(addr, (uint64_t)pitch * rows);
    if (!text) {
        klog(LOG_WARN, "screen: VGA text memory at %#llx could not be mapped; no screen\n",
             (unsigned long long)addr);
        return false;
    }
    vga_cells = text;
    vga_pitch_cells = pitch / 2;
    kind = KIND_VGA_TEXT;
    grid_for(cols, rows);
    outb(VGA_CRTC_INDEX, VGA_CURSOR_START);
    outb(VGA_CRTC_DATA, inb(VGA_CRTC_DATA) | VGA_CURSOR_OFF);
    klog(LOG_INFO, "screen: VGA text %ux%u at %#llx\n", grid.cols, grid.rows, (unsigned long long)addr);
    return true;
}

/* Multiboot1 leaves the display as the BIOS set it: text mode 2 or 3 at
 * 0xB8000 when its data area says so and the memory holds what is written
 * (two patterns, then the old cell put back). */
static bool vga_text_present(volatile void *(*map)(uint64_t, uint64_t))
{
    /* Through map(), which finds the low 1 MiB already mapped as RAM. */
    const volatile uint8_t *bda_mode = map(BDA_VIDEO_MODE, 1);
    uint8_t mode = bda_mode ? *bda_mode : 0;
    if (mode != 2 && mode != 3) {
        klog(LOG_INFO, "screen: none (BIOS video mode %#x is not 80x25 colour text)\n", mode);
        return false;
    }
    volatile uint16_t *cell = map(VGA_TEXT_ADDR, 2);
    if (!cell)
        return false;
    uint16_t saved = *cell;
    *cell = 0x5aa5;
    bool ok = *cell == 0x5aa5;
    *cell = 0xa55a;
    ok = ok && *cell == 0xa55a;
    *cell = saved;
    if (!ok)
        klog(LOG_INFO, "screen: none (no VGA text memory answers at %#llx)\n",
             (unsigned long long)VGA_TEXT_ADDR);
    return ok;
}

static bool choose_display(volatile void *(*map)(uint64_t, uint64_t))
{
    if (strcmp(boot_info.protocol, "multiboot2") != 0) {
        if (!vga_text_present(map))
            return false;
        return start_vga_text(VGA_TEXT_ADDR, 80, 25, 160, map);
    }
    if (!boot_info.framebuffer_tag_size) {
        klog(LOG_INFO, "screen: none (the loader passed no framebuffer)\n");
        return false;
    }
    struct fb_mode m;
    char why[128];
    if (!fb_mode_from_mb2_tag(boot_info.framebuffer_tag, boot_info.framebuffer_tag_size, &m, why,
                              sizeof(why))) {
        klog(LOG_WARN, "screen: the loader's framebuffer is refused: %s; no screen\n", why);
        return false;
    }
    if (m.kind == FB_KIND_EGA_TEXT)
        return start_vga_text(m.addr, m.width, m.height, m.pitch, map);
    return start_framebuffer(&m, map);
}

static void replay_backlog(void)
{
    uint64_t n = backlog_total < BACKLOG_BYTES ? backlog_total : BACKLOG_BYTES;
    for (uint64_t i = backlog_total - n; i < backlog_total; i++)
        textgrid_write(&grid, &backlog[i % BACKLOG_BYTES], 1);
}

void screen_start(volatile void *(*map)(uint64_t phys, uint64_t size), uint64_t tsc_hz)
{
    if (state != STATE_BACKLOG)
        return;
    /* The lines choose_display() logs still go to the backlog, so the screen shows them. */
    if (screen_setting == SCREEN_OFF || !choose_display(map)) {
        state = STATE_OFF;
        console_set_mirror(NULL);
        if (screen_setting == SCREEN_OFF)
            klog(LOG_INFO, "screen: off (screen=off)\n");
        return;
    }
    redraw_gap_min = tsc_hz / REDRAW_MIN_HZ;
    ticks_per_second = tsc_hz;
    replay_backlog();
    state = STATE_LIVE;
    inside = true;
    redraw(true);
    inside = false;
}

/* ---- the verdict ---- */

struct verdict_look {
    const char *word;
    uint8_t rgb[3];             /* the framebuffer band */
    uint8_t attr;               /* the text-mode band: white on this background */
};

static struct verdict_look verdict_look(enum bareio_exit status)
{
    switch (status) {
    case BAREIO_EXIT_PASS: return (struct verdict_look){ "PASS", { 0x00, 0x99, 0x00 }, 0x2f };
    case BAREIO_EXIT_FAIL: return (struct verdict_look){ "FAIL", { 0xcc, 0x00, 0x00 }, 0x4f };
    case BAREIO_EXIT_CRASH: return (struct verdict_look){ "CRASH", { 0xcc, 0x00, 0x00 }, 0x4f };
    default: return (struct verdict_look){ "USAGE", { 0xaa, 0x55, 0x00 }, 0x6f };
    }
}

/* Text rows the framebuffer banner covers: capitals 7 dots tall with two dots
 * of band above and below, a dot four font dots wide. */
static unsigned fb_banner_rows(void)
{
    unsigned band = (FONT_CAP_ROWS + 4) * 4 * scale, row = FONT_CELL_HEIGHT * scale;
    return (band + row - 1) / row;
}

/* With no lines kept, the console's last lines move under the banner:
 * copied out in screen order, the grid cleared, then written back. */
static void keep_console_tail(unsigned first_row)
{
    static struct text_cell tail[SCREEN_MAX_COLS * SCREEN_MAX_ROWS];
    unsigned avail = grid.rows > first_row ? grid.rows - first_row : 0;
    unsigned last = grid.row + 1;       /* rows in use, the cursor's included */
    unsigned n = last < avail ? last : avail;
    for (unsigned r = 0; r < n; r++)
        memcpy(&tail[(size_t)r * grid.cols], textgrid_at(&grid, 0, last - n + r),
               grid.cols * sizeof(tail[0]));
    textgrid_clear(&grid);
    for (unsigned r = 0; r < n; r++)
        memcpy(textgrid_at(&grid, 0, first_row + r), &tail[(size_t)r * grid.cols],
               grid.cols * sizeof(tail[0]));
}

static void compose_verdict(const struct verdict_look *look)
{
    unsigned banner_rows = kind == KIND_FRAMEBUFFER ? fb_banner_rows() : TEXT_BANNER_ROWS;
    if (banner_rows + 1 >= grid.rows)
        banner_rows = 0;                /* a grid too small for a banner: the lines alone */
    if (!kept_len) {
        keep_console_tail(banner_rows + 1);
    } else {
        textgrid_clear(&grid);
        grid.row = banner_rows ? banner_rows + 1 : 0;
        grid.attr = ATTR_KEPT;
        textgrid_write(&grid, kept, kept_len);
    }
    if (kind == KIND_VGA_TEXT && banner_rows)
        textgrid_banner(&grid, 0, look->word, look->attr);
    redraw(true);
    if (kind == KIND_FRAMEBUFFER && banner_rows) {
        uint32_t fg = fb_rgb(&surface, 0xff, 0xff, 0xff);
        uint32_t bg = fb_rgb(&surface, look->rgb[0], look->rgb[1], look->rgb[2]);
        fb_banner(&surface, 0, banner_rows * FONT_CELL_HEIGHT * scale, 4 * scale, look->word, fg, bg);
    }
}

void screen_show_verdict(enum bareio_exit status)
{
    if (inside || (state != STATE_LIVE && state != STATE_VERDICT))
        return;
    inside = true;
    keeping = false;
    state = STATE_VERDICT;              /* from here the console no longer draws */
    struct verdict_look look = verdict_look(status);
    compose_verdict(&look);
    inside = false;
    /* Serial only: the screen no longer follows the console. */
    klog(LOG_DEBUG, "screen: %llu redraws, %llu cells drawn, %llu ms drawing\n",
         (unsigned long long)redraws, (unsigned long long)cells_drawn,
         (unsigned long long)(ticks_per_second ? redraw_ticks * 1000 / ticks_per_second : 0));
}
