#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AppError, errorMessage } from './lib/errors.js';
import { commandUsage, findCommand, generalUsage } from './ops/cli-usage.js';

/** Options every command accepts; each command reads the ones its usage names. */
const OPTIONS = {
  config: { type: 'string', short: 'c' },
  roles: { type: 'string' },
  camera: { type: 'string' },
  all: { type: 'boolean' },
  name: { type: 'string' },
  role: { type: 'string' },
  trust: { type: 'string' },
  photo: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    process.stderr.write(`hsi: ${errorMessage(error)}\n\n${generalUsage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  // No command runs the service: `npm start` and `npm start -- --roles detect` both mean `hsi run`.
  const [command = 'run', ...rest] = positionals;
  if (command === 'help') {
    const about = rest[0] === undefined ? undefined : findCommand(rest[0]);
    process.stdout.write(about === undefined ? generalUsage() : commandUsage(about));
    return 0;
  }
  const about = findCommand(command);
  if (about === undefined) {
    process.stderr.write(`hsi: unknown command: ${command}\n\n${generalUsage()}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(positionals.length === 0 ? generalUsage() : commandUsage(about));
    return 0;
  }
  // The commands load the database, the detector and the rest only now: usage and argument errors answer at once.
  const { runCommand } = await import('./ops/cli-commands.js');
  return runCommand(command, rest, values);
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
