export * from './geometry';
export * from './clustering';
export * from './site-config';
export * from './site-state';
export * from './site-rules.reducer';
export * from './site-rules.operator';
