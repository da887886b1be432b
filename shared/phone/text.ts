/**
 * Text clean-up for free-text phone fields (HR exports, the directory's `mobilePhone`), kept apart
 * from the parsing rules so each step can be tested on its own. Nothing here decides whether a
 * number is valid; it only turns what people type into something `libphonenumber-js` reads
 * unambiguously, and says when the text cannot be one number.
 */

// Invisible formatting characters that copy-paste from Outlook, Excel or right-to-left UIs leaves
// behind: soft hyphen, zero-width space/joiners, LRM/RLM, bidi embeddings and isolates, word
// joiner, BOM. They carry no meaning in a phone number.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
// Line breaks inside one field mean the field holds several values, so they become a separator.
const LINE_BREAKS = /[\r\n\v\f\u0085\u2028\u2029]+/g;
const SPACES = /[\p{Zs}\t]+/gu;
const DASHES = /[\p{Pd}\u2212\uFE63\uFF0D]/gu;
const DECIMAL_DIGIT = /\p{Nd}/u;
// Anything outside printable ASCII sends the text down the slow, Unicode-aware path.
const NON_ASCII = /[^ -~]/;

/**
 * The value of a Unicode decimal digit. Unicode guarantees that characters of type Nd come in
 * contiguous runs of ten, 0 to 9, so the value is the distance to the start of the run modulo 10
 * (runs can sit back to back, as the mathematical digits do).
 */
function decimalDigitValue(codePoint: number): number {
  let start = codePoint;
  while (start > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) {
    start -= 1;
  }
  return (codePoint - start) % 10;
}

/**
 * Maps every Unicode decimal digit (`\p{Nd}`: full-width, Arabic-Indic, Devanagari, ...) to its
 * ASCII digit and leaves every other character alone.
 *
 * @param text - any text.
 * @returns the text with ASCII digits only.
 */
export function toAsciiDigits(text: string): string {
  if (!NON_ASCII.test(text)) {
    return text;
  }
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp > 0x7f && DECIMAL_DIGIT.test(ch)) {
      out += String(decimalDigitValue(cp));
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Canonical spelling of a raw field: compatibility forms folded (full-width `＋`, `（`), invisible
 * and bidi marks removed, any space (non-breaking, narrow, ideographic, tab) as one ASCII space,
 * any dash as `-`, any decimal digit as ASCII, line breaks as `;`, trimmed.
 *
 * @param raw - the field as stored.
 * @returns the canonical text; empty when the field holds only blanks.
 */
export function canonicalText(raw: string): string {
  let text = raw;
  // The fast path matters: almost every field is plain ASCII and NFKC is comparatively costly.
  if (NON_ASCII.test(text)) {
    text = text.normalize("NFKC").replace(INVISIBLE, "").replace(DASHES, "-");
    text = toAsciiDigits(text);
  }
  return text.replace(LINE_BREAKS, ";").replace(SPACES, " ").trim();
}

const PLACEHOLDERS = new Set([
  "-",
  "--",
  "---",
  "-/-",
  ".",
  "..",
  "...",
  "?",
  "??",
  "#",
  "*",
  "x",
  "xx",
  "xxx",
  "0",
  "n/a",
  "na",
  "n.a.",
  "n.a",
  "#n/a",
  "none",
  "nil",
  "null",
  "undefined",
  "unknown",
  "tbd",
  "tba",
  "tbc",
  "no",
  "nope",
  "empty",
  "missing",
  "pending",
  "not available",
  "not applicable",
  "no number",
  "no phone",
  "no mobile",
]);

/**
 * Whether the canonical text is a value people type to mean "no number" (`N/A`, `-`, `none`,
 * `0`, `tbd`, ...). All-zero strings are caught later, once digits are known.
 *
 * @param text - canonical text from {@link canonicalText}.
 */
export function isPlaceholderText(text: string): boolean {
  return PLACEHOLDERS.has(text.toLowerCase());
}

// `Mobile:`, `Cell phone -`, `M:`, `Tel.`, `GSM 2012...`: a label in front of the number. Any
// words before a colon are a label; with a dash, dot or bare space only well-known label words
// are, so that letters standing for digits are never swallowed as a label.
const COLON_LABEL = /^[\p{L}][\p{L} .'()/-]{0,40}?\s*:\s*/u;
const WORD_LABEL =
  /^(?:mobile phone|mobile|mobil|mob|cell phone|cellphone|cellular|cell|handy|gsm|sms|m|c|phone|ph|tel|telephone|telefon|tlf|private|privat|work|office|home)\.?(?:\s*-\s*|\s+|(?<=\.)\s*)(?=[+(\d])/i;
// A note in brackets that contains a letter, at the end or the start: `(private)`, `[old]`.
const TRAILING_NOTE = /\s*[([][^()[\]]*\p{L}[^()[\]]*[)\]]\s*$/u;
const LEADING_NOTE = /^\s*[([][^()[\]]*\p{L}[^()[\]]*[)\]]\s*/u;
// An extension written as a note: `(ext. 123)`, `[x12]`.
const EXTENSION_NOTE = /\s*[([]\s*(?:extension|extn|ext|x)\.?\s*(\d{1,6})\s*[)\]]\s*$/i;
// A note holding this many digits holds another number ("(home 30123456)"), not a remark.
const NUMBER_IN_NOTE_DIGITS = 6;

function dropNote(note: string, separatorBefore: boolean): string {
  if (digitCount(note) < NUMBER_IN_NOTE_DIGITS) {
    return "";
  }
  // Kept as a separate value so the field is rejected as holding several numbers.
  const inner = note.trim().slice(1, -1);
  return separatorBefore ? `; ${inner}` : `${inner}; `;
}

/**
 * Removes a `tel:` URI scheme, a leading label and notes in brackets. RFC 3966 parameters are
 * dropped except `ext=`, which becomes an ` ext ` marker, as does a bracketed `(ext. 123)`. A note
 * that holds another number (six digits or more) is kept as a separate value, so that the field
 * is rejected as holding several numbers rather than one of them being picked.
 *
 * @param text - canonical text from {@link canonicalText}.
 * @returns the text that should hold the number and an optional extension.
 */
export function stripDecorations(text: string): string {
  // Spreadsheet artefacts: `="+4520123456"` keeps Excel from eating the plus, a leading
  // apostrophe does the same, CSV exports leave quotes around the value.
  let s = text
    .replace(/^="(.*)"$/, "$1")
    .replace(/^['"`\u2018\u2019\u201C\u201D]+|['"`\u2018\u2019\u201C\u201D]+$/g, "");
  if (/^tel:/i.test(s)) {
    s = s.slice(4);
    const ext = /;ext=(\d+)/i.exec(s);
    s = s.replace(/;.*$/, "") + (ext ? ` ext ${ext[1]}` : "");
  }
  s = s.replace(COLON_LABEL, "");
  s = s.replace(WORD_LABEL, "");
  s = s.replace(EXTENSION_NOTE, " ext $1");
  s = s.replace(TRAILING_NOTE, (note) => dropNote(note, true));
  s = s.replace(LEADING_NOTE, (note) => dropNote(note, false));
  // `(+45) 2012...`, `+(45) 2012...` and a doubled plus all mean one country code.
  s = s
    .replace(/^\(\s*\+\s*(\d{1,3})\s*\)\s*/, "+$1 ")
    .replace(/^\+\s*\(\s*(\d{1,3})\s*\)\s*/, "+$1 ");
  s = s.replace(/^\+{2,}/, "+");
  return s.trim();
}

/** The text split into the number and its extension. */
export interface SplitExtension {
  main: string;
  extension?: string;
  /** An extension marker followed by so many digits that it is more likely a second number. */
  extensionTooLong?: boolean;
}

// Extension markers at the end: `ext. 123`, `ext123`, `extension 12`, `x123`, `#123`, `, ext 12`.
// Up to six digits: longer "extensions" in HR data are a second number typed after an `x`.
const EXTENSION = /\s*,?\s*(?:extension|extn|ext|x|#)\s*[.:]?\s*(\d+)\s*#?$/i;
const MAX_EXTENSION_DIGITS = 6;

/**
 * Splits off a trailing extension and a bare trailing `#`.
 *
 * @param text - decorated-free text from {@link stripDecorations}.
 */
export function splitExtension(text: string): SplitExtension {
  const match = EXTENSION.exec(text);
  if (!match || match.index === 0) {
    return { main: text.replace(/\s*#$/, "") };
  }
  const digits = match[1] ?? "";
  const main = text.slice(0, match.index).trim();
  if (digits.length > MAX_EXTENSION_DIGITS) {
    return { main, extensionTooLong: true };
  }
  return { main, extension: digits };
}

// Between two numbers people write `,`, `;`, `|`, `&`, a line break (already `;`), or a word.
const HARD_SEPARATORS =
  /\s*[,;|&]\s*|\s+(?:or|and|og|eller|oder|und|ou|of|och|tai|ja|en|alt\.?|alternatively|also)\s+/i;

/**
 * Whether the text holds more than one number, so it must not be read as one number with an
 * extension or as the two concatenated. Splits on separators and on whitespace-free slashes are
 * judged by digit counts: `0171/1234567` (German area code) is one number, `20123456 / 30123456`
 * or `+45 20123456/+45 30123456` are two.
 *
 * @param text - text without its extension, from {@link splitExtension}.
 * @returns `"multiple"` when several numbers are present, else the text with note-only segments
 *   and formatting slashes removed.
 */
export function singleNumberText(
  text: string,
): { multiple: true } | { multiple: false; text: string } {
  if ((text.match(/\+/g) ?? []).length > 1) {
    return { multiple: true };
  }
  const segments = text.split(HARD_SEPARATORS).filter((s) => s.trim() !== "");
  const withDigits = segments.filter((s) => /\d/.test(s));
  if (withDigits.length > 1) {
    return { multiple: true };
  }
  // A segment without digits next to a number is a note ("20123456, private").
  let single = withDigits[0] ?? segments.join(" ");
  if (single.includes("/")) {
    const parts = single.split("/");
    const longParts = parts.filter((p) => digitCount(p) >= 7).length;
    const laterPlus = parts.slice(1).some((p) => p.trim().startsWith("+"));
    if (longParts > 1 || laterPlus) {
      return { multiple: true };
    }
    single = parts.join(" ");
  }
  return { multiple: false, text: single.trim() };
}

/**
 * Number of ASCII digits in the text.
 *
 * @param text - any text.
 */
export function digitCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      n += 1;
    }
  }
  return n;
}
