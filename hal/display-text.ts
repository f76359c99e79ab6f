/**
 * Text for character displays: the HD44780's character ROM A00 (the common "Japanese" ROM), fitting
 * logical lines to cols × rows by word wrap, and paging when they do not fit. Shared by the HD44780 driver
 * and the simulated display, so that `sim status` shows what the real LCD would show.
 */
import type { Clock, TimerHandle } from '../base/clock.js';

/**
 * Characters the A00 ROM has outside printable ASCII, by their code there. In A00, 0x5C is ¥ and
 * 0x7E / 0x7F are arrows, so '\\' and '~' must not be sent as themselves (see ASCII_REPLACED).
 */
const A00_CODES: Record<string, number> = {
  '¥': 0x5c,
  '→': 0x7e,
  '←': 0x7f,
  '°': 0xdf,
  'α': 0xe0,
  'ä': 0xe1,
  'β': 0xe2,
  'ε': 0xe3,
  'µ': 0xe4,
  'μ': 0xe4,
  'σ': 0xe5,
  'ρ': 0xe6,
  '√': 0xe8,
  '¢': 0xec,
  'ñ': 0xee,
  'ö': 0xef,
  'θ': 0xf2,
  '∞': 0xf3,
  'Ω': 0xf4,
  'ü': 0xf5,
  'Σ': 0xf6,
  'π': 0xf7,
  '÷': 0xfd,
};

/** Characters with no glyph in A00 that read well as a short ASCII text. */
const SPELLED: Record<string, string> = {
  '€': 'EUR',
  '£': 'GBP',
  'ß': 'ss',
  'Ä': 'Ae',
  'Ö': 'Oe',
  'Ü': 'Ue',
  'Æ': 'AE',
  'æ': 'ae',
  'Ø': 'O',
  'ø': 'o',
  '\\': '/',
  '~': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2018': "'",
  '\u2019': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u2026': '...',
  '\t': ' ',
};

const DECODE = new Map<number, string>(Object.entries(A00_CODES).filter(([c]) => c !== 'μ').map(([c, b]) => [b, c]));

/**
 * Unicode text → the A00 codes to send, one code per character cell (as a string of U+0000–U+00FF so
 * that length and slicing are in cells). What A00 cannot show is spelled out (€ → EUR), stripped of its
 * accent (é → e), or replaced by '?': never sent as a code that would show something else.
 */
export function toA00(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = A00_CODES[ch];
    if (code !== undefined) {
      out += String.fromCharCode(code);
      continue;
    }
    const spelled = SPELLED[ch];
    if (spelled !== undefined) {
      out += spelled;
      continue;
    }
    const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
    for (const b of base) out += /^[\x20-\x5b\x5d-\x7d]$/.test(b) ? b : '?';
  }
  return out;
}

/** A00 codes → Unicode, to show on the simulated display what the LCD would show. */
export function fromA00(cells: string): string {
  let out = '';
  for (const c of cells) out += DECODE.get(c.charCodeAt(0)) ?? c;
  return out;
}

/** Word-wraps one logical line (already in cells) to cols; words longer than cols are cut. */
function wrap(line: string, cols: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ').filter((w) => w.length > 0)) {
    let w = word;
    while (w.length > cols) {
      if (cur) out.push(cur);
      out.push(w.slice(0, cols));
      w = w.slice(cols);
      cur = '';
    }
    if (!w) continue;
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= cols) cur += ' ' + w;
    else {
      out.push(cur);
      cur = w;
    }
  }
  out.push(cur);
  return out;
}

/**
 * Lays logical lines out on cols × rows, in A00 cells, each row padded to cols. Lines that fit stay one
 * row each; when there are more rows' worth than the display has, a line that does not fit is wrapped
 * and the whole is split into pages of `rows` rows (shown in turn by Pager). Lines that fit the row
 * count are only cut (never wrapped), so a two-line status keeps its shape.
 */
export function layout(lines: string[], cols: number, rows: number): string[][] {
  const cells = lines.map(toA00);
  let flat: string[];
  if (cells.length <= rows && cells.every((l) => l.length <= cols)) flat = cells;
  else flat = cells.flatMap((l) => wrap(l, cols));
  if (flat.length === 0) flat = [''];
  const pages: string[][] = [];
  for (let i = 0; i < flat.length; i += rows) {
    const page = flat.slice(i, i + rows);
    while (page.length < rows) page.push('');
    pages.push(page.map((r) => r.slice(0, cols).padEnd(cols, ' ')));
  }
  return pages;
}

/** Shows pages in turn every pageMs on the clock; one page: shown once, no timer. */
export class Pager {
  private timer: TimerHandle | undefined;
  private pages: string[][] = [];
  private index = 0;

  constructor(
    private readonly clock: Clock,
    private readonly paint: (rows: string[]) => Promise<void>,
    private readonly pageMs = 3000,
  ) {}

  show(pages: string[][]): Promise<void> {
    this.clock.clear(this.timer);
    this.timer = undefined;
    this.pages = pages;
    this.index = 0;
    if (pages.length > 1) this.timer = this.clock.setInterval(() => this.next(), this.pageMs);
    return this.paint(pages[0]!);
  }

  private next(): void {
    this.index = (this.index + 1) % this.pages.length;
    this.paint(this.pages[this.index]!).catch(() => undefined); // the driver raises its own fault
  }

  stop(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
  }
}
