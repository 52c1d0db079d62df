#!/usr/bin/env node
// Installed entry point: the compiled CLI (run `npm run build` first when working from a clone).
import '../dist/src/cli/main.js';
