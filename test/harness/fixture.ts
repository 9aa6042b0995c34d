// Fixture expectations written as C comments, so fixtures stay valid C for the CLI and the editor.
//
//   	buf = kmalloc(len, GFP_KERNEL);
//   	//    ^^^^^^^ site: GFP_NOFS
//   	//                           ^ inlay: ⇒ GFP_NOFS
//   	//    ^^^^^^^^^^^^^^^^^^^^^^^^ error sleep-in-atomic: may sleep while holding &inode->i_lock
//
// A `^` run points at the nearest code line above (annotation lines are skipped) and sits visually under the
// characters it means, with 8-column tabs. Annotation lines repeat that line's leading tabs, or one fewer to point at
// its first two columns (`//      ^^^^^` under a one-tab line points at column 0). Kinds:
//   site: M1 | M2      an allocation site whose callee starts at the caret, with these distinct effective masks
//   inlay: LABEL       an inlay hint (mode `changed`) at the caret column with exactly this label
//   <severity> <code>: TEXT   a diagnostic whose range is the caret run and whose message contains TEXT
// Expectations are exhaustive: anything the analysis reports without an annotation fails the test.
// A `// kernel-version: 6.1` line anywhere in the file selects the kernel version (default 6.12).

export interface Expectation {
  kind: 'site' | 'inlay' | 'diag';
  start: number;
  end: number;
  /** site: masks; inlay: label; diag: `severity code` */
  key: string;
  text: string;
  line: number;
}

export function parseExpectations(text: string): { expectations: Expectation[]; kernelVersion?: string } {
  const lines = text.split('\n');
  const starts: number[] = [];
  let o = 0;
  for (const l of lines) {
    starts.push(o);
    o += l.length + 1;
  }
  const out: Expectation[] = [];
  let lastCode = -1;
  let kernelVersion: string | undefined;
  const ANN = /^(\t*)\/\/( *)(\^+) (.*)$/;
  lines.forEach((l, i) => {
    const kv = /\/\/ kernel-version: (\S+)/.exec(l);
    if (kv) kernelVersion = kv[1];
    const m = ANN.exec(l);
    if (!m) {
      if (l.trim() !== '' && !/^\s*\/\//.test(l)) lastCode = i;
      return;
    }
    if (lastCode < 0) throw new Error(`line ${i + 1}: annotation before any code`);
    const tabs = m[1].length;
    const codeLine = lines[lastCode];
    const codeTabs = /^\t*/.exec(codeLine)![0].length;
    if (tabs !== codeTabs && tabs !== codeTabs - 1) {
      throw new Error(`line ${i + 1}: annotation must have the ${codeTabs} leading tab(s) of line ${lastCode + 1}, or one fewer`);
    }
    // Visual alignment with 8-column tabs: the caret sits under the code character it points at.
    const col = 8 * tabs + 2 + m[2].length - 8 * codeTabs;
    if (col < 0) throw new Error(`line ${i + 1}: caret left of line ${lastCode + 1}'s indentation`);
    const start = starts[lastCode] + codeTabs + col;
    const end = start + m[3].length;
    const body = m[4];
    let e: Expectation;
    if (body.startsWith('site: ')) e = { kind: 'site', start, end, key: body.slice(6).trim(), text: '', line: i + 1 };
    else if (body.startsWith('inlay: ')) e = { kind: 'inlay', start, end, key: body.slice(7), text: '', line: i + 1 };
    else {
      const d = /^(error|warning|information|hint) ([a-z0-9-]+): (.*)$/.exec(body);
      if (!d) throw new Error(`line ${i + 1}: cannot read annotation '${body}'`);
      e = { kind: 'diag', start, end, key: `${d[1]} ${d[2]}`, text: d[3], line: i + 1 };
    }
    out.push(e);
  });
  return { expectations: out, kernelVersion };
}

export interface Actual {
  kind: Expectation['kind'];
  start: number;
  end: number;
  key: string;
  text: string;
}

/** Pairs expectations with actual results; returns human-readable mismatches (empty when all match). */
export function compare(expected: Expectation[], actual: Actual[], text: string): string[] {
  const problems: string[] = [];
  const used = new Set<number>();
  const lineOf = (off: number) => text.slice(0, off).split('\n').length;
  for (const e of expected) {
    const idx = actual.findIndex((a, i) => {
      if (used.has(i) || a.kind !== e.kind || a.start !== e.start) return false;
      if (e.kind === 'inlay') return a.key === e.key;
      if (e.kind === 'site') return a.key === e.key;
      return a.end === e.end && a.key === e.key && a.text.includes(e.text);
    });
    if (idx >= 0) used.add(idx);
    else {
      const near = actual.filter((a) => a.kind === e.kind && lineOf(a.start) === lineOf(e.start)).map(describe).join('; ');
      problems.push(`line ${e.line}: expected ${e.kind} '${e.key}${e.text ? `: ${e.text}` : ''}' at line ${lineOf(e.start)}; got ${near || 'nothing there'}`);
    }
  }
  actual.forEach((a, i) => {
    if (!used.has(i)) problems.push(`unexpected ${describe(a)} at line ${lineOf(a.start)}`);
  });
  return problems;

  /** Columns after the line's leading tabs, as annotations count them. */
  function describe(a: Actual) {
    const lineStart = text.lastIndexOf('\n', a.start - 1) + 1;
    const tabs = /^\t*/.exec(text.slice(lineStart))![0].length;
    return `${a.kind} '${a.key}${a.text ? `: ${a.text}` : ''}' [col ${a.start - lineStart - tabs}..${a.end - lineStart - tabs}]`;
  }
}
