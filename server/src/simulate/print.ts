// Model → `.rlsim` text. The deadlock detector builds a Model from a finding and prints it with this, so
// generated models are ordinary, readable files (and the fixed variant is one edit away in the text).
// printModel(parseModel(printModel(m)).model) === printModel(m) for every well-formed model.
import type { Model, SourceLocation, Step } from './model';

/** A name as written: bare when the tokenizer keeps it in one piece, quoted otherwise. */
export function printName(name: string): string {
  const bare = name.length > 0 && !/[\s{}"]/.test(name) && !name.startsWith('@') && !name.includes('//') && name !== 'note';
  return bare ? name : printString(name);
}

export function printString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';
}

function suffix(location: SourceLocation | undefined, note: string | undefined): string {
  let out = '';
  if (location) out += ` @${location.file}:${location.line}${location.column !== undefined ? ':' + location.column : ''}`;
  if (note !== undefined) out += ` note ${printString(note)}`;
  return out;
}

export function printStep(step: Step): string {
  let operand = '';
  if (step.resource !== undefined) operand = ' ' + printName(step.resource);
  else if (step.mask) operand = ' ' + step.mask.text;
  else if (step.handler !== undefined) operand = ' ' + printName(step.handler);
  return `${step.op}${operand}${suffix(step.location, step.note)}`;
}

function body(steps: Step[], out: string[]): void {
  for (const s of steps) out.push('  ' + printStep(s));
  out.push('}');
}

export function printModel(model: Model): string {
  const out: string[] = [];
  if (model.name !== undefined) out.push(`model ${printString(model.name)}`, '');
  for (const r of model.resources) out.push(`${r.flavor} ${printName(r.name)}${suffix(r.location, r.note)}`);
  if (model.resources.length) out.push('');
  for (const cb of model.reclaims) {
    const attrs = [`kind ${cb.kind}`];
    if (cb.gate) attrs.push(`gate ${cb.gate.text}`);
    if (cb.from !== 'any') attrs.push(`from ${cb.from}`);
    out.push(`reclaim ${printName(cb.name)} ${attrs.join(' ')}${suffix(cb.location, cb.note)} {`);
    body(cb.steps, out);
    out.push('');
  }
  for (const fh of model.faults) {
    out.push(`fault ${printName(fh.name)}${suffix(fh.location, fh.note)} {`);
    body(fh.steps, out);
    out.push('');
  }
  for (const th of model.threads) {
    const role = th.role !== 'task' ? ` role ${th.role}` : '';
    if (th.role === 'kswapd' && th.steps.length === 0) {
      out.push(`thread ${printName(th.name)}${role}${suffix(th.location, th.note)}`, '');
      continue;
    }
    out.push(`thread ${printName(th.name)}${role}${suffix(th.location, th.note)} {`);
    body(th.steps, out);
    out.push('');
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}
