#!/usr/bin/env node
// The benchmark's one command: `node bench/run.mjs [--quick] [options]` (--help lists them).
// The benchmark itself is TypeScript in bench/src, built into dist/ with the rest of the
// workspace (scripts/build.mjs); this launcher builds when dist/ lacks it (or with --build), then
// runs it. It installs the Node-RED peer into bench/.peer (ignored by git) when missing.
import { launchBuilt } from './script-common.mjs';

launchBuilt('bench', 'dist/bench/src/main.js', 'dist/apps/vigil/src/main.js');
