namespace Conformance.Wire.Signatures;

/// <summary>
/// A signature (RFC 0234 <c>~sig</c> or an RFC 0017 attachment JWS) is malformed, of an unsupported kind, or does
/// not verify. The message is one line and never contains key material beyond public keys.
/// </summary>
/// <remarks>
/// RFC 0234 verification: "Further processing is halted if verification fails and an 'authentication failure'
/// error is returned". <see cref="ProblemCode"/> is the DIDComm v2 style code for that: <c>e.p.trust.crypto</c>
/// ("Cryptographic operation failed", DIDComm v2 §Problem Reports, as RFC 0035 recommends for new codes).
/// </remarks>
public sealed class SignatureException : Exception
{
    public SignatureException(string message, Exception? inner = null) : base(message, inner) { }

    public string ProblemCode => "e.p.trust.crypto";
}
