// Shared by scripts/backup.mjs and scripts/restore.mjs: options from the command line, falling
// back to the same environment Vigil reads (docs/interfaces.md, Configuration).
import { execFile } from 'node:child_process';

const USAGE_OPTIONS = `
  --data-dir <dir>     Vigil's data dir (VIGIL_DATA_DIR, default data): its alarms/ journal
  --influx-rpc <h:p>   influxd's RPC bind address (default: VIGIL_INFLUX_URL's host, port + 2,
                       as the managed launcher sets it; 127.0.0.1:8088 for a stock influxd)
  --db <name>          the database (VIGIL_INFLUX_DB, default vigil)
  --influxd <path>     the influxd binary (VIGIL_INFLUXD_BINARY, default influxd)
  --no-influx          the alarm journal only`;

export function parseOptions(argv, env, required) {
  const options = {
    dataDir: env.VIGIL_DATA_DIR || 'data',
    db: env.VIGIL_INFLUX_DB || 'vigil',
    influxd: env.VIGIL_INFLUXD_BINARY || 'influxd',
    influx: true,
    rpc: undefined,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a value`);
      i += 1;
      return next;
    };
    if (arg === '--out' || arg === '--from') options.dir = value();
    else if (arg === '--data-dir') options.dataDir = value();
    else if (arg === '--influx-rpc') options.rpc = value();
    else if (arg === '--db') options.db = value();
    else if (arg === '--influxd') options.influxd = value();
    else if (arg === '--no-influx') options.influx = false;
    else throw new Error(`unknown option ${arg}`);
  }
  if (options.dir === undefined) throw new Error(`${required} <dir> is required`);
  if (options.rpc === undefined) {
    const url = new URL(env.VIGIL_INFLUX_URL || 'http://127.0.0.1:8086');
    options.rpc = `${url.hostname}:${Number(url.port || 8086) + 2}`;
  }
  if (!/^[A-Za-z0-9_]+$/.test(options.db))
    throw new Error(`--db: not a database name: ${options.db}`);
  return options;
}

export function usage(command, required) {
  return `usage: npm run ${command} -- ${required} <dir> [options]\n${USAGE_OPTIONS}`;
}

/** Runs influxd with arguments (no shell); rejects with its output on a non-zero exit. */
export function influxd(binary, args) {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(`${binary} ${args.join(' ')} failed: ${stderr || stdout || error.message}`),
        );
      else resolve(`${stdout}${stderr}`);
    });
  });
}
