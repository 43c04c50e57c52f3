import { runCredentialsCli } from '@vigil/server';

// `npm run credentials -- issue|rotate|revoke|list|mosquitto …`: device credentials for the MQTT
// broker (docs/security.md). Secrets are printed once; only their hashes are stored.
void runCredentialsCli(process.argv.slice(2), process.env, {
  out: line => process.stdout.write(`${line}\n`),
  err: line => process.stderr.write(`${line}\n`),
}).then(code => {
  process.exitCode = code;
});
