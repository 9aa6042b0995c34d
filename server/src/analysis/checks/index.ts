// The registry of checks: one file per diagnostic code (docs/checks/<code>.md describes each).
import { gfpOrIneffective } from './gfpOrIneffective';
import { nofailWithoutReclaim } from './nofailWithoutReclaim';
import { nofsRedundant } from './nofsRedundant';
import { scopeUnbalanced } from './scopeUnbalanced';
import { sleepInAtomic } from './sleepInAtomic';
import type { Check } from './types';
import { vmallocNofs } from './vmallocNofs';

export const CHECKS: readonly Check[] = [sleepInAtomic, scopeUnbalanced, nofsRedundant, gfpOrIneffective, vmallocNofs, nofailWithoutReclaim];
export type { Check, CheckConfig } from './types';
