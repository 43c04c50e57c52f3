import type { AlarmUpdate } from '../bus/pipeline-bus';

/** An alarm update and its position in the durable alarm log (the WebSocket `seq`). */
export interface SequencedUpdate {
  readonly seq: number;
  readonly update: AlarmUpdate;
}

/**
 * Where the WebSocket's alarm seqs come from when they outlive the gateway process
 * (docs/interfaces.md §Resume across restarts): VIGIL_ALARMS in jetstream mode (AlarmStream),
 * the spool's alarm lane in the all-in-one mode (SpoolAlarmLog). A console's (lastSeq, epoch)
 * keeps its meaning across a restart, and what it missed is read back from here.
 */
export interface DurableAlarmLog {
  /** Names the sequence space: a different epoch means old seqs mean nothing here. */
  readonly epoch: string;
  /**
   * Other gateways follow the same log (jetstream): a console may be ahead of this one. When
   * false (one process), a console ahead of the log lost its seqs with it and gets a snapshot.
   */
  readonly shared: boolean;
  /**
   * The alarm updates with `after < seq <= until`, in order; undefined when the log no longer
   * holds all of them (a snapshot is sent then).
   */
  read(after: number, until: number): Promise<SequencedUpdate[] | undefined>;
}
