/**
 * BTstack's free functions, bound to one Stack, so code ported from C reads the same:
 *
 *   const { hci_add_event_handler, hci_power_control, gap_inquiry_start } = btstack_init_default(stack);
 *   hci_add_event_handler(registration);
 *   hci_power_control(HCI_POWER_ON);
 *
 * There is no hidden global: the functions close over the stack they were bound to, so two
 * stacks in one process keep separate facades. Layers attached to the stack (stack.l2cap,
 * stack.rfcomm, stack.sdp, ...) contribute their BTstack-named methods (`l2cap_*`, `rfcomm_*`,
 * ...) when the facade is built; build it after creating them, or call it again.
 */
import type { Timer, TimerHandler } from './core/run-loop.js';
import type { Gap } from './hci/gap.js';
import type { Hci } from './hci/hci.js';
import type { L2cap } from './l2cap/l2cap.js';
import type { Rfcomm } from './rfcomm/rfcomm.js';
import type { Stack } from './stack.js';

type Method = (...args: never[]) => unknown;
type Prefixed<T, P extends string> = {
  [K in keyof T as K extends `${P}_${string}` ? (T[K] extends Method ? K : never) : never]: T[K];
};

/** The HCI and GAP functions of BTstack's hci.h / gap.h. */
export type BtstackHciApi = Prefixed<Hci, 'hci'>;
export type BtstackGapApi = Prefixed<Gap, 'gap'>;
/** The L2CAP functions of BTstack's l2cap.h (stack.l2cap). */
export type BtstackL2capApi = Prefixed<L2cap, 'l2cap'>;
/** The RFCOMM functions of BTstack's rfcomm.h (stack.rfcomm). */
export type BtstackRfcommApi = Prefixed<Rfcomm, 'rfcomm'>;

/** BTstack's btstack_run_loop.h, on the stack's run loop. */
export interface BtstackRunLoopApi {
  btstack_run_loop_set_timer(timer: Timer, timeout_in_ms: number): void;
  btstack_run_loop_set_timer_handler(timer: Timer, handler: TimerHandler): void;
  btstack_run_loop_set_timer_context(timer: Timer, context: unknown): void;
  btstack_run_loop_get_timer_context(timer: Timer): unknown;
  btstack_run_loop_add_timer(timer: Timer): void;
  btstack_run_loop_remove_timer(timer: Timer): boolean;
  btstack_run_loop_get_time_ms(): number;
  btstack_run_loop_execute_on_main_thread(callback: () => void): void;
  /** NodeRunLoop: resolves after btstack_run_loop_trigger_exit(). */
  btstack_run_loop_execute(): Promise<void>;
  btstack_run_loop_trigger_exit(): void;
}

export type BtstackApi = BtstackHciApi &
  BtstackGapApi &
  BtstackL2capApi &
  BtstackRfcommApi &
  BtstackRunLoopApi & {
    /** The stack the functions are bound to. */
    readonly stack: Stack;
    /** Functions of attached layers (l2cap_*, rfcomm_*, sdp_*, sdp_client_*), by name. */
    readonly [name: string]: unknown;
  };

/** Layer properties of a Stack whose prefixed methods join the facade. */
// a new layer (sm, att, gatt, ...) joins this list when the Stack creates it
const LAYERS = ['l2cap', 'rfcomm', 'sdp', 'sdp_client', 'att_server', 'gatt_client', 'sm'] as const;
const BTSTACK_NAME = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

function bindMethods(target: Record<string, unknown>, obj: object | undefined, accept: (name: string) => boolean): void {
  if (!obj) return;
  const seen = new Set<string>();
  for (let proto: object | null = obj; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name) || name === 'constructor' || !accept(name)) continue;
      seen.add(name);
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (!desc || typeof desc.value !== 'function') continue;
      if (name in target) continue;
      target[name] = (desc.value as (...a: unknown[]) => unknown).bind(obj);
    }
  }
}

/** Build BTstack's free functions for `stack` (hci_*, gap_*, btstack_run_loop_*, and attached layers). */
export function btstack_init_default(stack: Stack): BtstackApi {
  const api: Record<string, unknown> = { stack };
  bindMethods(api, stack.hci, (n) => n.startsWith('hci_'));
  bindMethods(api, stack.gap, (n) => n.startsWith('gap_'));
  const layers = stack as unknown as Record<string, object | undefined>;
  for (const layer of LAYERS) bindMethods(api, layers[layer], (n) => BTSTACK_NAME.test(n));
  const rl = stack.run_loop;
  Object.assign(api, {
    btstack_run_loop_set_timer: (t: Timer, ms: number) => rl.set_timer(t, ms),
    btstack_run_loop_set_timer_handler: (t: Timer, h: TimerHandler) => rl.set_timer_handler(t, h),
    btstack_run_loop_set_timer_context: (t: Timer, c: unknown) => rl.set_timer_context(t, c),
    btstack_run_loop_get_timer_context: (t: Timer) => rl.get_timer_context(t),
    btstack_run_loop_add_timer: (t: Timer) => rl.add_timer(t),
    btstack_run_loop_remove_timer: (t: Timer) => rl.remove_timer(t),
    btstack_run_loop_get_time_ms: () => rl.get_time_ms(),
    btstack_run_loop_execute_on_main_thread: (cb: () => void) => rl.execute_on_main_thread(cb),
    btstack_run_loop_execute: () => {
      const r = rl as unknown as { execute?: () => Promise<void> };
      return r.execute ? r.execute() : Promise.resolve();
    },
    btstack_run_loop_trigger_exit: () => rl.trigger_exit(),
  });
  return Object.freeze(api) as BtstackApi;
}

/** Alias with a shorter name. */
export const btstack_bind = btstack_init_default;
