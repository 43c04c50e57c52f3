import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The gateway added to the copy, and the devices that report through it. */
export const SAMPLE_GATEWAY = {
  siteId: 'plant-1',
  gatewayId: 'gw-tf',
  children: ['gc-tf-01', 'gc-tf-02'],
} as const;

/**
 * Copies the sample registry into `into` with a gateway added: `gw-tf` in the tank farm, with
 * `gc-tf-01` and `gc-tf-02` behind it. The sample itself has no gateway and other tests count its
 * devices, so tests of root-cause behaviour (parent-offline suppression) use this copy. The
 * registry has no gateway device class: like a master detector relaying a loop, `gw-tf` is a
 * combustible detector that other detectors report through.
 */
export function sampleRegistryWithGateway(sampleDir: string, into: string): string {
  mkdirSync(into, { recursive: true });
  for (const file of readdirSync(sampleDir)) {
    if (!/\.ya?ml$/.test(file)) continue;
    copyFileSync(join(sampleDir, file), join(into, file));
  }
  const sitePath = join(into, 'site-plant-1.yaml');
  let site = readFileSync(sitePath, 'utf8');
  const devices = '    devices:\n';
  if (!site.includes(devices)) throw new Error(`${sitePath}: no "devices:" list to extend`);
  site = site.replace(
    devices,
    `${devices}      - { id: gw-tf, class: gas-combustible, profile: catalytic-ch4, area: tank-farm, position: [40, 170], name: 罐区网关 Tank-farm gateway }\n`,
  );
  for (const child of SAMPLE_GATEWAY.children) {
    const entry = `{ id: ${child}, `;
    if (!site.includes(entry)) throw new Error(`${sitePath}: device ${child} not found`);
    site = site.replace(entry, `${entry}gateway: ${SAMPLE_GATEWAY.gatewayId}, `);
  }
  writeFileSync(sitePath, site);
  return into;
}
