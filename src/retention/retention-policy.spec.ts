import fc from 'fast-check';
import { classifyVersions, effectiveRetentionCount, newestFirst, purgeCutoff, type LiveVersion } from './retention-policy';

const at = (iso: string) => new Date(iso);
const version = (id: number, created: string, extra: Partial<LiveVersion> = {}): LiveVersion => ({
  id,
  created_at: at(created),
  pinned: false,
  aliased: false,
  has_active_binding: false,
  ...extra,
});

describe('classifyVersions', () => {
  it('keeps the newest N and archives the rest', () => {
    const live = [1, 2, 3, 4, 5].map((i) => version(i, `2026-01-0${i}T00:00:00Z`));
    const sut = classifyVersions(live, 3);
    expect(sut.kept.map((k) => [k.version.id, k.reason])).toEqual([
      [5, 'within_retention'],
      [4, 'within_retention'],
      [3, 'within_retention'],
    ]);
    expect(sut.archive.map((v) => v.id)).toEqual([2, 1]);
  });

  it('keeps protected older versions with their reason, without counting them in N', () => {
    const live = [
      version(1, '2026-01-01T00:00:00Z', { pinned: true }),
      version(2, '2026-01-02T00:00:00Z', { has_active_binding: true }),
      version(3, '2026-01-03T00:00:00Z'),
      version(4, '2026-01-04T00:00:00Z', { aliased: true }),
      version(5, '2026-01-05T00:00:00Z'),
    ];
    const sut = classifyVersions(live, 1);
    expect(sut.kept.map((k) => [k.version.id, k.reason])).toEqual([
      [5, 'within_retention'],
      [4, 'aliased'],
      [2, 'active_binding'],
      [1, 'pinned'],
    ]);
    expect(sut.archive.map((v) => v.id)).toEqual([3]);
  });

  it('breaks creation-time ties by id (higher id is newer)', () => {
    const live = [version(10, '2026-01-01T00:00:00Z'), version(11, '2026-01-01T00:00:00Z'), version(9, '2026-01-01T00:00:00Z')];
    expect(classifyVersions(live, 1).kept[0].version.id).toBe(11);
    expect(classifyVersions(live, 1).archive.map((v) => v.id)).toEqual([10, 9]);
  });

  const catalog = fc.uniqueArray(
    fc.record({
      id: fc.integer({ min: 1, max: 1_000_000 }),
      created_at: fc.date({ min: at('2025-01-01T00:00:00Z'), max: at('2026-12-31T00:00:00Z'), noInvalidDate: true }),
      pinned: fc.boolean(),
      aliased: fc.boolean(),
      has_active_binding: fc.boolean(),
    }),
    { maxLength: 40, selector: (v) => v.id },
  );
  const keep = fc.integer({ min: 1, max: 10 });

  it('never archives a protected version (property)', () => {
    fc.assert(
      fc.property(catalog, keep, (live, n) => {
        expect(classifyVersions(live, n).archive.every((v) => !v.pinned && !v.aliased && !v.has_active_binding)).toBe(true);
      }),
    );
  });

  it('always keeps the newest N (property)', () => {
    fc.assert(
      fc.property(catalog, keep, (live, n) => {
        const newest = [...live].sort(newestFirst).slice(0, n).map((v) => v.id);
        const kept = new Set(classifyVersions(live, n).kept.map((k) => k.version.id));
        expect(newest.every((id) => kept.has(id))).toBe(true);
      }),
    );
  });

  it('partitions the versions and archives only ones older than every version kept within N (property)', () => {
    fc.assert(
      fc.property(catalog, keep, (live, n) => {
        const sut = classifyVersions(live, n);
        expect(sut.kept.length + sut.archive.length).toBe(live.length);
        const within = sut.kept.filter((k) => k.reason === 'within_retention').map((k) => k.version);
        expect(within.length).toBe(Math.min(n, live.length));
        for (const archived of sut.archive) for (const kept of within) expect(newestFirst(kept, archived)).toBeLessThan(0);
      }),
    );
  });

  it('is idempotent: applying it to what it kept archives nothing more (property)', () => {
    fc.assert(
      fc.property(catalog, keep, (live, n) => {
        const kept = classifyVersions(live, n).kept.map((k) => k.version);
        expect(classifyVersions(kept, n).archive).toEqual([]);
      }),
    );
  });
});

describe('effectiveRetentionCount', () => {
  it('prefers the request, then the model, then the default', () => {
    expect(effectiveRetentionCount(2, 5, 3)).toBe(2);
    expect(effectiveRetentionCount(undefined, 5, 3)).toBe(5);
    expect(effectiveRetentionCount(undefined, null, 3)).toBe(3);
  });
});

describe('purgeCutoff', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const DAY = 24 * 60 * 60 * 1000;
  const purged = (archivedAgoMs: number) => new Date(now.getTime() - archivedAgoMs).getTime() < purgeCutoff(now, 90).getTime();

  it('purges only what was archived more than the purge age ago (exactly 90 days is kept)', () => {
    expect(purged(89 * DAY + 23 * 3_600_000 + 59 * 60_000)).toBe(false);
    expect(purged(90 * DAY)).toBe(false);
    expect(purged(90 * DAY + 1_000)).toBe(true);
  });
});
