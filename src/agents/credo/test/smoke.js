#!/usr/bin/env node
// Drives real Credo agents against each other through their AATH backchannels only (no Credo API calls here):
//   1. RFC 0160: create-invitation → receive-invitation → accept-invitation → accept-request → send-ping → both active
//      (and the same with the invitation_url extension);
//   2. RFC 0023 over RFC 0434: send-invitation-message → receive-invitation → send-request → send-response →
//      both completed;
//   3. reuse: receive-invitation with use_existing_connection (a fresh invitation: Credo reuses only on the same
//      invitation key or public DID, so it starts a new handshake — reported, not asserted);
//   4. RFC 0211: mediation request/grant, an invitation routed through the mediator, a third agent connecting to it
//      (messages reach the recipient through the mediator and its pickup), and a trust ping over that connection;
//   5. RFC 0025: agent/start with inbound_transports ["ws"], then a didexchange whose responder advertises ws only;
//   6. errors: 404 unknown id, 400 wrong state, 501 unsupported.
// Prints one line per check and "N passed, N failed"; exit code 1 on any failure. Each agent's log goes to
// test/logs/<name>.log. Run: node test/smoke.js
import { spawn } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const logs = join(here, 'logs')
mkdirSync(logs, { recursive: true })

let passed = 0
let failed = 0
const check = (name, ok, detail = '') => {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`)
  return ok
}

/** n distinct free loopback ports (all held open until every one is picked, so none repeats). */
async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise((resolve, reject) => {
        const s = createServer()
        s.listen(0, '127.0.0.1', () => resolve(s))
        s.once('error', reject)
      })
    )
  )
  const ports = servers.map((s) => s.address().port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

const agents = []

async function start(name, [bc, dc]) {
  const t0 = performance.now()
  const child = spawn(process.execPath, [join(root, 'backchannel.js'), '--port', String(bc), '--didcomm-port', String(dc), '--label', name], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr.pipe(createWriteStream(join(logs, `${name}.log`)))
  agents.push(child)
  const ready = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`${name}: no ready line in 60 s`)), 60000)
    child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolve(JSON.parse(out.slice(0, nl)))
      }
    })
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
  })
  const spawnToReady = Math.round(performance.now() - t0)
  const base = `http://127.0.0.1:${bc}/`
  const call = async (method, path, body) => {
    const r = await fetch(base + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await r.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {
      json = { text }
    }
    if (!r.ok) {
      const e = new Error(`${name} ${method} ${path}: HTTP ${r.status} ${text}`)
      e.status = r.status
      e.body = json
      throw e
    }
    return json
  }
  return {
    name,
    child,
    ready,
    spawnToReady,
    get: (p) => call('GET', `agent/command/${p}`),
    post: (p, body = {}) => call('POST', `agent/command/${p}`, body),
    raw: call,
  }
}

async function eventually(fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs
  let last
  while (Date.now() < end) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return null
}

const stateOf = async (agent, topic, id) => (await agent.get(`${topic}/${id}`)).state
const reaches = (agent, topic, id, ...states) =>
  eventually(async () => {
    const s = await stateOf(agent, topic, id)
    return states.includes(s) ? s : null
  })

async function didExchange(inviter, invitee, extra = {}) {
  const t0 = performance.now()
  const sent = await inviter.post('out-of-band/send-invitation-message', {
    data: { handshake_protocols: ['https://didcomm.org/didexchange/1.1'], ...extra },
  })
  const received = await invitee.post('out-of-band/receive-invitation', { data: { ...sent.invitation, use_existing_connection: false } })
  await invitee.post('did-exchange/send-request', { id: received.connection_id })
  const inviterId = await eventually(async () => (await inviter.raw('GET', `agent/response/did-exchange/${sent.invitation['@id']}`)).connection_id)
  await reaches(inviter, 'did-exchange', inviterId, 'request-received')
  await inviter.post('did-exchange/send-response', { id: inviterId })
  const a = await reaches(inviter, 'did-exchange', inviterId, 'completed')
  const b = await reaches(invitee, 'did-exchange', received.connection_id, 'completed')
  const inviteeConn = (await invitee.get(`did-exchange/${received.connection_id}`)).connection
  return { sent, received, inviterId, inviteeId: inviteeConn?.id, a, b, ms: Math.round(performance.now() - t0) }
}

try {
  const ports = await freePorts(6)
  const [A, B, C] = await Promise.all([start('credo-A', ports.slice(0, 2)), start('credo-B', ports.slice(2, 4)), start('credo-C', ports.slice(4, 6))])
  for (const x of [A, B, C]) console.log(`# ${x.name}: spawn→ready ${x.spawnToReady} ms (ready_ms ${x.ready.ready_ms}), ${x.ready.backchannel}`)

  // ------------------------------------------------------------ 1. RFC 0160
  for (const viaUrl of [false, true]) {
    const tag = viaUrl ? '0160 (invitation_url)' : '0160'
    const t0 = performance.now()
    const created = await A.post('connection/create-invitation', { data: {} })
    check(`${tag}: invitation is connections/1.0`, created.invitation?.['@type']?.endsWith('connections/1.0/invitation'), created.invitation?.['@type'])
    const data = viaUrl ? { invitation_url: created.invitation_url } : created.invitation
    const received = await B.post('connection/receive-invitation', { data })
    check(`${tag}: invitee state invitation`, received.state === 'invitation', received.state)
    const accepted = await B.post('connection/accept-invitation', { id: received.connection_id })
    check(`${tag}: invitee state request after accept-invitation`, accepted.state === 'request', accepted.state)
    check(`${tag}: inviter state request`, (await reaches(A, 'connection', created.connection_id, 'request')) === 'request')
    const ar = await A.post('connection/accept-request', { id: created.connection_id })
    check(`${tag}: inviter state response after accept-request`, ar.state === 'response' || ar.state === 'active', ar.state)
    check(`${tag}: invitee state response or active`, !!(await reaches(B, 'connection', received.connection_id, 'response', 'active')))
    await B.post('connection/send-ping', { id: received.connection_id, data: { comment: 'ack' } })
    check(`${tag}: inviter active`, (await reaches(A, 'connection', created.connection_id, 'active')) === 'active')
    check(`${tag}: invitee active`, (await reaches(B, 'connection', received.connection_id, 'active')) === 'active')
    console.log(`# ${tag}: ${Math.round(performance.now() - t0)} ms`)
  }

  // ------------------------------------------------------------ 2. RFC 0023 over RFC 0434
  const dx = await didExchange(A, B)
  check('didexchange: invitation is out-of-band/1.1', dx.sent.invitation?.['@type']?.endsWith('out-of-band/1.1/invitation'), dx.sent.invitation?.['@type'])
  check('didexchange: receiver state invitation-received', dx.received.state === 'invitation-received', dx.received.state)
  check('didexchange: responder completed', dx.a === 'completed')
  check('didexchange: requester completed', dx.b === 'completed')
  console.log(`# didexchange: ${dx.ms} ms`)

  const dx10 = await didExchange(B, A, { handshake_protocols: ['https://didcomm.org/didexchange/1.0'] })
  check('didexchange/1.0 requested: both completed', dx10.a === 'completed' && dx10.b === 'completed')
  console.log(`# didexchange/1.0 requested → Credo's invitation offers ${JSON.stringify(dx10.sent.invitation.handshake_protocols)}`)

  // ------------------------------------------------------------ 3. reuse
  const inv2 = await A.post('out-of-band/send-invitation-message', { data: { handshake_protocols: ['https://didcomm.org/didexchange/1.1'] } })
  const reuse = await B.post('out-of-band/receive-invitation', { data: { ...inv2.invitation, use_existing_connection: true } })
  check('reuse: receive-invitation answers', typeof reuse.connection_id === 'string', JSON.stringify({ state: reuse.state, reused: reuse.reused }))
  console.log(`# reuse with a fresh invitation (new key): reused=${reuse.reused}, state=${reuse.state} — Credo reuses only on the same invitation key or public DID`)

  // ------------------------------------------------------------ 4. RFC 0211 mediation
  const m = await didExchange(A, B) // A mediator, B recipient
  const req = await B.post('mediation/send-request', { id: m.inviteeId })
  check('mediation: recipient request-sent', req.state === 'request-sent', req.state)
  check('mediation: recipient granted', (await reaches(B, 'mediation', m.inviteeId, 'granted')) === 'granted')
  const grant = await A.post('mediation/send-grant', { id: m.inviterId })
  check('mediation: mediator granted (auto-accept, send-grant confirms)', grant.state === 'granted' && grant.role === 'mediator', JSON.stringify(grant))
  // mediator_connection_id may be the out-of-band id the backchannel handed out (as the harness passes it)
  const routed = await B.post('connection/create-invitation', { data: { mediator_connection_id: m.received.connection_id } })
  check('mediation: routed invitation uses the mediator endpoint', routed.invitation.serviceEndpoint === A.ready.did_endpoint_http, routed.invitation.serviceEndpoint)
  check('mediation: routed invitation has routingKeys', (routed.invitation.routingKeys ?? []).length > 0, JSON.stringify(routed.invitation.routingKeys))
  const cRecv = await C.post('connection/receive-invitation', { data: routed.invitation })
  await C.post('connection/accept-invitation', { id: cRecv.connection_id })
  const viaMediator = await reaches(B, 'connection', routed.connection_id, 'request')
  check('mediation: request reaches the recipient through the mediator (forward + pickup)', viaMediator === 'request', viaMediator ?? 'timeout')
  if (viaMediator) {
    await B.post('connection/accept-request', { id: routed.connection_id })
    check('mediation: invitee C gets the response', !!(await reaches(C, 'connection', cRecv.connection_id, 'response', 'active')))
    await C.post('connection/send-ping', { id: cRecv.connection_id })
    check('mediation: recipient B active', (await reaches(B, 'connection', routed.connection_id, 'active')) === 'active')
  }

  // ------------------------------------------------------------ 5. RFC 0025 ws inbound
  const started = await C.post('agent/start', { data: { parameters: { inbound_transports: ['ws'], outbound_transports: ['http', 'ws'] } } })
  check('agent/start ws: advertises ws only', started.endpoints?.length === 1 && started.endpoints[0].startsWith('ws://'), JSON.stringify(started.endpoints))
  const ws = await didExchange(C, A)
  check('didexchange with a ws-only responder: both completed', ws.a === 'completed' && ws.b === 'completed')
  check('ws invitation serviceEndpoint is ws://', ws.sent.invitation.services?.[0]?.serviceEndpoint?.startsWith('ws://'), ws.sent.invitation.services?.[0]?.serviceEndpoint)
  await C.post('agent/start', { data: { parameters: { inbound_transports: ['http'] } } })

  // ------------------------------------------------------------ 6. errors
  const status = async (p) => {
    try {
      await p
      return 200
    } catch (e) {
      return e.status ?? 0
    }
  }
  check('404 on an unknown connection', (await status(A.get('connection/nope'))) === 404)
  check('400 on accept-request in the wrong state', (await status(A.post('connection/accept-request', { id: dx.inviterId }))) === 400)
  check('400 on a bad invitation', (await status(B.post('out-of-band/receive-invitation', { data: { '@type': 'nonsense' } }))) === 400)
  check('501 on send-deny', (await status(A.post('mediation/send-deny', { id: m.inviterId }))) === 501)
  check('501 on an out-of-scope topic', (await status(A.post('issue-credential/send-offer', {}))) === 501)
  check('404 on GET did (no public DID)', (await status(A.get('did'))) === 404)

  for (const x of [A, B, C]) {
    const rss = await import('node:fs').then((fs) => fs.readFileSync(`/proc/${x.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1])
    console.log(`# ${x.name}: RSS ${Math.round(Number(rss) / 1024)} MB`)
  }
} catch (error) {
  check('smoke run', false, error.stack)
} finally {
  for (const child of agents) child.kill('SIGTERM')
}
console.log(`${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
