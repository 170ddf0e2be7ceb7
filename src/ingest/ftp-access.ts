import { createHash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { FtpUserConfig } from '../config/sections/ftp.js';

/**
 * What an FTP user may reach, as pure string rules, so the confinement can be tested without a server: logins are
 * matched in constant time, and every path a client names is resolved inside a virtual root `/` (the user's camera
 * folder) before it touches the disk. `..` stops at `/` (as in a chroot); NUL and control characters, and hidden
 * names (which the watcher would never ingest, and which hide the receiver's temporary files), are refused.
 */

/**
 * The FTP commands a camera may use: login, navigation, listing, upload, folder creation and renames. Everything
 * else (DELE, RMD, SITE, RETR, APPE, REST, STOU, AUTH …) is answered `502`, so a stolen camera password can neither
 * delete nor read back evidence; a command a future ftp-srv adds stays refused until listed here.
 */
export const FTP_ALLOWED_COMMANDS: readonly string[] = [
  'USER',
  'PASS',
  'QUIT',
  'NOOP',
  'SYST',
  'FEAT',
  'OPTS',
  'HELP',
  'TYPE',
  'MODE',
  'STRU',
  'ALLO',
  'PWD',
  'XPWD',
  'CWD',
  'XCWD',
  'CDUP',
  'XCUP',
  'PASV',
  'EPSV',
  'PORT',
  'EPRT',
  'LIST',
  'NLST',
  'STAT',
  'SIZE',
  'MDTM',
  'STOR',
  'MKD',
  'XMKD',
  'RNFR',
  'RNTO',
  'ABOR',
];

/** The folder under `media_root` a user uploads into: `camera`, or the username when `camera` is empty. */
export function ftpUserFolder(user: FtpUserConfig): string {
  return user.camera === undefined || user.camera === null || user.camera === '' ? user.username : user.camera;
}

/** Usernames configured more than once (a login must name exactly one camera folder). */
export function duplicateFtpUsernames(users: readonly FtpUserConfig[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const user of users) {
    if (seen.has(user.username)) duplicates.add(user.username);
    seen.add(user.username);
  }
  return [...duplicates];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The user whose username AND password both match, or undefined. Every configured user is compared, each through
 * fixed-length digests with `timingSafeEqual`, so the response time tells neither whether the username exists nor
 * how much of the password was right.
 */
export function matchFtpUser(
  users: readonly FtpUserConfig[],
  username: string,
  password: string,
): FtpUserConfig | undefined {
  const givenName = digest(username);
  const givenPassword = digest(password);
  let found: FtpUserConfig | undefined;
  for (const user of users) {
    const nameOk = timingSafeEqual(givenName, digest(user.username));
    const passwordOk = timingSafeEqual(givenPassword, digest(user.password));
    if (nameOk && passwordOk && found === undefined) found = user;
  }
  return found;
}

export type FtpPathResult = { ok: true; clientPath: string } | { ok: false; reason: string };

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Resolves what a client typed (`x.jpg`, `../../etc/passwd`, `/2024-01-01/x.jpg`, `a\\b`) against its current
 * folder into a normalised absolute path of the virtual tree (`/`-separated, starting with `/`). Never escapes `/`.
 */
export function resolveFtpPath(cwd: string, input: string): FtpPathResult {
  if (CONTROL_CHARACTERS.test(input)) return { ok: false, reason: 'control characters are not allowed in names' };
  const slashed = input.replaceAll('\\', '/');
  const joined = slashed.startsWith('/') ? slashed : `${cwd}/${slashed}`;
  // posix.normalize of an absolute path drops `..` at the root, so the result is always inside `/`.
  const clientPath = path.posix.normalize(`/${joined}`).replace(/(.)\/+$/, '$1');
  const hidden = clientPath.split('/').find((segment) => segment.startsWith('.'));
  if (hidden !== undefined) return { ok: false, reason: `hidden names (${hidden}) are not accepted` };
  return { ok: true, clientPath };
}

/** `/2024-01-01/x.jpg` under the real root `/media/Front Door` -> `/media/Front Door/2024-01-01/x.jpg`. */
export function ftpDiskPath(root: string, clientPath: string): string {
  return path.join(root, ...clientPath.split('/').filter((segment) => segment !== ''));
}

/** Whether `candidate` is `root` itself or below it (both absolute, already resolved). */
export function isWithin(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * The name a picture takes when its name is already used: `x.jpg` -> `x-<tag>.jpg` (the tag before the extension,
 * so the extension, and with it ingestion, is kept). Uploads never replace an existing picture.
 */
export function alternativeName(fileName: string, tag: string): string {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return `${fileName}-${tag}`;
  return `${fileName.slice(0, dot)}-${tag}${fileName.slice(dot)}`;
}
