/* SPDX-License-Identifier: MIT */
/* lib/font.h — bareio's own bitmap font for the screen console (lib/font.c).
 *
 * A glyph is drawn on a design grid of FONT_DESIGN_COLS x FONT_DESIGN_ROWS
 * dots: rows 0-6 are the capital height, the baseline lies under row 6, rows
 * 7-8 hold descenders (g, j, p, q, y, comma). On the screen a glyph sits in a
 * cell of FONT_CELL_WIDTH x FONT_CELL_HEIGHT dots (one blank column to its
 * right, FONT_CELL_TOP blank rows above, one below), scaled by a whole number
 * for the display's size. Only printable ASCII (0x20-0x7E) has a glyph. */
#ifndef LIB_FONT_H
#define LIB_FONT_H
#include <stdbool.h>
#include <stdint.h>

#define FONT_FIRST        0x20
#define FONT_LAST         0x7e
#define FONT_GLYPHS       (FONT_LAST - FONT_FIRST + 1)
#define FONT_DESIGN_COLS  5
#define FONT_DESIGN_ROWS  9
#define FONT_CAP_ROWS     7         /* rows 0..6: capitals and digits */
#define FONT_CELL_WIDTH   6
#define FONT_CELL_HEIGHT  12
#define FONT_CELL_TOP     2         /* blank cell rows above design row 0 */
_Static_assert(FONT_CELL_WIDTH > FONT_DESIGN_COLS, "a blank column between glyphs");
_Static_assert(FONT_CELL_TOP + FONT_DESIGN_ROWS < FONT_CELL_HEIGHT, "a blank row between lines");
_Static_assert(FONT_CELL_WIDTH <= 8, "a cell row's dots fit the byte fb_draw_cell shifts");

/* The design rows of character c ('#' ink, '.' paper; an empty string is a
 * blank row), or NULL when c has no glyph. */
const char (*font_design(char c))[FONT_DESIGN_COLS + 1];
/* Row `row` of c's design as bits, bit 4 the leftmost dot; a character with
 * no glyph draws as '?'. Rows outside the design are blank. */
uint8_t font_row_bits(char c, int row);
/* Whether dot (x, y) of a whole cell (FONT_CELL_WIDTH x FONT_CELL_HEIGHT,
 * unscaled) is ink. */
bool font_cell_dot(char c, int x, int y);

#endif
