// Typed events: per-event listener signatures for EventEmitter methods, and the
// event objects of the WHATWG side (addEventListener, onmessage...) as ws gives them.

/**
 * An EventEmitter method typed per event: a known event takes exactly its
 * listener signature; any other name takes any listener. A wrong listener for a
 * known event is a compile error (the fallback excludes the known names).
 */
export interface TypedOn<Events extends { [K in keyof Events]: unknown[] }, This> {
  <K extends keyof Events & (string | symbol)>(event: K, listener: (this: This, ...args: Events[K]) => void): This;
  <E extends string | symbol>(event: Exclude<E, keyof Events>, listener: (this: This, ...args: any[]) => void): This;
}

/** What every event object carries (ws: `type` and `target`). */
export class WsEvent<Target = unknown> {
  readonly type: string;
  readonly target: Target;
  constructor(type: string, target: Target) {
    this.type = type;
    this.target = target;
  }
}

/** 'message': text as a string, binary as the socket's binaryType gives it. */
export class WsMessageEvent<Target = unknown, Data = unknown> extends WsEvent<Target> {
  readonly data: Data;
  constructor(target: Target, data: Data) {
    super('message', target);
    this.data = data;
  }
}

/** 'close': the close code and reason (§7.1.5, §7.1.6) and whether both close frames were exchanged. */
export class WsCloseEvent<Target = unknown> extends WsEvent<Target> {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(target: Target, code: number, reason: string, wasClean: boolean) {
    super('close', target);
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

/** 'error': the Error and its message. */
export class WsErrorEvent<Target = unknown> extends WsEvent<Target> {
  readonly error: unknown;
  readonly message: string;
  constructor(target: Target, error: unknown) {
    super('error', target);
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

/** A listener for addEventListener: a function or an object with handleEvent. */
export type EventListenerLike<E> = ((event: E) => void) | { handleEvent(event: E): void };
