import { describe, expect, it } from 'vitest';
import { describeCounts, elapsedMs, formatDuration, formatRelative, formatSchedule, formatTime, summaryState } from './format.js';

describe('formatting for pages', () => {
  it('shows times in UTC to the second', () => {
    expect(formatTime(new Date('2024-05-01T06:30:04.120Z'))).toBe('2024-05-01 06:30:04');
    expect(formatTime(null)).toBe('');
  });

  it('shows durations in the largest sensible units', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1234)).toBe('1.23 s');
    expect(formatDuration(12_400)).toBe('12.4 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration(2 * 3600_000 + 4 * 60_000)).toBe('2 h 04 m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3600_000)).toBe('3 d 04 h');
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(-5)).toBe('0 ms');
  });

  it('measures elapsed time up to now while unfinished', () => {
    expect(elapsedMs(new Date(1000), new Date(4000))).toBe(3000);
    expect(elapsedMs(new Date(1000), null, 2500)).toBe(1500);
    expect(elapsedMs(null, new Date())).toBeNull();
  });

  it('says how long ago or how soon', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(formatRelative(new Date(now - 5_000), now)).toBe('5 s ago');
    expect(formatRelative(new Date(now + 2 * 3600_000), now)).toBe('in 2 h');
    expect(formatRelative(new Date(now - 3 * 86_400_000), now)).toBe('3 d ago');
  });

  it('summarizes instance states by what needs attention first', () => {
    expect(summaryState(['success', 'failed', 'running'])).toBe('failed');
    expect(summaryState(['success', 'queued', 'running'])).toBe('running');
    expect(summaryState(['success', null])).toBe('none');
    expect(summaryState(['success', 'skipped'])).toBe('success');
    expect(summaryState([])).toBeNull();
    expect(describeCounts({ success: 3, failed: 1, none: 2 })).toBe('1 failed, 2 no status, 3 success');
  });

  it('describes schedules', () => {
    expect(formatSchedule('@daily')).toBe('@daily');
    expect(formatSchedule(null)).toBe('None (manual)');
    expect(formatSchedule({ every: 1_800_000 })).toBe('every 30 m 00 s');
    expect(formatSchedule({ assets: ['s3://a', 's3://b'] })).toBe('on assets: s3://a, s3://b');
  });
});
