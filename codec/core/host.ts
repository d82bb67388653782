// What the core may use of its host when present, found at run time and typed
// here without Node's types: the core compiles with `types: []` and runs in
// browsers, where none of these exist. Each use has a runtime-neutral fallback.

/** The subset of Node's Buffer the core uses: uninitialised allocation and base64. */
interface HostBuffer {
  allocUnsafe(size: number): Uint8Array;
  from(text: string, encoding: 'base64'): Uint8Array;
}

/** The subset of Node's process the core uses: the debug-build override of the module. */
interface HostProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?(name: 'fs'): { readFileSync(path: string): Uint8Array };
}

const host = globalThis as { Buffer?: HostBuffer; process?: HostProcess };

export const hostBuffer: HostBuffer | undefined = host.Buffer;
export const hostProcess: HostProcess | undefined = host.process;
