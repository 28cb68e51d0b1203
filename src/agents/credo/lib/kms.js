// Key management for Credo 0.6.3 without Askar: Credo's own NodeKeyManagementService (node:crypto, in-memory key
// storage) plus the one operation it lacks and DIDComm v1 needs — key agreement ECDH-HSALSA20 with encryption
// XSALSA20-POLY1305, i.e. libsodium's crypto_box (authcrypt, RFC 0019: sender key present) and sealed box
// (anoncrypt and the encrypted sender key of authcrypt: no sender key). Credo's DidCommEnvelopeService asks the KMS
// for exactly these; everything else (the envelope layout, which key encrypts what) stays Credo's.
//
// Ed25519 keys are converted to X25519 with libsodium (crypto_sign_ed25519_sk_to_curve25519), as Askar does.
import { Kms } from '@credo-ts/core'
import { NodeKeyManagementService } from '@credo-ts/node'
import sodium from 'libsodium-wrappers'

const ALG = 'ECDH-HSALSA20'
const ENC = 'XSALSA20-POLY1305'

export async function sodiumReady() {
  await sodium.ready
}

const b64u = (s) => new Uint8Array(Buffer.from(s, 'base64url'))

export class SodiumKeyManagementService extends NodeKeyManagementService {
  #keys

  /** @param storage the NodeKeyManagementStorage also given to Credo's service (its field is private). */
  constructor(storage) {
    super(storage)
    this.#keys = storage
  }

  isOperationSupported(agentContext, operation) {
    if (isCryptoBox(operation)) return true
    return super.isOperationSupported(agentContext, operation)
  }

  async encrypt(agentContext, options) {
    const agreement = options.key?.keyAgreement
    if (agreement?.algorithm !== ALG) return super.encrypt(agentContext, options)
    assertEnc(options.encryption?.algorithm)
    const recipientPublic = x25519Public(agreement.externalPublicJwk)
    const data = toBytes(options.data)
    try {
      if (agreement.keyId) {
        // crypto_box: authenticated by our (sender) key.
        const senderSecret = await this.#x25519Secret(agentContext, agreement.keyId)
        const nonce = sodium.randombytes_buf(sodium.crypto_box_NONCEBYTES)
        const encrypted = sodium.crypto_box_easy(data, nonce, recipientPublic, senderSecret)
        return { encrypted, iv: nonce }
      }
      // Sealed box: anonymous sender.
      return { encrypted: sodium.crypto_box_seal(data, recipientPublic) }
    } catch (error) {
      if (error instanceof Kms.KeyManagementError) throw error
      throw new Kms.KeyManagementError('Error encrypting with crypto_box', { cause: error })
    }
  }

  async decrypt(agentContext, options) {
    const agreement = options.key?.keyAgreement
    if (agreement?.algorithm !== ALG) return super.decrypt(agentContext, options)
    assertEnc(options.decryption?.algorithm)
    const ourSecret = await this.#x25519Secret(agentContext, agreement.keyId)
    const encrypted = toBytes(options.encrypted)
    let data
    try {
      if (agreement.externalPublicJwk) {
        const iv = options.decryption.iv
        if (!iv) throw new Kms.KeyManagementError('crypto_box decryption needs an iv (nonce)')
        data = sodium.crypto_box_open_easy(encrypted, toBytes(iv), x25519Public(agreement.externalPublicJwk), ourSecret)
      } else {
        data = sodium.crypto_box_seal_open(encrypted, sodium.crypto_scalarmult_base(ourSecret), ourSecret)
      }
    } catch (error) {
      if (error instanceof Kms.KeyManagementError) throw error
      throw new Kms.KeyManagementError('Error decrypting with crypto_box: ciphertext could not be opened', { cause: error })
    }
    return { data }
  }

  async #x25519Secret(agentContext, keyId) {
    const jwk = await this.#keys.get(agentContext, keyId)
    if (!jwk) throw new Kms.KeyManagementKeyNotFoundError(keyId, [this.backend])
    if (jwk.kty !== 'OKP') throw new Kms.KeyManagementAlgorithmNotSupportedError(`kty '${jwk.kty}' for ${ALG}`, this.backend)
    if (jwk.crv === 'X25519') return b64u(jwk.d)
    if (jwk.crv === 'Ed25519') {
      const { privateKey } = sodium.crypto_sign_seed_keypair(b64u(jwk.d))
      return sodium.crypto_sign_ed25519_sk_to_curve25519(privateKey)
    }
    throw new Kms.KeyManagementAlgorithmNotSupportedError(`crv '${jwk.crv}' for ${ALG}`, this.backend)
  }
}

function isCryptoBox(operation) {
  if (operation.operation === 'encrypt')
    return operation.keyAgreement?.algorithm === ALG && operation.encryption?.algorithm === ENC
  if (operation.operation === 'decrypt')
    return operation.keyAgreement?.algorithm === ALG && operation.decryption?.algorithm === ENC
  return false
}

function assertEnc(algorithm) {
  if (algorithm !== ENC) throw new Kms.KeyManagementAlgorithmNotSupportedError(`${ALG} with '${algorithm}'`, 'node')
}

function x25519Public(jwk) {
  if (jwk?.kty !== 'OKP' || jwk.crv !== 'X25519' || !jwk.x)
    throw new Kms.KeyManagementError(`${ALG} needs an X25519 public JWK`)
  return b64u(jwk.x)
}

function toBytes(value) {
  return value instanceof Uint8Array ? value : new Uint8Array(value)
}
