/* SPDX-License-Identifier: MIT */
/* lib/textgrid.h — the screen console's text: a grid of character cells with
 * a cursor, written like a terminal that knows only newline, carriage return
 * and tab. A line longer than the grid wraps; writing past the last row
 * scrolls the grid up one row. The rows are a ring (`top` is the screen's
 * first), so a scroll blanks one row instead of moving the whole grid: under
 * emulation the console scrolls thousands of times a run. The grid is memory
 * only: a display driver (kernel/screen.c) draws the cells that differ from
 * what it drew last, so scrolling never reads a framebuffer back. Attributes are VGA text
 * attributes: low nibble foreground, high nibble background colour. */
#ifndef LIB_TEXTGRID_H
#define LIB_TEXTGRID_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct text_cell {
    uint8_t ch;
    uint8_t attr;
};
_Static_assert(sizeof(struct text_cell) == 2, "one cell is a VGA text-mode character and attribute");

#define TEXT_TAB_STOP 8

struct textgrid {
    struct text_cell *cells;    /* rows * cols, row-major */
    unsigned cols, rows;
    unsigned col, row;          /* the cursor: where the next character goes */
    unsigned top;               /* the cells row shown as row 0 */
    uint8_t attr;               /* attribute of what is written */
    bool changed;               /* a cell changed since textgrid_take_changed() */
};

void textgrid_init(struct textgrid *g, struct text_cell *cells, unsigned cols, unsigned rows,
                   uint8_t attr);
/* Blank cells in the current attribute, cursor home. */
void textgrid_clear(struct textgrid *g);
/* Writes `len` bytes; a byte outside printable ASCII shows as '?'. */
void textgrid_write(struct textgrid *g, const char *s, size_t len);
/* The cell at (col, row) of the screen; NULL outside the grid. A row's cells
 * are contiguous: textgrid_at(g, 0, row)[col]. */
struct text_cell *textgrid_at(struct textgrid *g, unsigned col, unsigned row);
/* Whether any cell changed since the last call (and clears the mark). */
bool textgrid_take_changed(struct textgrid *g);

/* VGA's code page 437 block characters, used for a banner in text mode. */
#define CP437_FULL_BLOCK  0xdb
#define CP437_UPPER_HALF  0xdf
#define CP437_LOWER_HALF  0xdc

/* A large banner of `text` (capitals as lib/font.c draws them) at `row`,
 * centred: each font dot is two cells wide and half a cell tall, drawn with
 * the half-block characters in `attr`, over a band of `attr` background as
 * wide as the grid. Returns the rows used (TEXT_BANNER_ROWS), 0 when the grid
 * is too small for it (nothing drawn then). */
#define TEXT_BANNER_ROWS 6      /* a blank row, 4 rows of 7 dots, a blank row */
unsigned textgrid_banner(struct textgrid *g, unsigned row, const char *text, uint8_t attr);

#endif
