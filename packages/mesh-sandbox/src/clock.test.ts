import { clockOf, isoSeconds, ManualClock, RealClock } from './clock';

describe('ManualClock', () => {
  it('runs due timers in due order, including timers they schedule, and moves now()', () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${isoSeconds(clock.now())}`), 2000);
    clock.setTimeout(() => {
      ran.push(`a@${isoSeconds(clock.now())}`);
      clock.setTimeout(() => ran.push(`c@${isoSeconds(clock.now())}`), 500);
    }, 1000);
    const never = clock.setTimeout(() => ran.push('never'), 1500);
    clock.clearTimeout(never);
    clock.advance(1999);
    expect(ran).toEqual(['a@2026-11-25T10:00:01Z', 'c@2026-11-25T10:00:01Z']);
    expect(isoSeconds(clock.now())).toBe('2026-11-25T10:00:01Z');
    expect(clock.pending).toBe(1);
    clock.advance(1);
    expect(ran).toEqual([
      'a@2026-11-25T10:00:01Z',
      'c@2026-11-25T10:00:01Z',
      'b@2026-11-25T10:00:02Z',
    ]);
    expect(clock.now().toISOString()).toBe('2026-11-25T10:00:02.000Z');
  });

  it('runs everything pending with runAll, and drops timers on dispose', () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    let count = 0;
    clock.setTimeout(() => count++, 10_000);
    clock.setTimeout(() => count++, 20_000);
    expect(clock.runAll()).toBe(20_000);
    expect(count).toBe(2);
    clock.setTimeout(() => count++, 1);
    clock.dispose();
    clock.advance(10);
    expect(count).toBe(2);
  });
});

describe('RealClock', () => {
  it('fires timers and clears them on dispose', async () => {
    const clock = new RealClock();
    const fired = await new Promise<boolean>(resolve => {
      clock.setTimeout(() => resolve(true), 5);
    });
    expect(fired).toBe(true);
    let late = false;
    clock.setTimeout(() => {
      late = true;
    }, 5);
    expect(clock.pending).toBe(1);
    clock.dispose();
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(late).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('is created on first use for a cluster without a clock', () => {
    const holder: { clock?: RealClock } = {};
    const clock = clockOf(holder);
    expect(clock).toBeInstanceOf(RealClock);
    expect(clockOf(holder)).toBe(clock);
  });
});
