// The codec as WHATWG TransformStreams (browsers, Deno, Node's stream/web):
// bytes on one side, message objects on the other.
import { EventCollector, FrameWriter, type DecoderStreamOptions, type EncoderStreamOptions, type WebSocketStreamEvent, type WebSocketStreamInput } from './stream-codec.js';

/** A WHATWG TransformStream: WebSocket bytes in, {@link WebSocketStreamEvent} objects out. */
export function createWebDecoderStream(options: DecoderStreamOptions = {}): TransformStream<Uint8Array, WebSocketStreamEvent> {
  const collector = new EventCollector(options);
  return new TransformStream<Uint8Array, WebSocketStreamEvent>({
    transform(chunk, controller) {
      for (const event of collector.push(chunk)) controller.enqueue(event);
      if (collector.error !== null) {
        collector.decoder.destroy();
        controller.error(collector.error);
      }
    },
    flush() {
      collector.decoder.destroy();
    },
  });
}

/** A WHATWG TransformStream: {@link WebSocketStreamInput} in, WebSocket frame bytes out. */
export function createWebEncoderStream(options: EncoderStreamOptions = {}): TransformStream<WebSocketStreamInput, Uint8Array> {
  const writer = new FrameWriter(options);
  return new TransformStream<WebSocketStreamInput, Uint8Array>({
    transform(input, controller) {
      for (const frame of writer.encode(input)) controller.enqueue(frame);
    },
  });
}
