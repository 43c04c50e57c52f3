import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { leakAndFlapperRecording, stuckSensorRecording } from './lib/samples';

/** Writes the sample recordings (see lib/samples.ts). */
const dir = join(__dirname, '..', 'samples');
writeFileSync(join(dir, 'leak-and-flapper.jsonl'), leakAndFlapperRecording());
writeFileSync(join(dir, 'stuck-sensor.csv'), stuckSensorRecording());
process.stdout.write(`samples written to ${dir}\n`);
