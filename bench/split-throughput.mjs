#!/usr/bin/env node
// `node bench/split-throughput.mjs [--docs] [options]` (--help lists them): the split deployment
// (ingest, rules, persister, gateway on JetStream) beside the all-in-one process at stepped rates,
// and the JetStream hop's cost end to end (issue 12). The benchmark is TypeScript
// (bench/src/split.ts), built into dist/bench with the rest; this launcher builds when dist/ lacks
// it (or with --build), then runs it.
import { launchBuilt } from './script-common.mjs';

launchBuilt('split', 'dist/bench/src/split.js', 'dist/apps/ingest/src/main.js');
