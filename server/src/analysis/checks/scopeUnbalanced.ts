// Diagnostic: scope-unbalanced
// A memalloc_*_save() whose cookie lives in a local variable must be restored on every path out of the function,
// in LIFO order, with the cookie it returned, by the restore of the same family. A restore with no save, of the
// wrong cookie or out of order corrupts current->flags (include/linux/sched/mm.h). Mixed pairs
// (memalloc_nofs_save + memalloc_noreclaim_restore) are an error on 6.1, where each restore writes back only its
// own PF_ bit, and a warning on 6.12, where every restore is memalloc_flags_restore().
// Cookies stored in an object (tp->t_pflags) or returned are scopes opened for a caller: checked across functions.
import type { Finding, ScopeFrame } from '../facts';
import { lineOf } from '../lines';
import { versionAtLeast, type Check } from './types';

export const scopeUnbalanced: Check = {
  code: 'scope-unbalanced',
  defaultSeverity: 'warning',
  run(fn, config) {
    const out: Finding[] = [];
    const line = (o: number) => lineOf(fn.file, o);
    // Saves that leak on some paths out of the function.
    const leaks = new Map<number, { frame: ScopeFrame; exits: Map<number, number> }>();
    let totalExits = 0;
    // Acyclic paths only: states that reach an exit only around a loop count 0 (as everywhere else).
    for (const e of fn.exits) totalExits += e.count;
    for (const e of fn.exits) {
      // One count per exit state and leaked save site (a save re-entered by `goto retry` is one site).
      const sites = new Set<number>();
      for (const f of e.state.scopes) {
        if (f.storage !== 'local' && f.storage !== 'discarded') continue;
        if (sites.has(f.site.start)) continue;
        sites.add(f.site.start);
        let l = leaks.get(f.site.start);
        if (!l) leaks.set(f.site.start, (l = { frame: f, exits: new Map() }));
        l.exits.set(e.at.start, (l.exits.get(e.at.start) ?? 0) + e.count);
      }
    }
    for (const { frame, exits } of leaks.values()) {
      const n = [...exits.values()].reduce((a, b) => a + b, 0);
      const lines = [...exits.keys()].map(line).sort((a, b) => a - b);
      const discarded = frame.storage === 'discarded';
      const how = discarded
        ? `its cookie is discarded, so the scope lasts for the rest of the task (deliberate only in a kernel thread's main function)`
        : `not restored on ${n === 0 ? 'paths around a loop' : n === totalExits ? `any path` : `${n} of ${totalExits} paths`} out of ${fn.fn.name}() (leaving at line ${lines.join(', ')})`;
      out.push({
        // A discarded cookie is how kernel threads mark their whole life (jbd2's kjournald2): a note, not a warning.
        code: 'scope-unbalanced', severity: discarded ? 'information' : 'warning', span: frame.site, function: fn.fn.name,
        message: `${frame.api}() ${how}: ${frame.flags.join('|') || 'the scope'} stays set in current->flags`,
        related: [...exits.keys()].map((o) => ({ span: { start: o, end: o + 1 }, message: `returns here with ${frame.api}() still active` })),
      });
    }
    const seen = new Set<string>();
    for (const ev of fn.scopeEvents) {
      const key = `${ev.kind}@${ev.call.start}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const related = [];
      if (ev.save) related.push({ span: ev.save.site, message: `${ev.save.api}() at line ${line(ev.save.site.start)}` });
      if (ev.inner) related.push({ span: ev.inner.site, message: `innermost open scope: ${ev.inner.api}() at line ${line(ev.inner.site.start)}` });
      let message: string;
      let severity: Finding['severity'] = 'warning';
      switch (ev.kind) {
        case 'restore-without-save':
          message = `${ev.api}(${ev.cookie}) restores a cookie that no memalloc_*_save() in ${fn.fn.name}() set on this path`;
          break;
        case 'restore-wrong-cookie':
          message = `${ev.api}(${ev.cookie}) restores the wrong cookie: the open scope saved its cookie in '${ev.inner?.cookie}'`;
          break;
        case 'restore-out-of-order':
          message = `${ev.api}(${ev.cookie}) restores out of LIFO order: ${ev.inner?.api}() at line ${line(ev.inner!.site.start)} is still open inside it`;
          break;
        case 'restore-mixed-family': {
          // memalloc_flags_save/restore made every restore identical (absent in 6.1, present in 6.12; added upstream in 6.9 — history, from memory).
          const old = !versionAtLeast(config.kernelVersion, '6.9');
          severity = old ? 'error' : 'warning';
          message = old
            ? `${ev.api}() does not undo ${ev.save?.api}(): on ${config.kernelVersion} each restore writes back only its own PF_ bit, so ${ev.save?.flags.join('|')} stays set`
            : `${ev.api}() pairs with ${ev.save?.api}(): it works on ${config.kernelVersion} (every restore is memalloc_flags_restore()) but not on 6.1; use the matching restore`;
          break;
        }
      }
      out.push({ code: 'scope-unbalanced', severity, span: ev.call, function: fn.fn.name, message, related });
    }
    return out;
  },
};
