/**
 * bthost public entry. Layers add their exports here (one line per module). The virtual
 * controller is its own entry, `bthost/virtual` (ports/virtual/index.ts); the example main and
 * port flags are `bthost/port` (ports/port.ts); the serial port is `bthost/serialport`.
 */
export * from './core/bytes.js';
export * from './core/run-loop.js';
export * from './core/pool.js';
export * from './core/config.js';
export * from './core/log.js';
export * from './core/tlv.js';
export * from './codes/index.js';
export type * from './hci/transport.js';
export * from './hci/h4.js';
export * from './hci/h5.js';
export * from './hci/h5-link.js';
export * from './chipset/index.js';
export * from './hci/dump.js';
export * from './hci/commands.js';
export * from './hci/hci.js';
export * from './hci/gap.js';
export * from './hci/link-key-db.js';
export * from './hci/link-key-db-tlv.js';
export type { HciConnection } from './hci/hci-connection.js';
export type { ResolvingListSource } from './hci/gap-le-privacy.js';
export * from './hci/hci-le-security.js';
export * from './stack.js';
export * from './btstack.js';
export * from './l2cap/l2cap.js';
export type { L2capService, L2capServicePacketHandler } from './l2cap/l2cap-service.js';
export { L2capLeApi } from './l2cap/l2cap-le-api.js';
export type { L2capFixedChannelService } from './l2cap/l2cap-fixed-service.js';
export * from './att/att-server.js';
export type { AttServerGapSecurity } from './att/att-server-state.js';
export * from './gatt/gatt-client.js';
export * from './gatt/gatt-client-types.js';
export * from './sm/sm.js';
export * from './sm/le-device-db-tlv.js';
export * from './rfcomm/frames.js';
export * from './rfcomm/mux-commands.js';
export * from './rfcomm/rfcomm.js';
export * from './sdp/data-element.js';
export * from './sdp/pdu.js';
export * from './sdp/constants.js';
export * from './sdp/records.js';
export * from './sdp/server.js';
export * from './sdp/client.js';
export * from './sdp/spp.js';
export * from './sdp/dump.js';
export type { SdpPacketHandler } from './sdp/sdp-stack.js';
