/**
 * bthost's Linux HCI user channel transport (`hci:0`): a separate entry so that importing `bthost`
 * never loads the optional native binding (@stoprocent/bluetooth-hci-socket, loaded on open).
 */
export * from './transport.js';
export * from './errors.js';
export * from './binding.js';
export { hci_datagram_check, type HciDatagram } from './datagram.js';
