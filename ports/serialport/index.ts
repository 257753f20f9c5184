/**
 * bthost/serialport: the H4 UART transport. A separate entry so that importing `bthost` does not
 * load serialport's native binding.
 */
export * from './transport.js';
export * from './errors.js';
export * from './main.js';
export { WriteRing } from './write-ring.js';
