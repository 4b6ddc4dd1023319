// The engine's event bus: every container change (create, start, die, health_status…) and every
// warning the supervisor has goes to the subscribers of `GET /v1/events` and to whoever inside
// the engine waits for a change. Subscribers must not throw; one that does is dropped.
import type { EngineEvent } from '../api/types.js';

export type ContainerAction = Extract<EngineEvent, { kind: 'container' }>['action'];

export class EventBus {
  private readonly listeners = new Set<(e: EngineEvent) => void>();

  publish(e: EngineEvent): void {
    for (const l of [...this.listeners]) {
      try { l(e); } catch { this.listeners.delete(l); }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  get size(): number {
    return this.listeners.size;
  }
}
