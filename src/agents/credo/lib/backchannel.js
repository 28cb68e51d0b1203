// The AATH backchannel (shared/specs/aath/backchannel-openapi.yml) for a Credo agent, serving the connection,
// did-exchange, out-of-band and mediation topics the way the Conformance reference backchannel does
// (src/Conformance.Agent/Backchannel/BackchannelApi.cs): same endpoints, bodies and state vocabularies, manual
// accept (each step is an explicit call), agent/start with inbound_transports, and errors as {"error": "..."} with
// 404 unknown id, 400 bad input or wrong state, 501 not supported by Credo. The same two extensions, which are not
// AATH: `invitation_url` in receive-invitation data, and `same_services_as` in send-invitation-message data (see
// sameServicesAs below).
//
// Every step is one call of Credo's public API (agent.didcomm.*). Where AATH has no step, Credo decides:
//   - The requester/invitee accepts the response itself (its connection is created with autoAcceptConnection:
//     true when the invitation is accepted), so Credo sends didexchange complete, or for connections/1.0 its trust
//     ping ack, on its own — as in AATH, which has no send-complete step, and like the reference agent.
//   - Credo creates a connection record only when a handshake starts (request sent or received). Until then the
//     id handed out by create-invitation / send-invitation-message / receive-invitation is the out-of-band record id
//     (as the AATH javascript backchannel does); every {id} parameter accepts a connection id or such an
//     out-of-band id (then the newest connection made from it is meant).
import {
  DidCommMediationRepository,
  DidCommMessage,
  DidCommRoutingEventTypes,
  parseInvitationJson,
} from '@credo-ts/didcomm'
import { ClassValidationError, CredoError, DidKey, JsonTransformer, Kms, RecordNotFoundError, ZodValidationError } from '@credo-ts/core'
import express from 'express'

export const VERSION = 'credo-ts-0.6.3'

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}
const notFound = (m) => new HttpError(404, m)
const badRequest = (m) => new HttpError(400, m)
const notImplemented = (m) => new HttpError(501, m)

// ------------------------------------------------------------------ state vocabularies

/** AATH ConnectionState (invitation | request | response | active) from Credo's didexchange state. */
export function aathConnectionState(state) {
  switch (state) {
    case 'start':
    case 'invitation-sent':
    case 'invitation-received':
      return 'invitation'
    case 'request-sent':
    case 'request-received':
      return 'request'
    case 'response-sent':
    case 'response-received':
      return 'response'
    case 'completed':
      return 'active'
    case 'abandoned':
      return 'error'
    default:
      return state
  }
}

/** AATH DidExchangeState: Credo's DidCommDidExchangeState values are that vocabulary already. */
export function aathDidExchangeState(state) {
  return state
}

/** The reference vocabulary for mediation: request-sent | request-received | granted | denied. */
export function mediationState(record) {
  if (record.state === 'requested') return record.role === 'MEDIATOR' ? 'request-received' : 'request-sent'
  return record.state
}

// ------------------------------------------------------------------ the API

/**
 * @param {{agent: import('@credo-ts/core').Agent, label: string, listening: {http: string, ws: string}, logger: any}} ctx
 */
export function createBackchannel({ agent, label, listening, logger }) {
  const didcomm = agent.didcomm
  const connections = didcomm.connections
  const oob = didcomm.oob
  const app = express()
  app.use(express.json({ limit: '5mb' }))

  const cmd = express.Router()
  app.use('/agent/command', cmd)
  const handle = (fn) => async (req, res) => {
    try {
      const result = await fn(req, res)
      if (!res.headersSent) res.json(result)
    } catch (error) {
      sendError(res, error, logger, `${req.method} ${req.originalUrl}`)
    }
  }

  // AATH: a granted recipient starts picking up messages from its mediator (the AATH javascript backchannel does this).
  agent.events.on(DidCommRoutingEventTypes.MediationStateChanged, (event) => {
    const record = event.payload.mediationRecord
    if (record.role !== 'RECIPIENT' || record.state !== 'granted') return
    didcomm.mediationRecipient.initiateMessagePickup(record).catch((error) => {
      logger.warn(`message pickup from mediator ${record.connectionId} could not start: ${error.message}`)
    })
  })

  // ---------------------------------------------------------------- id resolution

  /** A connection id, or an out-of-band record id (then its newest connection, if any). */
  async function resolve(id) {
    if (!id) throw badRequest('id is required')
    const connection = await connections.findById(id)
    if (connection) return { connection, outOfBand: null }
    const outOfBand = await oob.findById(id)
    if (!outOfBand) throw notFound(`no connection or out-of-band record ${id}`)
    const made = await connections.findAllByOutOfBandId(id)
    made.sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt))
    return { connection: made.at(-1) ?? null, outOfBand }
  }

  async function requireConnection(id, what) {
    const { connection, outOfBand } = await resolve(id)
    if (!connection)
      throw badRequest(`${what}: no connection yet for out-of-band record ${id} (state ${outOfBandDidExchangeState(outOfBand)})`)
    return connection
  }

  function outOfBandDidExchangeState(outOfBand) {
    return outOfBand.role === 'sender' ? 'invitation-sent' : 'invitation-received'
  }

  const idOf = (body) => body?.id ?? body?.data?.id

  function connectionBody(id, { connection, outOfBand }) {
    if (connection)
      return { connection_id: connection.id, state: aathConnectionState(connection.state), connection: connection.toJSON() }
    return { connection_id: id, state: 'invitation', out_of_band: outOfBand.toJSON() }
  }

  function didExchangeBody(id, { connection, outOfBand }) {
    if (connection)
      return { connection_id: connection.id, state: aathDidExchangeState(connection.state), connection: connection.toJSON() }
    return { connection_id: id, state: outOfBandDidExchangeState(outOfBand), out_of_band: outOfBand.toJSON() }
  }

  async function routingFor(mediatorConnectionId) {
    if (!mediatorConnectionId) return undefined
    const { connection } = await resolve(mediatorConnectionId).catch(() => ({ connection: null }))
    if (!connection) throw badRequest(`mediator_connection_id ${mediatorConnectionId}: no such connection`)
    const mediation = await didcomm.mediationRecipient.findByConnectionId(connection.id)
    if (!mediation) throw badRequest(`no mediation record for connection ${mediatorConnectionId}`)
    if (mediation.state !== 'granted') throw badRequest(`mediation on connection ${mediatorConnectionId} is ${mediation.state}, not granted`)
    return didcomm.mediationRecipient.getRouting({ mediatorId: mediation.id })
  }

  /**
   * Extension (not AATH): `"same_services_as": "<@id of an earlier out-of-band invitation of this agent>"` in
   * send-invitation-message data. The new invitation names the same services as that one, so that a receiver
   * connected through it can recognise the inviter and send handshake-reuse (RFC 0434 §Reuse Messages: reuse by "the
   * same services DID"; Credo compares an inline service as the did:peer:2 of its keys and endpoint). Only Credo's
   * own createInvitation options are used: `invitationDid` when the earlier invitation named a DID, else `routing`
   * with the earlier invitation's recipient key (its KMS key id), endpoints, routing keys and mediator.
   */
  async function sameServicesAs(invitationId) {
    const earlier = await oob.findByCreatedInvitationId(invitationId)
    if (!earlier || earlier.role !== 'sender')
      throw badRequest(`same_services_as: ${invitationId} is not an out-of-band invitation this agent created`)
    const [did] = earlier.outOfBandInvitation.getDidServices()
    if (did) return { invitationDid: did }
    const inline = earlier.outOfBandInvitation.getInlineServices()
    const [key] = earlier.invitationInlineServiceKeys ?? []
    if (!key || inline.length === 0)
      throw badRequest(`same_services_as: invitation ${invitationId} has no inline service key this agent holds`)
    const recipientKey = Kms.PublicJwk.fromFingerprint(key.recipientKeyFingerprint)
    recipientKey.keyId = key.kmsKeyId
    return {
      routing: {
        recipientKey,
        endpoints: inline.map((service) => service.serviceEndpoint),
        routingKeys: (inline[0].routingKeys ?? []).map((k) => DidKey.fromDid(k).publicJwk),
        mediatorId: earlier.mediatorId,
      },
    }
  }

  /** The invitation of a receive-invitation call: the object itself, or the `invitation_url` extension. */
  async function invitationFrom(data) {
    if (!data || typeof data !== 'object') throw badRequest('data (the invitation) is required')
    const {
      invitation_url: url,
      use_existing_connection: _reuse,
      mediator_connection_id: _mediator,
      ...json
    } = data
    try {
      if (typeof url === 'string') return await oob.parseInvitation(url)
      return parseInvitationJson(json)
    } catch (error) {
      throw badRequest(`invalid invitation: ${error.message}`)
    }
  }

  function domain() {
    return didcomm.config.endpoints.find((e) => /^https?:/.test(e)) ?? listening.http
  }

  /** The requester/invitee side of "accept-invitation" / "send-request": Credo's oob.acceptInvitation. */
  async function acceptInvitation(id) {
    const { connection, outOfBand } = await resolve(id)
    if (connection)
      throw badRequest(`the invitation was already accepted: connection ${connection.id} is in state ${connection.state}`)
    if (outOfBand.role !== 'receiver') throw badRequest(`out-of-band record ${id} is an invitation this agent sent`)
    const { connectionRecord } = await oob.acceptInvitation(outOfBand.id, { label, autoAcceptConnection: true })
    return connectionRecord
  }

  /** The inviter/responder side of "accept-request" / "send-response": Credo's connections.acceptRequest. */
  async function acceptRequest(id, what) {
    const connection = await requireConnection(id, what)
    if (connection.state !== 'request-received')
      throw badRequest(`${what}: connection ${connection.id} is in state ${connection.state}, not request-received`)
    return connections.acceptRequest(connection.id)
  }

  // ---------------------------------------------------------------- agent

  cmd.get('/status', (req, res) => res.json({ status: 'active' }))
  cmd.get('/version', (req, res) => res.type('text/plain').send(VERSION))

  cmd.post('/agent/start', handle(async (req) => {
    const p = req.body?.data?.parameters ?? {}
    const mime = p['mime-type']
    const mimes = Array.isArray(mime) ? mime : mime == null ? [] : [mime]
    const spoken = ['didcomm/aip1', 'didcomm/aip2;env=rfc19', 'application/didcomm-envelope-enc']
    if (mimes.length > 0 && !mimes.some((m) => spoken.includes(m)))
      throw notImplemented(`mime-type ${mimes.join(', ')} is not supported; Credo's DIDComm v1 module speaks didcomm/aip2;env=rfc19`)
    if (Array.isArray(p.inbound_transports)) {
      const unknown = p.inbound_transports.filter((t) => !(t in listening))
      if (unknown.length > 0) throw badRequest(`unknown inbound transport(s): ${unknown.join(', ')} (http, ws)`)
      // Credo's DidCommModuleConfig.endpoints: what it advertises in new invitations and DID documents. Both
      // transports keep listening on the one port. [] leaves Credo with its queue endpoint (return-route only).
      didcomm.config.endpoints = p.inbound_transports.map((t) => listening[t])
    } else if (p.inbound_transports === undefined) {
      // AATH: "If the property is left out the agent should use default configuration" (HTTP only, as at startup).
      didcomm.config.endpoints = [listening.http]
    }
    return { status: 'active', endpoints: didcomm.config.endpoints }
  }))

  // ---------------------------------------------------------------- connection (RFC 0160)

  cmd.get('/connection', handle(async () => {
    const all = await connections.getAll()
    return all.map((c) => connectionBody(c.id, { connection: c }))
  }))

  cmd.get('/connection/:id', handle(async (req) => connectionBody(req.params.id, await resolve(req.params.id))))

  cmd.post('/connection/create-invitation', handle(async (req) => {
    const data = req.body?.data ?? {}
    const { outOfBandRecord, invitation } = await oob.createLegacyInvitation({
      label,
      multiUseInvitation: data.multi_use === true,
      autoAcceptConnection: false,
      routing: await routingFor(data.mediator_connection_id),
    })
    return {
      connection_id: outOfBandRecord.id,
      state: 'invitation',
      invitation: invitation.toJSON(),
      invitation_url: invitation.toUrl({ domain: domain() }),
    }
  }))

  cmd.post('/connection/receive-invitation', handle(async (req) => {
    const data = req.body?.data
    const invitation = await invitationFrom(data)
    const { outOfBandRecord } = await oob.receiveInvitation(invitation, {
      label,
      autoAcceptInvitation: false,
      autoAcceptConnection: true,
      routing: await routingFor(data.mediator_connection_id),
    })
    return { connection_id: outOfBandRecord.id, state: 'invitation' }
  }))

  cmd.post('/connection/accept-invitation', handle(async (req) => {
    const c = await acceptInvitation(idOf(req.body))
    return { connection_id: c.id, state: aathConnectionState(c.state) }
  }))

  cmd.post('/connection/accept-request', handle(async (req) => {
    const c = await acceptRequest(idOf(req.body), 'accept-request')
    return { connection_id: c.id, state: aathConnectionState(c.state) }
  }))

  cmd.post('/connection/send-ping', handle(async (req) => {
    const connection = await requireConnection(idOf(req.body), 'send-ping')
    // A response not yet accepted is acknowledged the way Credo acknowledges it (connections/1.0: a trust ping;
    // didexchange: complete); otherwise a trust ping asking for a response. Credo's sendPing takes no comment.
    if (connection.state === 'response-received') await connections.acceptResponse(connection.id)
    else await connections.sendPing(connection.id, { responseRequested: true })
    const c = await connections.getById(connection.id)
    return { connection_id: c.id, state: aathConnectionState(c.state) }
  }))

  // ---------------------------------------------------------------- did (public DID, implicit invitations)

  cmd.get('/did', handle(async () => {
    throw notFound('this Credo agent has no public DID (no ledger or did:web is configured)')
  }))

  // ---------------------------------------------------------------- did-exchange (RFC 0023)

  cmd.get('/did-exchange/:id', handle(async (req) => didExchangeBody(req.params.id, await resolve(req.params.id))))

  app.get('/agent/response/did-exchange/:invitationId', handle(async (req) => {
    const invitationId = req.params.invitationId
    const outOfBand = await oob.findByCreatedInvitationId(invitationId)
    if (outOfBand) {
      const { connection } = await resolve(outOfBand.id)
      if (connection) return { connection_id: connection.id }
    }
    const byInvitationDid = await connections.findByInvitationDid(invitationId).catch(() => [])
    if (byInvitationDid.length > 0) return { connection_id: byInvitationDid.at(-1).id }
    throw notFound(`no connection made from invitation ${invitationId}`)
  }))

  cmd.post('/did-exchange/send-request', handle(async (req) => {
    const c = await acceptInvitation(idOf(req.body))
    return { connection_id: c.id, state: aathDidExchangeState(c.state) }
  }))

  cmd.post('/did-exchange/send-response', handle(async (req) => {
    const c = await acceptRequest(idOf(req.body), 'send-response')
    return { connection_id: c.id, state: aathDidExchangeState(c.state) }
  }))

  cmd.post('/did-exchange/create-request-resolvable-did', handle(async (req) => {
    const did = req.body?.data?.their_public_did
    if (typeof did !== 'string' || !did) throw badRequest('their_public_did is required')
    // Credo's implicit invitation: resolve the DID, then send a request whose pthid is the DID.
    const { outOfBandRecord, connectionRecord } = await oob.receiveImplicitInvitation({
      did,
      label,
      autoAcceptInvitation: true,
      autoAcceptConnection: true,
    })
    if (connectionRecord) return { connection_id: connectionRecord.id, state: aathDidExchangeState(connectionRecord.state) }
    return { connection_id: outOfBandRecord.id, state: 'invitation-received' }
  }))

  cmd.post('/did-exchange/receive-request-resolvable-did', handle(async () => {
    throw notImplemented('this Credo agent has no public DID, so it receives no requests to one')
  }))

  // ---------------------------------------------------------------- out-of-band (RFC 0434)

  cmd.post('/out-of-band/send-invitation-message', handle(async (req) => {
    const data = req.body?.data ?? {}
    let handshakeProtocols = Array.isArray(data.handshake_protocols) ? data.handshake_protocols : undefined
    const attachments = Array.isArray(data.attachments) ? data.attachments : []
    // AATH: "If both handshake_protocols and attachments are not provided, default to didexchange/1.0."
    if (handshakeProtocols === undefined && attachments.length === 0) handshakeProtocols = ['https://didcomm.org/didexchange/1.0']
    if (data.use_public_did === true)
      throw notImplemented('use_public_did: this Credo agent has no public DID (no ledger or did:web is configured)')
    let messages
    try {
      messages = attachments.map((m) => JsonTransformer.fromJSON(m, DidCommMessage))
    } catch (error) {
      throw badRequest(`attachments: ${error.message}`)
    }
    const handshake = handshakeProtocols !== undefined && handshakeProtocols.length > 0
    let services = { routing: await routingFor(data.mediator_connection_id) }
    if (typeof data.same_services_as === 'string') {
      if (data.mediator_connection_id)
        throw badRequest('same_services_as names the services of an earlier invitation: it does not combine with mediator_connection_id')
      services = await sameServicesAs(data.same_services_as)
    }
    const record = await oob.createInvitation({
      label,
      handshake,
      handshakeProtocols: handshake ? handshakeProtocols : undefined,
      messages,
      multiUseInvitation: data.multi_use === true,
      autoAcceptConnection: false,
      goal: data.goal,
      goalCode: data.goal_code,
      ...services,
    })
    return {
      state: 'invitation-sent',
      connection_id: record.id,
      invitation: record.outOfBandInvitation.toJSON(),
      invitation_url: record.outOfBandInvitation.toUrl({ domain: domain() }),
    }
  }))

  cmd.post('/out-of-band/receive-invitation', handle(async (req) => {
    const data = req.body?.data
    const invitation = await invitationFrom(data)
    const reuse = data.use_existing_connection === true
    const routing = await routingFor(data.mediator_connection_id)
    if (!reuse) {
      const { outOfBandRecord } = await oob.receiveInvitation(invitation, {
        label,
        autoAcceptInvitation: false,
        autoAcceptConnection: true,
        routing,
      })
      return { connection_id: outOfBandRecord.id, state: 'invitation-received', reused: false }
    }
    // Reuse is decided when Credo accepts the invitation, so it is accepted at once: Credo sends handshake-reuse on
    // an existing connection to the same inviter, or else starts a new handshake (the request is sent now).
    const { outOfBandRecord, connectionRecord } = await oob.receiveInvitation(invitation, {
      label,
      autoAcceptInvitation: true,
      reuseConnection: true,
      autoAcceptConnection: true,
      routing,
    })
    if (!connectionRecord) return { connection_id: outOfBandRecord.id, state: outOfBandRecord.state, reused: false }
    return {
      connection_id: connectionRecord.id,
      state: aathDidExchangeState(connectionRecord.state),
      reused: connectionRecord.outOfBandId !== outOfBandRecord.id,
    }
  }))

  // ---------------------------------------------------------------- mediation (RFC 0211)

  async function mediationFor(connectionId, role) {
    const repository = agent.dependencyManager.resolve(DidCommMediationRepository)
    const records = await repository.findByQuery(agent.context, { connectionId })
    const mine = records.filter((r) => !role || r.role === role)
    mine.sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt))
    return mine.at(-1) ?? null
  }

  const mediationBody = (m) => ({ connection_id: m.connectionId, state: mediationState(m), role: m.role.toLowerCase() })

  cmd.get('/mediation/:id', handle(async (req) => {
    const { connection } = await resolve(req.params.id)
    const m = connection && (await mediationFor(connection.id))
    if (!m) throw notFound(`no mediation record for connection ${req.params.id}`)
    return mediationBody(m)
  }))

  cmd.post('/mediation/send-request', handle(async (req) => {
    const connection = await requireConnection(idOf(req.body), 'mediation/send-request')
    return mediationBody(await didcomm.mediationRecipient.requestMediation(connection))
  }))

  cmd.post('/mediation/send-grant', handle(async (req) => {
    const connection = await requireConnection(idOf(req.body), 'mediation/send-grant')
    let m = null
    for (let i = 0; i < 50 && !m; i++) {
      m = await mediationFor(connection.id, 'MEDIATOR')
      if (!m) await new Promise((r) => setTimeout(r, 100))
    }
    if (!m) throw notFound(`no mediation request received on connection ${connection.id}`)
    // With autoAcceptMediationRequests (the AATH setting) Credo has granted already; otherwise grant now.
    if (m.state === 'requested') m = await didcomm.mediator.grantRequestedMediation(m.id)
    else if (m.state !== 'granted') throw badRequest(`mediation on connection ${connection.id} is ${m.state}`)
    return mediationBody(m)
  }))

  cmd.post('/mediation/send-deny', handle(async () => {
    throw notImplemented("Credo 0.6.3's mediator API has no deny operation (DidCommMediatorApi offers only grantRequestedMediation)")
  }))

  // Anything else in the AATH API (credentials, proofs, ...) is out of scope: say so, don't 404.
  app.use((req, res) => {
    if (req.path.startsWith('/agent/'))
      res.status(501).json({ error: `${req.method} ${req.path} is not implemented by the Credo backchannel` })
    else res.status(404).json({ error: `no route ${req.method} ${req.path}` })
  })
  // Body parser errors (invalid JSON) and anything thrown outside a handler.
  app.use((error, req, res, _next) => sendError(res, error, logger, `${req.method} ${req.originalUrl}`))

  return app
}

function sendError(res, error, logger, where) {
  let status
  if (error instanceof HttpError) status = error.status
  else if (error instanceof RecordNotFoundError) status = 404
  else if (error?.type === 'entity.parse.failed' || error?.status === 400) status = 400
  else if (isCredoError(error)) status = 400
  else status = 500
  const message = String(error?.message ?? error).split('\n')[0]
  if (status >= 500) logger.error(`${where}: ${error?.stack ?? message}`)
  else logger.info(`${where}: ${status} ${message}`)
  if (!res.headersSent) res.status(status).json({ error: status === 500 ? `internal error: ${error?.name}: ${message}` : message })
}

/** Credo's own errors (CredoError and subclasses: problem reports, message sending, validation). */
function isCredoError(error) {
  return error instanceof CredoError || error instanceof ClassValidationError || error instanceof ZodValidationError
}
