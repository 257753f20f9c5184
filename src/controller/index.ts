/** Virtual controller and simulated radio link. */
export { RadioLink, type RadioLinkOptions } from './link.js';
export { VirtualController, implemented_commands, type ControllerOptions } from './controller.js';
export { Faults, type LinkParams } from './faults.js';
export { le_encrypt } from './security.js';
export { supported_commands_bitmap, SUPPORTED_COMMAND_BIT } from './defs.js';
export type { HostSink } from './host-queue.js';
