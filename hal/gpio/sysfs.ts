/**
 * Legacy sysfs GPIO numbers carry the gpiochip's base offset: on kernels 6.6+ the Raspberry Pi's
 * header chip starts at 512 (Pi 4: pinctrl-bcm2711) or 571 (Pi 5: pinctrl-rp1) instead of 0.
 * Board profiles use BCM numbers; this finds the base to add, from /sys/class/gpio/gpiochip*.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Header GPIO controllers, most specific first (a Pi 5 also has a pinctrl-bcm2712 chip that is not the header). */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835', 'pinctrl-bcm2712'];

export interface GpioChip {
  name: string;
  base: number;
  label: string;
}

export function listChips(sysfsRoot = '/sys/class/gpio'): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(sysfsRoot).filter((n) => /^gpiochip\d+$/.test(n));
  } catch (err) {
    throw new Error(`cannot read ${sysfsRoot} (${(err as Error).message}): is the sysfs GPIO interface available?`, { cause: err });
  }
  return names.map((name) => {
    const read = (f: string): string => readFileSync(join(sysfsRoot, name, f), 'utf8').trim();
    return { name, base: Number.parseInt(read('base'), 10), label: read('label') };
  });
}

/** The chip whose lines are the header's BCM GPIOs: the one labelled `label`, or the best known one. */
export function findHeaderChip(sysfsRoot = '/sys/class/gpio', label?: string): GpioChip {
  const chips = listChips(sysfsRoot);
  const wanted = label ? [label] : HEADER_CHIP_LABELS;
  for (const l of wanted) {
    const chip = chips.find((c) => c.label === l);
    if (chip && Number.isInteger(chip.base)) return chip;
  }
  const seen = chips.map((c) => `${c.name} (${c.label}, base ${c.base})`).join(', ') || 'none';
  throw new Error(`no GPIO chip labelled ${wanted.join(' or ')} under ${sysfsRoot} (found: ${seen}); set "chipLabel" or "gpioBase" in the board profile`);
}
