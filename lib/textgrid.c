/* SPDX-License-Identifier: MIT */
/* lib/textgrid.c — the character grid behind the screen console (see
 * lib/textgrid.h). Scrolling turns the ring of rows by one and marks the
 * grid changed; what reaches the display is decided by the driver's comparison
 * with what it drew, so a burst of scrolls costs one redraw, not one each. */
#include "lib/textgrid.h"
#include "lib/font.h"
#include "lib/string.h"

void textgrid_init(struct textgrid *g, struct text_cell *cells, unsigned cols, unsigned rows,
                   uint8_t attr)
{
    g->cells = cells;
    g->cols = cols;
    g->rows = rows;
    g->attr = attr;
    textgrid_clear(g);
}

static void blank_cells(struct textgrid *g, size_t first, size_t count)
{
    for (size_t i = 0; i < count; i++)
        g->cells[first + i] = (struct text_cell){ ' ', g->attr };
}

void textgrid_clear(struct textgrid *g)
{
    blank_cells(g, 0, (size_t)g->cols * g->rows);
    g->col = g->row = g->top = 0;
    g->changed = true;
}

struct text_cell *textgrid_at(struct textgrid *g, unsigned col, unsigned row)
{
    if (col >= g->cols || row >= g->rows)
        return NULL;
    unsigned physical = row + g->top < g->rows ? row + g->top : row + g->top - g->rows;
    return &g->cells[(size_t)physical * g->cols + col];
}

/* The old first row becomes the new last one, blank. */
static void scroll_up(struct textgrid *g)
{
    blank_cells(g, (size_t)g->top * g->cols, g->cols);
    g->top = g->top + 1 < g->rows ? g->top + 1 : 0;
}

static void new_line(struct textgrid *g)
{
    g->col = 0;
    if (g->row + 1 < g->rows)
        g->row++;
    else
        scroll_up(g);
    g->changed = true;
}

static void put_char(struct textgrid *g, uint8_t c)
{
    if (g->col == g->cols)
        new_line(g);            /* wrap only when a character needs the room */
    *textgrid_at(g, g->col, g->row) = (struct text_cell){ c, g->attr };
    g->col++;
    g->changed = true;
}

void textgrid_write(struct textgrid *g, const char *s, size_t len)
{
    if (!g->cols || !g->rows)
        return;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '\n') {
            new_line(g);
        } else if (c == '\r') {
            g->col = 0;
        } else if (c == '\t') {
            do
                put_char(g, ' ');
            while (g->col % TEXT_TAB_STOP && g->col < g->cols);
        } else {
            put_char(g, c >= FONT_FIRST && c <= FONT_LAST ? c : '?');
        }
    }
}

bool textgrid_take_changed(struct textgrid *g)
{
    bool changed = g->changed;
    g->changed = false;
    return changed;
}

/* Two font rows (top, bottom) as one text row: which half-block each dot pair is. */
static uint8_t half_block(bool top, bool bottom)
{
    if (top && bottom)
        return CP437_FULL_BLOCK;
    if (top)
        return CP437_UPPER_HALF;
    return bottom ? CP437_LOWER_HALF : ' ';
}

#define BANNER_DOT_CELLS 2                      /* cells per font dot, across */
#define BANNER_GLYPH_CELLS ((FONT_DESIGN_COLS + 1) * BANNER_DOT_CELLS)

static void banner_glyph(struct textgrid *g, unsigned col, unsigned row, char c, uint8_t attr)
{
    for (unsigned r = 0; r < (FONT_CAP_ROWS + 1) / 2; r++) {
        uint8_t top = font_row_bits(c, (int)(2 * r)), bottom = font_row_bits(c, (int)(2 * r + 1));
        if (2 * r + 1 >= FONT_CAP_ROWS)
            bottom = 0;
        for (unsigned x = 0; x < FONT_DESIGN_COLS; x++) {
            unsigned bit = FONT_DESIGN_COLS - 1 - x;
            uint8_t ch = half_block((top >> bit) & 1, (bottom >> bit) & 1);
            for (unsigned k = 0; k < BANNER_DOT_CELLS; k++)
                *textgrid_at(g, col + x * BANNER_DOT_CELLS + k, row + r) = (struct text_cell){ ch, attr };
        }
    }
}

unsigned textgrid_banner(struct textgrid *g, unsigned row, const char *text, uint8_t attr)
{
    size_t n = strlen(text);
    size_t width = n * BANNER_GLYPH_CELLS;
    if (row + TEXT_BANNER_ROWS > g->rows || width > g->cols)
        return 0;
    for (unsigned r = row; r < row + TEXT_BANNER_ROWS; r++)
        for (unsigned c = 0; c < g->cols; c++)
            *textgrid_at(g, c, r) = (struct text_cell){ ' ', attr };
    /* The last glyph's trailing blank column is not part of the word: centre without it. */
    unsigned col = (unsigned)((g->cols - (width - BANNER_DOT_CELLS)) / 2);
    for (size_t i = 0; i < n; i++)
        banner_glyph(g, col + (unsigned)i * BANNER_GLYPH_CELLS, row + 1, text[i], attr);
    g->changed = true;
    return TEXT_BANNER_ROWS;
}
