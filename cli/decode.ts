// `migsim decode`: frames from hex, hex-line files or pcap/pcapng captures, every layer as
// JSON (wire/decode.ts), one document per frame.

import { existsSync, readFileSync } from 'node:fs';
import { readCapture, type CaptureFrame } from '../wire/capture-file.js';
import { decodeFrame } from '../wire/decode.js';
import { fromHex } from '../wire/fields.js';
import { BadInput, EXIT_FAILED, EXIT_OK } from './exit.js';

export interface DecodeArgs {
  files: string[];
  hex?: string[];
  pretty?: boolean;
}

/** Every input's frames, read before anything is printed; an unreadable or unrecognized file is bad input. */
function decodeInputs(a: DecodeArgs): { file: string | null; frames: CaptureFrame[] }[] {
  const hex = (a.hex ?? []).map(String);
  if (a.files.length === 0 && hex.length === 0) throw new BadInput('decode needs a capture FILE (- for stdin) or --hex HEX');
  const inputs: { file: string | null; frames: CaptureFrame[] }[] = [];
  if (hex.length > 0) {
    inputs.push({
      file: null,
      frames: hex.map((h, i): CaptureFrame => {
        const bytes = fromHex(h);
        if (bytes && bytes.length > 0) return { index: i + 1, timeNs: null, bytes };
        const shown = h.length > 40 ? `${h.slice(0, 40)}…` : h;
        // --hex takes every value after it, so `--hex AA x.pcap` makes x.pcap a --hex value
        const hint = existsSync(h) ? ' (a file: put files before --hex, which takes every value after it)' : '';
        return { index: i + 1, timeNs: null, bytes: new Uint8Array(0), error: `--hex value ${i + 1} is not hex bytes: ${JSON.stringify(shown)}${hint}` };
      }),
    });
  }
  const problems: string[] = [];
  for (const file of a.files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file === '-' ? 0 : file);
    } catch (e) {
      problems.push(`${file === '-' ? 'stdin' : file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const c = readCapture(bytes);
    if (!c.ok) {
      problems.push(`${file === '-' ? 'stdin' : file}: ${c.reason}`);
      continue;
    }
    if (c.value.warning !== null) process.stderr.write(`migsim: ${file === '-' ? 'stdin' : file}: warning: ${c.value.warning}\n`);
    inputs.push({ file, frames: c.value.frames });
  }
  if (problems.length > 0) throw new BadInput(problems.join('\n'));
  return inputs;
}

/**
 * yargs drops a bare `-` from positionals (its re-parse takes it for an option), so put
 * each `-` after `decode` in the command line back among the files, in command-line order.
 */
export function withStdin(a: DecodeArgs, argv: string[]): DecodeArgs {
  const at = argv.indexOf('decode');
  if (at < 0 || !argv.includes('-', at + 1)) return a;
  const files: string[] = [];
  let j = 0;
  for (const token of argv.slice(at + 1)) {
    if (token === '-') files.push('-');
    else if (j < a.files.length && token === a.files[j]) files.push(a.files[j++]!);
  }
  return { ...a, files: files.concat(a.files.slice(j)) };
}

export function cmdDecode(a: DecodeArgs): number {
  let failed = false;
  let out = '';
  for (const { file, frames } of decodeInputs(a)) {
    for (const f of frames) {
      const where = { file, index: f.index, ...(f.line === undefined ? {} : { line: f.line }), timeNs: f.timeNs };
      const doc = f.error === undefined
        ? { ...where, ...decodeFrame(f.bytes) }
        : { ...where, length: 0, layers: [], error: { layer: 'hex', reason: f.error } };
      if (doc.error !== null) failed = true;
      out += (a.pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc)) + '\n';
      if (out.length > 1 << 16) {
        process.stdout.write(out);
        out = '';
      }
    }
  }
  process.stdout.write(out);
  return failed ? EXIT_FAILED : EXIT_OK;
}

