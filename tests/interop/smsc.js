// An SMSC built on the npm `smpp` package (an SMPP 3.4 implementation independent of
// otpgate), for the interop test tests/interop_node_smpp.rs.
//
// It listens on 127.0.0.1 on a free port, takes bind_transceiver when system_id and password
// match (ESME_RBINDFAIL otherwise), answers submit_sm with a message_id of its own, puts the
// parts of concatenated messages back together (8-bit reference UDH, IEI 0x00), decodes the
// text (data_coding 8: UTF-16BE; 0: GSM 03.38 unpacked, with the package's table) and sends a
// delivery receipt per part. It answers enquire_link and unbind, and exits when stdin closes.
//
// stdout, one JSON object per line: first {"port": N}, then
//   {"event":"bind","system_id":...,"ok":bool}
//   {"event":"message","to":...,"from":...,"source_ton":N,"source_npi":N,"text":...,"parts":N,
//    "message_ids":[...],"split_surrogates":N,"tlvs":[{"0x1400":"<hex>",...} per part]}
//   (`tlvs`: the TLVs the package does not know, vendor-specific ones like India's DLT ids)
//   {"event":"receipt_acked","message_id":...,"status":N}
//
// Usage: node smsc.js <system_id> <password>

'use strict';

const crypto = require('crypto');
const smpp = require('smpp');
const defs = require('smpp/lib/defs');

const [systemId, password] = process.argv.slice(2);
if (!systemId || password === undefined) {
  process.stderr.write('usage: node smsc.js <system_id> <password>\n');
  process.exit(2);
}

// Take short_message as the bytes on the wire: the text is decoded below, once the parts are
// together, as a handset would.
delete defs.commands.submit_sm.params.short_message.filter;

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// Concatenated messages being put together, by "source/destination/reference".
const pending = new Map();

// Splits short_message into its UDH concatenation info (or null) and the user data.
function splitUdh(pdu, bytes) {
  if (!(pdu.esm_class & 0x40) || bytes.length < 1) return { concat: null, data: bytes };
  const udhl = bytes[0];
  let concat = null;
  for (let i = 1; i + 1 < udhl + 1; ) {
    const iei = bytes[i];
    const len = bytes[i + 1];
    if (iei === 0x00 && len === 3) {
      concat = { ref: bytes[i + 2], total: bytes[i + 3], seq: bytes[i + 4] };
    }
    i += 2 + len;
  }
  return { concat, data: bytes.subarray(udhl + 1) };
}

function decode(dataCoding, bytes) {
  if (dataCoding === 8) return Buffer.from(bytes).swap16().toString('utf16le');
  if (dataCoding === 0) return defs.gsmCoder.decode(bytes, 0x00);
  return bytes.toString('latin1');
}

// UTF-16 code units of a UCS-2 part that open or close a surrogate pair cut by the part break.
function splitSurrogates(dataCoding, bytes) {
  if (dataCoding !== 8 || bytes.length < 2) return 0;
  const first = bytes.readUInt16BE(0);
  const last = bytes.readUInt16BE(bytes.length - 2);
  return (first >= 0xdc00 && first <= 0xdfff ? 1 : 0) + (last >= 0xd800 && last <= 0xdbff ? 1 : 0);
}

// The TLVs the package left raw (a Buffer under their numeric tag), as {"0x1400": "<hex>"}.
function unknownTlvs(pdu) {
  const out = {};
  for (const key of Object.keys(pdu)) {
    if (/^[0-9]+$/.test(key) && Buffer.isBuffer(pdu[key])) {
      out['0x' + Number(key).toString(16).toUpperCase().padStart(4, '0')] = pdu[key].toString('hex');
    }
  }
  return out;
}

function smscTime(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

function sendReceipt(session, part, submitted) {
  const text = decode(part.dataCoding, part.data).replace(/[^\x20-\x7e]/g, '.').slice(0, 20);
  const body = `id:${part.id} sub:001 dlvrd:001 submit date:${smscTime(submitted)} ` +
    `done date:${smscTime(new Date())} stat:DELIVRD err:000 text:${text}`;
  session.deliver_sm({
    source_addr: part.to,
    destination_addr: part.from,
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(body, 'ascii'),
    receipted_message_id: part.id,
    message_state: 2, // DELIVERED
  }, (resp) => emit({ event: 'receipt_acked', message_id: part.id, status: resp.command_status }));
}

function onSubmit(session, pdu) {
  const id = crypto.randomBytes(6).toString('hex');
  session.send(pdu.response({ message_id: id }));
  const bytes = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
  const { concat, data } = splitUdh(pdu, bytes);
  const part = {
    id, from: pdu.source_addr, to: pdu.destination_addr, dataCoding: pdu.data_coding, data,
    tlvs: unknownTlvs(pdu),
  };
  const submitted = new Date();
  let parts = [part];
  if (concat && concat.total > 1) {
    const key = `${pdu.source_addr}/${pdu.destination_addr}/${concat.ref}`;
    const got = pending.get(key) || new Array(concat.total).fill(null);
    got[concat.seq - 1] = part;
    if (got.some((p) => p === null)) {
      pending.set(key, got);
      return;
    }
    pending.delete(key);
    parts = got;
  }
  const all = Buffer.concat(parts.map((p) => p.data));
  emit({
    event: 'message',
    to: pdu.destination_addr,
    from: pdu.source_addr,
    source_ton: pdu.source_addr_ton,
    source_npi: pdu.source_addr_npi,
    tlvs: parts.map((p) => p.tlvs),
    text: decode(pdu.data_coding, all),
    parts: parts.length,
    message_ids: parts.map((p) => p.id),
    split_surrogates: parts.reduce((n, p) => n + splitSurrogates(p.dataCoding, p.data), 0),
  });
  for (const p of parts) sendReceipt(session, p, submitted);
}

const server = smpp.createServer((session) => {
  let bound = false;
  session.on('error', (e) => process.stderr.write(`session error: ${e.message}\n`));
  session.on('bind_transceiver', (pdu) => {
    const ok = pdu.system_id === systemId && pdu.password === password;
    emit({ event: 'bind', system_id: pdu.system_id, ok });
    if (!ok) {
      session.send(pdu.response({ command_status: defs.errors.ESME_RBINDFAIL }),
        () => session.close());
      return;
    }
    bound = true;
    session.send(pdu.response({ system_id: 'node-smsc' }));
  });
  session.on('submit_sm', (pdu) => {
    if (!bound) {
      session.send(pdu.response({ command_status: defs.errors.ESME_RINVBNDSTS }));
      return;
    }
    onSubmit(session, pdu);
  });
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => session.send(pdu.response(), () => session.close()));
  session.on('unknown', (pdu) => session.send(pdu.response()));
});

server.listen(0, '127.0.0.1', () => emit({ port: server.address().port }));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
