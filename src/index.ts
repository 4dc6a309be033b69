import { run } from './main.js';

// stack traces name the src/ files and lines (dist/index.js.map), not the minified bundle's
process.setSourceMapsEnabled(true);
await run();
// everything the run started is awaited by now: exit at once (with process.exitCode) rather than through
// Node's full environment teardown, ~15 ms of every run
process.exit();
