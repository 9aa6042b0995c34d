// The registry of checks: one file per diagnostic code (docs/checks/<code>.md describes each).
import { gfpOrIneffective } from './gfpOrIneffective';
import { nofailWithoutReclaim } from './nofailWithoutReclaim';
import { nofsRedundant } from './nofsRedundant';
import { nofsScopeCandidate } from './nofsScopeCandidate';
import { nofsUnnecessary } from './nofsUnnecessary';
import { scopeUnbalanced } from './scopeUnbalanced';
import { sleepInAtomic } from './sleepInAtomic';
import type { Check } from './types';
import { vmallocNofs } from './vmallocNofs';

export const CHECKS: readonly Check[] = [sleepInAtomic, scopeUnbalanced, nofsRedundant, gfpOrIneffective, vmallocNofs, nofailWithoutReclaim, nofsScopeCandidate, nofsUnnecessary];

/** Codes computed but not shown unless asked for (refactorings: their quick fixes stay available). */
export const OFF_BY_DEFAULT: readonly string[] = CHECKS.filter((c) => c.offByDefault).map((c) => c.code);
export type { Check, CheckConfig } from './types';
