import { Injectable } from '@nestjs/common';

/**
 * Where the process stands in its start and stop order (bootstrap.ts, docs/reliability.md,
 * "Start and stop order"): `starting` until ingest has connected to the broker, which is last,
 * after every service downstream of it is ready; `stopping` from the first step of the stop.
 * /readyz answers 503 `not-ready` with the phase while it is not `running`.
 */
export type LifecyclePhase = 'starting' | 'running' | 'stopping';

@Injectable()
export class Lifecycle {
  private current: LifecyclePhase = 'starting';

  get phase(): LifecyclePhase {
    return this.current;
  }

  running(): void {
    if (this.current === 'starting') this.current = 'running';
  }

  stopping(): void {
    this.current = 'stopping';
  }
}
