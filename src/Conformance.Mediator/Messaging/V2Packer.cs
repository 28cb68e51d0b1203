using System.Text;
using System.Text.Json;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;

namespace Conformance.Mediator;

/// <summary>One layer of a DIDComm v2 message (message_structure.md "DIDComm Message Types"), outermost first.</summary>
public enum EnvelopeKind
{
    /// <summary>application/didcomm-plain+json</summary>
    Plaintext,
    /// <summary>application/didcomm-signed+json (JWS, EdDSA)</summary>
    Signed,
    /// <summary>application/didcomm-encrypted+json with ECDH-ES+A256KW</summary>
    Anoncrypt,
    /// <summary>application/didcomm-encrypted+json with ECDH-1PU+A256KW</summary>
    Authcrypt,
}

/// <summary>The result of <see cref="V2Packer.Unpack"/>.</summary>
/// <param name="Message">The plaintext message.</param>
/// <param name="Plaintext">Its exact bytes.</param>
/// <param name="Layers">The layers that were removed, outermost first (ends with <see cref="EnvelopeKind.Plaintext"/>).</param>
/// <param name="SenderDid">The authenticated sender: the DID of the authcrypt <c>skid</c> or of the JWS signer (both were
/// checked against <c>from</c>); null when the message is anonymous.</param>
/// <param name="SenderKid">The authcrypt sender key id, if any.</param>
/// <param name="SignerKid">The JWS signer key id, if any.</param>
/// <param name="RecipientKid">The key id that decrypted the outermost encryption layer, if any.</param>
/// <param name="Enc">The content encryption of the outermost encryption layer, if any.</param>
public sealed record V2Unpacked(V2Message Message, byte[] Plaintext, IReadOnlyList<EnvelopeKind> Layers, string? SenderDid,
    string? SenderKid, string? SignerKid, string? RecipientKid, string? Enc)
{
    public bool IsEncrypted => Layers.Contains(EnvelopeKind.Anoncrypt) || Layers.Contains(EnvelopeKind.Authcrypt);
    public bool IsAuthenticated => SenderDid is not null;
    public EnvelopeKind Outer => Layers[0];
}

/// <summary>
/// Packing and unpacking of DIDComm v2 messages over <see cref="Jwe"/> and <see cref="Jws"/>, with keys from did:peer:2 /
/// did:key DIDs (<see cref="V2Resolver"/>).
/// <list type="bullet">
/// <item>Authcrypt (encryption.md): ECDH-1PU+A256KW with A256CBC-HS512, <c>skid</c> = the sender's keyAgreement kid,
/// encrypted to every X25519 keyAgreement key of the recipient DID ("a sender SHOULD encrypt for as many of a recipient's
/// keys as is practical").</item>
/// <item>Anoncrypt: ECDH-ES+A256KW with A256CBC-HS512, A256GCM or XC20P.</item>
/// <item>Signed (signature.md): EdDSA JWS by the <c>authentication</c> key of <c>from</c>.</item>
/// </list>
/// Unpack enforces message_structure.md "Message Layer Addressing Consistency": "The from attribute in the plaintext
/// message MUST match the skid attribute in the encryption layer"; "The to attribute in the plaintext message MUST contain
/// the kid attribute of an encrypted message"; "The from attribute in the plaintext message MUST match the signer's kid in
/// a signed message" — "When one of these checks fails, the result MUST be an error".
/// </summary>
public static class V2Packer
{
    /// <summary>How many envelopes may be nested (e.g. anoncrypt(authcrypt(sign(plaintext)))) before unpack refuses.</summary>
    public const int MaxLayers = 4;

    // ------------------------------------------------------------------ pack

    public static byte[] PackPlaintext(V2Message message) => message.ToUtf8();

    /// <summary>A JWS over the plaintext, signed by <paramref name="signer"/>'s authentication key; <c>from</c> must be the signer.</summary>
    public static string Sign(V2Message message, V2Identity signer)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(signer);
        if (message.From != signer.Did)
            throw new DidCommException(ProblemCodes.Crypto, "a signed message's 'from' MUST be the signer's DID");
        return Jws.Sign(message.ToUtf8(), signer.Authentication);
    }

    /// <summary>Authcrypt from <paramref name="sender"/> to every keyAgreement key of <paramref name="toDid"/>;
    /// <c>from</c> must be the sender (it is what the recipient checks against <c>skid</c>).</summary>
    public static string Authcrypt(V2Message message, V2Identity sender, string toDid, Entropy entropy, V2Resolver? resolver = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(sender);
        if (message.From != sender.Did)
            throw new DidCommException(ProblemCodes.Crypto, "an authcrypted message's 'from' MUST be the sender's DID (it must match skid)");
        var keys = (resolver ?? V2Resolver.Shared).KeyAgreementKeys(toDid);
        return Wrap(() => Jwe.AuthEncrypt(message.ToUtf8(), sender.Agreement, keys, entropy));
    }

    /// <summary>Anoncrypt a plaintext message to every keyAgreement key of <paramref name="toDid"/>.</summary>
    public static string Anoncrypt(V2Message message, string toDid, Entropy entropy, ContentAlg enc = ContentAlg.A256CbcHs512, V2Resolver? resolver = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Anoncrypt(message.ToUtf8(), (resolver ?? V2Resolver.Shared).KeyAgreementKeys(toDid), enc, entropy);
    }

    /// <summary>Anoncrypt any payload (a plaintext, a signed or an encrypted message) to the given X25519 keys.</summary>
    public static string Anoncrypt(ReadOnlySpan<byte> payload, IReadOnlyList<OkpKey> recipients, ContentAlg enc, Entropy entropy)
    {
        try { return Jwe.AnonEncrypt(payload, recipients, enc, entropy); }
        catch (JoseException e) { throw new DidCommException(ProblemCodes.Crypto, e.Message, null, e); }
    }

    private static string Wrap(Func<string> f)
    {
        try { return f(); }
        catch (JoseException e) { throw new DidCommException(ProblemCodes.Crypto, e.Message, null, e); }
    }

    // ------------------------------------------------------------------ unpack

    /// <summary>
    /// Removes every envelope layer and returns the plaintext. <paramref name="ownKey"/> maps a recipient kid to a private
    /// X25519 key we hold (null when not ours); <paramref name="ownDids"/> are the DIDs that count as "us" for the <c>to</c>
    /// consistency check (by default the DID of the kid that decrypted). Throws <see cref="DidCommException"/>:
    /// <see cref="ProblemCodes.Crypto"/> for anything cryptographic or inconsistent, <see cref="ProblemCodes.Malformed"/>
    /// for a malformed plaintext, <see cref="ProblemCodes.Did"/>/<see cref="ProblemCodes.DidMalformed"/> for DIDs that do
    /// not resolve.
    /// </summary>
    public static V2Unpacked Unpack(ReadOnlySpan<byte> envelope, Func<string, OkpKey?> ownKey, V2Resolver? resolver = null,
        IReadOnlyCollection<string>? ownDids = null)
    {
        ArgumentNullException.ThrowIfNull(ownKey);
        resolver ??= V2Resolver.Shared;
        var layers = new List<EnvelopeKind>(3);
        string? skid = null, signerKid = null, recipientKid = null, enc = null;
        ReadOnlySpan<byte> current = envelope;   // no copy of the outer envelope: each layer's output is a fresh array
        byte[]? currentArray = null;
        for (var depth = 0; ; depth++)
        {
            if (depth >= MaxLayers) throw new DidCommException(ProblemCodes.Crypto, $"more than {MaxLayers} nested envelopes");
            var kind = Sniff(current);
            if (kind == EnvelopeKind.Plaintext)
            {
                layers.Add(EnvelopeKind.Plaintext);
                var message = V2Message.Parse(current);
                var sender = CheckConsistency(message, skid, signerKid, recipientKid, ownDids);
                return new V2Unpacked(message, currentArray ?? current.ToArray(), layers, sender, skid, signerKid, recipientKid, enc);
            }
            string text;
            try { text = StrictUtf8.GetString(current); }
            catch (ArgumentException) { throw new DidCommException(ProblemCodes.Crypto, "the envelope is not UTF-8 text"); }
            if (kind == EnvelopeKind.Signed)
            {
                if (signerKid is not null) throw new DidCommException(ProblemCodes.Crypto, "a signed message is signed twice");
                JwsVerified v;
                try { v = Jws.Verify(text, resolver.SigningKey); }
                catch (JoseException e) { throw new DidCommException(ProblemCodes.Crypto, e.Message, null, e); }
                layers.Add(EnvelopeKind.Signed);
                signerKid = v.Kid;
                current = currentArray = v.Payload;
                continue;
            }
            JweDecrypted d;
            try { d = Jwe.Decrypt(text, ownKey, resolver.SenderKey); }
            catch (JoseException e) { throw new DidCommException(ProblemCodes.Crypto, e.Message, PeekSenderDid(text), e); }
            var auth = d.Alg == Jwe.AlgAuthcrypt;
            layers.Add(auth ? EnvelopeKind.Authcrypt : EnvelopeKind.Anoncrypt);
            recipientKid ??= d.RecipientKid;
            enc ??= d.Enc;
            if (auth)
            {
                if (skid is not null && DidOf(skid) != DidOf(d.SenderKid!))
                    throw new DidCommException(ProblemCodes.Crypto, "nested authcrypt layers name different senders");
                skid = d.SenderKid;
            }
            current = currentArray = d.Plaintext;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private static string? CheckConsistency(V2Message m, string? skid, string? signerKid, string? recipientKid, IReadOnlyCollection<string>? ownDids)
    {
        string? sender = null;
        if (skid is not null)
        {
            // "The from attribute in the plaintext message MUST match the skid attribute in the encryption layer."
            if (m.From is null)
                throw new DidCommException(ProblemCodes.Crypto, "an authcrypted message has no 'from' (REQUIRED when authcrypt is used)", DidOf(skid));
            if (m.From != DidOf(skid))
                throw new DidCommException(ProblemCodes.Crypto, "'from' does not match the authcrypt skid", DidOf(skid));
            sender = m.From;
        }
        if (signerKid is not null)
        {
            // "The from attribute in the plaintext message MUST match the signer's kid in a signed message."
            if (m.From is null || m.From != DidOf(signerKid))
                throw new DidCommException(ProblemCodes.Crypto, "'from' does not match the signer's kid", DidOf(signerKid));
            sender = m.From;
        }
        if (recipientKid is not null && m.To is { Count: > 0 })
        {
            // "The to attribute in the plaintext message MUST contain the kid attribute of an encrypted message."
            var me = DidOf(recipientKid);
            var ok = m.To.Any(t => t == recipientKid || DidOf(t) == me || (ownDids?.Contains(DidOf(t)) ?? false));
            if (!ok) throw new DidCommException(ProblemCodes.Crypto, "'to' does not contain the recipient of the encryption layer", sender);
        }
        return sender;
    }

    /// <summary>The DID of a DID URL (before '#', '?' or '/').</summary>
    public static string DidOf(string didUrl)
    {
        var end = didUrl.IndexOfAny(['#', '?']);
        return end < 0 ? didUrl : didUrl[..end];
    }

    /// <summary>
    /// Which kind of message the bytes are, from the top-level member names only: <c>ciphertext</c> → JWE, <c>payload</c>
    /// → JWS, otherwise a plaintext (its own parser reports what is wrong with it). Not JSON → <see cref="ProblemCodes.Malformed"/>.
    /// </summary>
    public static EnvelopeKind Sniff(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new DidCommException(ProblemCodes.Malformed, "a DIDComm message must be a JSON object");
            bool jwe = false, jws = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("ciphertext"u8)) jwe = true;
                else if (reader.ValueTextEquals("payload"u8)) jws = true;
                reader.Read();
                reader.Skip();
            }
            return jwe ? EnvelopeKind.Anoncrypt : jws ? EnvelopeKind.Signed : EnvelopeKind.Plaintext;
        }
        catch (JsonException) { throw new DidCommException(ProblemCodes.Malformed, "the message is not valid JSON"); }
    }

    /// <summary>Best effort: the DID an authcrypt JWE claims as its sender (skid, else apu), to address a problem report.</summary>
    internal static string? PeekSenderDid(string jwe)
    {
        try
        {
            using var doc = JsonDocument.Parse(jwe);
            if (!doc.RootElement.TryGetProperty("protected", out var p) || p.ValueKind != JsonValueKind.String) return null;
            if (!Base64Url.TryDecode(p.GetString(), out var raw)) return null;
            using var prot = JsonDocument.Parse(raw);
            string? kid = null;
            if (prot.RootElement.TryGetProperty("skid", out var s) && s.ValueKind == JsonValueKind.String) kid = s.GetString();
            else if (prot.RootElement.TryGetProperty("apu", out var a) && a.ValueKind == JsonValueKind.String && Base64Url.TryDecode(a.GetString(), out var apu))
                kid = StrictUtf8.GetString(apu);
            return kid is not null && kid.StartsWith("did:", StringComparison.Ordinal) ? DidOf(kid) : null;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException) { return null; }
    }
}
