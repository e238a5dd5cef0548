// `migsim decode` as users run it: the built binary in a child process (npm test builds
// dist/ first), exit codes, stdout JSON lines, stderr messages.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'migsim-decode-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function migsim(args: string[], input?: Uint8Array | string) {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/migsim.js'), ...args], { encoding: 'utf8', cwd: process.cwd(), input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const lines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l));

// docs/protocols.md 2.5: the 71-byte associate with the M-bit, and the station's 18-byte ECP ACK
const WORKED =
  '0180c2000000e6f1205ab0e68940' + '10010001' + '0a10626c61626c6100000000000000000000' +
  '0621100000050405a141285760f74ce1e95a2164943f53aa020001525400112233' + '0000';
const ACK = '0180c2000000e6f1205ab0e6894014010001';

const bytes = (hex: string) => Buffer.from(hex, 'hex');

/** A little-endian microsecond pcap, link type Ethernet. */
function pcap(records: { sec: number; usec: number; frame: Buffer }[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  return Buffer.concat([header, ...records.flatMap((r) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(r.sec, 0);
    h.writeUInt32LE(r.usec, 4);
    h.writeUInt32LE(r.frame.length, 8);
    h.writeUInt32LE(r.frame.length, 12);
    return [h, r.frame];
  })]);
}

describe('migsim decode', () => {
  it('--hex: the worked example decodes, exit 0, one JSON line', () => {
    const r = migsim(['decode', '--hex', WORKED]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const docs = lines(r.out);
    expect(docs).toHaveLength(1);
    const d = docs[0];
    expect(d).toMatchObject({ file: null, index: 1, timeNs: null, length: 71, error: null });
    expect(d.layers.map((l: { layer: string }) => l.layer)).toEqual(['ethernet', 'ecp', 'vdp']);
    expect(d.layers[2].vsis[0]).toMatchObject({
      mode: 'assoc', typeId: 5, id: 'a1412857-60f7-4ce1-e95a-2164943f53aa', status: { migratedTo: true },
      filters: [{ mac: '52:54:00:11:22:33', vid: 0 }],
    });
  });

  it('--pretty indents; several --hex values each give a document', () => {
    const r = migsim(['decode', '--pretty', '--hex', WORKED, '--hex', ACK]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\n  "layers": [\n');
    const docs = r.out.split(/\n(?=\{)/).map((t) => JSON.parse(t));
    expect(docs.map((d) => [d.index, d.length])).toEqual([[1, 71], [2, 18]]);
  });

  it('a pcap file with two frames: file, index and timestamp on each', () => {
    const path = join(work, 'two.pcap');
    writeFileSync(path, pcap([{ sec: 10, usec: 250_000, frame: bytes(WORKED) }, { sec: 10, usec: 252_560, frame: bytes(ACK) }]));
    const r = migsim(['decode', path]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const docs = lines(r.out);
    expect(docs.map((d) => ({ file: d.file, index: d.index, timeNs: d.timeNs, last: d.layers.at(-1).layer }))).toEqual([
      { file: path, index: 1, timeNs: 10_250_000_000, last: 'vdp' },
      { file: path, index: 2, timeNs: 10_252_560_000, last: 'ecp' },
    ]);
    expect(docs[1].layers[1]).toMatchObject({ op: 'ack', seq: 1 });
  });

  it('a hex file with one bad line: exit 1, the good frames printed, the bad one with its error, no stack trace', () => {
    const path = join(work, 'frames.txt');
    writeFileSync(path, `# captured by hand\n${WORKED}\n01 80 c2 zz\n${ACK.match(/../g)!.join(':')}\n`);
    const r = migsim(['decode', path]);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/\bat \w|Error|stack/);
    const docs = lines(r.out);
    expect(docs.map((d) => [d.index, d.line, d.error === null])).toEqual([[1, 2, true], [2, 3, false], [3, 4, true]]);
    expect(docs[1]).toMatchObject({ file: path, layers: [], error: { layer: 'hex', reason: 'line 3: not hex bytes: "01 80 c2 zz"' } });
    expect(docs[0].layers[2].vsis[0].status.migratedTo).toBe(true);
  });

  it('a frame that does not decode: its error in the JSON, exit 1', () => {
    const r = migsim(['decode', '--hex', WORKED.slice(0, -8)]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const [d] = lines(r.out);
    expect(d.error.layer).toBe('vdp');
    expect(d.layers.map((l: { layer: string }) => l.layer)).toEqual(['ethernet', 'ecp']);
  });

  it('- reads stdin', () => {
    const r = migsim(['decode', '-'], pcap([{ sec: 1, usec: 0, frame: bytes(ACK) }]));
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([expect.objectContaining({ file: '-', index: 1, timeNs: 1e9, length: 18 })]);
  });

  it('a missing file: exit 2 naming it, nothing decoded', () => {
    const missing = join(work, 'no-such.pcap');
    const r = migsim(['decode', missing, '--hex', ACK]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(`migsim: ${missing}: cannot read`);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('an unrecognized capture or a non-Ethernet pcap: exit 2 naming the file', () => {
    const yaml = join(work, 'scenario.yaml');
    writeFileSync(yaml, 'name: x\nhosts: [h1]\n');
    const sll = pcap([{ sec: 1, usec: 0, frame: bytes(ACK) }]);
    sll.writeUInt32LE(113, 20);
    const sllPath = join(work, 'sll.pcap');
    writeFileSync(sllPath, sll);
    const r = migsim(['decode', yaml, sllPath]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${yaml}: not a pcap or pcapng capture`);
    expect(r.err).toContain(`${sllPath}: pcap link type 113 (Linux cooked (SLL)) is not Ethernet (1)`);
    expect(r.out).toBe('');
  });

  it('a capture cut inside its last record: the frames before it, a warning on stderr, exit 0', () => {
    const full = pcap([{ sec: 1, usec: 0, frame: bytes(WORKED) }, { sec: 2, usec: 0, frame: bytes(ACK) }]);
    const path = join(work, 'cut.pcap');
    writeFileSync(path, full.subarray(0, full.length - 5));
    const r = migsim(['decode', path]);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`migsim: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: warning: record 2 .* ends inside`));
  });

  it('a file after --hex is taken as a --hex value: exit 1 with a hint, not a crash', () => {
    const path = join(work, 'after.pcap');
    writeFileSync(path, pcap([{ sec: 1, usec: 0, frame: bytes(ACK) }]));
    const r = migsim(['decode', '--hex', ACK, path]);
    expect(r.code).toBe(1);
    const docs = lines(r.out);
    expect(docs[1].error.reason).toMatch(/--hex value 2 is not hex bytes: .*put files before --hex/);
  });

  it('nothing to decode: exit 2', () => {
    const r = migsim(['decode']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('decode needs a capture FILE');
  });
});
