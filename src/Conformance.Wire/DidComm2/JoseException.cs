namespace Conformance.Wire.DidComm2;

/// <summary>
/// A DIDComm v2 JOSE envelope (JWE / JWS) could not be built, parsed, decrypted or verified.
/// Every failure path of <see cref="Jwe"/>, <see cref="Jws"/> and the primitives beside them throws only this type.
/// The message is one human-readable line and never contains key material (kids and algorithm names only).
/// </summary>
public sealed class JoseException(string message) : Exception(message);
