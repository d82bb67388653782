// Socket reads straight into the decoder's WebAssembly input area (net.Socket
// `onread`), so no intermediate Buffer is allocated or copied per read.
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { lazyNet } from './builtins.js';
import { readAreaView } from '../core/wasm.js';

/** What a socket reads into: the connection's input area, then a parse of what landed there. */
export interface ReadTarget {
  readBuffer(): Uint8Array;
  pushReadBuffer(bytesRead: number): void;
}

/**
 * The `onread` option for a socket created by us (net.connect/tls.connect).
 * Node re-calls the buffer function after every read, so each read gets a
 * fresh view even if WASM memory grew (growth detaches old views).
 */
export function onreadOption(target: ReadTarget): net.OnReadOpts {
  return {
    buffer: () => target.readBuffer(),
    callback: (bytesRead: number): boolean => {
      target.pushReadBuffer(bytesRead);
      return true;
    },
  };
}

/** The connection an upgraded socket's reads are parsed by (switchToOnread). */
const kReadTarget = Symbol('wsframe.readTarget');
type ReadingSocket = Duplex & { [kReadTarget]: ReadTarget };

/*
 * The buffer function and callback of every upgraded socket, shared: Node
 * calls the callback as a method of the socket, which names its connection,
 * then the buffer function (without a receiver) for the same socket's next
 * read. No closure per connection.
 */

/** The connection whose read was just parsed: Node asks for the socket's next buffer right after. */
let lastTarget: ReadTarget | null = null;
function sharedReadBuffer(): Uint8Array {
  // The connection may want its next read elsewhere (a message it reassembles
  // in the arena); any other call gets the shared read area.
  const target = lastTarget;
  lastTarget = null;
  return target === null ? readAreaView() : target.readBuffer();
}
function parseRead(this: ReadingSocket, bytesRead: number): boolean {
  const target = this[kReadTarget];
  lastTarget = target;
  target.pushReadBuffer(bytesRead);
  return true;
}

/** The parts of a Node 20 net.Socket / TCPWrap that an `onread` handoff touches (internals). */
interface OnreadCapableHandle {
  reading?: boolean;
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Switches an already-open net.Socket (an http 'upgrade' socket) to `onread`
 * reads into the decoder's input area, as if it had been created with
 * `new net.Socket({ onread: onreadOption(target) })`.
 *
 * Node only takes `onread` as a constructor option. Its implementation (Node 20
 * lib/net.js, lib/internal/stream_base_commons.js onStreamRead) keeps the
 * buffer, callback and buffer generator in three per-socket symbol properties
 * and hands the buffer to the C++ handle with `useUserBuffer`; after every read
 * it calls the callback, then re-calls the generator and gives the new buffer to
 * the handle. We set the same three properties and call `useUserBuffer` ourselves.
 * `target` reads into the decoders' shared read area (a Connection does).
 * This relies on Node internals, so every precondition is checked and any
 * mismatch returns false, leaving the socket on ordinary 'data' events.
 */
export function switchToOnread(socket: Duplex, target: ReadTarget): boolean {
  // A TLS socket (`encrypted`) decrypts in JS: its reads cannot land in our buffer.
  if (!(socket instanceof lazyNet().Socket) || (socket as { encrypted?: boolean }).encrypted === true) return false;
  const handle = (socket as unknown as { _handle?: OnreadCapableHandle | null })._handle;
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') return false;
  // Bytes Node already buffered would be read before ours: keep the simple path then.
  if (socket.readableLength > 0 || socket.destroyed) return false;
  const symbols = Object.getOwnPropertySymbols(socket);
  const symbol = (description: string) => symbols.find((candidate) => candidate.description === description);
  const kBuffer = symbol('kBuffer');
  const kBufferCb = symbol('kBufferCb');
  const kBufferGen = symbol('kBufferGen');
  if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null || fields[kBufferGen] !== null) return false;
  (socket as unknown as ReadingSocket)[kReadTarget] = target;
  const buffer = target.readBuffer();
  fields[kBuffer] = buffer;
  fields[kBufferGen] = sharedReadBuffer;
  fields[kBufferCb] = parseRead;
  handle.useUserBuffer(buffer);
  // With a user buffer nothing is pushed into the Readable; resume() restarts
  // the handle's reads if the upgrade left them stopped.
  socket.resume();
  return true;
}
