// The ~sig field decorator, Aries RFC 0234 "Signature Decorator", scheme ed25519Sha512_single
// (0234-signature-decorator/ed25519sha256_single.md). RFC 0160 signs connection~sig in connections/1.0 response.
//
//   "@type MUST be https://didcomm.org/signature/1.0/ed25519Sha512_single"
//   "sig_data MUST be the base64URL encoding of a 64-bit integer prepended to the message"
//   "signature MUST be the base64URL encoding of the resulting ed25519 digital signature over sig_data"
//   "signer MUST be the base64URL encoding of the corresponding ed25519 public key used to sign sig_data"
//   Verification: "Further processing is halted if verification fails" -> Verify throws SignatureException.
//
// What the implementations actually do (and what this code does):
// * signature input: the raw sig_data *bytes* (8-byte timestamp || JSON), not the base64 text. ACA-Py
//   (messaging/decorators/signature_decorator.py: wallet.sign_message(msg_combined_bin)) and Credo
//   (SignatureDecoratorUtils.signData: kms.sign({data: dataBuffer})) agree.
// * timestamp: 8 bytes big-endian. ACA-Py: struct.pack("!Q", int(time.time())) = epoch *seconds*. Credo:
//   utils/timestamp.ts uses Date.now() = epoch *milliseconds* (its comment: "Spec isn't clear about the endianness.
//   Assumes big-endian here since ACA-Py uses big-endian."). Sign writes seconds. Verify reads both: a value above
//   253402300799 (9999-12-31T23:59:59Z in seconds) cannot be seconds in DateTimeOffset's range, so it is taken as
//   milliseconds — Credo's values (about 1.7e12 today) land there unambiguously.
// * signed JSON: ACA-Py json.dumps (", " / ": " separators, ASCII escapes), Credo JSON.stringify (compact). The
//   verifier parses whatever bytes were signed, so Sign writes compact UTF-8 JSON like Credo.
// * signer: every implementation writes the base58 verkey, not base64url as the RFC text says (RFC 0160's own
//   example says "<signing_verkey>"; ACA-Py's schema validates signer as a raw base58 Ed25519 key). Sign writes
//   base58; Verify accepts base58 and, failing that, base64url.
// * base64url padding: ACA-Py writes urlsafe base64 *with* padding (bytes_to_b64(..., urlsafe=True), pad=True by
//   default); Credo writes it without (TypedArrayEncoder.toBase64URL). Both readers accept either (ACA-Py pads
//   before decoding, Credo's Buffer base64 decoder ignores padding). Sign pads by default: RFC 4648 §5 base64url is
//   padded unless the spec using it says otherwise (RFC 0234 does not), and that is what ACA-Py, the reference
//   implementation of RFC 0160, emits. Pass padded:false for Credo's form.
// * @type: ACA-Py and Credo write the https://didcomm.org/ prefix and accept the legacy did:sov one on verify.
//   The @type is not covered by the signature.
using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;

namespace Conformance.Wire.Signatures;

/// <summary>The outcome of a successful <see cref="SignatureDecorator.Verify"/>: the signed value, who signed it, when.</summary>
public sealed record SignatureVerification(JsonNode Value, string SignerVerkey, DateTimeOffset Timestamp);

public static class SignatureDecorator
{
    public const string SigType = DocUris.DidCommOrg + "signature/1.0/ed25519Sha512_single";
    public const string LegacySigType = DocUris.LegacySov + "signature/1.0/ed25519Sha512_single";

    /// <summary>Largest timestamp read as epoch seconds (9999-12-31T23:59:59Z); above it, milliseconds (Credo).</summary>
    public const long MaxEpochSeconds = 253402300799;

    /// <summary>
    /// Signs <paramref name="value"/>: <c>sig_data = base64url(u64be(epoch seconds) || compact JSON)</c>,
    /// <c>signature = base64url(Ed25519(sig_data bytes))</c>, <c>signer = base58 verkey</c>.
    /// </summary>
    /// <param name="padded">base64url padding for sig_data and signature (default true, as ACA-Py; false as Credo).</param>
    public static JsonObject Sign(JsonNode value, Ed25519KeyPair signer, DateTimeOffset timestamp, bool padded = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(signer);
        var seconds = timestamp.ToUnixTimeSeconds();
        if (seconds < 0)
            throw new ArgumentOutOfRangeException(nameof(timestamp), "the ~sig timestamp is an unsigned count of seconds since 1970");

        var json = value.ToCompactUtf8();
        var data = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64BigEndian(data, (ulong)seconds);
        json.CopyTo(data, 8);
        var signature = signer.Sign(data);

        return new JsonObject
        {
            ["@type"] = SigType,
            ["signature"] = Base64Url.Encode(signature, padded),
            ["sig_data"] = Base64Url.Encode(data, padded),
            ["signer"] = signer.Verkey,
        };
    }

    /// <summary>
    /// Verifies a <c>~sig</c> object and returns the signed value. Throws <see cref="SignatureException"/> if the
    /// type is unknown, a member is missing or malformed, or the signature does not verify.
    /// </summary>
    public static SignatureVerification Verify(JsonObject sigDecorator)
    {
        ArgumentNullException.ThrowIfNull(sigDecorator);

        var type = Member(sigDecorator, "@type");
        if (type != SigType && type != LegacySigType)
            throw new SignatureException($"unsupported ~sig type '{WireJson.Excerpt(type)}' (expected {SigType})");

        var sigDataText = Member(sigDecorator, "sig_data");
        var signatureText = Member(sigDecorator, "signature");
        var signerText = Member(sigDecorator, "signer");

        if (!Base64Url.TryDecode(sigDataText, out var sigData))
            throw new SignatureException("~sig sig_data is not base64url");
        if (!Base64Url.TryDecode(signatureText, out var signature))
            throw new SignatureException("~sig signature is not base64url");
        if (signature.Length != Sodium.Ed25519SignatureBytes)
            throw new SignatureException($"~sig signature must be {Sodium.Ed25519SignatureBytes} bytes, got {signature.Length}");

        var candidates = SignerCandidates(signerText);
        if (candidates.Count == 0)
            throw new SignatureException($"~sig signer '{WireJson.Excerpt(signerText)}' is not a base58 (or base64url) Ed25519 public key");

        // RFC 0234: verify first, then decode.
        byte[]? verifiedKey = null;
        foreach (var key in candidates)
            if (Ed25519KeyPair.Verify(signature, sigData, key)) { verifiedKey = key; break; }
        if (verifiedKey is null)
            throw new SignatureException("~sig signature does not verify with the signer key");

        if (sigData.Length < 8)
            throw new SignatureException($"~sig sig_data is {sigData.Length} bytes; it must hold an 8-byte timestamp and the signed JSON");
        var timestamp = ReadTimestamp(BinaryPrimitives.ReadUInt64BigEndian(sigData));

        var value = WireJson.TryParse(sigData.AsSpan(8), out var error)
                    ?? throw new SignatureException("~sig signed data is not JSON: " + error);

        return new SignatureVerification(value, Base58.Encode(verifiedKey), timestamp);
    }

    private static DateTimeOffset ReadTimestamp(ulong raw)
    {
        if (raw <= MaxEpochSeconds) return DateTimeOffset.FromUnixTimeSeconds((long)raw);
        if (raw <= MaxEpochSeconds * 1000 + 999) return DateTimeOffset.FromUnixTimeMilliseconds((long)raw); // Credo
        throw new SignatureException($"~sig timestamp {raw} is out of range for seconds or milliseconds since 1970");
    }

    private static List<byte[]> SignerCandidates(string signer)
    {
        var list = new List<byte[]>(2);
        if (Base58.TryDecode(signer, out var b58) && b58.Length == Sodium.Ed25519PublicKeyBytes) list.Add(b58);
        // The RFC text: "signer MUST be the base64URL encoding of the ... public key". A 43-character string can be
        // both valid base58 and valid base64url, so both readings are tried; the one that verifies is the signer.
        if (Base64Url.TryDecode(signer, out var b64) && b64.Length == Sodium.Ed25519PublicKeyBytes &&
            !list.Any(k => k.AsSpan().SequenceEqual(b64)))
            list.Add(b64);
        return list;
    }

    private static string Member(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null)
            throw new SignatureException($"~sig is missing '{name}'");
        return WireJson.AsString(n) ?? throw new SignatureException($"~sig '{name}' must be a string, got {WireJson.Kind(n)}");
    }
}
