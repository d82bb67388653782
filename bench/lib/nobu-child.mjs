// Child process: ws rows without bufferutil (WS_NO_BUFFER_UTIL=1 set by the
// parent). Prints the rows as JSON; ratios use this process's own memcpy.
import { wsNoBufferutil } from './micro.mjs';

const micro = JSON.parse(process.argv[2] || '{}');
const rows = await wsNoBufferutil({ micro });
process.stdout.write(JSON.stringify(rows) + '\n');
