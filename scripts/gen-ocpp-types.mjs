#!/usr/bin/env node
// Writes the request/response TypeScript types of every OCPP 1.6 and 2.0.1 action from the JSON schemas
// ocpp-rpc bundles (the same schemas its strict mode validates every frame against, both ways), so the
// compiler and the wire agree on one source.
//
//   node scripts/gen-ocpp-types.mjs          write src/ocpp/messages/v16.ts and v201.ts
//   node scripts/gen-ocpp-types.mjs --check  exit 1 when the committed files differ from what it would write
//
// Mapping: enums become string-literal unions; 2.0.1 `definitions` become named types (one per name; a
// name defined differently by two messages gets the action as prefix); `required` decides optional
// members; an object without `additionalProperties: false` (CustomDataType) gets an index signature,
// the others are closed interfaces. Nested objects of 1.6 (it has no definitions) stay inline.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const schemaDir = join(dirname(require.resolve('ocpp-rpc/package.json')), 'lib', 'schemas');
const script = relative(root, fileURLToPath(import.meta.url));

const targets = [
  { schema: 'ocpp1_6.json', out: 'src/ocpp/messages/v16.ts', map: 'V16Messages', action: 'V16Action', title: 'OCPP 1.6J' },
  { schema: 'ocpp2_0_1.json', out: 'src/ocpp/messages/v201.ts', map: 'V201Messages', action: 'V201Action', title: 'OCPP 2.0.1' },
];

const ident = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name) => (ident.test(name) ? name : JSON.stringify(name));
const withoutDescriptions = (value) => JSON.stringify(value, (k, v) => (k === 'description' ? undefined : v));

function generate({ schema, map, action, title }) {
  const version = JSON.parse(readFileSync(join(schemaDir, schema), 'utf8'));
  const actions = new Map(); // action -> { req, conf }
  for (const s of version) {
    const m = /^urn:(\w+)\.(req|conf)$/.exec(s.$id);
    if (!m) throw new Error(`${schema}: unexpected $id ${s.$id}`);
    const entry = actions.get(m[1]) ?? {};
    entry[m[2]] = s;
    actions.set(m[1], entry);
  }

  // Named definitions, deduplicated by content (descriptions aside): name -> { text, body }.
  const named = new Map();
  const decls = [];
  /** The type name a $ref of this message resolves to (the message's own definition, deduplicated). */
  function refName(message, schemaOf, ref) {
    const m = /^#\/definitions\/(\w+)$/.exec(ref);
    if (!m) throw new Error(`${message}: unsupported $ref ${ref}`);
    const def = schemaOf.definitions?.[m[1]];
    if (!def) throw new Error(`${message}: $ref ${ref} has no definition`);
    const body = withoutDescriptions(def);
    const seen = named.get(m[1]);
    if (seen === undefined) {
      named.set(m[1], { body, name: m[1] });
      decls.push(declare(m[1], def, (r) => refName(message, schemaOf, r)));
      return m[1];
    }
    if (seen.body === body) return seen.name;
    const alias = `${message}${m[1]}`;
    if (!named.has(alias)) {
      named.set(alias, { body, name: alias });
      decls.push(declare(alias, def, (r) => refName(message, schemaOf, r)));
    }
    return alias;
  }

  function typeOf(s, resolve, indent) {
    if (s.$ref) return resolve(s.$ref);
    if (s.enum) return s.enum.map((v) => `'${v}'`).join(' | ');
    switch (s.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const item = typeOf(s.items ?? {}, resolve, indent);
        return /[|{]/.test(item) ? `Array<${item}>` : `${item}[]`;
      }
      case 'object':
        return objectBody(s, resolve, indent);
      case undefined:
        // No type at all (2.0.1 DataTransfer `data`): any JSON value.
        if (Object.keys(s).every((k) => k === 'description')) return 'unknown';
        throw new Error(`untyped schema ${withoutDescriptions(s)}`);
      default:
        throw new Error(`unsupported schema ${withoutDescriptions(s)}`);
    }
  }

  function objectBody(s, resolve, indent) {
    const required = new Set(s.required ?? []);
    const pad = '  '.repeat(indent + 1);
    const lines = [];
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      lines.push(`${pad}${key(name)}${required.has(name) ? '' : '?'}: ${typeOf(prop, resolve, indent + 1)};`);
    }
    // Open objects (CustomDataType: "can be extended with arbitrary JSON properties").
    if (s.additionalProperties !== false) lines.push(`${pad}[key: string]: unknown;`);
    return lines.length === 0 ? 'Record<string, never>' : `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}`;
  }

  function declare(name, s, resolve) {
    const body = typeOf(s, resolve, 0);
    return s.type === 'object' && body.startsWith('{') ? `export interface ${name} ${body}` : `export type ${name} = ${body};`;
  }

  const messages = [];
  const mapLines = [];
  for (const name of [...actions.keys()].sort()) {
    const { req, conf } = actions.get(name);
    if (!req || !conf) throw new Error(`${schema}: ${name} lacks its ${req ? 'conf' : 'req'} schema`);
    for (const [s, suffix] of [
      [req, 'Request'],
      [conf, 'Response'],
    ]) {
      messages.push(declare(`${name}${suffix}`, s, (r) => refName(name, s, r)));
    }
    mapLines.push(`  ${name}: { request: ${name}Request; response: ${name}Response };`);
  }

  return [
    `// Generated by ${script} from ocpp-rpc's lib/schemas/${schema} (${title}); do not edit.`,
    `// Regenerate with \`npm run gen:ocpp-types\`; \`npm run check:ocpp-types\` (CI) fails when this file is stale.`,
    '',
    '// Types named by the schemas\' definitions.',
    ...decls.flatMap((d) => [d, '']),
    '// One request and one response per action.',
    ...messages.flatMap((d) => [d, '']),
    `/** Every ${title} action with its request and response payload. */`,
    `export interface ${map} {`,
    ...mapLines,
    '}',
    '',
    `export type ${action} = keyof ${map};`,
    '',
  ].join('\n');
}

const check = process.argv.includes('--check');
let stale = 0;
for (const [target, text] of targets.map((t) => [t, generate(t)])) {
  const path = join(root, target.out);
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${target.out} is stale: run npm run gen:ocpp-types and commit the result`);
      stale++;
    }
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${target.out}`);
  }
}
if (stale > 0) process.exit(1);
