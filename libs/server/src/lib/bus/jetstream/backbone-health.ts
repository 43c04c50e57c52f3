import { Injectable } from '@nestjs/common';

/** What one part of the JetStream data path says about itself, for /readyz and the console. */
export interface BackboneCondition {
  readonly ok: boolean;
  /** Why not ok (or what is worth knowing while ok, e.g. records lost to the stream limits). */
  readonly reason?: string;
  readonly detail?: Readonly<Record<string, number | string>>;
}

/**
 * The backbone's conditions in this process (ingest's spool, the persister's backlog), by part.
 * /readyz answers degraded while any is not ok, naming the reason.
 */
@Injectable()
export class BackboneHealth {
  private readonly conditions = new Map<string, BackboneCondition>();

  set(part: string, condition: BackboneCondition): void {
    this.conditions.set(part, condition);
  }

  get ok(): boolean {
    for (const condition of this.conditions.values()) if (!condition.ok) return false;
    return true;
  }

  /** undefined when no part of the backbone runs here. */
  report(): Record<string, BackboneCondition> | undefined {
    if (this.conditions.size === 0) return undefined;
    return Object.fromEntries(this.conditions);
  }
}
