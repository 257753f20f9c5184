/** The virtual controller port: in-process transport, socket server, CLI entry. */
export { RadioLink, type RadioLinkOptions } from '../../src/controller/link.js';
export { VirtualController, type ControllerOptions, type ControllerStats } from '../../src/controller/controller.js';
export type { HostQueueStatus } from '../../src/controller/host-queue.js';
export type { Faults, LinkParams } from '../../src/controller/faults.js';
export { VirtualTransport } from './transport.js';
export { serve_controllers, ControllerServer, type ServeOptions } from './server.js';
export { controller_main } from './cli.js';
export { ControllerH5, LineErrors, type ControllerH5Options, type LineErrorOptions } from './h5-line.js';
