// Autobahn|Testsuite client testee (fuzzingserver peer), as `ws` ships one:
// `npm run testee-client -- --url ws://127.0.0.1:N --agent NAME`.
import { connect, type WebSocket } from '../node/index.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1]! : fallback;
}

const baseUrl = option('url', 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = option('agent', 'wsframe');

/** Opens one connection and resolves when it has closed. */
function run(path: string, onOpen: (webSocket: WebSocket) => void): Promise<void> {
  return new Promise((resolve) => {
    // Offers permessage-deflate (as ws's client does); every message compressed once agreed (threshold 0).
    const webSocket = connect(`${baseUrl}${path}`, { maxMessageSize: 64 * 2 ** 20, maxFragments: 0, perMessageDeflate: { threshold: 0 } });
    webSocket.on('error', (error: Error) => console.error(`${path}: ${error.message}`));
    webSocket.on('close', () => resolve());
    onOpen(webSocket);
  });
}

async function main(): Promise<void> {
  let caseCount = 0;
  await run('/getCaseCount', (webSocket) => {
    webSocket.on('message', (data: Uint8Array) => {
      caseCount = Number(Buffer.from(data).toString('utf8'));
    });
  });
  if (!Number.isInteger(caseCount) || caseCount <= 0) throw new Error('Could not get the case count');
  console.log(`running ${caseCount} cases as agent ${agent}`);
  const query = (i: number) => `/runCase?case=${i}&agent=${encodeURIComponent(agent)}`;
  for (let i = 1; i <= caseCount; i++) {
    await run(query(i), (webSocket) => {
      webSocket.on('message', (data: Uint8Array, binary: boolean) => {
        webSocket.send(data, { binary });
      });
    });
    if (i % 50 === 0 || i === caseCount) console.log(`case ${i}/${caseCount} done`);
  }
  await run(`/updateReports?agent=${encodeURIComponent(agent)}`, () => {});
  console.log('reports updated');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
