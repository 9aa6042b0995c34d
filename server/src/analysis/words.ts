// Whole-word occurrences of an identifier in a text, found by indexOf and a check of the characters around it: no
// RegExp is built from the identifier (one can be very long, and one per name per body was a measurable cost).

const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** The offsets where `name` occurs in `text` as a whole word (not inside a longer identifier). */
export function* wordOccurrences(text: string, name: string): Generator<number> {
  if (!name) return;
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
    if ((i > 0 && isWordCode(text.charCodeAt(i - 1))) || isWordCode(text.charCodeAt(i + name.length))) continue;
    yield i;
  }
}

/** Whether the character code at `i` is part of an identifier (letters, digits, `_`). */
export const isWordAt = (text: string, i: number) => i >= 0 && i < text.length && isWordCode(text.charCodeAt(i));
