/**
 * Which connections the server holds, so that no one peer, and no crowd of
 * clients that never finish their headers, can take every slot.
 *
 * A connection is `waiting` from the moment it is accepted, and again after each
 * response, until a request's headers are complete; then it is `busy` until that
 * response is done. The invariants kept on every accept:
 *
 * - a peer (remote address) holds at most `perPeer` connections;
 * - at most `waitingBudget` connections are waiting; the rest of the global cap is
 *   a reserve that only connections with a request in flight can use;
 * - at most `max` connections in all.
 *
 * A new connection that would break one of them first makes room by closing the
 * oldest waiting connection in that scope (the peer's own, else anyone's): a real
 * client sends its headers in one write as it connects, so the oldest waiting
 * connection is the one least likely to be a client about to be served, and a
 * flood of new slow connections can only cut its own kind. When nothing in scope
 * is waiting (all busy), the new connection is closed at once instead.
 */
import type { Socket } from "node:net";

/** A peer may hold at most this share (1/N) of the global cap: well below it, so one peer cannot lock out the rest. */
export const PEER_SHARE = 8;
/** Connections waiting for headers may fill at most this share of the global cap; the rest is kept for requests in flight. */
const WAITING_SHARE = 3 / 4;

export interface GateLimits {
  readonly max: number;
  readonly perPeer: number;
  readonly waitingBudget: number;
}

/** The limits for a global cap, with an explicit per-peer cap if given. */
export function gateLimits(max: number, perPeer?: number): GateLimits {
  return {
    max,
    perPeer: Math.max(1, Math.min(max, perPeer ?? Math.floor(max / PEER_SHARE))),
    waitingBudget: Math.max(1, Math.floor(max * WAITING_SHARE)),
  };
}

interface Held {
  readonly peer: string;
  /** Requests whose headers are complete and whose response is not done; 0 is `waiting`. */
  busy: number;
  /** When it last became waiting: the order in which waiting connections give way. */
  waitingSince: number;
}

export class ConnectionGate {
  readonly #limits: GateLimits;
  readonly #held = new Map<Socket, Held>();
  readonly #perPeer = new Map<string, number>();
  #tick = 0;

  constructor(limits: GateLimits) {
    this.#limits = limits;
  }

  /** Connections held now. */
  get size(): number {
    return this.#held.size;
  }

  /** Admits a new connection, making room as the invariants need; closes it when there is none. */
  admit(socket: Socket): void {
    const peer = socket.remoteAddress ?? "unknown";
    const room =
      ((this.#perPeer.get(peer) ?? 0) < this.#limits.perPeer || this.#closeOldestWaiting(peer)) &&
      (this.#waitingCount() < this.#limits.waitingBudget || this.#closeOldestWaiting(undefined)) &&
      (this.#held.size < this.#limits.max || this.#closeOldestWaiting(undefined));
    if (!room) {
      socket.destroy();
      return;
    }
    this.#held.set(socket, { peer, busy: 0, waitingSince: this.#tick++ });
    this.#perPeer.set(peer, (this.#perPeer.get(peer) ?? 0) + 1);
    socket.once("close", () => this.#release(socket));
  }

  /** A request's headers are complete on this connection. */
  requestStarted(socket: Socket): void {
    const held = this.#held.get(socket);
    if (held !== undefined) held.busy++;
  }

  /** That request's response is done (or abandoned). */
  requestEnded(socket: Socket): void {
    const held = this.#held.get(socket);
    if (held === undefined || held.busy === 0) return;
    held.busy--;
    if (held.busy === 0) held.waitingSince = this.#tick++;
  }

  #release(socket: Socket): void {
    const held = this.#held.get(socket);
    if (held === undefined) return;
    this.#held.delete(socket);
    const left = (this.#perPeer.get(held.peer) ?? 1) - 1;
    if (left === 0) this.#perPeer.delete(held.peer);
    else this.#perPeer.set(held.peer, left);
  }

  #waitingCount(): number {
    let count = 0;
    for (const held of this.#held.values()) if (held.busy === 0) count++;
    return count;
  }

  /** Closes the oldest waiting connection (of `peer`, or of anyone); false when none is waiting. */
  #closeOldestWaiting(peer: string | undefined): boolean {
    let oldest: [Socket, Held] | undefined;
    for (const entry of this.#held) {
      const held = entry[1];
      if (held.busy !== 0 || (peer !== undefined && held.peer !== peer)) continue;
      if (oldest === undefined || held.waitingSince < oldest[1].waitingSince) oldest = entry;
    }
    if (oldest === undefined) return false;
    // Released now, not on its close event: the room is needed before that event comes.
    this.#release(oldest[0]);
    oldest[0].destroy();
    return true;
  }
}
