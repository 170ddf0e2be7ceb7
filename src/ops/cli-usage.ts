/**
 * What `hsi --help` and `hsi <command> --help` print: one entry per command, its synopsis, a one-line summary (the
 * general usage lists those) and what else there is to know. The README's command table lists the same commands.
 */

export interface CommandHelp {
  name: string;
  /** Arguments after the command name, as typed. */
  synopsis: string;
  summary: string;
  /** More lines for `hsi <command> --help`: options and what the command does in detail. */
  details: string[];
}

const CONFIG_OPTION =
  '  -c, --config FILE   configuration file (default: $HSI_CONFIG, else ./config.yaml when present)';

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'run',
    synopsis: '[-c FILE] [--roles LIST]',
    summary: 'start the service (watch media_root, detect, analyse, publish); the default command',
    details: [
      'Runs until SIGINT (Ctrl-C) or SIGTERM, then stops cleanly and logs "stopped". A second signal more than',
      '2 s after the first exits at once.',
      '',
      CONFIG_OPTION,
      '  --roles LIST        ingest,detect,enrich,analyze,bridge,api (default: all, or $HSI_ROLES); splitting roles',
      '                      across processes needs PostgreSQL and Redis',
    ],
  },
  {
    name: 'doctor',
    synopsis: '[-c FILE]',
    summary: 'check configuration, folders, model, ffmpeg, database, Redis, broker and LLM',
    details: [
      'Prints one line per check (ok, WARN, FAIL with what to fix, or skip with why); exits 1 when a check failed.',
      '',
      CONFIG_OPTION,
    ],
  },
  {
    name: 'migrate',
    synopsis: '[-c FILE]',
    summary: 'apply database migrations and exit (also applied at every start)',
    details: [CONFIG_OPTION],
  },
  {
    name: 'status',
    synopsis: '[-c FILE]',
    summary: 'count media files by status, and files refused before they got a row',
    details: [
      'On the embedded database, stop the service first: the database belongs to one process.',
      '',
      CONFIG_OPTION,
    ],
  },
  {
    name: 'dead-letters',
    synopsis: '[-c FILE]',
    summary: 'list files whose detection failed after every retry, with the error',
    details: [CONFIG_OPTION],
  },
  {
    name: 'requeue',
    synopsis: 'ID… | --all',
    summary: 'put failed files back in the queue',
    details: [
      'IDs are those `hsi dead-letters` lists. With Redis the jobs are queued at once; on the embedded backends the',
      'files are processed at the next start.',
      '',
      '  --all               every failed file',
      CONFIG_OPTION,
    ],
  },
  {
    name: 'retention',
    synopsis: '[-c FILE]',
    summary: 'remove what the retention settings say is due, now',
    details: ['Prints what was removed.', '', CONFIG_OPTION],
  },
  {
    name: 'reprocess',
    synopsis: 'CAMERA|FOLDER',
    summary: 'detect again every file of a camera id or a folder (resumable)',
    details: [
      'CAMERA is a camera id (front_door); FOLDER a folder under media_root. Running it again resumes an',
      'unfinished run.',
      '',
      CONFIG_OPTION,
    ],
  },
  {
    name: 'import',
    synopsis: 'FOLDER [--camera NAME]',
    summary: 'copy an archive folder into media_root and ingest it',
    details: [
      'Each first-level folder of FOLDER is a camera; files are copied to media_root/<camera>/… and queued.',
      '',
      '  --camera NAME       put every file in this camera (a camera id or a folder name)',
      CONFIG_OPTION,
    ],
  },
  {
    name: 'household',
    synopsis: 'add|list|remove|enrol …',
    summary: 'add, list, remove and enrol household members (people who should not alarm)',
    details: [
      '  hsi household add --name NAME [--role ROLE] [--trust LEVEL] [--photo FILE]…',
      '  hsi household list',
      '  hsi household remove ID|NAME',
      '  hsi household enrol ID|NAME PHOTO…',
      '',
      'add      a member; each --photo enrols them (the photo must show exactly that one person; with',
      '         identity.faces.enabled their face too). A refused photo adds nothing.',
      '         --role    resident (default), family, service_worker, frequent_visitor',
      '         --trust   full (default: never alarms on their own), partial, monitor (recognised and logged only)',
      'list     members with their appearance and face vector counts',
      'remove   a member and every vector of theirs (gallery, face identity, matched sightings, entities)',
      'enrol    more photos of a member',
      '',
      'Enrolment runs the detector, re-identification and face models of the configuration on this machine.',
      'Changes are audited (actor cli). On the embedded database, stop the service first.',
      '',
      CONFIG_OPTION,
    ],
  },
];

export function findCommand(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `hsi --help`: every command with its summary. */
export function generalUsage(): string {
  const heads = COMMANDS.map((c) => `${c.name} ${c.synopsis.startsWith('[-c') ? '' : c.synopsis}`.trimEnd());
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  const lines = COMMANDS.map((c, i) => `  ${(heads[i] ?? c.name).padEnd(width)}${c.summary}`);
  return [
    'Usage: hsi [command] [options]        (no command: run)',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    CONFIG_OPTION,
    "  -h, --help          show this help; `hsi COMMAND --help` shows one command's usage",
    '',
  ].join('\n');
}

/** `hsi <command> --help`. */
export function commandUsage(command: CommandHelp): string {
  return [
    `Usage: hsi ${command.name} ${command.synopsis}`.trimEnd(),
    '',
    `${command.summary}.`,
    '',
    ...command.details,
    '',
  ].join('\n');
}
