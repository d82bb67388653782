// Marks dist/cjs as CommonJS: the root package.json says "type": "module", and
// both Node and TypeScript (node16/nodenext) take a file's format from the
// nearest package.json.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), '{\n  "type": "commonjs"\n}\n');
