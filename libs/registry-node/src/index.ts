// Reading a registry from disk (YAML or JSON files): the Node-only part of the registry, kept out
// of `@vigil/registry` so that the registry's types, schema and checks are platform-neutral and
// the console imports them as the server does.
export * from './lib/load-registry';
