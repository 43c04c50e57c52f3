import { runVigil } from '@vigil/server';

void runVigil(['ingest']);
