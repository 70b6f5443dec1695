#!/usr/bin/env node
// A throwaway Bluesky PDS and PLC directory for integration tests.
//
//   node start.js [--pds-port N] [--plc-port N] [--stop-on-stdin-close]
//
// Ports also come from HERALD_PDS_PORT / HERALD_PLC_PORT; 0 = any free port. Prints one JSON line
// {"pds_url": ..., "plc_url": ...} on stdout once both answer, and shuts down on SIGTERM/SIGINT, or when
// stdin closes if asked to (so a test runner that dies without cleaning up does not leave it running). Data lives in a temporary directory removed on exit. Both servers listen on 127.0.0.1 only:
// the packages' own start() listens on every interface, so we open the sockets ourselves and hand requests to
// their express apps.
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

// Logs (off unless LOG_ENABLED=true) must never mix with the ready line on stdout.
if (!process.env.LOG_DESTINATION) process.env.LOG_DESTINATION = '/dev/stderr'

const HOST = '127.0.0.1'

function portFrom(flag, envName) {
  const index = process.argv.indexOf(flag)
  const raw = index >= 0 ? process.argv[index + 1] : process.env[envName]
  const port = Number(raw ?? 0)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag} / ${envName} must be a port number, got ${raw}`)
  }
  return port
}

function listenLocal(port) {
  return new Promise((resolve, reject) => {
    const server = http.createServer()
    server.once('error', reject)
    server.listen(port, HOST, () => resolve(server))
  })
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

async function startPlc(port) {
  const { PlcServer, Database } = require('@did-plc/server')
  const server = await listenLocal(port)
  const boundPort = server.address().port
  const db = Database.mock()
  const plc = PlcServer.create({ db, port: boundPort })
  server.on('request', plc.app)
  return {
    url: `http://${HOST}:${boundPort}`,
    stop: async () => {
      await closeServer(server)
      await db.close()
    },
  }
}

async function startPds(port, plcUrl, dataDir) {
  const server = await listenLocal(port)
  const boundPort = server.address().port
  Object.assign(process.env, {
    PDS_DEV_MODE: 'true',
    PDS_INVITE_REQUIRED: 'false',
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(boundPort),
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_DID_PLC_URL: plcUrl,
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_JWT_SECRET: crypto.randomBytes(16).toString('hex'),
    PDS_ADMIN_PASSWORD: 'admin-pass',
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: crypto.randomBytes(32).toString('hex'),
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_CRAWLERS: '',
  })
  const pds = require('@atproto/pds')
  const env = pds.readEnv()
  const instance = await pds.PDS.create(pds.envToCfg(env), pds.envToSecrets(env))
  // What PDS.start() does, minus its listen() on every interface.
  await instance.ctx.sequencer.start()
  server.keepAliveTimeout = 90000
  server.on('request', instance.app)
  return {
    url: `http://${HOST}:${boundPort}`,
    stop: async () => {
      await closeServer(server)
      await instance.destroy()
    },
  }
}

async function main() {
  const pdsPort = portFrom('--pds-port', 'HERALD_PDS_PORT')
  const plcPort = portFrom('--plc-port', 'HERALD_PLC_PORT')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-pds-'))
  const running = []
  let stopping = false

  const shutdown = async (code) => {
    if (stopping) return
    stopping = true
    for (const service of running.reverse()) {
      try {
        await service.stop()
      } catch (err) {
        process.stderr.write(`stop failed: ${err && err.stack ? err.stack : err}\n`)
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true })
    process.exit(code)
  }
  process.on('SIGTERM', () => shutdown(0))
  process.on('SIGINT', () => shutdown(0))
  if (process.argv.includes('--stop-on-stdin-close')) {
    process.stdin.on('end', () => shutdown(0))
    process.stdin.resume()
  }

  try {
    const plc = await startPlc(plcPort)
    running.push(plc)
    const pds = await startPds(pdsPort, plc.url, dataDir)
    running.push(pds)
    process.stdout.write(JSON.stringify({ pds_url: pds.url, plc_url: plc.url }) + '\n')
  } catch (err) {
    process.stderr.write(`could not start the test PDS: ${err && err.stack ? err.stack : err}\n`)
    await shutdown(1)
  }
}

main()
