/**
 * bthost/serialport: the H4 and H5 UART transports. A separate entry so that importing `bthost` does not
 * load serialport's native binding.
 */
export * from './transport.js';
export * from './errors.js';
export * from './main.js';
export * from './h5-transport.js';
export { H5Line, H5_ESTABLISH_MS, H5_MAX_ACL, type H5LineOptions, type H5LineHooks } from './h5-line.js';
export { WriteRing } from './write-ring.js';
export type { SerialIoPath, SerialIoStats } from './fd-io.js';
