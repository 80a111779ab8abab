import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, withReadmeTable } from './config-docs.js';

/**
 * `npm run docs:config`: writes the README's configuration table and `.env.example` from
 * src/shared/config-table.ts. Run from the repository's root.
 */
const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', withReadmeTable(readme));
writeFileSync('.env.example', renderEnvExample());
console.log('wrote the configuration table in README.md and .env.example');
