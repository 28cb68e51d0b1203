// conformance envelope pack / envelope unpack: Aries RFC 0019 encryption envelopes (DIDComm v1), with optional
// RFC 0094 forward wrapping on pack. Rfc0019 / Rfc0094 in Conformance.Wire do the cryptography and the
// strictness; these verbs only read keys and input and print JSON.
//   pack:   "authcrypt" when a sender key is given (--from-secret), else "anoncrypt" (RFC 0019 §"Authcrypt mode
//           vs. Anoncrypt mode").
//   unpack: tries every --secret against the recipients' kids; prints the message, sender (null for anoncrypt) and
//           recipient verkeys — RFC 0019 "unpack_message() return values".
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Envelopes;

namespace Conformance.Cli.Verbs;

public static class EnvelopeVerbs
{
    private static readonly Option Secret = new("--secret", "SECRET",
        "recipient secret: base58 64-byte Ed25519 secret key or 32-byte seed, a 32-character wallet seed, or @FILE",
        Repeatable: true, Secret: true, Required: true);

    private static readonly Option To = new("--to", "KEY", "recipient: base58 verkey, did:key, or a did:peer DID URL (…#key-1)",
        Repeatable: true, Required: true);

    private static readonly Option FromSecret = new("--from-secret", "SECRET",
        "sender secret (authcrypt); without it the envelope is anoncrypt", Secret: true);

    private static readonly Option RoutingKey = new("--routing-key", "KEY",
        "wrap in RFC 0094 forward messages for this mediator key, innermost first (needs exactly one --to)", Repeatable: true);

    private static readonly Option Seed = new("--seed", "TEXT", "deterministic output: derive every random value from TEXT (tests, spec examples)");
    private static readonly Option Padded = new("--padded", null, "write padded base64url (indy-sdk style; default unpadded as ACA-Py and Credo)");
    private static readonly Option XChaCha = new("--xchacha", null, "encrypt with real XChaCha20-Poly1305 (24-byte iv, as aries-framework-go); default is the 12-byte-iv cipher every other agent uses");

    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("envelope pack",
            "Pack a plaintext DIDComm v1 message into an RFC 0019 envelope (authcrypt with --from-secret, else anoncrypt).",
            "[FILE|-]", 0, 1, [To, FromSecret, RoutingKey, Seed, Padded, XChaCha], Pack,
            """
            Reads the plaintext message (a JSON object) from FILE or stdin and prints the envelope JSON.

            example:
              echo '{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"1"}' |
                conformance envelope pack --to did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th
            """),
        new Verb("envelope unpack",
            "Unpack an RFC 0019 envelope with one of the given recipient secrets.",
            "[FILE|-]", 0, 1, [Secret], Unpack,
            """
            Reads the envelope JSON from FILE or stdin and prints
            {"message", "sender_verkey", "recipient_verkey", "mode", "content_cipher"}: message is the plaintext
            JSON object (or a string if it is not JSON); sender_verkey is null for anoncrypt.

            example:
              conformance envelope unpack --secret @alice.key envelope.json
            """),
    ];

    private static async Task<int> Pack(Invocation inv)
    {
        var recipients = new List<string>();
        foreach (var to in inv.Args.Values(To.Name))
            recipients.Add(await KeyArgs.ToVerkeyAsync(to, To.Name, inv.Cancellation).ConfigureAwait(false));
        var routing = new List<string>();
        foreach (var r in inv.Args.Values(RoutingKey.Name))
            routing.Add(await KeyArgs.ToVerkeyAsync(r, RoutingKey.Name, inv.Cancellation).ConfigureAwait(false));
        if (routing.Count > 0 && recipients.Count != 1)
            throw inv.Usage($"{RoutingKey.Name} needs exactly one {To.Name} (the forward's \"to\")");

        var sender = inv.Args.Value(FromSecret.Name) is { } fs ? KeyArgs.ParseSecret(fs, FromSecret.Name) : null;

        var plaintext = inv.ReadInput(inv.Args.Arg(0), "the message to pack");
        Invocation.ParseObject(plaintext, "the message to pack");

        var entropy = inv.Args.Value(Seed.Name) is { } seed ? Entropy.Seeded(seed, "conformance envelope pack") : Entropy.System;
        var options = PackOptions.Default with
        {
            PaddedBase64 = inv.Args.Has(Padded.Name),
            Cipher = inv.Args.Has(XChaCha.Name) ? EnvelopeCipher.XChaCha20Poly1305Ietf : EnvelopeCipher.ChaCha20Poly1305Ietf,
        };
        var envelope = Rfc0019.Pack(System.Text.Encoding.UTF8.GetBytes(plaintext), recipients, sender, entropy, options);
        if (routing.Count > 0)
            envelope = Rfc0094.Wrap(envelope, recipients[0], routing, entropy.Derive("forward"));

        inv.WriteJson(JsonNode.Parse(envelope)!);
        return Entry.ExitOk;
    }

    private static Task<int> Unpack(Invocation inv)
    {
        var keys = new Dictionary<string, Ed25519KeyPair>(StringComparer.Ordinal);
        var values = inv.Args.Values(Secret.Name);
        for (var i = 0; i < values.Count; i++)
        {
            var label = values.Count == 1 ? Secret.Name : $"{Secret.Name} #{i + 1}";
            var pair = KeyArgs.ParseSecret(values[i], label);
            keys.TryAdd(pair.Verkey, pair);
        }

        var envelope = inv.ReadInput(inv.Args.Arg(0), "the envelope");
        UnpackedMessage unpacked;
        try
        {
            unpacked = Rfc0019.Unpack(envelope, kid => keys.GetValueOrDefault(kid));
        }
        catch (EnvelopeException e) when (e.Error == EnvelopeError.NoMatchingRecipient)
        {
            throw new CliException($"{e.Message}; the given secret{(keys.Count == 1 ? " is" : "s are")} for {string.Join(", ", keys.Keys)}");
        }

        var result = new JsonObject
        {
            ["message"] = MessageNode(unpacked),
            ["sender_verkey"] = unpacked.SenderVerkey,
            ["recipient_verkey"] = unpacked.RecipientVerkey,
            ["mode"] = unpacked.Mode == EnvelopeMode.Authcrypt ? "authcrypt" : "anoncrypt",
            ["content_cipher"] = unpacked.ContentCipher,
        };
        inv.WriteJson(result);
        return Task.FromResult(Entry.ExitOk);
    }

    /// <summary>The plaintext as a JSON object when it is one, else as a string (invalid UTF-8 becomes U+FFFD).</summary>
    private static JsonNode MessageNode(UnpackedMessage unpacked)
    {
        if (System.Text.Unicode.Utf8.IsValid(unpacked.Plaintext))
        {
            try
            {
                if (JsonNode.Parse(unpacked.Plaintext, documentOptions: Invocation.InputJson) is JsonObject o) return o;
            }
            catch (JsonException) { /* not JSON: shown as text */ }
        }
        return JsonValue.Create(unpacked.PlaintextText);
    }
}
