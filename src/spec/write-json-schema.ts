/** `npm run schema`: regenerates docs/job.schema.json from the zod schema. */
import { writeFileSync } from 'node:fs';
import { jobJsonSchemaText } from './json-schema.js';

const target = process.argv[2] ?? 'docs/job.schema.json';
writeFileSync(target, jobJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
