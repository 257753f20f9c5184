/** Moved to src/core/span.ts (issue 12 item 9); re-exported here until src/hci and src/l2cap import it from there. */
export { SpanCopier, SPAN_COPY_VIEW_MIN, ViewCache as OffsetViewCache } from '../core/span.js';
