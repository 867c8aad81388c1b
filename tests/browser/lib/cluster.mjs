// A throwaway PostgreSQL server and real wasmcron replicas, as child processes.
//
// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user in a
// directory handed to that user (like tests/src/pg.rs). Everything started here is stopped by
// `stopAll()`, which main.mjs calls however the run ends.
//
// No port is chosen ahead of its use, so none can be taken in between: PostgreSQL listens on a
// Unix socket in its own directory only, and a replica listens on `127.0.0.1:0` and logs the
// address it bound, which `startReplica` reads back.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { waitFor } from './runner.mjs';

const PG_BIN = process.env.WASMCRON_PG_BIN || '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid && process.getuid() === 0;
const cleanups = [];

function pgCommand(tool, args) {
  const bin = path.join(PG_BIN, tool);
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' }).toString();
}

/** Start a fresh PostgreSQL cluster; returns `{ url(db), createDatabase(name) }`. */
export async function startPostgres() {
  if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(`PostgreSQL server binaries not found in ${PG_BIN} (apt-get install postgresql-15, or set WASMCRON_PG_BIN)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmcron-browser-pg-'));
  if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  // The port only names the socket file (`.s.PGSQL.5432`) in `dir`; no TCP port is opened.
  const port = 5432;
  pgCommand('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  pgCommand('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o',
    `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=off -c max_connections=200`, 'start']);
  cleanups.push(() => {
    try { pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); } catch { /* already stopped */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: (db = 'postgres') => `postgresql://postgres@${encodeURIComponent(dir)}/${db}`,
    createDatabase: (name) => pgCommand('createdb', ['-h', dir, '-p', String(port), '-U', 'postgres', name]),
  };
}

/** The wasmcron binary under test. */
export function binary(repo) {
  const bin = process.env.WASMCRON_BIN || path.join(repo, 'target/debug/wasmcron');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build -p wasmcron (or set WASMCRON_BIN)`);
  return bin;
}

/** The address in a replica's "wasmcron replica serving ... listen=ADDR" log line, if logged. */
function servingAddress(log) {
  const plain = log.replace(/\x1b\[[0-9;]*m/g, '');
  const line = plain.split('\n').find((l) => l.includes('wasmcron replica serving'));
  // The field after it (`db=`) shows the line is whole, not cut inside the port.
  const match = line && line.match(/\blisten=(\S+) /);
  return match ? match[1] : null;
}

/** A running replica: `{ id, base, log(), kill(), alive }`. */
export async function startReplica({ bin, db, id, plugins, args = [], env = {} }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wasmcron-browser-${id}-`));
  const logPath = path.join(dir, 'log');
  const out = fs.openSync(logPath, 'w');
  const child = spawn(bin, ['serve', '--db', db, '--plugins', plugins, '--cache-dir', path.join(dir, 'cache'),
    '--listen', '127.0.0.1:0', '--instance-id', id, ...args], {
    stdio: ['ignore', out, out],
    env: { ...process.env, WASMCRON_LOG: 'info', ...env },
  });
  const replica = {
    id,
    base: null,
    alive: true,
    log: () => fs.readFileSync(logPath, 'utf8'),
    kill(signal = 'SIGKILL') {
      if (!this.alive) return;
      this.alive = false;
      child.kill(signal);
    },
  };
  child.on('exit', () => { replica.alive = false; });
  cleanups.push(() => {
    replica.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(`replica ${id} binds its address`, 30_000, () => {
    if (!replica.alive) throw new Error(`replica ${id} exited:\n${replica.log()}`);
    const address = servingAddress(replica.log());
    if (address) replica.base = `http://${address}`;
    return address;
  });
  await waitFor(`replica ${id} answers /healthz`, 30_000, async () => {
    if (!replica.alive) throw new Error(`replica ${id} exited:\n${replica.log()}`);
    try {
      return (await fetch(`${replica.base}/healthz`)).ok;
    } catch {
      return false;
    }
  });
  return replica;
}

/** A fresh directory, removed by `stopAll()`. */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stop everything this module started (newest first). */
export function stopAll() {
  while (cleanups.length) {
    try { cleanups.pop()(); } catch (e) { console.error('cleanup:', e.message); }
  }
}
