/**
 * bthost's USB transport (HCI over USB through libusb): a separate entry so that importing
 * `bthost` never loads the optional native `usb` package (imported on open).
 */
export * from './transport.js';
export * from './errors.js';
export * from './binding.js';
export * from './find.js';
export { UsbPacketAssembler, type UsbAssemblerOptions } from './assembler.js';
