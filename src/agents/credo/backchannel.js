#!/usr/bin/env node
// A real Credo 0.6.3 agent behind an AATH backchannel, for the Conformance harness.
//
//   node backchannel.js --port <backchannel_port> --didcomm-port <didcomm_port> [--label L] [--host 127.0.0.1]
//                       [--log-level warn] [--manual-mediation]
//
// DIDComm inbound: HTTP and WebSocket on --didcomm-port (one server); outbound: HTTP and WS. The backchannel listens
// on 127.0.0.1:--port. When both are listening, ONE JSON line is printed on stdout (like `conformance agent`):
//   {"agent":"credo","label":…,"did_endpoint_http":…,"did_endpoint_ws":…,"backchannel":…,"pid":…,"ready_ms":…,"advertised":[…]}
// Everything else (Credo's log) goes to stderr. SIGTERM/SIGINT shut the agent down; exit 2 on bad arguments.
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'

const usage =
  'usage: node backchannel.js --port <backchannel_port> --didcomm-port <didcomm_port> [--label L] [--host H] [--log-level LEVEL] [--manual-mediation]'

function fail(message) {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(2)
}

let args
try {
  args = parseArgs({
    options: {
      port: { type: 'string' },
      'didcomm-port': { type: 'string' },
      label: { type: 'string', default: 'Credo' },
      host: { type: 'string', default: '127.0.0.1' },
      'log-level': { type: 'string', default: process.env.CREDO_LOG_LEVEL ?? 'warn' },
      'manual-mediation': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values
} catch (error) {
  fail(error.message)
}
if (args.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}
const port = (name) => {
  const n = Number(args[name])
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fail(`--${name} must be a TCP port, got '${args[name] ?? ''}'`)
  return n
}
const backchannelPort = port('port')
const didcommPort = port('didcomm-port')
if (backchannelPort === didcommPort) fail('--port and --didcomm-port must differ')

// Importing Credo takes most of the startup time (1.8–2.9 s here), so it happens after the arguments are checked.
const { createAgent, parseLogLevel } = await import('./lib/agent.js')
const { createBackchannel } = await import('./lib/backchannel.js')

let agent
try {
  const created = await createAgent({
    label: args.label,
    port: didcommPort,
    host: args.host,
    logLevel: parseLogLevel(args['log-level']),
    autoGrantMediation: !args['manual-mediation'],
  })
  agent = created.agent
  const app = createBackchannel({ agent, label: args.label, listening: created.listening, logger: created.logger })
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(backchannelPort, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })

  const stop = async (signal) => {
    process.stderr.write(`credo backchannel: ${signal}, shutting down\n`)
    setTimeout(() => process.exit(0), 3000).unref()
    server.close()
    await agent.shutdown().catch(() => {})
    process.exit(0)
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))

  process.stdout.write(
    JSON.stringify({
      agent: 'credo',
      credo: '0.6.3',
      label: args.label,
      did_endpoint_http: created.listening.http,
      did_endpoint_ws: created.listening.ws,
      backchannel: `http://127.0.0.1:${backchannelPort}/`,
      pid: process.pid,
      ready_ms: Math.round(performance.now()),
      advertised: agent.didcomm.config.endpoints,
    }) + '\n'
  )
} catch (error) {
  process.stderr.write(`credo backchannel failed to start: ${error?.stack ?? error}\n`)
  await agent?.shutdown().catch(() => {})
  process.exit(1)
}
