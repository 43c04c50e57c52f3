// Appends to a spool until killed, printing the seq of each entry once durable() resolved for it.
// Run by spool.crash.spec.ts (SIGKILL mid-appends): every printed seq must survive the kill.
import { Spool } from './spool';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: crash-child <dir>');
const spool = Spool.open({
  dir,
  maxBytes: 256 * 1024 * 1024,
  fsyncMs: 2,
  segmentBytes: 256 * 1024,
});
let seq = spool.lastSeq;
const payload = (n: number) => `entry ${n} ${'p'.repeat(n % 300)}`;
function burst(): void {
  for (let i = 0; i < 200; i += 1) {
    const written = spool.append(payload(seq + 1));
    seq = written;
    void spool.durable(written).then(() => process.stdout.write(`${written}\n`));
  }
  setImmediate(burst);
}
burst();
