import { startInfluxd } from '@vigil/testing';
import { InfluxV1Store } from './influx-v1-store';
import { BatchingWriter } from './batching-writer';
import { readingLine, type WriteLine } from './schema';
jest.setTimeout(120_000);
it('bench', async () => {
  const influx = await startInfluxd();
  const store = new InfluxV1Store({ url: influx.url });
  await store.ensureSchema();
  const base = Date.now() - 3_600_000;
  let run = 0;
  const make = (N: number): WriteLine[] => {
    run += 1;
    const out: WriteLine[] = [];
    for (let i = 0; i < N; i++) out.push(readingLine({ siteId: 'plant-1', deviceId: `d-${i % 500}`, deviceClass: 'electrical-fire', areaId: 'a1', ts: base + run * 100_000 + Math.floor(i / 500), receivedAt: base, seq: i, deviceTime: true, values: { leak_ma: (i % 300) + 0.5, temp_c: 20.25, arc: 0 } }));
    return out;
  };
  let t0 = performance.now();
  const lines = make(200_000);
  console.log(`encode: ${(200_000 / (performance.now() - t0) * 1000).toFixed(0)} lines/s`);
  // Raw store writes, no writer.
  t0 = performance.now();
  for (let i = 0; i < lines.length; i += 5000) await store.write(lines.slice(i, i + 5000));
  console.log(`store.write sequential 5000: ${(200_000 / (performance.now() - t0) * 1000).toFixed(0)} lines/s`);
  for (const conc of [1, 2]) {
    const batch = make(200_000);
    const writer = new BatchingWriter(store, { batchSize: 5000, maxConcurrentWrites: conc });
    t0 = performance.now();
    for (let i = 0; i < batch.length; i += 100) writer.offer(batch.slice(i, i + 100));
    await writer.flush();
    console.log(`writer conc ${conc}: ${(200_000 / (performance.now() - t0) * 1000).toFixed(0)} lines/s ${JSON.stringify(writer.stats())}`);
  }
  await influx.stop();
});
