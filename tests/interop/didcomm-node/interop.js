#!/usr/bin/env node
// Interop shim for the C# tests (tests/Conformance.Wire.Tests/DidComm2/InteropTests.cs).
// Drives SICPA's didcomm-rust (npm didcomm-node, the Rust library compiled to WASM) as an independent implementation.
//
// Reads ONE JSON command on stdin, writes ONE JSON result on stdout:
//   { "op": "pack_anon",   "message": {...}, "to": "<did or kid>", "enc": "A256cbcHs512EcdhEsA256kw"|"A256gcmEcdhEsA256kw"|"Xc20pEcdhEsA256kw", "keys": [...] }
//   { "op": "pack_auth",   "message": {...}, "to": "<did or kid>", "from": "<did or kid>", "protect_sender"?: bool, "keys": [...] }
//   { "op": "pack_signed", "message": {...}, "sign_by": "<kid>", "keys": [...] }
//   { "op": "unpack",      "packed": "<JWE or JWS JSON string>", "keys": [...] }
// "keys" lists OKP keys { "kid": "did:example:alice#key-x25519-1", "crv": "X25519"|"Ed25519", "x": b64url, "d"?: b64url }.
// From them this script builds one DID document per DID (X25519 -> keyAgreement, Ed25519 -> authentication, all as
// JsonWebKey2020 verification methods) for didcomm-node's DIDResolver, and a secrets list (keys with "d") for its
// SecretsResolver. Result: { "ok": true, "packed"|"message", "metadata" } or { "ok": false, "error", "name" }.
'use strict';

const { Message } = require('didcomm-node');

function didOf(kid) {
  return kid.split('#')[0];
}

function buildResolvers(keys) {
  const docs = new Map();
  const secrets = [];
  for (const k of keys) {
    const did = didOf(k.kid);
    if (!docs.has(did)) {
      docs.set(did, { id: did, keyAgreement: [], authentication: [], verificationMethod: [], service: [] });
    }
    const doc = docs.get(did);
    const publicKeyJwk = { kty: 'OKP', crv: k.crv, x: k.x };
    doc.verificationMethod.push({ id: k.kid, type: 'JsonWebKey2020', controller: did, publicKeyJwk });
    if (k.crv === 'X25519') doc.keyAgreement.push(k.kid);
    else if (k.crv === 'Ed25519') doc.authentication.push(k.kid);
    if (k.d) {
      secrets.push({ id: k.kid, type: 'JsonWebKey2020', privateKeyJwk: { ...publicKeyJwk, d: k.d } });
    }
  }
  const didResolver = {
    resolve: async (did) => docs.get(did) ?? null,
  };
  const secretsResolver = {
    get_secret: async (id) => secrets.find((s) => s.id === id) ?? null,
    find_secrets: async (ids) => ids.filter((id) => secrets.some((s) => s.id === id)),
  };
  return { didResolver, secretsResolver };
}

async function run(cmd) {
  const { didResolver, secretsResolver } = buildResolvers(cmd.keys ?? []);
  switch (cmd.op) {
    case 'pack_anon': {
      const msg = new Message(cmd.message);
      const [packed, metadata] = await msg.pack_encrypted(cmd.to, null, null, didResolver, secretsResolver, {
        forward: false,
        enc_alg_anon: cmd.enc,
      });
      return { ok: true, packed, metadata };
    }
    case 'pack_auth': {
      const msg = new Message(cmd.message);
      const [packed, metadata] = await msg.pack_encrypted(cmd.to, cmd.from, null, didResolver, secretsResolver, {
        forward: false,
        protect_sender: Boolean(cmd.protect_sender),
        enc_alg_auth: 'A256cbcHs512Ecdh1puA256kw',
      });
      return { ok: true, packed, metadata };
    }
    case 'pack_signed': {
      const msg = new Message(cmd.message);
      const [packed, metadata] = await msg.pack_signed(cmd.sign_by, didResolver, secretsResolver);
      return { ok: true, packed, metadata };
    }
    case 'unpack': {
      const [msg, metadata] = await Message.unpack(cmd.packed, didResolver, secretsResolver, {
        expect_decrypt_by_all_keys: false,
        unwrap_re_wrapping_forward: false,
      });
      return { ok: true, message: msg.as_value(), metadata };
    }
    default:
      return { ok: false, name: 'BadCommand', error: `unknown op ${JSON.stringify(cmd.op)}` };
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let result;
  try {
    result = await run(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (e) {
    result = { ok: false, name: e?.name ?? 'Error', error: String(e?.message ?? e).split('\n')[0] };
  }
  process.stdout.write(JSON.stringify(result));
}

main();
