import { runVigil } from '@vigil/server';

void runVigil(['rules']);
