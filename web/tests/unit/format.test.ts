import { describe, expect, it } from 'vitest';
import { formatAge, formatClock, formatDateTime, formatDuration, humanize, secondsSince } from '../../src/format';

describe('age formatting', () => {
  it('says just now under a second and for clock skew', () => {
    expect(formatAge(400)).toBe('just now');
    expect(formatAge(-5000)).toBe('just now');
  });
  it('counts seconds up to two minutes, then minutes, hours, days', () => {
    expect(formatAge(12_400)).toBe('12 s ago');
    expect(formatAge(119_000)).toBe('119 s ago');
    expect(formatAge(180_000)).toBe('3 min ago');
    expect(formatAge(3 * 3600_000)).toBe('3 h ago');
    expect(formatAge(72 * 3600_000)).toBe('3 d ago');
  });
});

describe('duration formatting', () => {
  it('formats seconds, minutes, hours and days; null as a dash', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(12 * 60 + 5)).toBe('12 min');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3 h 05 min');
    expect(formatDuration(52 * 3600)).toBe('2 d 4 h');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('times', () => {
  it('shows UTC clock and date times, a dash for missing or invalid', () => {
    expect(formatClock('2026-12-01T14:05:59Z')).toBe('14:05');
    expect(formatDateTime('2026-12-01T14:05:00+01:00')).toBe('01 Dec 13:05');
    expect(formatClock(null)).toBe('—');
    expect(formatClock('yesterday')).toBe('—');
  });
  it('computes seconds since a time, never negative', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(secondsSince('2026-12-01T11:00:00Z', now)).toBe(3600);
    expect(secondsSince('2026-12-01T13:00:00Z', now)).toBe(0);
    expect(secondsSince(null, now)).toBeNull();
  });
  it('humanizes snake case', () => {
    expect(humanize('under_way')).toBe('Under way');
    expect(humanize(null)).toBe('—');
  });
});
