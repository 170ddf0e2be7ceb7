import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A bare TCP client of an FTP control port, for what no FTP client does (never logging in, trickling bytes,
 * flooding without reading): it keeps all it received as text and knows when the server closed it.
 */
export class RawFtpClient {
  received = '';
  closed = false;
  readonly socket: net.Socket;

  constructor(port: number, options: { localAddress?: string; read?: boolean } = {}) {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
    });
    if (options.read === false) this.socket.pause();
    this.socket.once('close', () => {
      this.closed = true;
    });
  }

  /** Waits until `condition` holds or `timeoutMs` passed; returns whether it holds. */
  static async until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await sleep(20);
    return condition();
  }

  /** The reply lines received so far (the last line of each: `NNN text`). */
  replies(): string[] {
    return this.received.split('\r\n').filter((line) => /^\d{3} /.test(line));
  }

  /** Sends `line` + CRLF and waits for the next complete reply line. */
  async command(line: string, timeoutMs = 5000): Promise<string> {
    const before = this.replies().length;
    this.socket.write(`${line}\r\n`);
    await RawFtpClient.until(() => this.replies().length > before || this.closed, timeoutMs);
    const reply = this.replies()[before];
    if (reply === undefined) throw new Error(`no reply to ${line.split(' ')[0]} (closed: ${this.closed})`);
    return reply;
  }

  async greeted(timeoutMs = 5000): Promise<string> {
    await RawFtpClient.until(() => this.replies().length > 0 || this.closed, timeoutMs);
    const greeting = this.replies()[0];
    if (greeting === undefined) throw new Error('no greeting');
    return greeting;
  }

  close(): void {
    this.socket.destroy();
  }
}
