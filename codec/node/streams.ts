// The codec as Node Transforms: bytes on one side, message objects on the other.
import type { Transform, TransformCallback } from 'node:stream';
import { lazyStream } from './builtins.js';
import { EventCollector, FrameWriter, type DecoderStreamOptions, type EncoderStreamOptions, type WebSocketStreamInput } from '../core/stream-codec.js';

/** A Node Transform: WebSocket bytes in, {@link WebSocketStreamEvent} objects out. */
export function createDecoderStream(options: DecoderStreamOptions = {}): Transform {
  const collector = new EventCollector(options);
  return new (lazyStream().Transform)({
    writableObjectMode: false,
    readableObjectMode: true,
    transform(chunk: Uint8Array, _encoding: BufferEncoding, callback: TransformCallback) {
      for (const event of collector.push(chunk)) this.push(event);
      // A protocol error destroys the stream with the ProtocolError (its closeCode says why).
      callback(collector.error ?? undefined);
    },
    destroy(error: Error | null, callback: (error: Error | null) => void) {
      collector.decoder.destroy();
      callback(error);
    },
  });
}

/** A Node Transform: {@link WebSocketStreamInput} objects in, WebSocket frame bytes out. */
export function createEncoderStream(options: EncoderStreamOptions = {}): Transform {
  const writer = new FrameWriter(options);
  return new (lazyStream().Transform)({
    writableObjectMode: true,
    readableObjectMode: false,
    transform(input: WebSocketStreamInput, _encoding: BufferEncoding, callback: TransformCallback) {
      let frames: Uint8Array[];
      try {
        frames = writer.encode(input);
      } catch (error) {
        callback(error as Error);
        return;
      }
      for (const frame of frames) this.push(frame);
      callback();
    },
  });
}
