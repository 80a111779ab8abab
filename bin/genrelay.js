#!/usr/bin/env node
// The `genrelay` command: runs the CLI from its TypeScript source through tsx (a dependency), so
// `npx genrelay` works from a checkout and from an install alike, with nothing to build first.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
