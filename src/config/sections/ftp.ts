import type { JSONSchemaType } from 'ajv';

/**
 * The optional embedded FTP receiver: cameras that can only upload by FTP log in with their own credentials and
 * land in `<media_root>/<camera folder>`, where the normal watcher picks the files up.
 */

export interface FtpUserConfig {
  username: string;
  password: string;
  /** Folder under `media_root` the user uploads into; '' (or absent) = the username. */
  camera?: string | null;
}

export interface FtpConfig {
  enabled: boolean;
  host: string;
  port: number;
  passive_url: string;
  passive_min_port: number;
  passive_max_port: number;
  idle_timeout_s: number;
  max_connections: number;
  max_connections_per_address: number;
  login_timeout_s: number;
  command_timeout_s: number;
  users: FtpUserConfig[];
}

const passivePort = (title: string, description: string, def: number) => ({
  type: 'integer' as const,
  title,
  description,
  minimum: 1,
  maximum: 65535,
  default: def,
});

export const ftpSchema: JSONSchemaType<FtpConfig> = {
  type: 'object',
  title: 'FTP receiver',
  description:
    'An FTP server for cameras that upload pictures by FTP: each user is confined to its camera folder under ' +
    '`media_root`, may upload and create folders, but never delete, overwrite a picture or leave its folder.',
  additionalProperties: false,
  required: [
    'enabled',
    'host',
    'port',
    'passive_url',
    'passive_min_port',
    'passive_max_port',
    'idle_timeout_s',
    'max_connections',
    'max_connections_per_address',
    'login_timeout_s',
    'command_timeout_s',
    'users',
  ],
  properties: {
    enabled: {
      type: 'boolean',
      title: 'Enabled',
      description: 'Start the FTP receiver (needs at least one user).',
      default: false,
    },
    host: {
      type: 'string',
      title: 'Listen address',
      description: '`0.0.0.0` accepts cameras from the network; `127.0.0.1` only this machine.',
      minLength: 1,
      default: '0.0.0.0',
    },
    port: {
      type: 'integer',
      title: 'Port',
      description: 'TCP port of the FTP control connection (0 picks a free one, logged at start).',
      minimum: 0,
      maximum: 65535,
      default: 2121,
    },
    passive_url: {
      type: 'string',
      title: 'Passive address',
      description:
        "IPv4 address (or host name) sent to cameras for passive transfers ('' = the address the camera connected " +
        "to). Set it to the host's LAN address when HSI runs in a container.",
      pattern: '^$|^[A-Za-z0-9.-]+$',
      'x-hint': "'' or an IPv4 address or host name",
      default: '',
    },
    passive_min_port: passivePort('First passive port', 'Lowest port of the passive data range (publish it).', 30000),
    passive_max_port: passivePort(
      'Last passive port',
      'Highest port of the passive data range; one port per upload in progress.',
      30009,
    ),
    idle_timeout_s: {
      type: 'integer',
      title: 'Idle timeout (s)',
      description:
        'A control connection with no command for this long is closed (421); never during an upload in progress.',
      minimum: 10,
      maximum: 86400,
      default: 300,
    },
    max_connections: {
      type: 'integer',
      title: 'Maximum connections',
      description:
        'Control connections open at once, all cameras together; more are refused at once (and logged) until one ' +
        'closes.',
      minimum: 1,
      maximum: 1000,
      default: 32,
    },
    max_connections_per_address: {
      type: 'integer',
      title: 'Maximum connections per address',
      description:
        'Control connections open at once from one address (IPv6: one /64 network); more are refused with 421. ' +
        'Below `max_connections`, so one host cannot take every slot; raise it when cameras reach HSI through ' +
        'NAT and so share one address.',
      minimum: 1,
      maximum: 1000,
      default: 8,
    },
    login_timeout_s: {
      type: 'integer',
      title: 'Login timeout (s)',
      description:
        'A connection not logged in this long after connecting is closed (421). Cameras log in within a second; ' +
        'this frees the slots of clients that connect and wait.',
      minimum: 1,
      maximum: 600,
      default: 10,
    },
    command_timeout_s: {
      type: 'integer',
      title: 'Command timeout (s)',
      description:
        'A command line started but not finished (no line end) for this long closes the connection (421): ' +
        'cameras send each command at once, a client trickling bytes only holds a slot. Never during an upload.',
      minimum: 1,
      maximum: 600,
      default: 10,
    },
    users: {
      type: 'array',
      title: 'Users',
      description:
        'One login per camera. `camera` is its folder under `media_root` (`Front Door` is camera `front_door`; ' +
        "'' = the username). Passwords are never logged.",
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: {
          username: {
            type: 'string',
            minLength: 1,
            maxLength: 64,
            pattern: '^[^.\\s/\\\\"\\p{Cc}][^\\s/\\\\"\\p{Cc}]*$',
            'x-hint': 'a name without spaces, quotes or slashes, not starting with a dot',
            description: 'Login name (also the camera folder when `camera` is empty).',
          },
          password: {
            type: 'string',
            minLength: 1,
            maxLength: 128,
            pattern: '^[^\\s"\\p{Cc}]+$',
            'x-hint': 'a password without spaces or double quotes',
            description: 'Login password. Never logged.',
          },
          camera: {
            type: 'string',
            nullable: true,
            maxLength: 255,
            pattern: '^$|^[^./\\\\\\p{Cc}][^/\\\\\\p{Cc}]*$',
            'x-hint': "'' or a folder name without / or \\, not starting with a dot",
            default: '',
            description: "Camera folder under `media_root` ('' = the username).",
          },
        },
      },
    },
  },
};
