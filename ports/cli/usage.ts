/** Usage text of each `bthost` command (the common options are printed after it). */

export const USAGES: Record<string, string> = {
  list: `usage: bthost list
  The controllers on this machine and what to pass to --port for each: kernel HCI devices
  (--port hci0: the HCI user channel), USB Bluetooth controllers (--port usb:1-1.2: libusb) and
  serial ports (--port /dev/ttyACM0: H4). --port auto takes the only one there is.`,

  info: `usage: bthost info [--commands] [common options]
  Power on and print the controller's version, manufacturer, BD_ADDR, features, buffer sizes and
  supported commands. --commands lists every supported command bthost knows by name.`,

  scan: `usage: bthost scan [--time SECONDS] [--classic | --le] [common options]
  Classic inquiry and LE scan at the same time, as a live table (address, type, RSSI, class of
  device, name). Names missing from the inquiry response are asked for with Remote Name Request.
  --time SECONDS   how long to scan (default 5; classic inquiry in 1.28 s steps)
  --classic        classic inquiry only       --le   LE scan only`,

  l2ping: `usage: bthost l2ping ADDR [-c COUNT] [-s SIZE] [-i SECONDS] [common options]
  Send L2CAP Echo Requests to ADDR and print each round-trip time, like BlueZ's l2ping.
  -c COUNT         number of echo requests (default 5; 0 = until Ctrl-C)
  -s SIZE          bytes of data in each request (default 44, at most 600)
  -i SECONDS       wait between requests (default 1)
  --page-timeout MS  give up paging ADDR after this long (default: the controller's, 5.12 s)`,

  l2cap: `usage: bthost l2cap listen PSM [stream options] [common options]
       bthost l2cap connect ADDR PSM [stream options] [common options]
  An L2CAP channel (basic mode, or --mode ertm|streaming) as a byte stream, like BlueZ's l2test:
  interactive / piped   stdin goes to the channel, what arrives goes to stdout; at the end of
                        stdin the channel closes (after --linger MS, default 500, for replies)
  --send SIZE           throughput: send SIZE bytes (64k, 10M, ...) as fast as can-send-now
                        allows, then close; prints MB/s
  --receive             throughput: count what arrives until the channel closes; prints MB/s
  --sha256              with --send / --receive: send an offset-dependent byte stream and
                        print 'sha256 HEX' of what was sent / received (compare the two)
  --serve               (listen) after a channel that ended cleanly, serve the next one: runs
                        until Ctrl-C (BTHOST_MEM_LOG=FILE: RSS and V8 heap appended every 10 s)
  --progress            a progress bar on stderr (default: when stderr is a terminal)
  --mtu N               the MTU to announce (default 65535; 1000 with --mode ertm|streaming:
                        one I-frame per SDU; a larger MTU on both sides gives segmented SDUs)
  --mode MODE           basic (default), ertm (Enhanced Retransmission Mode: lost or corrupted
                        frames sent again) or streaming (lost frames dropped, whole SDUs only);
                        a peer without the mode gets basic mode unless --mandatory
  --mandatory           with --mode: refuse a channel in any other mode
  --security LEVEL      GAP security level 0..4 the channel needs (default 2, BTstack's mode 4;
                        0: none, 1: unauthenticated, 2: encrypted, 3: MITM, 4: Secure Connections)
  --page-timeout MS     (connect) give up paging ADDR after this long
  On the virtual controller the virtual peer dials in to 'listen' (it sends a greeting and echoes,
  or with --peer-send SIZE sends that much and closes); 'connect' reaches its echo service on PSM
  0x1001 and its discard service on PSM 0x1003.`,

  'le-cbm': `usage: bthost le-cbm listen SPSM [stream options] [common options]
       bthost le-cbm connect ADDR SPSM [--random] [stream options] [common options]
  An LE credit-based channel (L2CAP LE Credit Based Flow Control Mode, SPSM 0x01..0xff) as a
  byte stream. 'listen' advertises as 'bthost le-cbm' and serves one channel; 'connect' makes an
  LE connection to ADDR (--random: a random address) and opens the channel. Stream options as for
  'l2cap' (--send SIZE, --receive, --sha256, --progress, --linger MS, --peer-send SIZE), and
  --mtu N               the MTU to announce (default 2048)
  --connect-timeout MS  (connect) give up the LE connection after this long (default 10000)
  A lost LE link, a short --send or a refused channel exit 1. On the virtual controller the
  virtual peer serves SPSM 0x80 (echo) and 0x81 (discard) and dials in to 'listen'.`,

  spp: `usage: bthost spp listen [--channel N] [stream options] [common options]
       bthost spp connect ADDR [--channel N] [stream options] [common options]
  The Serial Port Profile: RFCOMM with an SDP record. 'listen' registers RFCOMM channel N
  (default 1) and its SDP record; 'connect' asks ADDR's SDP server for its Serial Port services
  and connects to the first (or to --channel N without asking). Stream options as for 'l2cap'
  (--send SIZE, --receive, --sha256, --progress, --linger MS, --page-timeout MS, --peer-send SIZE).
  --security LEVEL      GAP security level 0..4 (default 2, as BTstack's RFCOMM)
  On the virtual controller: the peer's SPP echo is on channel 1, its discard on channel 2.`,

  pair: `usage: bthost pair ADDR [--level N] [--page-timeout MS] [pairing options] [common options]
       bthost pair --listen [pairing options] [common options]
       bthost pair ADDR --le [--random] [--legacy] [pairing options] [common options]
       bthost pair --le --listen [--legacy] [pairing options] [common options]
  Bond with a classic device: page ADDR, ask for security level N (default 2; 3 needs MITM, 4
  Secure Connections), answer the pairing as --io says, store the link key (--keys), disconnect.
  Any old key for ADDR is dropped first. Exit 0 only when bonded. --listen waits for a device to
  bond with this one and exits 0 once it did and disconnected.
  Numeric Comparison (both --io display-yes-no): the 6-digit value is printed; --yes accepts,
  else type y or n. Passkey Entry: --io display-only shows the passkey, --io keyboard-only reads
  it from stdin. Legacy PIN (a peer with --ssp off or an old device): --pin, else read from stdin.
  --le: pair over LE with the Security Manager: connect to ADDR as central (--random: a random
  address) and send a Pairing Request; with --listen advertise as 'bthost pair' and answer as
  peripheral. LE Secure Connections unless --legacy or --sc off; --io picks Just Works, Numeric
  Comparison or Passkey Entry as above. Prints the model, SC or legacy, the security level, the
  key size and where the bond is stored (--keys, beside the link keys); exit 1 with the SMP reason.`,

  keys: `usage: bthost keys [list] [--keys FILE]
       bthost keys delete ADDR|--all [--keys FILE]
  The stored BR/EDR link keys and LE bonds: with --keys that file, else every bthost_<BD_ADDR>.tlv
  in the key directory ($BTHOST_KEYS_DIR or ~/.bthost). An LE bond shows its address type, the
  identity address, which keys it holds (LTK, local-LTK, IRK, CSRK, local-CSRK), authenticated,
  SC and key size. 'delete' removes ADDR's key and LE bonds (exit 1 when there is none) or every
  one; the peer's copy stays, and the next connection that needs security pairs anew (or fails
  with 'PIN or key missing').`,

  gatt: `usage: bthost gatt ADDR [--read H | --write H HEX | --notify H] [gatt options] [common options]
       bthost gatt compile FILE.gatt [-o FILE.ts]
  An LE central with the GATT client: connect to ADDR (gap_connect) and
  (nothing)            list the primary services and their characteristics (value handle, UUID,
                       properties), then the ATT MTU
  --read H             read the value at handle H (long values in several reads): hex and text
  --write H HEX        write the octets HEX to handle H (Write Request, Prepare/Execute Write past
                       the MTU; --no-response: Write Command)
  --notify H           subscribe to the characteristic with value handle H (its CCC: notifications,
                       or indications) and print --count N values (default 3)
  --random             ADDR is a random address     --connect-timeout MS  (default 10000)
  Exit 0 once done; 1 when nobody connectable is at ADDR, the link drops or the server answers
  with an ATT error. On the virtual controller the peer at C0:FF:EE:00:00:02 serves a device name
  (0x0003), battery level (0x0008), a counter that notifies every 200 ms (0x000C) and a note (0x000F).`,

  advertise: `usage: bthost advertise [--name NAME] [--connectable] [--time SECONDS] [common options]
  LE advertising with the flags and the complete local name NAME (default "bthost").
  --connectable   ADV_IND, and a GATT server with the GAP service (Device Name = NAME): every
                  central that connects is printed (address and type); default ADV_NONCONN_IND
  --time SECONDS  stop after this long (default: at Ctrl-C); exit 0 when stopped`,
};

/** The exit-code contract every command keeps (README, "Exit codes"). */
export const EXIT_USAGE = `exit codes:
  0    the requested work completed: every byte to send went out and the channel then closed
       cleanly; every byte expected arrived; --receive (no size) ended with the peer closing
  1    a failure at run time, named in one line on stderr: the port lost, the controller restarted
       (H4 framing error, Hardware Error), the link lost, the peer closed early (N of M bytes), ...
  2    a usage error (one line naming the option as typed)
  130  interrupted (Ctrl-C)
  listen (l2cap, spp, le-cbm), advertise and pair --listen ride through a framing error, a Hardware
  Error and an unplugged port (opened again after 0.25, 0.5, 1, 2, then every 4 s), one line per
  event, their service registered (advertised) again; a transfer cut by one is a failure line and
  the next connection is served. --once: exit 1 at the first fault instead.`;

export function command_usage(name: string): string {
  return USAGES[name] ?? `usage: bthost ${name} [options]`;
}
