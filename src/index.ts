import { run } from './main.js';

// stack traces name the src/ files and lines (dist/index.js.map), not the minified bundle's
process.setSourceMapsEnabled(true);
await run();
