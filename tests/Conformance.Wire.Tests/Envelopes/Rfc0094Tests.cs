using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;
using static Conformance.Wire.Tests.Envelopes.EnvelopeTestKit;

namespace Conformance.Wire.Tests.Envelopes;

/// <summary>RFC 0094 forward wrapping/unwrapping and did:key ↔ verkey (RFC 0360).</summary>
public class Rfc0094Tests
{
    // RFC 0360 README: "`8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K` becomes
    // `did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th`".
    private const string Rfc0360Verkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
    private const string Rfc0360DidKey = "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th";

    [FsCheck.NUnit.Property(MaxTest = 60)]
    public void Each_layer_unwraps_with_its_own_key_down_to_the_original_envelope(byte hopCount, bool authcrypt, int formBits, int seed)
    {
        int hops = hopCount % 5;
        var entropy = Entropy.Seeded($"fwd-{seed}");
        var recipient = Ed25519KeyPair.Generate(entropy);
        var sender = Ed25519KeyPair.Generate(entropy);
        var mediators = Enumerable.Range(0, hops).Select(_ => Ed25519KeyPair.Generate(entropy)).ToArray();
        // Each key is given either as a raw verkey or as a did:key; `to` must keep the caller's form.
        string Form(Ed25519KeyPair k, int i) => ((formBits >> i) & 1) == 1 ? Rfc0094.ToDidKey(k.Verkey) : k.Verkey;
        string recipientKey = Form(recipient, 0);
        var routingKeys = mediators.Select((m, i) => Form(m, i + 1)).ToArray();

        var message = $$"""{"@type":"https://didcomm.org/basicmessage/1.0/message","@id":"{{entropy.NewUuid()}}","content":"hi"}""";
        var inner = Rfc0019.Pack(message, [recipient.Verkey], authcrypt ? sender : null, entropy);
        var wrapped = Rfc0094.Wrap(inner, recipientKey, routingKeys, entropy);
        if (hops == 0) Assert.That(wrapped, Is.EqualTo(inner), "no routing keys: unchanged");

        var current = wrapped;
        for (int layer = hops - 1; layer >= 0; layer--)
        {
            var mediator = mediators[layer];
            Assert.That(Rfc0019.RecipientKids(current), Is.EqualTo(new[] { mediator.Verkey }), "the outermost layer is for the last routing key");
            if (hops > 1 && layer > 0)
                Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Unpack(current, Holding(mediators[layer - 1])))!.Error,
                    Is.EqualTo(EnvelopeError.NoMatchingRecipient), "an inner mediator cannot open an outer layer");

            var opened = Rfc0019.Unpack(current, Holding(mediator));
            Assert.That(opened.Mode, Is.EqualTo(EnvelopeMode.Anoncrypt), "forwards are anoncrypted");
            Assert.That(opened.SenderVerkey, Is.Null);

            var forward = JsonNode.Parse(opened.PlaintextText)!.AsObject();
            Assert.That(forward.Select(p => p.Key), Is.EqualTo(new[] { "@type", "@id", "to", "msg" }));
            Assert.That(forward["@type"]!.GetValue<string>(), Is.EqualTo(Rfc0094.ForwardType));
            Assert.That(Guid.TryParse(forward["@id"]!.GetValue<string>(), out _), Is.True);

            var (to, next) = Rfc0094.Unwrap(forward);
            Assert.That(to, Is.EqualTo(layer == 0 ? recipientKey : routingKeys[layer - 1]));
            current = next;
        }

        Assert.That(current, Is.EqualTo(inner), "the innermost msg is the original envelope");
        var final = Rfc0019.Unpack(current, Holding(recipient));
        Assert.That(final.PlaintextText, Is.EqualTo(message));
        Assert.That(final.SenderVerkey, Is.EqualTo(authcrypt ? sender.Verkey : null));
    }

    [Test]
    public void Wrap_is_deterministic_under_a_seed()
    {
        var keys = Entropy.Seeded("wrap-det", "keys");
        var bob = Ed25519KeyPair.Generate(keys);
        var m1 = Ed25519KeyPair.Generate(keys);
        var m2 = Ed25519KeyPair.Generate(keys);
        string Run(string seed)
        {
            var e = Entropy.Seeded(seed);
            return Rfc0094.Wrap(Rfc0019.Pack("{}", [bob.Verkey], null, e), bob.Verkey, [m1.Verkey, Rfc0094.ToDidKey(m2.Verkey)], e);
        }
        Assert.That(Run("a"), Is.EqualTo(Run("a")));
        Assert.That(Run("a"), Is.Not.EqualTo(Run("b")));
    }

    [Test]
    public void Wrap_refuses_non_envelopes_and_unusable_keys()
    {
        var e = Entropy.System;
        var bob = Ed25519KeyPair.Generate(e);
        var env = Rfc0019.Pack("{}", [bob.Verkey], null, e);
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0094.Wrap("{\"hello\":1}", bob.Verkey, [bob.Verkey], e))!.Error, Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0094.Wrap(env, "did:sov:1234abcd#4", [bob.Verkey], e))!.Error, Is.EqualTo(EnvelopeError.InvalidKey));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0094.Wrap(env, bob.Verkey, ["shortkey"], e))!.Error, Is.EqualTo(EnvelopeError.InvalidKey));
    }

    // ------------------------------------------------------------------ Unwrap

    private static string AnEnvelope() => Rfc0019.Pack("{}", [Ed25519KeyPair.Generate(Entropy.System).Verkey], null, Entropy.System);

    private static JsonObject Forward(string type = Rfc0094.ForwardType, string? to = "did:key:z6Mk...", JsonNode? msg = null)
    {
        var o = new JsonObject { ["@type"] = type, ["@id"] = "54ad1a63-29bd-4a59-abed-1c5b1026e6fd" };
        if (to is not null) o["to"] = to;
        o["msg"] = msg ?? JsonNode.Parse(AnEnvelope());
        return o;
    }

    [TestCase(Rfc0094.ForwardType)]
    [TestCase("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/routing/1.0/forward")]
    [TestCase("https://didcomm.org/routing/1.3/forward")]
    public void Unwrap_accepts_forward_types(string type)
    {
        var (to, env) = Rfc0094.Unwrap(Forward(type, to: "did:sov:1234abcd#4"));
        Assert.That(to, Is.EqualTo("did:sov:1234abcd#4"), "RFC 0094: `to` may be a DID with a key reference; returned as written");
        Assert.That(Rfc0019.LooksLikeEnvelope(System.Text.Encoding.UTF8.GetBytes(env)), Is.True);
    }

    [Test]
    public void Unwrap_accepts_msg_sent_as_a_JSON_string()
    {
        var env = AnEnvelope();
        Assert.That(Rfc0094.Unwrap(Forward(msg: JsonValue.Create(env))).Envelope, Is.EqualTo(env));
    }

    [TestCase("https://didcomm.org/trust_ping/1.0/ping")]
    [TestCase("https://didcomm.org/routing/2.0/forward")]
    [TestCase("https://didcomm.org/routing/1.0/forwardx")]
    [TestCase("https://example.org/routing/1.0/forward")]
    public void Unwrap_rejects_other_types(string type)
    {
        var e = Assert.Throws<EnvelopeException>(() => Rfc0094.Unwrap(Forward(type)))!;
        Assert.That(e.Error, Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(e.Message, Does.Contain("not a forward"));
    }

    [Test]
    public void Unwrap_rejects_missing_or_wrong_members()
    {
        EnvelopeError ErrorOf(JsonObject o) => Assert.Throws<EnvelopeException>(() => Rfc0094.Unwrap(o))!.Error;
        var noType = Forward();
        noType.Remove("@type");
        Assert.That(ErrorOf(noType), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(Forward(to: null)), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(Forward(to: "")), Is.EqualTo(EnvelopeError.Malformed));
        var numericTo = Forward();
        numericTo["to"] = 5;
        Assert.That(ErrorOf(numericTo), Is.EqualTo(EnvelopeError.Malformed));
        var noMsg = Forward();
        noMsg.Remove("msg");
        Assert.That(ErrorOf(noMsg), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(Forward(msg: JsonValue.Create(42))), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(Forward(msg: new JsonObject { ["content"] = "plaintext, not an envelope" })), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(Forward(msg: JsonValue.Create("{not json"))), Is.EqualTo(EnvelopeError.Malformed));
    }

    // ------------------------------------------------------------------ did:key

    [Test]
    public void ToVerkey_follows_RFC_0360()
    {
        Assert.That(Rfc0094.ToVerkey(Rfc0360DidKey), Is.EqualTo(Rfc0360Verkey));
        Assert.That(Rfc0094.ToVerkey(Rfc0360DidKey + "#z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"), Is.EqualTo(Rfc0360Verkey));
        Assert.That(Rfc0094.ToVerkey(Rfc0360Verkey), Is.EqualTo(Rfc0360Verkey), "raw verkeys pass through");
        Assert.That(Rfc0094.ToDidKey(Rfc0360Verkey), Is.EqualTo(Rfc0360DidKey));
    }

    [Test]
    public void ToVerkey_rejects_what_is_not_an_Ed25519_key()
    {
        string x25519DidKey = "did:key:" + Multibase.EncodeKey(KeyCodec.X25519Pub, new byte[32]);
        string otherKey = Rfc0094.ToDidKey(Ed25519KeyPair.Generate(Entropy.System).Verkey)["did:key:".Length..];
        foreach (var bad in new[]
                 {
                     x25519DidKey,
                     Rfc0360DidKey + "#" + otherKey,
                     "did:key:6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th",
                     "did:key:z6Mkm",
                     "did:sov:1234abcd#4",
                     Base58.Encode(new byte[31]),
                     "not base58 0OIl",
                     "",
                 })
        {
            var e = Assert.Throws<EnvelopeException>(() => Rfc0094.ToVerkey(bad), bad)!;
            Assert.That(e.Error, Is.EqualTo(EnvelopeError.InvalidKey), bad);
            AssertReadable(e);
        }
    }
}
