import { openMigratedStore } from '../adapters.js';
import { loadConfig, redactConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/errors.js';
import { createLogger, createServiceLogger, type Logger } from '../lib/logger.js';
import { startHsi } from '../main.js';
import { parseRoles, type Role } from '../roles.js';
import { openStore, storeOptionsFrom } from '../storage/connect.js';
import type { Store } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { importCommand, reprocessCommand, retentionCommand } from './cli-ops.js';
import { createDbLogStream } from './db-log-stream.js';
import { defaultDoctorDeps, runDoctor } from './doctor.js';
import { householdCommand } from './household-commands.js';
import { listDeadLetters, requeueDeadLetters, showStatus } from './media-commands.js';
import { onStopSignals } from './stop-signals.js';

/** The `hsi` commands once the arguments are parsed (src/cli.ts): each returns the process's exit status. */

export interface CommandOptions {
  config?: string | undefined;
  roles?: string | undefined;
  camera?: string | undefined;
  all?: boolean | undefined;
  name?: string | undefined;
  role?: string | undefined;
  trust?: string | undefined;
  photo?: string[] | undefined;
}

export async function runCommand(command: string, rest: string[], values: CommandOptions): Promise<number> {
  if (command === 'doctor') {
    // An invalid configuration is the first failing check, not an exit before the report.
    let loaded: Config | Error;
    try {
      loaded = loadConfig({ configFile: values.config }).config;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      loaded = error;
    }
    return runDoctor(loaded, defaultDoctorDeps(createLogger('error', process.stderr)), process.stdout);
  }
  const { config } = loadConfig({ configFile: values.config });
  const log = createLogger(config.log.level);
  switch (command) {
    case 'run':
      return run(config, parseRoles(values.roles ?? process.env.HSI_ROLES));
    case 'migrate':
      return migrateCommand(config, log);
    case 'status':
      return withStore(config, log, (store) => showStatus(store, process.stdout));
    case 'dead-letters':
      return withStore(config, log, (store) => listDeadLetters(store, process.stdout));
    case 'requeue':
      return withStore(config, log, (store) =>
        requeueDeadLetters(store, config, log, { all: values.all === true, ids: rest.map(Number) }, process.stdout),
      );
    case 'retention':
      return withStore(config, log, (store) => retentionCommand(store, config, log, process.stdout));
    case 'reprocess':
      return withStore(config, log, (store) => reprocessCommand(store, config, log, rest[0], process.stdout));
    case 'import':
      return withStore(config, log, (store) =>
        importCommand(store, config, log, rest[0], values.camera, process.stdout),
      );
    case 'household':
      return withStore(config, log, (store) => householdCommand(store, config, log, rest, values, process.stdout));
    default:
      process.stderr.write(`hsi: unknown command: ${command}\n`);
      return 2;
  }
}

/** Applies what is pending and says what it applied (the other commands migrate silently before they run). */
async function migrateCommand(config: Config, log: Logger): Promise<number> {
  const store = await openStore(storeOptionsFrom(config, log, 2));
  try {
    const applied = await migrate(store, log);
    process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

async function withStore(config: Config, log: Logger, fn: (store: Store) => Promise<void>): Promise<number> {
  const store = await openMigratedStore(config, log, 2);
  try {
    await fn(store);
    return 0;
  } finally {
    await store.close();
  }
}

async function run(config: Config, roles: Set<Role>): Promise<number> {
  // Warnings and errors also go to the `logs` table once the database is open.
  const dbLog = createDbLogStream({ component: 'hsi' });
  const log = createServiceLogger(config.log.level, dbLog.stream);
  // Listening from the start: a Ctrl-C during start-up stops the service once it has started, cleanly.
  let requestStop: (signal: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  let exitNow: (code: number) => void = () => undefined;
  const forced = new Promise<number>((resolve) => {
    exitNow = resolve;
  });
  onStopSignals({
    stop(signal) {
      log.info({ signal }, 'stopping');
      requestStop(signal);
    },
    ignored: (signal) => log.debug({ signal }, 'repeated signal ignored (one Ctrl-C, also forwarded by a parent)'),
    exitNow(signal) {
      log.warn({ signal }, 'second signal: exiting now');
      exitNow(1);
    },
  });
  return Promise.race([forced, serve(config, roles, log, dbLog, stopRequested)]);
}

/** Starts the service, waits for the stop request, stops it; 0 when everything stopped cleanly. */
async function serve(
  config: Config,
  roles: Set<Role>,
  log: Logger,
  dbLog: ReturnType<typeof createDbLogStream>,
  stopRequested: Promise<string>,
): Promise<number> {
  log.debug({ config: redactConfig(config) }, 'configuration');
  const hsi = await startHsi(config, log, { roles });
  dbLog.attach(hsi.store.db);
  await stopRequested;
  try {
    await dbLog.flush();
    await hsi.stop();
    await dbLog.close();
  } catch (error) {
    log.error({ err: error }, 'stop failed');
    return 1;
  }
  log.info('stopped');
  return 0;
}
