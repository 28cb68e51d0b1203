// A Credo 0.6.3 agent, configured the way the AATH javascript backchannel configures Credo (AFJ), adapted to the
// manual-accept style the Conformance harness drives: connections are not auto-accepted by the responder; the
// mediator grants mediation automatically (AATH: autoAcceptMediationRequests: true); inbound DIDComm messages are
// processed concurrently (processDidCommMessagesConcurrently: true — with Credo's default, two handshakes in flight
// deadlock the HTTP inbound transport until its 10 s timeout).
//
// One port serves both inbound transports: Credo's DidCommHttpInboundTransport owns the HTTP server, and WebSocket
// upgrades on that same server are handed to Credo's DidCommWsInboundTransport (a ws.WebSocketServer in noServer
// mode: the transport only listens for its 'connection' events).
//
// Only the wallet layer is ours (lib/storage.js, lib/kms.js). Nothing here changes what Credo sends or accepts.
import { Agent, ConsoleLogger, InjectionSymbols, Kms, LogLevel, replaceError } from '@credo-ts/core'
import {
  DidCommHttpOutboundTransport,
  DidCommModule,
  DidCommWsOutboundTransport,
} from '@credo-ts/didcomm'
import {
  DidCommHttpInboundTransport,
  DidCommWsInboundTransport,
  NodeInMemoryKeyManagementStorage,
  agentDependencies,
} from '@credo-ts/node'
import express from 'express'
import { WebSocketServer } from 'ws'

import { SodiumKeyManagementService, sodiumReady } from './kms.js'
import { InMemoryStorageService } from './storage.js'

/** Credo's ConsoleLogger, but every line goes to stderr (stdout carries only the ready line). */
class StderrLogger extends ConsoleLogger {
  log(level, message, data) {
    if (!this.isEnabled(level)) return
    const prefix = LogLevel[level].toUpperCase()
    const line = data === undefined ? message : `${message} ${JSON.stringify(data, replaceError)}`
    process.stderr.write(`${new Date().toISOString()} credo ${prefix}: ${line}\n`)
  }
}

export function parseLogLevel(name) {
  const level = LogLevel[String(name ?? '').toLowerCase()]
  return typeof level === 'number' ? level : LogLevel.warn
}

/**
 * Creates and initialises the agent.
 * @param {{label: string, port: number, host: string, logLevel: number, autoGrantMediation: boolean}} o
 * @returns {Promise<{agent: Agent, listening: {http: string, ws: string}, logger: StderrLogger}>}
 */
export async function createAgent(o) {
  await sodiumReady()
  const logger = new StderrLogger(o.logLevel)
  const listening = { http: `http://${o.host}:${o.port}`, ws: `ws://${o.host}:${o.port}` }

  const keyStorage = new NodeInMemoryKeyManagementStorage()
  const storage = new InMemoryStorageService()
  const wss = new WebSocketServer({ noServer: true })
  const httpInbound = new DidCommHttpInboundTransport({ app: express(), port: o.port })
  const wsInbound = new DidCommWsInboundTransport({ server: wss })

  const agent = new Agent({
    config: { logger, allowInsecureHttpUrls: true },
    dependencies: agentDependencies,
    modules: {
      storage: {
        register(dependencyManager) {
          dependencyManager.registerInstance(InjectionSymbols.StorageService, storage)
        },
      },
      kms: new Kms.KeyManagementModule({ backends: [new SodiumKeyManagementService(keyStorage)] }),
      didcomm: new DidCommModule({
        // Advertised endpoints: HTTP only by default, like the reference agent; agent/start may change them.
        endpoints: [listening.http],
        transports: {
          inbound: [httpInbound, wsInbound],
          outbound: [new DidCommHttpOutboundTransport(), new DidCommWsOutboundTransport()],
        },
        processDidCommMessagesConcurrently: true,
        connections: { autoAcceptConnections: false },
        mediator: { autoAcceptMediationRequests: o.autoGrantMediation },
        mediationRecipient: true,
        credentials: false,
        proofs: false,
      }),
    },
  })

  await agent.initialize()

  // WebSocket upgrades on the HTTP inbound server go to Credo's WS inbound transport.
  httpInbound.server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  await new Promise((resolve, reject) => {
    if (httpInbound.server.listening) return resolve()
    httpInbound.server.once('listening', resolve)
    httpInbound.server.once('error', reject)
  })

  return { agent, listening, logger }
}
