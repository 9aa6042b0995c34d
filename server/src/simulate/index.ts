// Public surface of the simulation engine: parse a `.rlsim` model, explore it, render the result.
// Pure: no IO; callers (CLI, language server, webview host) pass text in and get data or strings out.
export { parseModel, hasErrors } from './parse';
export { compile } from './program';
export { explore, exploreModel, type ExploreOptions, type ExploreResult } from './explore';
export { simulateModel, buildSimulation, type Simulation, type SimStep, type DeadlockKind } from './trace';
export { renderText, renderJson, toJson, formatLocation, type JsonReport } from './report';
export { renderSvg, escapeXml } from './svg';
export { toPromela } from './promela';
export { hoverAt, definitionAt, type RlsimHover, type RlsimDefinition } from './query';
export { printModel, printStep, printName } from './print';
export type * from './model';
