/**
 * Nightly database maintenance, so that the station's database stays small on an SD card for years:
 * ended sessions past their retention are forgotten, the WAL file is checkpointed and truncated, and
 * the pages that freed are returned to the file system (incremental vacuum). node-cron runs it at a
 * wall-clock time (config database.maintenanceSchedule, default 03:17 local time, when a station is
 * least likely to be busy); only on the real clock — under a VirtualClock (tests, benches) nothing is
 * scheduled, and the job is a plain function they call.
 *
 * Each step is bounded so that the event loop (the safety path of a GPIO board) is never held long:
 * the vacuum frees at most VACUUM_PAGES_PER_RUN pages a night.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { SystemClock, type Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Db } from './db.js';
import { pruneSessions } from './sessions.js';

/** At most this many free pages (4 KiB each: 16 MiB) go back to the file system per run. */
export const VACUUM_PAGES_PER_RUN = 4096;

export interface MaintenanceSettings {
  /** Ended (and reported) sessions older than this many days are forgotten. */
  sessionRetentionDays: number;
}

export interface MaintenanceResult {
  prunedSessions: number;
  /** WAL frames written back to the database file (the WAL is then truncated to 0 bytes). */
  checkpointedFrames: number;
  /** Pages given back to the file system; 0 when the database was created without incremental auto-vacuum. */
  freedPages: number;
  /** Whether the database can give pages back (auto_vacuum = INCREMENTAL, true for databases created by this release). */
  incrementalVacuum: boolean;
  pagesBefore: number;
  pagesAfter: number;
}

const DAY_MS = 86_400_000;

/** The job: prune, checkpoint (TRUNCATE), incremental vacuum. Synchronous; throws what SQLite throws. */
export function maintainDatabase(db: Db, now: number, settings: MaintenanceSettings): MaintenanceResult {
  const pages = (): number => db.pragma('page_count', { simple: true }) as number;
  const pagesBefore = pages();
  const prunedSessions = pruneSessions(db, now - settings.sessionRetentionDays * DAY_MS);
  const incrementalVacuum = (db.pragma('auto_vacuum', { simple: true }) as number) === 2;
  const freeBefore = db.pragma('freelist_count', { simple: true }) as number;
  if (incrementalVacuum && freeBefore > 0) db.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_RUN})`);
  const freedPages = freeBefore - (db.pragma('freelist_count', { simple: true }) as number);
  // Last, so that the vacuum's own frames are written back and the WAL file ends empty.
  const [cp] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
  return { prunedSessions, checkpointedFrames: Math.max(0, cp?.checkpointed ?? 0), freedPages, incrementalVacuum, pagesBefore, pagesAfter: pages() };
}

export interface MaintenanceSchedule {
  /** Cron expression (node-cron: 5 or 6 fields, local time); '' schedules nothing. */
  maintenanceSchedule: string;
  sessionRetentionDays: number;
}

export interface ScheduledMaintenance {
  /** The node-cron task (tests read its pattern and next run). */
  readonly task: ScheduledTask;
  /** Runs the job now, as the schedule does (logs its result or its error). */
  runNow(): MaintenanceResult | undefined;
  stop(): Promise<void>;
}

/**
 * Schedules the job on the wall clock. Returns undefined (nothing scheduled) when the station does not
 * run on the real clock or the schedule is ''.
 */
export function scheduleDatabaseMaintenance(db: Db, clock: Clock, log: Logger, settings: MaintenanceSchedule): ScheduledMaintenance | undefined {
  if (!(clock instanceof SystemClock) || settings.maintenanceSchedule === '') return undefined;
  const runNow = (): MaintenanceResult | undefined => {
    try {
      const r = maintainDatabase(db, clock.now(), settings);
      log.info('database maintenance done', { ...r });
      if (!r.incrementalVacuum) log.debug('database created without incremental auto-vacuum: freed pages are reused, not given back');
      return r;
    } catch (err) {
      // A storage fault is also reported to the storage health tracker by the statement that failed.
      log.error('database maintenance failed', { error: (err as Error).message });
      return undefined;
    }
  };
  const task = cron.schedule(settings.maintenanceSchedule, () => void runNow(), { name: 'database-maintenance', noOverlap: true, unref: true });
  log.info('database maintenance scheduled', { schedule: settings.maintenanceSchedule, next: task.getNextRun()?.toISOString() });
  return {
    task,
    runNow,
    stop: async () => {
      await task.destroy();
    },
  };
}
