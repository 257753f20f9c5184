/** Moved to src/core/span.ts (issue 12 item 9); re-exported here until src/rfcomm imports it from there. */
export { ViewCache } from '../core/span.js';
