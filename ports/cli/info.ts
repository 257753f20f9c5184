/**
 * `bthost info`: what the controller told the stack during power on: versions, manufacturer,
 * BD_ADDR, LMP features, buffer sizes and supported commands.
 */
import { SUPPORTED_COMMAND_BIT } from '../../src/controller/defs.js';
import { CliHost } from './host.js';
import { company_name, core_version, hex16, lmp_feature_names } from './format.js';
import { Flags, type CliOptions } from './options.js';
import { usage_error } from './common.js';
import { chipset_info_lines } from './chipset.js';

/** Wrap `items` joined by ', ' into lines of at most `width` characters, indented. */
function wrap(items: string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let cur = '';
  for (const it of items) {
    const next = cur ? `${cur}, ${it}` : it;
    if (indent.length + next.length > width && cur) {
      lines.push(`${indent}${cur},`);
      cur = it;
    } else cur = next;
  }
  if (cur) lines.push(`${indent}${cur}`);
  return lines.join('\n');
}

export async function info_main(options: CliOptions): Promise<number> {
  const flags = new Flags(options.rest, [], ['--commands']);
  if (flags.errors.length || flags.positional.length) {
    return usage_error('info', [...flags.errors, ...flags.positional.map((p) => `unexpected argument '${p}'`)][0]!);
  }
  const host = new CliHost(options, 'info');
  if (!(await host.open())) return host.exit_code;
  host.power_on(() => {
    const hci = host.stack.hci;
    const init = hci.state.controller;
    const acl = init;
    const out: string[] = [];
    out.push(`Controller on ${host.where}`);
    // the serial port's I/O path (ports/serialport/fd-io.ts): fd, or serialport's streams as the fallback
    const io = (host.port_transport as { io_path?: 'fd' | 'stream' | null } | null)?.io_path;
    if (io)
      out.push(
        `  Serial I/O:    ${io === 'fd' ? 'fd (the port read and written on the event loop)' : "stream (serialport's streams)"}`,
      );
    out.push(`  BD_ADDR:       ${host.local_address}`);
    out.push(`  HCI version:   ${core_version(init.hci_version)} (${init.hci_version}), revision ${hex16(init.hci_revision)}`);
    out.push(
      `  LMP version:   ${core_version(init.lmp_version)} (${init.lmp_version}), subversion ${hex16(init.lmp_subversion)}`,
    );
    out.push(`  Manufacturer:  ${hex16(init.manufacturer)} ${company_name(init.manufacturer)}`);
    out.push(...chipset_info_lines(host.chipsets.choice));
    const f = [...init.local_features].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    out.push(`  Features:      ${f}`);
    out.push(wrap(lmp_feature_names(init.local_features), '                 '));
    out.push(`  Classic:       ${hci.hci_classic_supported() ? 'yes' : 'no'}    LE: ${hci.hci_le_supported() ? 'yes' : 'no'}`);
    out.push(`  ACL buffers:   ${acl.acl_packets_total_num} x ${acl.acl_data_packet_length} bytes`);
    if (hci.hci_le_supported()) {
      out.push(
        `  LE buffers:    ${acl.le_acl_packets_total_num > 0 ? `${acl.le_acl_packets_total_num} x ${acl.le_data_packets_length} bytes` : 'shared with ACL'}`,
      );
    }
    out.push(`  SCO buffers:   ${init.sco_packets_total_num} x ${init.sco_data_packet_length} bytes`);
    let count = 0;
    for (let i = 0; i < 64 * 8; i++) if (init.supported_commands[i >> 3]! & (1 << (i & 7))) count++;
    const known: string[] = [];
    for (const [cmd, bit] of SUPPORTED_COMMAND_BIT) {
      if (init.supported_commands[bit >> 3]! & (1 << (bit & 7))) known.push(cmd.name);
    }
    out.push(`  Supported commands: ${count}${init.supported_commands_known ? '' : ' (the controller did not say)'}`);
    if (flags.has('--commands')) out.push(wrap(known, '    '));
    process.stdout.write(`${out.join('\n')}\n`);
    host.finish(0);
  });
  return host.run();
}
