// Aries RFC 0094: Cross-Domain Messaging, message type "Core:Routing:1.0:Forward".
// specs: shared/specs/aries-rfcs/0094-cross-domain-messaging/README.md ("Message Types"),
//        shared/specs/aries-rfcs/0067-didcomm-diddoc-conventions/README.md ("Message Preparation Conventions", step 4),
//        shared/specs/aries-rfcs/0360-use-did-key/README.md (did:key in recipientKeys/routingKeys).
//
//   {"@type":"https://didcomm.org/routing/1.0/forward","@id":..,"to":<next hop>,"msg":<packed envelope as a JSON object>}
//
// "If there are mediators specified in the DID service endpoint for the Receiver agent, the Sender must wrap the
//  message for the Receiver in a 'Forward' message for each mediator." The innermost forward's `to` is the
// recipient key; each further layer's `to` is the previous routing key; each forward is anoncrypted to its routing
// key, so the last routing key is the outermost layer (the one the endpoint opens). This is RFC 0067 step 4 and
// what ACA-Py and Credo do. "The `to` field is required".

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Envelopes;

public static partial class Rfc0094
{
    public const string ForwardType = "https://didcomm.org/routing/1.0/forward";

    /// <summary>The pre-RFC 0348 spelling of the same type, still accepted on unwrap.</summary>
    public const string LegacyForwardType = "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/routing/1.0/forward";

    private const string DidKeyPrefix = "did:key:";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions SerializerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Wraps an already packed envelope for routing: for each routing key in order, builds
    /// <c>{"@type":ForwardType,"@id":uuid,"to":previous target,"msg":previous envelope}</c> and anoncrypts it to that
    /// routing key. The first <c>to</c> is <paramref name="recipientKey"/>. Keys may be did:key (Ed25519) or raw base58
    /// verkeys; <c>to</c> keeps the form the caller gave. An empty routing list returns the envelope unchanged.
    /// The inner envelope is embedded byte-for-byte (it is only validated, never re-serialized).
    /// </summary>
    public static string Wrap(string packedEnvelope, string recipientKey, IReadOnlyList<string> routingKeys, Entropy entropy)
    {
        ArgumentNullException.ThrowIfNull(packedEnvelope);
        ArgumentNullException.ThrowIfNull(recipientKey);
        ArgumentNullException.ThrowIfNull(routingKeys);
        ArgumentNullException.ThrowIfNull(entropy);
        if (routingKeys.Count == 0) return packedEnvelope;

        if (!Rfc0019.LooksLikeEnvelope(packedEnvelope))
            throw new EnvelopeException(EnvelopeError.Malformed, "the message to wrap is not a packed RFC 0019 envelope (a JSON object with protected, iv, ciphertext and tag)");
        ToVerkey(recipientKey); // validates: a mediator must be able to route on `to`

        string envelope = packedEnvelope.Trim();
        string target = recipientKey;
        foreach (var routingKey in routingKeys)
        {
            ArgumentNullException.ThrowIfNull(routingKey, nameof(routingKeys));
            string routingVerkey = ToVerkey(routingKey);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("@type", ForwardType);
                w.WriteString("@id", entropy.NewUuid());
                w.WriteString("to", target);
                w.WritePropertyName("msg");
                w.WriteRawValue(envelope, skipInputValidation: false);
                w.WriteEndObject();
            }
            // "Forward messages are anon packed" (every implementation; RFC 0094: the mediator must not learn the sender).
            envelope = Rfc0019.Pack(buffer.WrittenSpan, [routingVerkey], sender: null, entropy);
            target = routingKey;
        }
        return envelope;
    }

    /// <summary>
    /// Given a plaintext forward message (already unpacked), returns the next hop (<c>to</c>, as written) and the
    /// inner envelope JSON. Throws <see cref="EnvelopeException"/> (<see cref="EnvelopeError.Malformed"/>) if it is
    /// not a forward: wrong <c>@type</c>, missing <c>to</c>, or a <c>msg</c> that is not an envelope.
    /// Tolerates the legacy did:sov type prefix, higher 1.x minor versions (RFC 0003) and <c>msg</c> sent as a JSON string.
    /// </summary>
    public static (string To, string Envelope) Unwrap(JsonObject forwardMessage)
    {
        ArgumentNullException.ThrowIfNull(forwardMessage);
        try
        {
            string? type = StringMember(forwardMessage, "@type");
            if (type is null)
                throw new EnvelopeException(EnvelopeError.Malformed, "not a forward message: it has no \"@type\"");
            if (!IsForwardType(type))
                throw new EnvelopeException(EnvelopeError.Malformed, $"not a forward message: @type is '{Rfc0019.Shorten(type)}', expected {ForwardType}");

            string? to = StringMember(forwardMessage, "to");
            if (string.IsNullOrEmpty(to))
                throw new EnvelopeException(EnvelopeError.Malformed, "forward message has no \"to\" (RFC 0094: \"The `to` field is required\")");

            string envelope = forwardMessage["msg"] switch
            {
                JsonObject o => o.ToJsonString(SerializerOptions),
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                null => throw new EnvelopeException(EnvelopeError.Malformed, "forward message has no \"msg\""),
                var other => throw new EnvelopeException(EnvelopeError.Malformed, $"forward \"msg\" must be an envelope object, got {other.GetValueKind().ToString().ToLowerInvariant()}"),
            };
            if (!Rfc0019.LooksLikeEnvelope(envelope))
                throw new EnvelopeException(EnvelopeError.Malformed, "forward \"msg\" is not an encrypted envelope (needs protected, iv, ciphertext and tag)");
            return (to, envelope.Trim());
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or ArgumentException)
        {
            throw new EnvelopeException(EnvelopeError.Malformed, "malformed forward message: " + e.Message, e);
        }
    }

    /// <summary>
    /// <c>did:key:z6Mk…</c> or <c>did:key:z6Mk…#z6Mk…</c> → base58 verkey (RFC 0360); a raw base58 verkey passes
    /// through unchanged after checking it decodes to 32 bytes. Anything else throws <see cref="EnvelopeError.InvalidKey"/>.
    /// </summary>
    public static string ToVerkey(string didKeyOrVerkey)
    {
        ArgumentNullException.ThrowIfNull(didKeyOrVerkey);
        string input = didKeyOrVerkey;
        if (input.StartsWith(DidKeyPrefix, StringComparison.Ordinal))
        {
            string id = input[DidKeyPrefix.Length..];
            int hash = id.IndexOf('#');
            if (hash >= 0)
            {
                string fragment = id[(hash + 1)..];
                id = id[..hash];
                if (fragment.Length > 0 && fragment != id)
                    throw new EnvelopeException(EnvelopeError.InvalidKey, $"'{Rfc0019.Shorten(input)}': the fragment names a different key than the did:key");
            }
            if (!id.StartsWith('z'))
                throw new EnvelopeException(EnvelopeError.InvalidKey, $"'{Rfc0019.Shorten(input)}': a did:key identifier is multibase base58btc ('z...')");
            KeyCodec codec;
            byte[] key;
            try { (codec, key) = Multibase.DecodeKey(id); }
            catch (FormatException e) { throw new EnvelopeException(EnvelopeError.InvalidKey, $"'{Rfc0019.Shorten(input)}' is not a valid did:key: {e.Message}", e); }
            if (codec != KeyCodec.Ed25519Pub)
                throw new EnvelopeException(EnvelopeError.InvalidKey, $"'{Rfc0019.Shorten(input)}' is a {codec} key; DIDComm v1 envelopes need an Ed25519 key (z6Mk...)");
            return Base58.Encode(key);
        }
        if (input.StartsWith("did:", StringComparison.Ordinal))
            throw new EnvelopeException(EnvelopeError.InvalidKey, $"'{Rfc0019.Shorten(input)}' is a DID that needs resolving; only did:key converts directly to a verkey");
        if (!Base58.TryDecode(input, out var raw))
            throw new EnvelopeException(EnvelopeError.InvalidKey, $"'{Rfc0019.Shorten(input)}' is neither a did:key nor a base58 verkey");
        if (raw.Length != Sodium.Ed25519PublicKeyBytes)
            throw new EnvelopeException(EnvelopeError.InvalidKey, $"verkey '{Rfc0019.Shorten(input)}' decodes to {raw.Length} bytes, expected 32");
        return input;
    }

    /// <summary>base58 verkey → <c>did:key:z6Mk…</c> (RFC 0360's transformation). did:key input is normalised to its DID.</summary>
    public static string ToDidKey(string verkeyOrDidKey)
    {
        var verkey = ToVerkey(verkeyOrDidKey);
        return DidKeyPrefix + Multibase.EncodeKey(KeyCodec.Ed25519Pub, Base58.Decode(verkey));
    }

    private static string? StringMember(JsonObject o, string name)
        => o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static bool IsForwardType(string type)
    {
        string rest = type.StartsWith("https://didcomm.org/", StringComparison.Ordinal) ? type["https://didcomm.org/".Length..]
            : type.StartsWith("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/", StringComparison.Ordinal) ? type["did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/".Length..]
            : "";
        return ForwardPath().IsMatch(rest);
    }

    [GeneratedRegex(@"\Arouting/1\.[0-9]+/forward\z", RegexOptions.CultureInvariant)]
    private static partial Regex ForwardPath();
}
