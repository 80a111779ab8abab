import { pino } from 'pino';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { logRepeatedErrors } from '../src/shared/repeated-errors.js';

const capture = () => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
};

describe('logRepeatedErrors', () => {
  it('logs an error once with its stack, counts its repeats, and says how often it repeated when the window closes', async () => {
    const { lines, logger } = capture();
    const log = logRepeatedErrors(logger, 'worker error', { windowMs: 100 });
    for (let i = 0; i < 1000; i += 1) log(new Error('OOM command not allowed'));
    log(new Error('something else'));
    await sleep(200);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'worker error', err: { message: 'OOM command not allowed', stack: expect.stringContaining('Error') } });
    expect(lines[1]).toMatchObject({ msg: 'worker error', err: { message: 'something else' } });
    expect(lines[2]).toMatchObject({ level: 50, msg: 'worker error (repeated)', err: 'OOM command not allowed', repeated: 999, window_ms: 100 });
    // After the window the next one is logged again.
    log(new Error('OOM command not allowed'));
    expect(lines).toHaveLength(4);
  });

  it('says nothing more when an error came only once in its window', async () => {
    const { lines, logger } = capture();
    const log = logRepeatedErrors(logger, 'x', { windowMs: 50, level: 'warn', stack: false });
    log(new Error('once\nsecond line'));
    await sleep(120);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'x', err: 'once' })]);
  });

  it('counts errors that differ only in the ids they name as one (job ids, script SHAs, ports)', async () => {
    const { lines, logger } = capture();
    const log = logRepeatedErrors(logger, 'worker error', { windowMs: 50, level: 'warn', stack: false });
    for (let i = 0; i < 400; i += 1) log(new Error(`Missing lock for job job_${'abcdefghijklmnopqrstuv'.slice(i % 20)}${i}.x${i}yz. moveToFinished`));
    log(new Error("OOM command not allowed when used memory > 'maxmemory'. script: c35baf769e5dc3d9194b2bceca04ab59f7c510f7, on @user_script:27."));
    log(new Error("OOM command not allowed when used memory > 'maxmemory'. script: 1e9bb7deb6219644a634d32c430ce15ed39a377e, on @user_script:27."));
    await sleep(120);
    expect(lines.map((l) => [l['msg'], l['repeated']])).toEqual([
      ['worker error', undefined],
      ['worker error', undefined],
      ['worker error (repeated)', 399],
      ['worker error (repeated)', 1],
    ]);
    // The first of each is logged as it came, with its ids.
    expect(String(lines[0]?.['err'])).toMatch(/^Missing lock for job job_\w+0\.x0yz\. moveToFinished$/);
  });
});
