// createWebSocketStream: a WebSocket as a Node Duplex (ws's helper). Messages
// are read as chunks; each write is sent as one message.
import type { Duplex, DuplexOptions } from 'node:stream';
import { createRequire } from 'node:module';
import type { RawData, WebSocket } from './websocket.js';

const load = createRequire(process.execPath);
const lazyStream = (): typeof import('node:stream') => load('node:stream');

/**
 * Wraps `ws` in a Duplex: readable side = incoming messages (Buffers, or
 * strings for text with readableObjectMode), writable side = one message per
 * write (the write callback runs when the message is written). Ending the
 * writable side starts the closing handshake; destroying the stream terminates the connection.
 */
export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  let terminateOnDestroy = true;
  const duplex = new (lazyStream().Duplex)({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => ws.send(chunk, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback: (error?: Error | null) => void) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => this._final!(callback));
        return;
      }
      if (ws.readyState === ws.CLOSED) {
        callback();
        return;
      }
      ws.once('close', () => callback());
      ws.close();
    },
    destroy(error: Error | null, callback: (error: Error | null) => void) {
      if (ws.readyState === ws.CLOSED) {
        callback(error);
        return;
      }
      let called = false;
      ws.once('error', (wsError: Error) => {
        called = true;
        callback(wsError);
      });
      ws.once('close', () => {
        if (!called) callback(error);
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? data.toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    // The connection is failing already: do not terminate it again.
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });
  return duplex;
}
