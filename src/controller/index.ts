/** Virtual controller and simulated radio link. */
export { RadioLink, type RadioLinkOptions } from './link.js';
export { VirtualController, implemented_commands, type ControllerOptions, type ControllerStats } from './controller.js';
export { Faults, type LinkParams } from './faults.js';
export { le_encrypt } from './controller-security.js';
export { supported_commands_bitmap, SUPPORTED_COMMAND_BIT } from './defs.js';
export type { HostQueueStatus, HostSink } from './host-queue.js';
