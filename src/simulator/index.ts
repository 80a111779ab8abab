/** The simulated Anthropic Messages API: the project's only stand-in, for tests, the benchmark and keyless `npm start`. */
export { startSimulator, type Simulator, type SimulatorOptions } from './create-simulator.js';
export { defaultBehaviour, demoBehaviour, type SimBehaviour, type SimFault, type SimHttpFault } from './directive.js';
export type {
  SimBlock, SimCitation, SimRedactedThinkingBlock, SimStopDetails, SimTextBlock, SimThinkingBlock, SimToolUseBlock,
  SimWholeBlock,
} from './block-directive.js';
export { asciiJson } from './json-split.js';
export { canonicalJson } from './prompt-cache.js';
export type { SimOutcome, SimRequestRecord } from './records.js';
export { formatStamp, forEachStamp, wallClockMs, STAMP_CLOSE, STAMP_OPEN } from './stamp.js';
export type { SimStopReason } from './wire.js';
