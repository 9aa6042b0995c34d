// The few gfp bits and composite masks the simulator needs, with their Linux 6.12 values
// (include/linux/gfp_types.h; see kernel-reclaim-reference.md section a).
// This table is deliberately local to simulate/: the model language only needs the bits that decide
// whether an allocation may enter direct reclaim and which reclaim callbacks its mask admits.

export const __GFP_HIGH = 0x20;
export const __GFP_IO = 0x40;
export const __GFP_FS = 0x80;
export const __GFP_DIRECT_RECLAIM = 0x400;
export const __GFP_KSWAPD_RECLAIM = 0x800;
export const __GFP_NOWARN = 0x2000;

/** Bit names (two- and three-underscore spellings map to the same bit). */
const BITS: Record<string, number> = {
  __GFP_HIGH,
  __GFP_IO,
  __GFP_FS,
  __GFP_ZERO: 0x100,
  __GFP_DIRECT_RECLAIM,
  __GFP_KSWAPD_RECLAIM,
  __GFP_RECLAIM: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL: 0x4000,
  __GFP_NOFAIL: 0x8000,
  __GFP_NORETRY: 0x10000,
  __GFP_NOMEMALLOC: 0x80000,
  __GFP_ACCOUNT: 0x400000,
};

/** Composite masks, as unions of the bits above. */
const MASKS: Record<string, number> = {
  GFP_KERNEL: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO | __GFP_FS,
  GFP_NOFS: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO,
  GFP_NOIO: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM,
  GFP_NOWAIT: __GFP_KSWAPD_RECLAIM | __GFP_NOWARN,
  GFP_ATOMIC: __GFP_HIGH | __GFP_KSWAPD_RECLAIM,
  GFP_KERNEL_ACCOUNT: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO | __GFP_FS | 0x400000,
  GFP_USER: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO | __GFP_FS | 0x100000,
};

/** The numeric value of a gfp name, or undefined when the name is not in the table. */
export function gfpValue(name: string): number | undefined {
  if (Object.prototype.hasOwnProperty.call(MASKS, name)) return MASKS[name];
  const bit = name.startsWith('___GFP_') ? name.slice(1) : name;
  if (Object.prototype.hasOwnProperty.call(BITS, bit)) return BITS[bit];
  return undefined;
}

/** All names the mask expression language accepts (for completion and the TextMate grammar's docs). */
export function gfpNames(): string[] {
  return [...Object.keys(MASKS), ...Object.keys(BITS)];
}

/** "__GFP_DIRECT_RECLAIM|__GFP_FS" rendering of the bits this table knows; unknown bits as hex. */
export function describeMask(value: number): string {
  const parts: string[] = [];
  let rest = value;
  for (const name of ['__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM', '__GFP_IO', '__GFP_FS', '__GFP_HIGH', '__GFP_NOWARN']) {
    const bit = BITS[name];
    if ((value & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push('0x' + rest.toString(16));
  return parts.length > 0 ? parts.join('|') : '0';
}

export function hexMask(value: number): string {
  return '0x' + value.toString(16);
}

export interface MaskParseResult {
  value: number | undefined;
  /** Offset into the expression text and message of the first problem. */
  error?: { offset: number; length: number; message: string };
}

/**
 * Evaluate a mask expression: names from the table, hex or decimal numbers, `|`, `&`, `~`, parentheses.
 * Precedence as in C: `~` binds tightest, then `&`, then `|`.
 */
export function evalMask(text: string): MaskParseResult {
  const tokens: { kind: 'name' | 'num' | 'op'; text: string; offset: number }[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(0[xX][0-9a-fA-F]+|[0-9]+)|([|&~()]))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) {
      const at = pos + (text.slice(pos).length - text.slice(pos).trimStart().length);
      return { value: undefined, error: { offset: at, length: 1, message: `unexpected character '${text[at]}' in gfp mask` } };
    }
    const tokText = m[1] ?? m[2] ?? m[3];
    const offset = m.index + m[0].length - tokText.length;
    tokens.push({ kind: m[1] ? 'name' : m[2] ? 'num' : 'op', text: tokText, offset });
    pos = re.lastIndex;
  }
  let i = 0;
  const fail = (message: string, at?: { offset: number; text: string }): never => {
    const offset = at ? at.offset : text.length;
    throw { offset, length: at ? at.text.length : 0, message };
  };
  const primary = (): number => {
    const tok = tokens[i];
    if (!tok) return fail('gfp mask expression ends early');
    if (tok.kind === 'op' && tok.text === '~') {
      i++;
      return ~primary();
    }
    if (tok.kind === 'op' && tok.text === '(') {
      i++;
      const v = orExpr();
      const close = tokens[i];
      if (!close || close.text !== ')') return fail("missing ')' in gfp mask", close);
      i++;
      return v;
    }
    if (tok.kind === 'num') {
      i++;
      return Number(tok.text);
    }
    if (tok.kind === 'name') {
      const v = gfpValue(tok.text);
      if (v === undefined) return fail(`unknown gfp name '${tok.text}' (known: GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_ATOMIC, __GFP_FS, __GFP_IO, __GFP_DIRECT_RECLAIM, ...)`, tok);
      i++;
      return v;
    }
    return fail(`unexpected '${tok.text}' in gfp mask`, tok);
  };
  const andExpr = (): number => {
    let v = primary();
    while (tokens[i] && tokens[i].text === '&') {
      i++;
      v &= primary();
    }
    return v;
  };
  const orExpr = (): number => {
    let v = andExpr();
    while (tokens[i] && tokens[i].text === '|') {
      i++;
      v |= andExpr();
    }
    return v;
  };
  try {
    if (tokens.length === 0) return { value: undefined, error: { offset: 0, length: text.length, message: 'expected a gfp mask (e.g. GFP_KERNEL)' } };
    const v = orExpr();
    if (i < tokens.length) fail(`unexpected '${tokens[i].text}' in gfp mask`, tokens[i]);
    return { value: v >>> 0 };
  } catch (e) {
    const err = e as { offset: number; length: number; message: string };
    return { value: undefined, error: err };
  }
}
