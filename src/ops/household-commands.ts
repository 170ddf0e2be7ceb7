import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import {
  EnrolmentRefused,
  type EnrolmentResult,
  lazyEnrolmentModels,
  type PreparedEnrolment,
  prepareFromPhoto,
} from '../features/identity/enrolment.js';
import {
  createMember,
  deleteMember,
  findMemberByName,
  getMember,
  type HouseholdMember,
  listMembers,
  MEMBER_ROLES,
  TRUST_LEVELS,
} from '../features/identity/household.repository.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { OnnxModelRuntime } from '../models/model-runtime.js';
import { writeAudit } from '../storage/audit.repository.js';
import type { Store } from '../storage/database.js';
import type { MemberRole, TrustLevel } from '../storage/tables/identity.table.js';

/**
 * `hsi household add | list | remove | enrol`: the household from the command line, as the API keeps it (same
 * repository, same enrolment, audited with actor `cli`). Enrolment runs the configured models on this machine.
 */

export interface HouseholdOptions {
  name?: string | undefined;
  role?: string | undefined;
  trust?: string | undefined;
  photo?: string[] | undefined;
}

const ACTOR = 'cli';

const usage = (message: string) => new AppError('INVALID_INPUT', message, { permanent: true });

/** Runs `hsi household <verb> …`; what it printed goes to `out`. */
export async function householdCommand(
  store: Store,
  config: Config,
  log: Logger,
  args: readonly string[],
  options: HouseholdOptions,
  out: NodeJS.WritableStream,
): Promise<void> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'add':
      return addMember(store, config, log, options, out);
    case 'list':
      return printMembers(store, out);
    case 'remove':
      return removeMember(store, rest[0], out);
    case 'enrol':
      return enrolMember(store, config, log, rest[0], rest.slice(1), out);
    default:
      throw usage(
        `${verb === undefined ? 'name what to do' : `unknown household command: ${verb}`}: ` +
          'hsi household add --name NAME [--role ROLE] [--trust LEVEL] [--photo FILE]… | list | remove ID|NAME | ' +
          'enrol ID|NAME PHOTO…',
      );
  }
}

function roleOf(value: string | undefined): MemberRole | undefined {
  if (value === undefined) return undefined;
  if (!(MEMBER_ROLES as readonly string[]).includes(value)) {
    throw usage(`--role must be one of ${MEMBER_ROLES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as MemberRole;
}

function trustOf(value: string | undefined): TrustLevel | undefined {
  if (value === undefined) return undefined;
  if (!(TRUST_LEVELS as readonly string[]).includes(value)) {
    throw usage(`--trust must be one of ${TRUST_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as TrustLevel;
}

/** The member an argument names: a numeric id, else a name (any case). */
async function memberNamed(store: Store, which: string | undefined): Promise<HouseholdMember> {
  if (which === undefined || which.trim() === '') throw usage('name the member: their id or their name');
  const member = /^\d+$/.test(which)
    ? await getMember(store.db, Number(which))
    : await findMemberByName(store.db, which);
  if (member === undefined) throw new AppError('NOT_FOUND', `no household member ${which} (hsi household list)`);
  return member;
}

/** Runs the models on each photo (nothing stored yet): a photo that is refused is an error naming the file. */
async function preparePhotos(config: Config, log: Logger, files: readonly string[]): Promise<PreparedEnrolment[]> {
  if (files.length === 0) return [];
  const runtime = new OnnxModelRuntime({ config, log });
  try {
    const models = lazyEnrolmentModels(() => runtime, config);
    const prepared: PreparedEnrolment[] = [];
    for (const file of files) {
      let image: Buffer;
      try {
        image = await readFile(file);
      } catch (error) {
        throw usage(`${file}: cannot be read (${errorMessage(error)})`);
      }
      try {
        prepared.push(await prepareFromPhoto(await models(), config, image));
      } catch (error) {
        if (error instanceof EnrolmentRefused) throw usage(`${file}: ${error.message}`);
        throw error;
      }
    }
    return prepared;
  } finally {
    await runtime.close();
  }
}

function faceLine(result: EnrolmentResult): string {
  const face = result.face;
  if (face.status === 'enrolled') return `face enrolled (quality ${face.quality.toFixed(2)})`;
  if (face.status === 'not usable') return `face not usable (${face.reason}): appearance only`;
  if (face.status === 'none found') return 'no face found: appearance only';
  return 'faces off: appearance only';
}

async function storeEnrolments(
  store: Store,
  member: HouseholdMember,
  prepared: readonly PreparedEnrolment[],
  files: readonly string[],
  out: NodeJS.WritableStream,
): Promise<void> {
  const results = await store.db.transaction().execute(async (tx) => {
    const stored: EnrolmentResult[] = [];
    for (const [i, enrolment] of prepared.entries()) {
      const result = await enrolment.store(tx, member);
      await writeAudit(tx, {
        action: 'household_member.enrol',
        resourceType: 'household_member',
        resourceId: String(member.id),
        actor: ACTOR,
        details: { name: member.name, source: result.source, face: result.face.status, file: files[i] },
      });
      stored.push(result);
    }
    return stored;
  });
  for (const [i, result] of results.entries())
    out.write(`enrolled ${files[i]}: appearance vector, ${faceLine(result)}\n`);
}

async function addMember(
  store: Store,
  config: Config,
  log: Logger,
  options: HouseholdOptions,
  out: NodeJS.WritableStream,
): Promise<void> {
  const name = options.name?.trim();
  if (name === undefined || name === '') throw usage('--name is required: hsi household add --name "Jane"');
  const role = roleOf(options.role);
  const trustLevel = trustOf(options.trust);
  const taken = await findMemberByName(store.db, name);
  if (taken !== undefined) throw usage(`a household member is named "${taken.name}" already (id ${taken.id})`);
  const photos = options.photo ?? [];
  // The models run before anything is stored: a refused photo adds no member.
  const prepared = await preparePhotos(config, log, photos);
  const member = await store.db.transaction().execute(async (tx) => {
    const created = await createMember(tx, {
      name,
      ...(role === undefined ? {} : { role }),
      ...(trustLevel === undefined ? {} : { trustLevel }),
    });
    await writeAudit(tx, {
      action: 'household_member.create',
      resourceType: 'household_member',
      resourceId: String(created.id),
      actor: ACTOR,
      details: { name: created.name },
    });
    return created;
  });
  out.write(`added ${member.name} (id ${member.id}, ${member.role}, trust ${member.trustLevel})\n`);
  await storeEnrolments(store, member, prepared, photos, out);
}

async function printMembers(store: Store, out: NodeJS.WritableStream): Promise<void> {
  const members = await listMembers(store.db);
  if (members.length === 0) {
    out.write('no household members (hsi household add --name NAME)\n');
    return;
  }
  const header = ['id', 'name', 'role', 'trust', 'appearance', 'faces'];
  const rows = members.map((m) => [
    String(m.id),
    m.name,
    m.role,
    m.trustLevel,
    String(m.appearanceVectors),
    String(m.faceVectors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    out.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

async function removeMember(store: Store, which: string | undefined, out: NodeJS.WritableStream): Promise<void> {
  const member = await memberNamed(store, which);
  const removal = await store.db.transaction().execute(async (tx) => {
    const removed = await deleteMember(tx, member.id);
    if (removed === undefined) throw new AppError('NOT_FOUND', `household member ${which} was removed meanwhile`);
    await writeAudit(tx, {
      action: 'household_member.delete',
      resourceType: 'household_member',
      resourceId: String(member.id),
      actor: ACTOR,
      details: {
        name: member.name,
        removed: {
          appearance_vectors: removed.appearanceVectors,
          face_vectors: removed.faceVectors,
          face_sighting_vectors: removed.faceSightingVectors,
          sighting_vectors: removed.sightingVectors,
          entities: removed.entities,
        },
      },
    });
    return removed;
  });
  out.write(
    `removed ${member.name} (id ${member.id}) with ${removal.appearanceVectors} appearance and ` +
      `${removal.faceVectors} face vector(s), ${removal.sightingVectors + removal.faceSightingVectors} sighting ` +
      `vector(s) and ${removal.entities} entit${removal.entities === 1 ? 'y' : 'ies'}\n`,
  );
}

async function enrolMember(
  store: Store,
  config: Config,
  log: Logger,
  which: string | undefined,
  photos: readonly string[],
  out: NodeJS.WritableStream,
): Promise<void> {
  const member = await memberNamed(store, which);
  if (photos.length === 0) throw usage('name the photo(s): hsi household enrol ID|NAME PHOTO…');
  const prepared = await preparePhotos(config, log, photos);
  await storeEnrolments(store, member, prepared, photos, out);
}
