/** Counters of what the bridge refused or survived; read by tests, exported as metrics (bridge-metrics.ts). */
export interface BridgeStats {
  /** Fire-and-forget messages dropped: not JSON, or not their catalog schema. */
  droppedMalformed: number;
  /** Handler or subscription callback failures that were caught (bugs, not typed errors). */
  handlerErrors: number;
  /** Replies over the connection's max payload, answered with a typed error instead. */
  oversizeReplies: number;
  /** Publishes that failed (oversize, closed connection): logged, never thrown. */
  publishErrors: number;
  /** Subscriptions or endpoints the server's permissions refused. */
  deniedSubscriptions: number;
  /** Every permission violation the server reported on this connection (publish or subscribe). */
  permissionErrors: number;
  /** Times the connection was lost, and times it came back. */
  disconnects: number;
  reconnects: number;
}

export function newBridgeStats(): BridgeStats {
  return { droppedMalformed: 0, handlerErrors: 0, oversizeReplies: 0, publishErrors: 0, deniedSubscriptions: 0, permissionErrors: 0, disconnects: 0, reconnects: 0 };
}
