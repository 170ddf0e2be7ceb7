/** Moved to `src/status/inference-window.ts`; kept until the composition root imports it from there. */
export { InferenceWindow } from '../status/inference-window.js';
