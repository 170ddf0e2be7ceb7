/** Moved to `src/commands/` (the command table's services); kept so existing imports keep working. */
export { type CommandServiceDeps, createCommandServices } from '../commands/services.js';
export type { CommandServices } from '../commands/types.js';
