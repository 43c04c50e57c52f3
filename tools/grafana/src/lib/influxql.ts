import type * as cog from '@grafana/grafana-foundation-sdk/cog';

/** A datasource reference as Grafana stores it in a panel or target. */
export interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

/** The target Grafana's InfluxDB datasource runs in InfluxQL raw mode. */
export interface InfluxQLQuery extends cog.Dataquery {
  refId: string;
  datasource: DatasourceRef;
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

/**
 * The foundation SDK has no InfluxDB query builder: this one emits raw InfluxQL targets. Write
 * identifiers double-quoted (`"raw"."telemetry"`, `"lel"`) and strings single-quoted: the lint
 * (lint.ts) checks every quoted identifier against the storage schema.
 */
export class InfluxQLQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: Omit<InfluxQLQuery, '_implementsDataqueryVariant'>;

  constructor(datasource: DatasourceRef, query: string) {
    this.internal = { refId: 'A', datasource, rawQuery: true, query, resultFormat: 'time_series' };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  /** `$tag_device` and friends name each series after a GROUP BY tag. */
  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  table(): this {
    this.internal.resultFormat = 'table';
    return this;
  }

  build(): InfluxQLQuery {
    return { ...this.internal, _implementsDataqueryVariant: () => undefined };
  }
}
