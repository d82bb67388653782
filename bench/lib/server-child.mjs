// The two halves of a server measured in its own process: the child answers
// 'mark' (start counting its CPU time), 'read' (CPU microseconds since the
// mark) and 'exit'; the parent asks and waits for the reply field it names.

/** In the server child: answers the parent's requests; `other(message)` gets the rest. */
export function serveCpuMarks(other = () => {}) {
  let mark = process.cpuUsage();
  process.on('message', (message) => {
    if (message === 'mark') {
      mark = process.cpuUsage();
      process.send({ marked: true });
    } else if (message === 'read') {
      const used = process.cpuUsage(mark);
      process.send({ cpuMicros: used.user + used.system });
    } else if (message === 'exit') {
      process.exit(0);
    } else {
      other(message);
    }
  });
}

/** In the parent: `ask(message, key)` sends `message` (null: none) and resolves with the child's next reply holding `key`. */
export function asker(child) {
  return (message, key) => new Promise((resolve) => {
    const listener = (reply) => {
      if (key in reply) {
        child.off('message', listener);
        resolve(reply[key]);
      }
    };
    child.on('message', listener);
    if (message !== null) child.send(message);
  });
}
