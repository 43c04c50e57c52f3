export * from './lib/spool';
