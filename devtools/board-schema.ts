/**
 * `npm run schema:boards`: writes config/boards/board.schema.json (for editors) from the schemas the
 * profile loader and the drivers use (hal/profile-schema.ts editorBoardSchema). The file is generated:
 * a test fails when it differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorBoardSchema } from '../hal/profile-schema.js';
import { packageConfigDir } from '../src/config/paths.js';

export function boardSchemaText(): string {
  return `${JSON.stringify(editorBoardSchema(), null, 2)}\n`;
}

const file = join(packageConfigDir(), 'boards', 'board.schema.json');
writeFileSync(file, boardSchemaText());
console.log(`wrote ${file}`);
