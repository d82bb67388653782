// What the core may use of its host when present, found at run time and typed
// here without Node's types: the core compiles with `types: []` and runs in
// browsers, where none of these exist. Each use has a runtime-neutral fallback.

/** The subset of Node's Buffer the core uses: uninitialised allocation and base64. */
interface HostBuffer {
  allocUnsafe(size: number): Uint8Array;
  from(text: string, encoding: 'base64'): Uint8Array;
}

/** A whole-buffer UTF-8 check: true when `data` is valid UTF-8 (RFC 3629) from its first byte to its last. */
export type Utf8Validator = (data: Uint8Array) => boolean;

/** The subset of Node's process the core uses: the debug-build override of the module, node:buffer's isUtf8. */
interface HostProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?(name: 'fs'): { readFileSync(path: string): Uint8Array };
  getBuiltinModule?(name: 'buffer'): { isUtf8?: Utf8Validator } | undefined;
}

const host = globalThis as { Buffer?: HostBuffer; process?: HostProcess };

export const hostBuffer: HostBuffer | undefined = host.Buffer;
export const hostProcess: HostProcess | undefined = host.process;

// The host's UTF-8 validator: node:buffer's isUtf8 (simdutf, Node >= 18.14),
// reached through process.getBuiltinModule (Node >= 20.16) so that the core
// imports nothing. Without one (browsers) WebAssembly validates all text.
let utf8Validator: Utf8Validator | null | undefined;

/** The host's UTF-8 validator, looked up on first use; null when the host has none. */
export function hostUtf8Validator(): Utf8Validator | null {
  if (utf8Validator === undefined) {
    let found: Utf8Validator | undefined;
    // WSFRAME_HOST_UTF8=0: WebAssembly validates all text, as in a browser (to test that path in Node).
    if (hostProcess?.env?.WSFRAME_HOST_UTF8 === '0') found = undefined;
    else try {
      found = typeof hostProcess?.getBuiltinModule === 'function' ? hostProcess.getBuiltinModule('buffer')?.isUtf8 : undefined;
    } catch {
      found = undefined;
    }
    utf8Validator = typeof found === 'function' ? found : null;
  }
  return utf8Validator;
}

/**
 * Replaces the host's UTF-8 validator for decoders created from now on: a
 * function, null for none (WebAssembly validates all text), or undefined to
 * look the host's up again. For a Node edge that supplies one another way, and
 * for tests that compare both paths.
 */
export function setHostUtf8Validator(validator: Utf8Validator | null | undefined): void {
  utf8Validator = validator;
}
