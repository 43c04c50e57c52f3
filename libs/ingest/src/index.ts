// What a device message becomes a record by, the one copy: the ingest service and the replay tool
// (`tools/replay`) both decode, validate, convert units and judge `seq` with these functions, so a
// replayed recording is evaluated exactly as it was live.
export * from './lib/validate-message';
export * from './lib/normalise';
export * from './lib/seq-tracker';
