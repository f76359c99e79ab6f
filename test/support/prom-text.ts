/**
 * A small strict parser of the Prometheus text exposition format 0.0.4, for the /metrics tests: every
 * sample belongs to a family declared by # TYPE before it, names and labels follow the grammar,
 * values are numbers, and counters end in _total (histograms: _bucket with le, _sum, _count).
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: not a number: ${text}`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without =`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const n = text[++j];
        value += n === 'n' ? '\n' : n;
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`line ${line}: unterminated label value`);
    if (name in out) throw new Error(`line ${line}: label ${name} twice`);
    out[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`line ${line}: expected , between labels`);
  }
  return out;
}

export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const helps = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name!)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (kind === 'HELP') helps.set(name!, rest!);
      else {
        if (families.has(name!)) throw new Error(`line ${line}: TYPE of ${name} twice`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest!)) throw new Error(`line ${line}: bad type ${rest}`);
        families.set(name!, { name: name!, type: rest as PromFamily['type'], help: helps.get(name!) ?? '', samples: [] });
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name, labelText, valueText] = m;
    const family =
      families.get(name!) ??
      [...families.values()].find((f) => (f.type === 'histogram' || f.type === 'summary') && /_(bucket|sum|count)$/.test(name!) && name!.replace(/_(bucket|sum|count)$/, '') === f.name);
    if (!family) throw new Error(`line ${line}: sample ${name} before its # TYPE`);
    if (family.type === 'counter' && !name!.endsWith('_total')) throw new Error(`line ${line}: counter ${name} does not end in _total`);
    const labels = labelText ? parseLabels(labelText, line) : {};
    if (name!.endsWith('_bucket') && family.type === 'histogram' && !('le' in labels)) throw new Error(`line ${line}: bucket without le`);
    family.samples.push({ name: name!, labels, value: parseValue(valueText!, line) });
  });
  return families;
}

/** The value of one sample, by exact name and labels (all given labels must match). */
export function sampleValue(f: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const fam of f.values()) {
    for (const s of fam.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
