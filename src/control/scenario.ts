/**
 * Scripted scenarios for the simulated board (config "scenarios", run at start when named in
 * "runScenario"): each step waits afterS seconds of clock time after the previous one, then acts
 * like the matching control-socket command. A step that the board refuses is logged and the
 * scenario goes on, as a person at the station would.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { SimControl } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import type { ScenarioStep } from '../config/types.js';
import { applyToSim, parseRequest, type ControlRequest } from './protocol.js';

export interface ScenarioResult {
  /** Steps that ran without error. */
  done: number;
  failed: number;
  cancelled: boolean;
}

export interface ScenarioHandle {
  /** Stops before the next step; the promise `finished` then resolves with cancelled: true. */
  cancel(): void;
  readonly finished: Promise<ScenarioResult>;
}

/** Checks every step before anything runs, so a typo fails at start and not an hour in. */
export function compileScenario(steps: ScenarioStep[]): { afterMs: number; request: ControlRequest }[] {
  if (!Array.isArray(steps)) throw new Error('a scenario is an array of steps');
  return steps.map((step, i) => {
    try {
      if (typeof step.afterS !== 'number' || !(step.afterS >= 0)) throw new Error('afterS must be a number ≥ 0');
      if (step.action === ('status' as string)) throw new Error('status is not a scenario action');
      const request = parseRequest({ cmd: step.action, evse: step.evse, idToken: step.idToken, kind: step.fault });
      return { afterMs: step.afterS * 1000, request };
    } catch (err) {
      throw new Error(`scenario step ${i} (${JSON.stringify(step)}): ${(err as Error).message}`);
    }
  });
}

export function runScenario(steps: ScenarioStep[], sim: SimControl, clock: Clock, log: Logger): ScenarioHandle {
  const plan = compileScenario(steps);
  const result: ScenarioResult = { done: 0, failed: 0, cancelled: false };
  let timer: TimerHandle | undefined;
  let finish: (r: ScenarioResult) => void = () => undefined;
  const finished = new Promise<ScenarioResult>((resolve) => (finish = resolve));
  let index = 0;

  const next = (): void => {
    if (index >= plan.length) {
      log.info('scenario finished', { ...result });
      finish(result);
      return;
    }
    const { afterMs, request } = plan[index]!;
    timer = clock.setTimeout(() => {
      timer = undefined;
      index++;
      try {
        applyToSim(sim, request);
        result.done++;
        log.info('scenario step', { step: index - 1, action: request.cmd, evse: request.evse });
      } catch (err) {
        result.failed++;
        log.warn('scenario step refused', { step: index - 1, action: request.cmd, error: (err as Error).message });
      }
      next();
    }, afterMs);
  };
  next();

  return {
    finished,
    cancel(): void {
      if (index >= plan.length && timer === undefined) return;
      clock.clear(timer);
      timer = undefined;
      index = plan.length;
      result.cancelled = true;
      finish(result);
    },
  };
}
