// Signed attachments, Aries RFC 0017 §"Signing Attachments", as used by RFC 0023 DID Exchange for
// did_doc~attach (the DID document, signed by the sender's DID key or, in a response, the invitation key) and
// did_rotate~attach (the new DID string, "signed with the key used in the invitation").
//
// RFC 0017: "a data.jws field containing a signature in JWS (RFC 7515) format with Detached Content. The payload of
//   the JWS is the raw bytes of the attachment, appropriately base64url-encoded per JWS rules. If these raw bytes
//   are incorporated by value ... they are already base64url-encoded in data.base64 and are thus directly
//   substitutable for the suppressed data.jws.payload field"
//   "The JWS protected header consists of at least ... {"alg": "EdDSA"}"
//   "the JWS structure inlines a public key value in did:key format within the unprotected header's kid field"
//   "Multiple signatures may be included using the JWS General Serialization syntax. When a single signature is
//   present, the Flattened Serialization syntax should be preferred."
//
// How the two implementations this harness meets most do it (sources: ACA-Py
// messaging/decorators/attach_decorator.py AttachDecoratorData.sign/verify; Credo crypto/JwsService.ts and
// didcomm modules/connections/DidExchangeProtocol.ts createSignedAttachment / extractAttachedDidDocument):
//
//                    ACA-Py                                     Credo 0.5 / 0.6
// data.base64        did_doc: standard base64, padded            did_doc: standard base64, padded (JsonEncoder.toBase64)
//                    did_rotate: standard base64, padded         did_rotate: base64url, unpadded
// signing input      protected + "." + base64 converted to       protected + "." + base64url(payload bytes), unpadded
//                    url-safe alphabet with padding stripped
// protected header   {"alg": "EdDSA", "jwk": {"kty": "OKP",      {"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519",
//                    "crv": "Ed25519", "x": ..., "kid":           "x":...}} — 0.6 adds the KMS key id to the jwk as
//                    "did:key:z6Mk..."}} (json.dumps spacing;     "kid" (a base58 verkey or an opaque id, *not* a
//                    before 0.11 also a top-level "kid")          DID; ACA-Py issue #4077)
// header             {"kid": "did:key:z6Mk..."}                 {"kid": "did:key:z6Mk..."}
// signature          base64url, unpadded                        base64url, unpadded
// verify             key from protected jwk.x; if jwk.kid is      key from header.kid, which MUST be a did:key
//                    present it must be a did:key of the same     (allowedJwsSignerMethods ['did']); jwk ignored;
//                    key (PR #4085: prefer header.kid)            payload = base64ToBase64URL(data.base64)
//
// Sign therefore writes the union both verifiers accept: header.kid = did:key, protected = {"alg":"EdDSA",
// "kid": did:key, "jwk": {"kty":"OKP","crv":"Ed25519","x":..., "kid": did:key}} (jwk.kid = did:key keeps ACA-Py
// before 0.11, which required it, and after, which checks it, happy), unpadded base64url everywhere (JOSE rule).
// The signing input uses the attachment's base64 text converted to base64url with padding stripped — identical to
// base64url(bytes) for canonical base64, which is what both implementations produce.
//
// Verify accepts both forms: alg must be EdDSA; the signer key comes from protected.jwk, header.kid,
// protected.kid and jwk.kid, and every one of them that is present and names a key (jwk, or a did:key /
// did:key#fragment kid) must name the same Ed25519 key; kids that are not did:key (DID URLs of other methods,
// Credo 0.6's KMS ids in jwk.kid) are left to the caller. The payload is tried as the transliterated attachment
// text and, if that differs, as the canonical base64url of the decoded bytes (the RFC's "raw bytes ...
// base64url-encoded per JWS rules"). A JWS whose protected header lists "crit" parameters is rejected (RFC 7515
// §4.1.11: a recipient MUST reject what it does not understand).
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;

namespace Conformance.Wire.Signatures;

public static class AttachmentJws
{
    public const string Alg = "EdDSA";

    /// <summary>
    /// A flattened detached JWS over the attachment bytes given as <paramref name="base64Payload"/> (the
    /// attachment's <c>data.base64</c>, in any base64 form).
    /// </summary>
    public static JsonObject Sign(string base64Payload, Ed25519KeyPair signer)
    {
        ArgumentNullException.ThrowIfNull(base64Payload);
        ArgumentNullException.ThrowIfNull(signer);
        var payload = Transliterate(base64Payload);
        if (!Base64Url.TryDecode(payload, out _))
            throw new SignatureException("the attachment payload to sign is not base64/base64url");

        var kid = DidKeyRef.ForEd25519(signer.PublicKey);
        var header = new JsonObject
        {
            ["alg"] = Alg,
            ["kid"] = kid,
            ["jwk"] = new JsonObject
            {
                ["kty"] = "OKP",
                ["crv"] = "Ed25519",
                ["x"] = Base64Url.Encode(signer.PublicKey),
                ["kid"] = kid,
            },
        };
        var protectedB64 = Base64Url.Encode(header.ToCompactUtf8());
        var input = System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + payload);
        return new JsonObject
        {
            ["header"] = new JsonObject { ["kid"] = kid },
            ["protected"] = protectedB64,
            ["signature"] = Base64Url.Encode(signer.Sign(input)),
        };
    }

    /// <summary>
    /// Verifies a flattened JWS (or every signature of a general one) over <paramref name="base64Payload"/> and
    /// returns the (first) signer's base58 verkey. Throws <see cref="SignatureException"/>.
    /// </summary>
    public static string Verify(JsonObject jws, string base64Payload) => VerifyAll(jws, base64Payload)[0];

    /// <summary>Verifies every signature (flattened: one; general: all of <c>signatures</c>) and returns their signers' verkeys.</summary>
    public static IReadOnlyList<string> VerifyAll(JsonObject jws, string base64Payload)
    {
        ArgumentNullException.ThrowIfNull(jws);
        ArgumentNullException.ThrowIfNull(base64Payload);

        var transliterated = Transliterate(base64Payload);
        if (!Base64Url.TryDecode(transliterated, out var payloadBytes))
            throw new SignatureException("the attachment data.base64 is not base64/base64url");
        var canonical = Base64Url.Encode(payloadBytes);

        if (jws.TryGetPropertyValue("payload", out var p) && p is not null)
        {
            // RFC 0017 suppresses the payload; if a sender left it in, it must be the same bytes.
            var given = WireJson.AsString(p);
            if (given is null || !Base64Url.TryDecode(given, out var givenBytes) || !givenBytes.AsSpan().SequenceEqual(payloadBytes))
                throw new SignatureException("the JWS carries a payload that differs from the attachment data");
        }

        List<JsonObject> entries;
        if (jws.TryGetPropertyValue("signatures", out var sigs) && sigs is not null)
        {
            if (jws.ContainsKey("signature") || jws.ContainsKey("protected"))
                throw new SignatureException("a JWS must be either flattened (signature) or general (signatures), not both");
            if (sigs is not JsonArray arr || arr.Count == 0)
                throw new SignatureException("JWS 'signatures' must be a non-empty array");
            entries = new List<JsonObject>(arr.Count);
            foreach (var e in arr)
                entries.Add(e as JsonObject ?? throw new SignatureException($"JWS 'signatures' entries must be objects, found {WireJson.Kind(e)}"));
        }
        else
        {
            entries = [jws];
        }

        var signers = new List<string>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var where = entries.Count == 1 ? "JWS" : $"JWS signature {i}";
            signers.Add(VerifyOne(entries[i], transliterated, canonical, where));
        }
        return signers;
    }

    /// <summary>Verifies an attachment's <c>data.jws</c> over its <c>data.base64</c>; returns the (first) signer's verkey.</summary>
    public static string Verify(Attachment attachment)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (attachment.Jws is null) throw new SignatureException("the attachment is not signed (no data.jws)");
        if (attachment.Base64 is null) throw new SignatureException("the signed attachment has no data.base64 to verify");
        return Verify(attachment.Jws, attachment.Base64);
    }

    private static string VerifyOne(JsonObject sig, string transliterated, string canonical, string where)
    {
        var protectedB64 = RequiredString(sig, "protected", where);
        var signatureB64 = RequiredString(sig, "signature", where);

        if (!Base64Url.TryDecode(protectedB64, out var protectedBytes))
            throw new SignatureException($"{where} protected header is not base64url");
        if (WireJson.TryParse(protectedBytes, out var perr) is not JsonObject prot)
            throw new SignatureException($"{where} protected header is not a JSON object{(perr is null ? "" : ": " + perr)}");

        var alg = WireJson.AsString(prot["alg"]);
        if (alg != Alg)
            throw new SignatureException($"{where} alg must be \"{Alg}\", got {(alg is null ? WireJson.Kind(prot["alg"]) : "\"" + WireJson.Excerpt(alg, 20) + "\"")}");
        if (prot.ContainsKey("crit"))
            throw new SignatureException($"{where} protected header has 'crit' parameters, which this verifier does not support");

        JsonObject? unprotected = null;
        if (sig.TryGetPropertyValue("header", out var h) && h is not null)
            unprotected = h as JsonObject ?? throw new SignatureException($"{where} header must be an object, got {WireJson.Kind(h)}");

        var key = SignerKey(prot, unprotected, where);

        if (!Base64Url.TryDecode(signatureB64, out var signature))
            throw new SignatureException($"{where} signature is not base64url");

        var ok = Ed25519KeyPair.Verify(signature, System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + transliterated), key)
                 || (canonical != transliterated &&
                     Ed25519KeyPair.Verify(signature, System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + canonical), key));
        if (!ok) throw new SignatureException($"{where} does not verify over the attachment data");
        return Base58.Encode(key);
    }

    /// <summary>Collects the key named by jwk, header.kid, protected.kid and jwk.kid; all that name one must agree.</summary>
    private static byte[] SignerKey(JsonObject prot, JsonObject? unprotected, string where)
    {
        byte[]? key = null;
        string? keySource = null;

        void Offer(byte[] k, string source)
        {
            if (key is null) { key = k; keySource = source; return; }
            if (!key.AsSpan().SequenceEqual(k))
                throw new SignatureException($"{where} {source} names a different key than {keySource}");
        }

        JsonObject? jwk = null;
        if (prot.TryGetPropertyValue("jwk", out var jn) && jn is not null)
        {
            jwk = jn as JsonObject ?? throw new SignatureException($"{where} jwk must be an object, got {WireJson.Kind(jn)}");
            var kty = WireJson.AsString(jwk["kty"]);
            var crv = WireJson.AsString(jwk["crv"]);
            if (kty != "OKP" || crv != "Ed25519")
                throw new SignatureException($"{where} jwk must be an OKP Ed25519 key, got kty={WireJson.Excerpt(kty, 10)} crv={WireJson.Excerpt(crv, 10)}");
            var x = WireJson.AsString(jwk["x"]);
            if (x is null || !Base64Url.TryDecode(x, out var xb) || xb.Length != Sodium.Ed25519PublicKeyBytes)
                throw new SignatureException($"{where} jwk.x must be a base64url 32-byte Ed25519 public key");
            if (jwk.ContainsKey("d"))
                throw new SignatureException($"{where} jwk contains a private key ('d'); refusing it");
            Offer(xb, "jwk");
        }

        foreach (var (holder, name) in new[] { (unprotected, "header.kid"), (prot, "protected kid"), (jwk, "jwk.kid") })
        {
            if (holder is null || !holder.TryGetPropertyValue("kid", out var kn) || kn is null) continue;
            var kid = WireJson.AsString(kn) ?? throw new SignatureException($"{where} {name} must be a string, got {WireJson.Kind(kn)}");
            if (DidKeyRef.IsDidKey(kid)) Offer(DidKeyRef.DecodeEd25519(kid, $"{where} {name}"), name);
            // Other kid forms (did:sov:...#keys-1, Credo 0.6's KMS key ids) need resolution the caller does.
        }

        return key ?? throw new SignatureException($"{where} names no signer key: no jwk and no did:key kid");
    }

    private static string RequiredString(JsonObject o, string name, string where)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null)
            throw new SignatureException($"{where} is missing '{name}'");
        return WireJson.AsString(n) ?? throw new SignatureException($"{where} '{name}' must be a string, got {WireJson.Kind(n)}");
    }

    /// <summary>ACA-Py's unpad(set_urlsafe_b64(x)) and Credo's base64ToBase64URL(x): alphabet swap, padding stripped.</summary>
    private static string Transliterate(string b64)
        => string.Concat(b64.Where(c => !char.IsWhiteSpace(c))).Replace('+', '-').Replace('/', '_').TrimEnd('=');
}
