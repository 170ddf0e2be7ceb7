import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Clock } from '../lib/clock.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { COMMANDS } from './table.js';
import {
  type Accepted,
  type CommandDefinition,
  type CommandInputs,
  type CommandName,
  CommandRefusal,
  type CommandResource,
  type CommandResults,
  type CommandServices,
  type StateUpdate,
} from './types.js';

/**
 * Runs a command of the table for a channel: checks the input against the command's schema, the alarm code where
 * the channel has no login, runs the handler, and answers with an outcome; it never throws.
 *
 * Audit trail, one place per fact:
 * - an accepted command's change is audited once, by whoever makes it: ArmingService writes `house_mode.set` and
 *   `zone.arm|zone.disarm`, AlertService one `alert.acknowledge|alert.dismiss` per alert (actor: the channel's);
 * - a channel with a trail of its own (MQTT: its messages carry no sender and get no status code) gets a
 *   `<trail>.<command>` row for every refusal (bad payload, unknown id, wrong code, service refusal, unexpected
 *   error; status `failure`, details `{…trail details, reason}`) and for the changes no service audits (the camera
 *   detection switch, an acknowledge/dismiss of `all` that found no active alert; status `success`), and one log
 *   line per command. A channel without one (HTTP) gets the refusal back as the error to answer with.
 */

export interface CommandChannel {
  /** Who the services record as having done it: `mqtt`, `api`, `api:ingress`. */
  actor: string;
  /** The channel's own audit rows and log lines (see above); absent: none. */
  trail?: {
    /** `mqtt`: rows `mqtt.<command>`, log lines `mqtt command applied|refused|failed`. */
    name: string;
    /** The command as the channel calls it, in its log line (`alerts/acknowledge`). */
    label: string;
    /** In every row's details and log line (`{topic}`). */
    details: Record<string, unknown>;
    /** The sender's address and user agent, where the channel knows them (the WebSocket's upgrade request). */
    source?: { ipAddress: string | null; userAgent: string | null };
  };
  /**
   * Checks the alarm code of a command that carries one (throws CommandRefusal); absent: the channel has a login of
   * its own (the API key) and needs no code.
   */
  checkCode?(code: string | undefined): void;
}

export type CommandOutcome<D> =
  | { ok: true; data: D; states: StateUpdate[] }
  | {
      ok: false;
      /** What was thrown: an AppError (its code says the HTTP status), a CommandRefusal or anything unexpected. */
      error: unknown;
      /** The message to show the sender: the reason, or a generic one for an unexpected error. */
      message: string;
      /** The entity's current state (a UI that moved a switch snaps back). */
      states: StateUpdate[];
    };

export type CommandInput<N extends CommandName> = CommandInputs[N] | (() => CommandInputs[N]);

export interface CommandDispatcher {
  /**
   * Runs `name`. `input` may be a parser (a channel's wire format) whose CommandRefusal is refused like any other;
   * `address` is what the channel knew before parsing (the camera of a topic), for the audit row of such a refusal.
   */
  dispatch<N extends CommandName>(
    name: N,
    input: CommandInput<N>,
    channel: CommandChannel,
    address?: Partial<CommandInputs[N]>,
  ): Promise<CommandOutcome<CommandResults[N]>>;
  /** `dispatch` for a channel that answers refusals itself (HTTP): the data, or the refusal thrown as it was. */
  run<N extends CommandName>(name: N, input: CommandInputs[N], channel: CommandChannel): Promise<CommandResults[N]>;
  /** Refuses something the channel could not map to a command (an MQTT topic HSI has none for): audited and logged. */
  refuse(command: string, resource: CommandResource, channel: CommandChannel, reason: string): Promise<void>;
}

export interface CommandDispatcherDeps {
  services: CommandServices;
  log: Logger;
  clock: Clock;
}

const EXPECTED_ERRORS = new Set(['NOT_FOUND', 'INVALID_TRANSITION', 'INVALID_INPUT']);
const INTERNAL_ERROR = 'internal error while handling the command; see the HSI log';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = new Map<CommandName, ValidateFunction>(
  Object.values(COMMANDS).map((command) => [command.name, ajv.compile(command.schema)]),
);

function describe(errors: readonly ErrorObject[] | null | undefined): string {
  const reasons = (errors ?? []).map((e) => {
    const field = e.instancePath === '' ? 'input' : e.instancePath.slice(1).replaceAll('/', '.');
    return `${field} ${e.message ?? 'is invalid'}`;
  });
  return [...new Set(reasons)].join('; ');
}

function validate(name: CommandName, input: unknown): void {
  const check = validators.get(name);
  if (check !== undefined && !check(input)) {
    throw new AppError('INVALID_INPUT', `${name}: ${describe(check.errors)}`, { permanent: true });
  }
}

const isExpected = (error: unknown) =>
  error instanceof CommandRefusal || (error instanceof AppError && EXPECTED_ERRORS.has(error.code));

export function createCommandDispatcher({ services, log, clock }: CommandDispatcherDeps): CommandDispatcher {
  /** Writes one trail row; a failure to write is returned (for the command's one log line), never thrown. */
  async function audit(
    command: string,
    resource: CommandResource,
    channel: CommandChannel,
    status: 'success' | 'failure',
    details: object,
  ): Promise<string | undefined> {
    if (channel.trail === undefined) return undefined;
    try {
      await services.writeAudit({
        action: `${channel.trail.name}.${command}`,
        resourceType: resource.type,
        resourceId: resource.id,
        actor: channel.actor,
        details: { ...channel.trail.details, ...details },
        ...channel.trail.source,
        status,
        timestamp: new Date(clock.now()),
      });
      return undefined;
    } catch (error) {
      return errorMessage(error);
    }
  }

  async function accepted(
    command: string,
    resource: CommandResource,
    channel: CommandChannel,
    result: Accepted<unknown>,
  ): Promise<void> {
    const { trail } = channel;
    if (trail === undefined) return;
    const auditError =
      result.audit === undefined ? undefined : await audit(command, resource, channel, 'success', result.audit);
    const fields = {
      ...trail.details,
      command: trail.label,
      actor: channel.actor,
      ...(resource.id === null ? {} : { resource_id: resource.id }),
      ...(result.log ?? result.audit ?? {}),
    };
    if (auditError === undefined) log.info(fields, `${trail.name} command applied`);
    else log.error({ ...fields, audit_error: auditError }, `${trail.name} command applied but its audit row failed`);
  }

  /** Audits and logs a refusal on a channel with a trail; the message to show the sender. */
  async function refused(
    command: string,
    resource: CommandResource,
    channel: CommandChannel,
    error: unknown,
  ): Promise<string> {
    const expected = isExpected(error);
    const shown = expected || error instanceof AppError ? errorMessage(error) : INTERNAL_ERROR;
    const { trail } = channel;
    if (trail === undefined) return shown;
    const reason = expected ? errorMessage(error) : `internal error: ${errorMessage(error)}`;
    if (error instanceof CommandRefusal && error.quiet) {
      log.debug({ ...trail.details, reason }, `${trail.name} command refused`);
      return shown;
    }
    const auditError = await audit(command, resource, channel, 'failure', { reason });
    const fields = { ...trail.details, ...(auditError === undefined ? {} : { audit_error: auditError }) };
    if (expected) log.warn({ ...fields, reason }, `${trail.name} command refused`);
    else log.error({ ...fields, err: error }, `${trail.name} command failed`);
    return shown;
  }

  async function currentStates<N extends CommandName>(
    command: CommandDefinition<N>,
    known: Partial<CommandInputs[N]>,
  ): Promise<StateUpdate[]> {
    try {
      return await command.current(known, services);
    } catch {
      return [];
    }
  }

  return {
    async dispatch<N extends CommandName>(
      name: N,
      input: CommandInput<N>,
      channel: CommandChannel,
      address: Partial<CommandInputs[N]> = {},
    ): Promise<CommandOutcome<CommandResults[N]>> {
      const command = COMMANDS[name] as CommandDefinition<N>;
      let known: Partial<CommandInputs[N]> = address;
      try {
        const value = typeof input === 'function' ? input() : input;
        known = value;
        validate(name, value);
        if (command.code !== undefined) channel.checkCode?.(command.code(value));
        const result = await command.run(value, services, channel.actor);
        await accepted(name, command.resource(value), channel, result);
        return { ok: true, data: result.data, states: result.states };
      } catch (error) {
        try {
          const message = await refused(name, command.resource(known), channel, error);
          return { ok: false, error, message, states: await currentStates(command, known) };
        } catch {
          return { ok: false, error, message: INTERNAL_ERROR, states: [] };
        }
      }
    },

    async run(name, input, channel) {
      const outcome = await this.dispatch(name, input, channel);
      if (!outcome.ok) throw outcome.error;
      return outcome.data;
    },

    async refuse(command, resource, channel, reason) {
      await refused(command, resource, channel, new CommandRefusal(reason));
    },
  };
}
