// Chooses the implementation under test.
//   auto (default): the built package (`import 'wsframe'` → dist/) if it
//                   exports Decoder/Encoder, else the JS stand-in (stub);
//                   Node glue likewise (accept/connect, else a ws-based stub).
//   dist:           the built package, or fail.
//   stub:           the stand-ins, always (harness development only).
// Child processes receive the choice through WSFRAME_BENCH_IMPL.

export async function loadImpl(which = process.env.WSFRAME_BENCH_IMPL || 'auto') {
  let pkg = null, loadError = null;
  if (which !== 'stub') {
    try { pkg = await import('wsframe'); } catch (e) { loadError = e; }
  }
  const haveCore = !!(pkg && typeof pkg.Decoder === 'function' && typeof pkg.Encoder === 'function');
  const haveNode = !!(pkg && typeof pkg.accept === 'function' && typeof pkg.connect === 'function');
  if (which === 'dist' && !haveCore) {
    throw new Error(`--impl dist: cannot load Decoder/Encoder from 'wsframe' (run npm run build): ${loadError?.message ?? 'exports missing'}`);
  }
  const core = haveCore ? pkg : await import('./stub-codec.mjs');
  const node = haveNode ? pkg : await import('./stub-node.mjs');
  return {
    which,
    coreName: haveCore ? 'wsframe' : 'stub',
    nodeName: haveNode ? 'wsframe' : 'stub',
    Decoder: core.Decoder,
    Encoder: core.Encoder,
    accept: node.accept,
    connect: node.connect,
    memoryBytes: () => (typeof core.Decoder.memoryBytes === 'function' ? core.Decoder.memoryBytes() : 0),
    loadError: loadError ? String(loadError.message || loadError).split('\n')[0] : null,
  };
}
