#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, redactConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { AppError, errorMessage } from './lib/errors.js';
import { createLogger, createServiceLogger, type Logger } from './lib/logger.js';
import { startHsi } from './main.js';
import { importCommand, reprocessCommand, retentionCommand } from './ops/cli-ops.js';
import { createDbLogStream } from './ops/db-log-stream.js';
import { defaultDoctorDeps, runDoctor } from './ops/doctor.js';
import { listDeadLetters, requeueDeadLetters, showStatus } from './ops/media-commands.js';
import { openStore, storeOptionsFrom } from './storage/connect.js';
import { migrate } from './storage/migrate.js';
import { parseRoles, type Role } from './wiring/roles.js';

const USAGE = `Usage: hsi <command> [options]

Commands:
  run                 start the service (watch media_root, detect, analyse, publish)
  doctor              check configuration, folders, model, ffmpeg, database, Redis, broker and LLM
  migrate             apply database migrations and exit
  status              count media files by status
  dead-letters        list files whose detection failed after every retry
  requeue [ID…|--all] put failed files back in the queue
  retention           remove what the retention settings say is due, now
  reprocess TARGET    detect again every file of a camera id or a folder (resumable)
  import FOLDER       copy and ingest an archive folder (--camera NAME puts it all in one camera)

Options:
  -c, --config FILE   configuration file (default: $HSI_CONFIG, else ./config.yaml when present)
  --roles LIST        with run: ingest,detect,analyze,bridge,api (default: all, or $HSI_ROLES); splitting
                      roles across processes needs PostgreSQL and Redis
  -h, --help          show this help
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      roles: { type: 'string' },
      camera: { type: 'string' },
      all: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'help', ...rest] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
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
      return withStore(config, log, async (store) => {
        const applied = await migrate(store, log);
        process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
      });
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
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

async function withStore(
  config: Config,
  log: Logger,
  fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<void>,
): Promise<number> {
  const store = await openStore(storeOptionsFrom(config, log, 2));
  try {
    await migrate(store, log);
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
  log.debug({ config: redactConfig(config) }, 'configuration');
  const hsi = await startHsi(config, log, { roles });
  dbLog.attach(hsi.store.db);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      dbLog
        .flush()
        .then(() => hsi.stop())
        .then(
          () => dbLog.close().then(() => resolve(0)),
          (error: unknown) => {
            log.error({ err: error }, 'stop failed');
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof AppError) {
      process.stderr.write(`hsi: ${error.message}\n`);
      process.exit(error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_FILE' ? 2 : 1);
    }
    process.stderr.write(`hsi: ${errorMessage(error)}\n`);
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
