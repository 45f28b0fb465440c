import { addBulk, addConcurrent, addOne, addOneLong } from './add.js';
import { batches } from './batches.js';
import { cluster } from './cluster.js';
import { delayed } from './delayed.js';
import { flow } from './flow.js';
import { groupScenarios } from './groups.js';
import { latency } from './latency.js';
import { manual } from './manual.js';
import { longProcessScenarios, processScenarios, scaleScenarios } from './process.js';
import type { Scenario } from './scenario.js';

/** Every scenario, in the order they run and are reported. */
export const SCENARIOS: Scenario[] = [
  addOne,
  addConcurrent,
  addBulk,
  ...processScenarios,
  latency,
  flow,
  delayed,
  manual,
  ...groupScenarios,
  batches,
  addOneLong,
  ...longProcessScenarios,
  ...scaleScenarios,
  cluster,
];

export function scenarioByName(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}
