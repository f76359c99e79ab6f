/**
 * Meter register maps are data (config/meters/*.json): which registers hold which measurand, in
 * which encoding. This file checks a map, plans the reads (contiguous blocks per function code)
 * and decodes the answers.
 *
 *   {
 *     "model": "sdm630",
 *     "function": "input" | "holding",      default for every register
 *     "wordOrder": "big" | "little",         32/64-bit values: high word first (big) or last
 *     "maxRegistersPerRead": 80,             the meter's limit per request
 *     "maxGap": 60,                          unused registers a single read may span
 *     "registers": {
 *       "energyImportWh": { "address": 72, "type": "float32", "scale": 1000 },   kWh → Wh
 *       …
 *     }
 *   }
 *
 * Addresses are 0-based protocol addresses (register 30073 in Eastron's manual is address 72).
 * `scale` multiplies the raw number into the unit the measurand's name ends with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptions, OptionError } from '../options-schema.js';
import { registerMapSchema, type MEASURANDS, type REGISTER_TYPES } from './schemas.js';

export { MEASURANDS, REGISTER_TYPES } from './schemas.js';
export type Measurand = (typeof MEASURANDS)[number];
export type RegisterType = (typeof REGISTER_TYPES)[number];
export type RegisterFunction = 'input' | 'holding';
export type WordOrder = 'big' | 'little';

export interface RegisterDef {
  address: number;
  type: RegisterType;
  scale: number;
  function: RegisterFunction;
  wordOrder: WordOrder;
}

export interface RegisterMap {
  model: string;
  description?: string;
  maxRegistersPerRead: number;
  maxGap: number;
  registers: Partial<Record<Measurand, RegisterDef>>;
}

export function wordsOf(type: RegisterType): number {
  return type.endsWith('16') ? 1 : type.endsWith('64') ? 4 : 2;
}

interface RawRegisterMap {
  model: string;
  description?: string;
  function: RegisterFunction;
  wordOrder: WordOrder;
  maxRegistersPerRead: number;
  maxGap: number;
  registers: Partial<Record<Measurand, { address: number; type: RegisterType; scale?: number; function?: RegisterFunction; wordOrder?: WordOrder }>>;
}

/** A register map checked by hal/modbus/schemas.ts registerMapSchema; registers inherit the map's function and word order. */
export function parseRegisterMap(raw: unknown, where: string): RegisterMap {
  const o = checkOptions<RawRegisterMap>(registerMapSchema, raw, where);
  const registers: Partial<Record<Measurand, RegisterDef>> = {};
  for (const [name, d] of Object.entries(o.registers) as [Measurand, NonNullable<RawRegisterMap['registers'][Measurand]>][]) {
    registers[name] = { address: d.address, type: d.type, scale: d.scale ?? 1, function: d.function ?? o.function, wordOrder: d.wordOrder ?? o.wordOrder };
  }
  return { model: o.model, description: o.description, maxRegistersPerRead: o.maxRegistersPerRead, maxGap: o.maxGap, registers };
}

/** config/meters/, found by walking up from this module (works from the source tree and from dist/). */
export function metersDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'config', 'meters');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('config/meters not found above ' + fileURLToPath(import.meta.url));
}

export function loadRegisterMap(model: string, dir = metersDir()): RegisterMap {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(model)) throw new OptionError(`meter model "${model}" is not a valid name`);
  const file = join(dir, `${model}.json`);
  if (!existsSync(file)) throw new OptionError(`meter model "${model}": no register map ${file}`);
  return parseRegisterMap(JSON.parse(readFileSync(file, 'utf8')), file);
}

export interface ReadBlock {
  function: RegisterFunction;
  start: number;
  count: number;
  items: { name: Measurand; def: RegisterDef }[];
}

/** Group registers into as few reads as the map's limits allow. */
export function planReads(map: RegisterMap): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  const entries = (Object.entries(map.registers) as [Measurand, RegisterDef][]).sort(
    (a, b) => a[1].function.localeCompare(b[1].function) || a[1].address - b[1].address,
  );
  for (const [name, def] of entries) {
    const end = def.address + wordsOf(def.type);
    const last = blocks[blocks.length - 1];
    if (
      last &&
      last.function === def.function &&
      def.address - (last.start + last.count) <= map.maxGap &&
      Math.max(end, last.start + last.count) - last.start <= map.maxRegistersPerRead
    ) {
      last.count = Math.max(end, last.start + last.count) - last.start;
      last.items.push({ name, def });
    } else {
      blocks.push({ function: def.function, start: def.address, count: end - def.address, items: [{ name, def }] });
    }
  }
  return blocks;
}

/** Decode one value from the big-endian register bytes of a block. */
export function decodeValue(buf: Buffer, offsetWords: number, def: RegisterDef): number {
  const n = wordsOf(def.type);
  const words: Buffer[] = [];
  for (let i = 0; i < n; i++) words.push(buf.subarray((offsetWords + i) * 2, (offsetWords + i) * 2 + 2));
  if (def.wordOrder === 'little') words.reverse();
  const b = Buffer.concat(words);
  let v: number;
  switch (def.type) {
    case 'float32':
      v = b.readFloatBE(0);
      break;
    case 'int16':
      v = b.readInt16BE(0);
      break;
    case 'uint16':
      v = b.readUInt16BE(0);
      break;
    case 'int32':
      v = b.readInt32BE(0);
      break;
    case 'uint32':
      v = b.readUInt32BE(0);
      break;
    case 'int64':
      v = Number(b.readBigInt64BE(0));
      break;
    case 'uint64':
      v = Number(b.readBigUInt64BE(0));
      break;
  }
  return v * def.scale;
}
